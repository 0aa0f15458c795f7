{#-
  Incremental supervision models: a daily build re-judges only the alerts whose inputs changed.

  A gold model opts in when each of its alerts is decided by the input rows that share its
  primary_key, directly or through a join the model can name (SM09: a project's bids, its
  tender_project row, its contracts, and the company rows of its bidders). The model lists, per
  silver input, the column whose value says which alerts a row can affect, and maps the values
  that changed to the primary keys to re-judge:

      {%- set changes_tracked = {'bid': 'project_id', 'company': 'credit_code'} %}
      {{ config(materialized='incremental', incremental_strategy='replace_alerts',
                on_schema_change='fail', changes_tracked=changes_tracked,
                post_hook="{{ save_changes_seen() }}") }}
      {%- set incremental = alerts_incremental(changes_tracked) %}
      with
      {%- if incremental %}
      touched_keys as (
          select value as primary_key from {{ changed_values('bid') }}
          union
          select b.project_id from {{ ref('bid') }} as b
          inner join {{ changed_values('company') }} as c on c.value = b.bidder_code
      ),
      {%- endif %}
      projects as (select ... where {{ 'project_id in (select primary_key from touched_keys)' if incremental else 'true' }}),
      ...
      {{ alert_contract('findings', touched_keys='touched_keys' if incremental else none) }}

  What changed, exactly: after each build the model keeps, per tracked input and value, the
  number of rows and their newest ingested_at (the table <model>__changes_seen, written in the
  build's transaction). A value changed when either differs now. Silver changes rows only by
  deleting them and inserting rows bronze committed later (macros/silver/incremental.sql), so a
  new, replaced, moved or dropped row changes the count or the newest ingested_at of every value
  it had or has: nothing that changed is missed, whatever the day delivered or corrected.

  What that costs: a day's rows on most days. The model also keeps, per tracked column, the
  total row count and newest ingested_at. When the column's rows now number exactly that total
  plus the rows committed since, no row was deleted, and the values that changed are those of
  the new rows: only they are read (the scan skips older data by its ingested_at statistics) and
  only their counts are rewritten. Only an input that lost or replaced rows since (a registry's
  corrected or re-delivered records) is compared, and recounted, in full (_tracking_state).

  When the model is not judged incrementally it is judged in full and replaces every alert:
  the first build, --full-refresh, a table without its changes_seen, and any change to the dbt
  project since the last build (models, macros, the thresholds seed: POWERTRACE_DBT_PROJECT_FINGERPRINT,
  which the Dagster step sets from the files `powertrace prepare` reads; dbt run by hand without
  it always judges in full). A --full-refresh of a silver entity a model tracks re-derives its
  rows without new ingested_at: it needs a --full-refresh of the model after it (as relation).

  On Spark every incremental model is built in full (macros/materializations/spark_incremental.sql):
  alerts_incremental() is false there and save_changes_seen() writes nothing.
-#}

{% macro changes_seen_relation() -%}
    {{ return(api.Relation.create(database=this.database, schema=this.schema,
                                  identifier=this.identifier ~ '__changes_seen', type='table')) }}
{%- endmacro %}


{#- True when this build judges only the touched keys. While parsing, it records the tracked
    inputs as the model's dependencies (the touched_keys CTE is not rendered then; a unit test,
    which gives only the inputs the rule reads, never refs them). -#}
{% macro alerts_incremental(changes_tracked) -%}
    {%- if not execute -%}
        {%- for input in changes_tracked %}{% do ref(input) %}{% endfor -%}
    {%- endif -%}
    {%- if not execute or model.resource_type == 'unit_test' or this is none or not is_incremental() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set fingerprint = env_var('POWERTRACE_DBT_PROJECT_FINGERPRINT', '') -%}
    {%- set seen = adapter.get_relation(this.database, this.schema, this.identifier ~ '__changes_seen') -%}
    {%- if not fingerprint or seen is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set stored = run_query("select value from " ~ seen ~ " where input = '(definition)'").columns[0].values() -%}
    {{ return(stored | length == 1 and stored[0] == fingerprint) }}
{%- endmacro %}


{#- The current (row count, newest ingested_at) of every non-null value of the tracked column of
    one input; with ``since``, of its rows committed after that time only. -#}
{% macro _tracked_values(input, since=none) -%}
    {%- set column = config.get('changes_tracked')[input] %}
    select cast({{ column }} as {{ sql_type('varchar') }}) as value, count(*) as row_count, max(ingested_at) as newest
    from {{ ref(input) }}
    where {{ column }} is not null
    {%- if since is not none %} and ingested_at > timestamptz '{{ since }}'{% endif %}
    group by {{ column }}
{%- endmacro %}


{#- How the tracked column of an input changed since the last build, decided before the model's
    SQL is written (two small queries): {'fast': true, 'since': <newest ingested_at seen>,
    'rows': <rows now>} when the column's non-null rows now number exactly those seen plus those
    committed since (ingested_at after the newest seen). No row seen was then deleted (silver
    only deletes and inserts later-committed rows), so the values that changed are those of the
    new rows: a day's rows are read, and the scan skips older data by its ingested_at statistics.
    Otherwise (a row replaced or dropped, or no totals kept yet) {'fast': false}: every value is
    compared with what was seen. -#}
{% macro _tracking_state(input) -%}
    {%- set column = config.get('changes_tracked')[input] -%}
    {%- set seen = run_query("select row_count, cast(newest as varchar) from " ~ changes_seen_relation()
                             ~ " where input = '" ~ input ~ "' and value is null") -%}
    {%- if seen.rows | length != 1 or seen.rows[0][0] is none or seen.rows[0][1] is none -%}
        {{ return({'fast': false}) }}
    {%- endif -%}
    {%- set rows_seen, since = seen.rows[0][0], seen.rows[0][1] -%}
    {%- set now_ = run_query("select count(*), count(*) filter (where ingested_at > timestamptz '" ~ since ~ "') from "
                             ~ ref(input) ~ " where " ~ column ~ " is not null").rows[0] -%}
    {{ return({'fast': now_[0] == rows_seen + now_[1], 'since': since, 'rows': now_[0]}) }}
{%- endmacro %}


{#- The values of the tracked column of one input whose rows changed since the last build (a
    subquery with one column, value). -#}
{% macro changed_values(input) -%}
    {%- set state = _tracking_state(input) -%}
    {%- if state.fast %}
    (select value from ({{ _tracked_values(input, since=state.since) }}))
    {%- else %}
    (select coalesce(now_.value, seen.value) as value
     from ({{ _tracked_values(input) }}) as now_
     full outer join (select value, row_count, newest from {{ changes_seen_relation() }}
                      where input = '{{ input }}' and value is not null) as seen
         on seen.value = now_.value
     where now_.row_count is distinct from seen.row_count or now_.newest is distinct from seen.newest)
    {%- endif %}
{%- endmacro %}


{#- Post-hook: what the build judged on, for the next build to compare with: per tracked input,
    one row per value of its column (row count, newest ingested_at) and a totals row (value
    null). Where the column changed by new rows only (_tracking_state's fast case) only the new
    rows' values are rewritten, so keeping the counts costs a day's rows too; otherwise the
    column's rows are counted again in full. -#}
{% macro save_changes_seen() -%}
    {{ adapter.dispatch('save_changes_seen', 'powertrace')() }}
{%- endmacro %}

{% macro spark__save_changes_seen() -%}
{%- endmacro %}

{% macro default__save_changes_seen() -%}
    {%- if not execute or model.resource_type == 'unit_test' -%}{{ return('') }}{%- endif -%}
    {%- set seen = changes_seen_relation() -%}
    {%- set exists = adapter.get_relation(seen.database, seen.schema, seen.identifier) is not none %}
    create table if not exists {{ seen }} (input {{ sql_type('varchar') }}, value {{ sql_type('varchar') }},
                                           row_count bigint, newest timestamptz);
    {%- set keys = [] %}{% for input in config.get('changes_tracked') %}{% do keys.append("'" ~ input ~ "'") %}{% endfor %}
    delete from {{ seen }} where input not in ({{ keys | join(', ') }});   -- the definition, inputs no longer tracked
    insert into {{ seen }} values ('(definition)', '{{ env_var('POWERTRACE_DBT_PROJECT_FINGERPRINT', '') }}', null, null);
    {%- for input in config.get('changes_tracked') %}
    {%- set state = _tracking_state(input) if exists else {'fast': false} %}
    {%- if state.fast %}
    create or replace temporary table _changes_seen_new as {{ _tracked_values(input, since=state.since) }};
    create or replace temporary table _changes_seen_merged as
        select value, sum(row_count) as row_count, max(newest) as newest
        from (select value, row_count, newest from {{ seen }}
              where input = '{{ input }}' and value in (select value from _changes_seen_new)
              union all
              select value, row_count, newest from _changes_seen_new)
        group by value;
    delete from {{ seen }} where input = '{{ input }}' and (value is null or value in (select value from _changes_seen_new));
    insert into {{ seen }}
        select '{{ input }}', value, row_count, newest from _changes_seen_merged
        union all
        select '{{ input }}', null, {{ state.rows }},
               greatest(timestamptz '{{ state.since }}', (select max(newest) from _changes_seen_new));
    drop table _changes_seen_new;
    drop table _changes_seen_merged;
    {%- else %}
    delete from {{ seen }} where input = '{{ input }}';
    insert into {{ seen }}
        with now_ as ({{ _tracked_values(input) }})
        select '{{ input }}', value, row_count, newest from now_
        union all
        select '{{ input }}', null, coalesce(sum(row_count), 0), max(newest) from now_;   -- the totals, from the counts
    {%- endif %}
    {%- endfor %}
{%- endmacro %}


{#- The strategy replace_alerts: the build's rows are the alerts of the keys it judged plus one
    mark per judged key (alert_id null; alert_contract adds them). Every alert the table holds
    for a marked key is deleted, then the build's alerts are inserted, so a key that no longer
    alerts is cleared. A mark with a null key (a build judged in full) clears every alert. -#}
{% macro get_incremental_replace_alerts_sql(arg_dict) -%}
    {%- set target, build = arg_dict['target_relation'], arg_dict['temp_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where primary_key in (select primary_key from {{ build }} where alert_id is null)
        or exists (select 1 from {{ build }} where alert_id is null and primary_key is null);

    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ build }} where alert_id is not null
{%- endmacro %}


{#- alert_contract's marks (see replace_alerts): one per touched key, or one null key when an
    incremental model was judged in full. Nothing for a model built as a table or built anew. -#}
{% macro alert_marks(touched_keys) -%}
    {%- if execute and model.resource_type != 'unit_test' and config.get('incremental_strategy') == 'replace_alerts'
          and this is not none and is_incremental() %}
union all
select
    {%- for name, type in alert_columns() %}
    {% if name == 'primary_key' %}{{ 'primary_key' if touched_keys else 'cast(null as ' ~ sql_type(type) ~ ')' }}{% else %}cast(null as {{ sql_type(type) }}){% endif %} as {{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
{% if touched_keys %}from {{ touched_keys }}{% endif %}
    {%- endif %}
{%- endmacro %}

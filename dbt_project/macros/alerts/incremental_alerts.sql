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
    one input. -#}
{% macro _tracked_values(input) -%}
    {%- set column = config.get('changes_tracked')[input] -%}
    select cast({{ column }} as {{ sql_type('varchar') }}) as value, count(*) as row_count, max(ingested_at) as newest
    from {{ ref(input) }}
    where {{ column }} is not null
    group by {{ column }}
{%- endmacro %}


{#- The values of one tracked input whose rows changed since the last build (a subquery with
    one column, value). -#}
{% macro changed_values(input) -%}
    (select coalesce(now_.value, seen.value) as value
     from ({{ _tracked_values(input) }}) as now_
     full outer join (select value, row_count, newest from {{ changes_seen_relation() }}
                      where input = '{{ input }}') as seen
         on seen.value = now_.value
     where now_.row_count is distinct from seen.row_count or now_.newest is distinct from seen.newest)
{%- endmacro %}


{#- Post-hook: what the build judged on, for the next build to compare with. -#}
{% macro save_changes_seen() -%}
    {{ adapter.dispatch('save_changes_seen', 'powertrace')() }}
{%- endmacro %}

{% macro spark__save_changes_seen() -%}
{%- endmacro %}

{% macro default__save_changes_seen() -%}
    {%- if not execute or model.resource_type == 'unit_test' -%}{{ return('') }}{%- endif %}
    create or replace table {{ changes_seen_relation() }} as
    select '(definition)' as input, '{{ env_var('POWERTRACE_DBT_PROJECT_FINGERPRINT', '') }}' as value,
           cast(null as bigint) as row_count, cast(null as timestamptz) as newest
    {%- for input in config.get('changes_tracked') %}
    union all
    select '{{ input }}', value, row_count, newest from ({{ _tracked_values(input) }})
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

{#-
  Incremental silver entities (all of them: the event entities, payments, attendance,
  prescriptions, purchases, contributions, are the large ones; the registries follow the same
  rule, the latest delivery of a key winning): a build reads only what bronze has
  committed since the previous build, judged by the bronze lineage column _ingested_at (not by
  _batch_date), so a corrected re-delivery of an old date, which bronze rewrites with a new
  _ingested_at, is picked up like a new day. Assumes builds and ingestion do not overlap (the
  orchestration runs them in sequence).

  The model:
      {{ config(materialized='incremental', incremental_strategy='delete+insert',
                on_schema_change='fail', unique_key='<key column>',
                post_hook="{{ delete_superseded_rows() }}") }}
      with candidates as ({{ incremental_candidates(ref('<staging model>')) }}),
      ...                                   -- normalise, latest_per_key, as a full build would
      new_rows as (select ..., _batch_date as batch_date, _source_row as source_row,
                   _ingested_at as ingested_at from latest)
      {{ incremental_rows('new_rows', '<key column>') }}

  incremental_candidates: the staging rows committed after the table's latest ingested_at (every
  row on a full build). latest_per_key then keeps the latest delivery among them, and
  incremental_rows keeps a new row only when the table holds no later delivery of its key
  (latest batch, then latest ingestion, then highest source row: the order of latest_per_key), so
  a re-delivery of an old date never overrides a later date's row. delete+insert replaces the
  table's rows of the keys inserted.

  delete_superseded_rows (post-hook): a re-delivered batch replaces ALL of its rows, and bronze
  gives all rows of one ingestion one _ingested_at; so a row of a (system, batch) older than the
  newest row of that (system, batch) is one the correction no longer carries: delete it. (A
  record a correction drops that an EARLIER batch also delivered comes back only with
  --full-refresh; documented in README.)
-#}

{% macro incremental_candidates(staging) -%}
    select * from {{ staging }}
    where {{ committed_since_last_build() }}
{%- endmacro %}


{#- The condition on a staging row "bronze committed it after the last build read": its
    _ingested_at is later than the newest one the table records in ``watermark`` (ingested_at for
    silver entities; person_identity keeps read_through). True on a full build.

    On DuckDB the newest watermark is read when the model is compiled and written into the SQL as
    a literal. Why: a constant lets the Delta scan skip the bronze data whose _ingested_at statistics
    lie at or before it, so an increment reads the day's rows only; compared with a subquery the
    condition is evaluated row by row after reading every file of the table (at SF 1, about a
    second per staging model however few rows it returns). Safe because a model is compiled just
    before it runs, after its upstream models and while nothing else writes its table. -#}
{% macro committed_since_last_build(watermark='ingested_at') -%}
    {%- if this is not none and is_incremental() -%}
    _ingested_at > {{ adapter.dispatch('last_build_watermark', 'powertrace')(watermark) }}
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}

{% macro default__last_build_watermark(watermark) -%}
    (select coalesce(max({{ watermark }}), timestamptz '1970-01-01 00:00:00+00') from {{ this }})
{%- endmacro %}

{% macro duckdb__last_build_watermark(watermark) -%}
    {%- if not execute -%}{{ return(default__last_build_watermark(watermark)) }}{%- endif -%}
    {%- set newest = run_query("select cast(coalesce(max(" ~ watermark ~ "), timestamptz '1970-01-01 00:00:00+00') "
                                ~ "as varchar) from " ~ this).columns[0].values()[0] -%}
    timestamptz '{{ newest }}'
{%- endmacro %}


{% macro incremental_rows(new_rows, key_column) -%}
    select * from {{ new_rows }}
    {%- if this is not none and is_incremental() %}
    where not exists (
        select 1 from {{ this }} as existing
        where existing.{{ key_column }} = {{ new_rows }}.{{ key_column }}
            and (existing.batch_date > {{ new_rows }}.batch_date
                or existing.batch_date = {{ new_rows }}.batch_date
                and (existing.ingested_at > {{ new_rows }}.ingested_at
                    or existing.ingested_at = {{ new_rows }}.ingested_at
                    and existing.source_row > {{ new_rows }}.source_row)))
    {%- endif %}
{%- endmacro %}


{% macro delete_superseded_rows() -%}
    {{ adapter.dispatch('delete_superseded_rows', 'powertrace')() }}
{%- endmacro %}

{#- Spark builds incremental models in full (macros/engine/spark_incremental.sql): nothing to delete. -#}
{% macro spark__delete_superseded_rows() -%}
{%- endmacro %}

{% macro default__delete_superseded_rows() -%}
    {#- a unit test runs the model's SQL alone, with no table to clean -#}
    {%- if this is none or model.resource_type == 'unit_test' -%}{{ return('') }}{%- endif %}
    delete from {{ this }} as silver_row
    using (
        select system_id, batch_date, max(ingested_at) as latest_ingested_at
        from {{ this }}
        group by system_id, batch_date
    ) as batch
    where silver_row.system_id = batch.system_id
        and silver_row.batch_date = batch.batch_date
        and silver_row.ingested_at < batch.latest_ingested_at
{%- endmacro %}

{#-
  Incremental event entities (payments, attendance, prescriptions, purchases, contributions):
  a build reads only what bronze has committed since the previous build, judged by the bronze
  lineage column _ingested_at (not by _batch_date), so a corrected re-delivery of an old date,
  which bronze rewrites with a new _ingested_at, is picked up like a new day.

  The model's config:
      materialized='incremental', incremental_strategy='delete+insert', unique_key='<key column>',
      post_hook=delete_superseded_rows(ref('<staging model>'))
  its first CTE reads
      {{ incremental_candidates(ref('<staging model>'), ['<key expression over staging>', ...]) }}
  instead of the staging model, and its final select carries `ingested_at` (the winning row's
  _ingested_at) and `batch_date`.

  incremental_candidates: on a full build, every staging row. On an incremental build, every
  staging row (of any batch) of the keys that have a row committed since the watermark (the
  latest ingested_at in the table), so latest_per_key still sees every delivery of those keys
  and the latest batch keeps winning. `prekey` are expressions over staging columns that find
  the candidates cheaply; they may be coarser than the silver key (never finer).

  delete_superseded_rows: a re-delivered batch replaces ALL of its rows; a row that the
  correction no longer carries is still in silver with an ingested_at older than every row now in
  bronze for its (system, batch): delete it. (If an earlier batch also delivered that record, it
  comes back at the next full refresh: documented in README.)
-#}

{% macro incremental_watermark() -%}
    (select coalesce(max(ingested_at), timestamptz '1970-01-01 00:00:00+00') from {{ this }})
{%- endmacro %}


{% macro incremental_candidates(staging, prekey) -%}
    {%- if this is not none and is_incremental() %}
    select staged_row.*
    from {{ staging }} as staged_row
    semi join (
        select distinct {% for expr in prekey %}{{ expr }} as _prekey_{{ loop.index }}{{ ', ' if not loop.last }}{% endfor %}
        from {{ staging }}
        where _ingested_at > {{ incremental_watermark() }}
    ) as changed
        on {% for expr in prekey %}changed._prekey_{{ loop.index }} is not distinct from {{ expr }}{{ ' and ' if not loop.last }}{% endfor %}
    {%- else %}
    select * from {{ staging }}
    {%- endif %}
{%- endmacro %}


{% macro delete_superseded_rows(staging) -%}
    {#- a unit test runs the model's SQL alone, with no table to clean -#}
    {%- if this is none or model.resource_type == 'unit_test' -%}{{ return('') }}{%- endif %}
    delete from {{ this }} as silver_row
    using (
        select _system_id, _batch_date, min(_ingested_at) as first_ingested_at
        from {{ staging }}
        group by _system_id, _batch_date
    ) as bronze_batch
    where silver_row.system_id = bronze_batch._system_id
        and silver_row.batch_date = bronze_batch._batch_date
        and silver_row.ingested_at < bronze_batch.first_ingested_at
{%- endmacro %}

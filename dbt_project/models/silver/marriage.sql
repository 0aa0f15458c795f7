{#- Marriages of the marriage registry, one row per marriage record. Spouses of P at D (models.md):
    a row with P on either side, registered on or before D and dissolved_date null or after D; the
    relation model turns each row into two dated spouse edges.
    Incremental on what bronze has committed since the last build (macros/silver/incremental.sql). -#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', on_schema_change='fail', unique_key='marriage_id',
          post_hook="{{ delete_superseded_rows() }}") }}

with candidates as (
    {{ incremental_candidates(ref('stg_marriage_registry__marriage')) }}
),

staged as (
    select
        {{ qualified_id('_system_id', 'marriage_id') }} as marriage_id,
        _system_id as system_id,
        {{ normalise_id_number('person_a_id') }} as person_a_id_number,
        {{ normalise_id_number('person_b_id') }} as person_b_id_number,
        registered_date,
        dissolved_date,
        _batch_date,
        _ingested_at,
        _source_row
    from candidates
),

latest as (
    {{ latest_per_key('staged', ['marriage_id']) }}
),

new_rows as (
    select
        marriage_id,
        system_id,
        {{ person_id_columns('person_a_id_number', 'person_a') }},
        {{ person_id_columns('person_b_id_number', 'person_b') }},
        registered_date,
        dissolved_date,
        registered_date is not null as holds_interval,
        _batch_date as batch_date,
        _source_row as source_row,
        _ingested_at as ingested_at
    from latest
)

{{ incremental_rows('new_rows', 'marriage_id') }}

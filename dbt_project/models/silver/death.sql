{#- Deaths of the death registry, one row per person (the latest delivery winning). A recipient
    whose death_date is before the first day of a pay month is ineligible (SM07).
    Incremental on what bronze has committed since the last build (macros/silver/incremental.sql). -#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', on_schema_change='fail', unique_key='death_key',
          post_hook="{{ delete_superseded_rows() }}") }}

with candidates as (
    {{ incremental_candidates(ref('stg_death_registry__death')) }}
),

staged as (
    select
        _system_id as system_id,
        {{ normalise_id_number('id_number') }} as id_number,
        death_date,
        source_ref,
        _batch_date,
        _ingested_at,
        _source_row
    from candidates
),

latest as (
    {{ latest_per_key('staged', ['id_number']) }}
),

new_rows as (
    select
        {{ pseudonymous_key('system_id', 'id_number', []) }} as death_key,
        system_id,
        {{ person_id_columns('id_number', 'person', 'id_number_valid') }},
        death_date,
        source_ref,
        _batch_date as batch_date,
        _source_row as source_row,
        _ingested_at as ingested_at
    from latest
)

{{ incremental_rows('new_rows', 'death_key') }}

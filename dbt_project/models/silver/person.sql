{#- Registered persons of the household registry (latest snapshot plus change rows), one row per
    person. household_id is qualified by the registry's system id; names and raw id_numbers are
    in restricted.person_identity only.
    Incremental on what bronze has committed since the last build (macros/silver/incremental.sql). -#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', on_schema_change='fail', unique_key='person_key',
          post_hook="{{ delete_superseded_rows() }}") }}

with candidates as (
    {{ incremental_candidates(ref('stg_household_registry__person')) }}
),

staged as (
    select
        _system_id as system_id,
        {{ normalise_id_number('id_number') }} as id_number,
        gender,
        birth_date,
        {{ qualified_id('_system_id', 'household_id') }} as household_id,
        relation_to_head,
        trim(region_code) as region_code,
        trim(village_code) as village_code,
        _batch_date,
        _ingested_at,
        _source_row
    from candidates
),

latest as (
    {{ latest_per_key('staged', ['system_id', 'id_number']) }}
),

checked as (
    select *, {{ id_number_is_valid('id_number') }} as id_number_valid
    from latest
),

new_rows as (
    select
        {{ pseudonymous_key('system_id', 'id_number', []) }} as person_key,
        system_id,
        case when id_number_valid then {{ person_ref('id_number') }} end as person_ref,
        id_number_valid,
        gender,
        birth_date,
        household_id,
        relation_to_head,
        region_code,
        village_code,
        _batch_date as batch_date,
        _source_row as source_row,
        _ingested_at as ingested_at
    from checked
)

{{ incremental_rows('new_rows', 'person_key') }}

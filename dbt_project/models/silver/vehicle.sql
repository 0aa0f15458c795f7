{#- Motor vehicles of the vehicle registry (a full snapshot on the 1st of every month: the latest
    snapshot wins), one row per plate; the owner by owner_ref (person_ref, or the credit code of a
    company owner, inferred from which check the owner_id passes).
    Incremental on what bronze has committed since the last build (macros/silver/incremental.sql). -#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', on_schema_change='fail', unique_key='vehicle_key',
          post_hook="{{ delete_superseded_rows() }}") }}

with candidates as (
    {{ incremental_candidates(ref('stg_vehicle_registry__vehicle')) }}
),

staged as (
    select
        _system_id as system_id,
        upper({{ regexp_remove('plate', '[\\s\\x{3000}]') }}) as plate,
        {{ normalise_id_number('owner_id') }} as owner_id_number,
        {{ normalise_credit_code('owner_id') }} as owner_credit_code,
        vehicle_type,
        value,
        registered_date,
        _batch_date,
        _ingested_at,
        _source_row
    from candidates
),

latest as (
    {{ latest_per_key('staged', ['plate']) }}
),

typed as (
    select *, {{ party_kind('owner_id_number', 'owner_credit_code', 'null') }} as owner_kind
    from latest
),

new_rows as (
    select
        system_id || ':' || plate as vehicle_key,
        system_id,
        plate,
        owner_kind,
        {{ party_id_columns('owner_id_number', 'owner_credit_code', 'owner_kind', 'owner') }},
        vehicle_type,
        value,
        registered_date,
        _batch_date as batch_date,
        _source_row as source_row,
        _ingested_at as ingested_at
    from typed
    where plate is not null
)

{{ incremental_rows('new_rows', 'vehicle_key') }}

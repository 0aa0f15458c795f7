{#- Real estate of the property registry (monthly full snapshots: the latest wins), one row per
    property; the owner by owner_ref as in vehicle.
    Incremental on what bronze has committed since the last build (macros/silver/incremental.sql). -#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', on_schema_change='fail', unique_key='property_id',
          post_hook="{{ delete_superseded_rows() }}") }}

with candidates as (
    {{ incremental_candidates(ref('stg_property_registry__property')) }}
),

staged as (
    select
        {{ qualified_id('_system_id', 'property_id') }} as property_id,
        _system_id as system_id,
        trim(property_id) as source_property_id,
        {{ normalise_id_number('owner_id') }} as owner_id_number,
        {{ normalise_credit_code('owner_id') }} as owner_credit_code,
        trim(region_code) as region_code,
        area_m2,
        registered_date,
        _batch_date,
        _ingested_at,
        _source_row
    from candidates
),

latest as (
    {{ latest_per_key('staged', ['property_id']) }}
),

typed as (
    select *, {{ party_kind('owner_id_number', 'owner_credit_code', 'null') }} as owner_kind
    from latest
),

new_rows as (
    select
        property_id,
        system_id,
        source_property_id,
        owner_kind,
        {{ party_id_columns('owner_id_number', 'owner_credit_code', 'owner_kind', 'owner') }},
        region_code,
        area_m2,
        registered_date,
        _batch_date as batch_date,
        _source_row as source_row,
        _ingested_at as ingested_at
    from typed
)

{{ incremental_rows('new_rows', 'property_id') }}

{#- Leases of village collective assets of every city's asset trading system, one row per lease.
    The lessee is a person (person_ref) or a company (credit code); previous_lease_id names a
    lease of the same system.
    Incremental on what bronze has committed since the last build (macros/silver/incremental.sql). -#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', on_schema_change='fail', unique_key='lease_id',
          post_hook="{{ delete_superseded_rows() }}") }}

with candidates as (
    {{ incremental_candidates(ref('stg_asset_trading__asset_lease')) }}
),

staged as (
    select
        {{ qualified_id('_system_id', 'lease_id') }} as lease_id,
        _system_id as system_id,
        trim(lease_id) as source_lease_id,
        trim(village_code) as village_code,
        trim(asset_id) as asset_id,
        lower(trim(asset_type)) as asset_type,
        area_m2,
        {{ normalise_id_number('lessee_id') }} as lessee_id_number,
        {{ normalise_credit_code('lessee_id') }} as lessee_credit_code,
        lower(trim(lessee_type)) as lessee_type,
        annual_rent,
        start_date,
        end_date,
        lower(trim(method)) as method,
        {{ qualified_id('_system_id', 'previous_lease_id') }} as previous_lease_id,
        _batch_date,
        _ingested_at,
        _source_row
    from candidates
),

latest as (
    {{ latest_per_key('staged', ['lease_id']) }}
),

typed as (
    select *, {{ party_kind('lessee_id_number', 'lessee_credit_code', 'lessee_type') }} as lessee_kind
    from latest
),

new_rows as (
    select
        lease_id,
        system_id,
        source_lease_id,
        village_code,
        asset_id,
        asset_type,
        area_m2,
        lessee_type,
        lessee_kind,
        {{ party_id_columns('lessee_id_number', 'lessee_credit_code', 'lessee_kind', 'lessee') }},
        annual_rent,
        start_date,
        end_date,
        method,
        previous_lease_id,
        start_date is not null as holds_interval,
        _batch_date as batch_date,
        _source_row as source_row,
        _ingested_at as ingested_at
    from typed
)

{{ incremental_rows('new_rows', 'lease_id') }}

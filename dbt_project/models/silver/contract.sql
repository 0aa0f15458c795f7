{#- Contracts of every city's public resource trading system, one row per contract. project_id is
    qualified by the same system; supplier_code is the normalised credit code; the technical lead
    named in the contract is technical_lead_ref.
    Incremental on what bronze has committed since the last build (macros/silver/incremental.sql). -#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', on_schema_change='fail', unique_key='contract_id',
          post_hook="{{ delete_superseded_rows() }}") }}

with candidates as (
    {{ incremental_candidates(ref('stg_public_resource_trading__contract')) }}
),

staged as (
    select
        {{ qualified_id('_system_id', 'contract_id') }} as contract_id,
        _system_id as system_id,
        trim(contract_id) as source_contract_id,
        {{ qualified_id('_system_id', 'project_id') }} as project_id,
        {{ normalise_credit_code('supplier_code') }} as supplier_code_normalised,
        amount,
        sign_date,
        end_date,
        {{ normalise_id_number('technical_lead_id') }} as technical_lead_id_number,
        required_onsite_days_per_month,
        _batch_date,
        _ingested_at,
        _source_row
    from candidates
),

latest as (
    {{ latest_per_key('staged', ['contract_id']) }}
),

new_rows as (
    select
        contract_id,
        system_id,
        source_contract_id,
        project_id,
        {{ credit_code_columns('supplier_code_normalised', 'supplier_code') }},
        amount,
        sign_date,
        end_date,
        {{ person_id_columns('technical_lead_id_number', 'technical_lead') }},
        required_onsite_days_per_month,
        sign_date is not null as holds_interval,
        _batch_date as batch_date,
        _source_row as source_row,
        _ingested_at as ingested_at
    from latest
)

{{ incremental_rows('new_rows', 'contract_id') }}

{#- Companies of the business registry, one row per company (credit code), the latest delivery
    winning. credit_code is null when the delivered code fails its GB 32100 check (the row is kept
    under company_key and counted); the legal representative is legal_rep_ref. Phones are
    normalised to digits (normalise_phone) so that two spellings of one number compare equal.
    Incremental on what bronze has committed since the last build (macros/silver/incremental.sql). -#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', on_schema_change='fail', unique_key='company_key',
          post_hook="{{ delete_superseded_rows() }}") }}

with candidates as (
    {{ incremental_candidates(ref('stg_business_registry__company')) }}
),

staged as (
    select
        _system_id as system_id,
        {{ normalise_credit_code('credit_code') }} as credit_code_normalised,
        name,
        {{ normalise_id_number('legal_rep_id') }} as legal_rep_id_number,
        reg_address,
        {{ normalise_phone('phone') }} as phone,
        established_date,
        lower(trim(status)) as status,
        deregistered_date,
        _batch_date,
        _ingested_at,
        _source_row
    from candidates
),

latest as (
    {{ latest_per_key('staged', ['credit_code_normalised']) }}
),

new_rows as (
    select
        system_id || ':' || credit_code_normalised as company_key,
        system_id,
        {{ credit_code_columns('credit_code_normalised', 'credit_code') }},
        name,
        {{ person_id_columns('legal_rep_id_number', 'legal_rep') }},
        reg_address,
        phone,
        established_date,
        status,
        deregistered_date,
        established_date is not null as holds_interval,
        _batch_date as batch_date,
        _source_row as source_row,
        _ingested_at as ingested_at
    from latest
    where credit_code_normalised is not null
)

{{ incremental_rows('new_rows', 'company_key') }}

{#- Shareholdings of the business registry, one row per (company, holder, from_date). A holder is a
    person (holder_ref = person_ref) or a company (holder_ref = its credit code): holder_kind is the
    delivered holder_type, or inferred from which check the holder_id passes. Each row is judged
    alone (models.md: nothing summed).
    Incremental on what bronze has committed since the last build (macros/silver/incremental.sql). -#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', on_schema_change='fail', unique_key='shareholder_key',
          post_hook="{{ delete_superseded_rows() }}") }}

with candidates as (
    {{ incremental_candidates(ref('stg_business_registry__shareholder')) }}
),

staged as (
    select
        _system_id as system_id,
        {{ normalise_credit_code('credit_code') }} as credit_code_normalised,
        {{ normalise_id_number('holder_id') }} as holder_id_number,
        {{ normalise_credit_code('holder_id') }} as holder_credit_code,
        holder_type,
        share_ratio,
        from_date,
        to_date,
        _batch_date,
        _ingested_at,
        _source_row
    from candidates
),

typed as (
    select
        *,
        {{ party_kind('holder_id_number', 'holder_credit_code', 'holder_type') }} as holder_kind,
        -- the holder as identity sees it: a company by its code, anyone else by the id_number form
        case when {{ party_kind('holder_id_number', 'holder_credit_code', 'holder_type') }} = 'company'
             then holder_credit_code else holder_id_number end as holder_normalised
    from staged
),

latest as (
    {{ latest_per_key('typed', ['credit_code_normalised', 'holder_normalised', 'from_date']) }}
),

new_rows as (
    select
        {{ pseudonymous_key('system_id', 'holder_normalised', ['credit_code_normalised', 'from_date']) }} as shareholder_key,
        system_id,
        {{ credit_code_columns('credit_code_normalised', 'credit_code') }},
        lower(trim(holder_type)) as holder_type,
        holder_kind,
        {{ party_id_columns('holder_id_number', 'holder_credit_code', 'holder_kind', 'holder') }},
        share_ratio,
        from_date,
        to_date,
        from_date is not null as holds_interval,
        _batch_date as batch_date,
        _source_row as source_row,
        _ingested_at as ingested_at
    from latest
)

{{ incremental_rows('new_rows', 'shareholder_key') }}

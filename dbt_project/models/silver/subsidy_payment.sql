{#- Social assistance payments of every city's social assistance system, one row per payment.
    Incremental on what bronze has committed since the last build (macros/silver/incremental.sql). -#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', on_schema_change='fail', unique_key='subsidy_id',
          post_hook="{{ delete_superseded_rows() }}") }}

with candidates as (
    {{ incremental_candidates(ref('stg_social_assistance__subsidy_payment')) }}
),

staged as (
    select
        {{ qualified_id('_system_id', 'subsidy_id') }} as subsidy_id,
        _system_id as system_id,
        trim(subsidy_id) as source_subsidy_id,
        {{ normalise_id_number('recipient_id') }} as recipient_id_number,
        lower(trim(program)) as program,
        trim(region_code) as region_code,
        amount,
        trim(pay_month) as pay_month,
        _batch_date,
        _ingested_at,
        _source_row
    from candidates
),

latest as (
    {{ latest_per_key('staged', ['subsidy_id']) }}
),

new_rows as (
    select
        subsidy_id,
        system_id,
        source_subsidy_id,
        {{ person_id_columns('recipient_id_number', 'recipient') }},
        program,
        region_code,
        amount,
        pay_month,
        _batch_date as batch_date,
        _source_row as source_row,
        _ingested_at as ingested_at
    from latest
)

{{ incremental_rows('new_rows', 'subsidy_id') }}

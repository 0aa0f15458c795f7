{#- Pension payments of the provincial pension system, one row per payment.
    Incremental on what bronze has committed since the last build (macros/silver/incremental.sql). -#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', on_schema_change='fail', unique_key='pension_id',
          post_hook="{{ delete_superseded_rows() }}") }}

with candidates as (
    {{ incremental_candidates(ref('stg_pension__pension_payment')) }}
),

staged as (
    select
        {{ qualified_id('_system_id', 'pension_id') }} as pension_id,
        _system_id as system_id,
        trim(pension_id) as source_pension_id,
        {{ normalise_id_number('recipient_id') }} as recipient_id_number,
        amount,
        trim(pay_month) as pay_month,
        _batch_date,
        _ingested_at,
        _source_row
    from candidates
),

latest as (
    {{ latest_per_key('staged', ['pension_id']) }}
),

new_rows as (
    select
        pension_id,
        system_id,
        source_pension_id,
        {{ person_id_columns('recipient_id_number', 'recipient') }},
        amount,
        pay_month,
        _batch_date as batch_date,
        _source_row as source_row,
        _ingested_at as ingested_at
    from latest
)

{{ incremental_rows('new_rows', 'pension_id') }}

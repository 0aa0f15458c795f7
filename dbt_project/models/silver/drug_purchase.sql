{#- Hospital purchase orders of the provincial drug purchasing platform, one row per order.
    Incremental on what bronze has committed since the last build (macros/silver/incremental.sql). -#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', on_schema_change='fail', unique_key='order_id',
          post_hook="{{ delete_superseded_rows() }}") }}

with candidates as (
    {{ incremental_candidates(ref('stg_drug_purchasing__drug_purchase')) }}
),

staged as (
    select
        {{ qualified_id('_system_id', 'order_id') }} as order_id,
        _system_id as system_id,
        trim(order_id) as source_order_id,
        {{ normalise_credit_code('hospital_code') }} as hospital_code_normalised,
        trim(drug_code) as drug_code,
        drug_name,
        {{ normalise_credit_code('supplier_code') }} as supplier_code_normalised,
        quantity,
        unit_price,
        order_date,
        _batch_date,
        _ingested_at,
        _source_row
    from candidates
),

latest as (
    {{ latest_per_key('staged', ['order_id']) }}
),

new_rows as (
    select
        order_id,
        system_id,
        source_order_id,
        {{ credit_code_columns('hospital_code_normalised', 'hospital_code') }},
        drug_code,
        drug_name,
        {{ credit_code_columns('supplier_code_normalised', 'supplier_code') }},
        quantity,
        unit_price,
        order_date,
        _batch_date as batch_date,
        _source_row as source_row,
        _ingested_at as ingested_at
    from latest
)

{{ incremental_rows('new_rows', 'order_id') }}

{#- Village procurement of materials of every city's village_finance system, one row per purchase;
    vproject_id (nullable) names a village_project of the same system.
    Incremental on what bronze has committed since the last build (macros/silver/incremental.sql). -#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', on_schema_change='fail', unique_key='purchase_id',
          post_hook="{{ delete_superseded_rows() }}") }}

with candidates as (
    {{ incremental_candidates(ref('stg_village_finance__village_procurement')) }}
),

staged as (
    select
        {{ qualified_id('_system_id', 'purchase_id') }} as purchase_id,
        _system_id as system_id,
        trim(purchase_id) as source_purchase_id,
        trim(village_code) as village_code,
        {{ normalise_credit_code('supplier_code') }} as supplier_code_normalised,
        item,
        amount,
        purchase_date,
        {{ qualified_id('_system_id', 'vproject_id') }} as vproject_id,
        _batch_date,
        _ingested_at,
        _source_row
    from candidates
),

latest as (
    {{ latest_per_key('staged', ['purchase_id']) }}
),

new_rows as (
    select
        purchase_id,
        system_id,
        source_purchase_id,
        village_code,
        {{ credit_code_columns('supplier_code_normalised', 'supplier_code') }},
        item,
        amount,
        purchase_date,
        vproject_id,
        _batch_date as batch_date,
        _source_row as source_row,
        _ingested_at as ingested_at
    from latest
)

{{ incremental_rows('new_rows', 'purchase_id') }}

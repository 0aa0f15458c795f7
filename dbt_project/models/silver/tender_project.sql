{#- Tender projects of every city's public resource trading system, one row per project.
    owner_code is the owning organisation's normalised credit code (null when it fails its check)
    for owner_type org, and the 12-digit village_code for owner_type village.
    Incremental on what bronze has committed since the last build (macros/silver/incremental.sql). -#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', on_schema_change='fail', unique_key='project_id',
          post_hook="{{ delete_superseded_rows() }}") }}

with candidates as (
    {{ incremental_candidates(ref('stg_public_resource_trading__tender_project')) }}
),

staged as (
    select
        {{ qualified_id('_system_id', 'project_id') }} as project_id,
        _system_id as system_id,
        trim(project_id) as source_project_id,
        name,
        lower(trim(owner_type)) as owner_type,
        trim(owner_code) as owner_code_raw,
        {{ normalise_credit_code('owner_code') }} as owner_credit_code,
        trim(region_code) as region_code,
        category,
        method,
        budget,
        publish_date,
        bid_deadline,
        award_date,
        _batch_date,
        _ingested_at,
        _source_row
    from candidates
),

latest as (
    {{ latest_per_key('staged', ['project_id']) }}
),

new_rows as (
    select
        project_id,
        system_id,
        source_project_id,
        name,
        owner_type,
        case when owner_type = 'village' then owner_code_raw
             when {{ credit_code_is_valid('owner_credit_code') }} then owner_credit_code end as owner_code,
        case when owner_type = 'village' then {{ regexp_full_match("coalesce(owner_code_raw, '')", '[0-9]{12}') }}
             else {{ credit_code_is_valid('owner_credit_code') }} end as owner_code_valid,
        region_code,
        category,
        method,
        budget,
        publish_date,
        bid_deadline,
        award_date,
        _batch_date as batch_date,
        _source_row as source_row,
        _ingested_at as ingested_at
    from latest
)

{{ incremental_rows('new_rows', 'project_id') }}

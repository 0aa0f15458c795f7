{#- Public officials (civil servants, institution and SOE staff) of the provincial roster, one
    row per (person, organisation, start date). Identifiers as in village_cadre; org_code is the
    employer's normalised credit code.
    Incremental on what bronze has committed since the last build (macros/silver/incremental.sql). -#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', on_schema_change='fail', unique_key='official_key',
          post_hook="{{ delete_superseded_rows() }}") }}

with candidates as (
    {{ incremental_candidates(ref('stg_official_roster__public_official')) }}
),

staged as (
    select
        _system_id as system_id,
        {{ normalise_id_number('id_number') }} as id_number,
        {{ normalise_credit_code('org_code') }} as org_code,
        org_name,
        org_type,
        position,
        rank,
        trim(region_code) as region_code,
        start_date,
        end_date,
        _batch_date,
        _ingested_at,
        _source_row
    from candidates
),

latest as (
    {{ latest_per_key('staged', ['system_id', 'id_number', 'org_code', 'start_date']) }}
),

checked as (
    select
        *,
        {{ id_number_is_valid('id_number') }} as id_number_valid,
        {{ credit_code_is_valid('org_code') }} as org_code_valid
    from latest
),

new_rows as (
    select
        {{ pseudonymous_key('system_id', 'id_number', ['org_code', 'start_date']) }} as official_key,
        system_id,
        case when id_number_valid then {{ person_ref('id_number') }} end as person_ref,
        id_number_valid,
        org_code,
        org_code_valid,
        org_name,
        org_type,
        position,
        rank,
        region_code,
        start_date,
        end_date,
        start_date is not null as holds_interval,
        _batch_date as batch_date,
        _source_row as source_row,
        _ingested_at as ingested_at
    from checked
)

{{ incremental_rows('new_rows', 'official_key') }}

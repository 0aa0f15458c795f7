{#- Village small works (村级小额工程) of every city's village_finance system, one row per project.
    The contractor is a company (contractor_ref = credit code) or a person (person_ref).
    Incremental on what bronze has committed since the last build (macros/silver/incremental.sql). -#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', on_schema_change='fail', unique_key='vproject_id',
          post_hook="{{ delete_superseded_rows() }}") }}

with candidates as (
    {{ incremental_candidates(ref('stg_village_finance__village_project')) }}
),

staged as (
    select
        {{ qualified_id('_system_id', 'vproject_id') }} as vproject_id,
        _system_id as system_id,
        trim(vproject_id) as source_vproject_id,
        trim(village_code) as village_code,
        name,
        lower(trim(kind)) as kind,
        {{ normalise_id_number('contractor_id') }} as contractor_id_number,
        {{ normalise_credit_code('contractor_id') }} as contractor_credit_code,
        lower(trim(contractor_type)) as contractor_type,
        amount,
        approved_date,
        _batch_date,
        _ingested_at,
        _source_row
    from candidates
),

latest as (
    {{ latest_per_key('staged', ['vproject_id']) }}
),

typed as (
    select *, {{ party_kind('contractor_id_number', 'contractor_credit_code', 'contractor_type') }} as contractor_kind
    from latest
),

new_rows as (
    select
        vproject_id,
        system_id,
        source_vproject_id,
        village_code,
        name,
        kind,
        contractor_type,
        contractor_kind,
        {{ party_id_columns('contractor_id_number', 'contractor_credit_code', 'contractor_kind', 'contractor') }},
        amount,
        approved_date,
        _batch_date as batch_date,
        _source_row as source_row,
        _ingested_at as ingested_at
    from typed
)

{{ incremental_rows('new_rows', 'vproject_id') }}

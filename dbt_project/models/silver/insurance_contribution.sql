{#- Social insurance contributions, one row per (person, employer, month).
    Incremental on what bronze has committed since the last build (macros/silver/incremental.sql). -#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', on_schema_change='fail', unique_key='contribution_key',
          post_hook="{{ delete_superseded_rows() }}") }}

with candidates as (
    {{ incremental_candidates(ref('stg_social_insurance__insurance_contribution')) }}
),

staged as (
    select
        _system_id as system_id,
        {{ normalise_id_number('id_number') }} as id_number,
        {{ normalise_credit_code('employer_code') }} as employer_code_normalised,
        trim(month) as month,
        amount,
        _batch_date,
        _ingested_at,
        _source_row
    from candidates
),

latest as (
    {{ latest_per_key('staged', ['system_id', 'id_number', 'employer_code_normalised', 'month']) }}
),

new_rows as (
    select
        {{ pseudonymous_key('system_id', 'id_number', ['employer_code_normalised', 'month']) }} as contribution_key,
        system_id,
        {{ person_id_columns('id_number', 'person', 'id_number_valid') }},
        {{ credit_code_columns('employer_code_normalised', 'employer_code') }},
        month,
        amount,
        _batch_date as batch_date,
        _source_row as source_row,
        _ingested_at as ingested_at
    from latest
)

{{ incremental_rows('new_rows', 'contribution_key') }}

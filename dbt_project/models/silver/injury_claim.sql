{#- Work-injury claims of the provincial work-injury insurance system, one row per claim: the
    injured person (injured_ref), the employer's and hospital's credit codes, and the official who
    approved it (handler_ref).
    Incremental on what bronze has committed since the last build (macros/silver/incremental.sql). -#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', on_schema_change='fail', unique_key='claim_id',
          post_hook="{{ delete_superseded_rows() }}") }}

with candidates as (
    {{ incremental_candidates(ref('stg_work_injury__injury_claim')) }}
),

staged as (
    select
        {{ qualified_id('_system_id', 'claim_id') }} as claim_id,
        _system_id as system_id,
        trim(claim_id) as source_claim_id,
        {{ normalise_id_number('injured_id') }} as injured_id_number,
        {{ normalise_credit_code('employer_code') }} as employer_code_normalised,
        accident_date,
        diagnosis,
        {{ normalise_credit_code('hospital_code') }} as hospital_code_normalised,
        payout,
        {{ normalise_id_number('handler_id') }} as handler_id_number,
        approved_date,
        _batch_date,
        _ingested_at,
        _source_row
    from candidates
),

latest as (
    {{ latest_per_key('staged', ['claim_id']) }}
),

new_rows as (
    select
        claim_id,
        system_id,
        source_claim_id,
        {{ person_id_columns('injured_id_number', 'injured') }},
        {{ credit_code_columns('employer_code_normalised', 'employer_code') }},
        accident_date,
        diagnosis,
        {{ credit_code_columns('hospital_code_normalised', 'hospital_code') }},
        payout,
        {{ person_id_columns('handler_id_number', 'handler') }},
        approved_date,
        _batch_date as batch_date,
        _source_row as source_row,
        _ingested_at as ingested_at
    from latest
)

{{ incremental_rows('new_rows', 'claim_id') }}

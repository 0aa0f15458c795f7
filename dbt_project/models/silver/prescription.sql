{#- Prescriptions of the 85 hospital information systems, one row per prescription: doctor and
    patient by person_ref, the hospital by its credit code.
    Incremental on what bronze has committed since the last build (macros/silver/incremental.sql). -#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', on_schema_change='fail', unique_key='rx_id',
          post_hook="{{ delete_superseded_rows() }}") }}

with candidates as (
    {{ incremental_candidates(ref('stg_hospital_his__prescription')) }}
),

staged as (
    select
        {{ qualified_id('_system_id', 'rx_id') }} as rx_id,
        _system_id as system_id,
        trim(rx_id) as source_rx_id,
        {{ normalise_credit_code('hospital_code') }} as hospital_code_normalised,
        {{ normalise_id_number('doctor_id') }} as doctor_id_number,
        {{ normalise_id_number('patient_id') }} as patient_id_number,
        trim(drug_code) as drug_code,
        quantity,
        rx_date,
        _batch_date,
        _ingested_at,
        _source_row
    from candidates
),

latest as (
    {{ latest_per_key('staged', ['rx_id']) }}
),

new_rows as (
    select
        rx_id,
        system_id,
        source_rx_id,
        {{ credit_code_columns('hospital_code_normalised', 'hospital_code') }},
        {{ person_id_columns('doctor_id_number', 'doctor') }},
        {{ person_id_columns('patient_id_number', 'patient') }},
        drug_code,
        quantity,
        rx_date,
        _batch_date as batch_date,
        _source_row as source_row,
        _ingested_at as ingested_at
    from latest
)

{{ incremental_rows('new_rows', 'rx_id') }}

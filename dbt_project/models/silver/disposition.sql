{#- Dispositions written back by the verifying units through the disposition feedback system
    (the alert service fills it), one row per (alert, recorded_at). The actor is a unit or role,
    not a person identifier.
    Incremental on what bronze has committed since the last build (macros/silver/incremental.sql). -#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', on_schema_change='fail', unique_key='disposition_key',
          post_hook="{{ delete_superseded_rows() }}") }}

with candidates as (
    {{ incremental_candidates(ref('stg_disposition_feedback__disposition')) }}
),

staged as (
    select
        _system_id as system_id,
        trim(alert_id) as alert_id,
        lower(trim(status)) as status,
        reason,
        actor,
        recorded_at,
        _batch_date,
        _ingested_at,
        _source_row
    from candidates
),

latest as (
    {{ latest_per_key('staged', ['alert_id', 'recorded_at']) }}
),

new_rows as (
    select
        alert_id || '|' || {{ iso_timestamp_text('recorded_at') }} as disposition_key,
        system_id,
        alert_id,
        status,
        reason,
        actor,
        recorded_at,
        _batch_date as batch_date,
        _source_row as source_row,
        _ingested_at as ingested_at
    from latest
    where alert_id is not null and recorded_at is not null
)

{{ incremental_rows('new_rows', 'disposition_key') }}

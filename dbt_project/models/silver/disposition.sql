{#- Dispositions written back by the verifying units through the disposition feedback system
    (the alert service fills it), one row per (alert, recorded_at). The actor is a unit or role,
    not a person identifier. -#}
with staged as (
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
    from {{ ref('stg_disposition_feedback__disposition') }}
),

latest as (
    {{ latest_per_key('staged', ['alert_id', 'recorded_at']) }}
)

select
    alert_id || '|' || strftime(recorded_at, '%Y-%m-%dT%H:%M:%S.%f') as disposition_key,
    system_id,
    alert_id,
    status,
    reason,
    actor,
    recorded_at,
    _batch_date as batch_date,
    _source_row as source_row
from latest
where alert_id is not null and recorded_at is not null

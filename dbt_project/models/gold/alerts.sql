{#- Every alert of every live supervision model (detected_alerts), in the alert contract of
    models.md, with its lifecycle across runs.

    Lifecycle (incremental, keyed by alert_id = md5(model_id|primary_key), so ids survive new
    data and new model versions):
      - an alert detected now and before keeps first_detected_as_of; its content and
        last_detected_as_of are this run's (a resolved alert detected again is open again);
      - an alert detected for the first time is open, first = last detected = this as-of date;
      - an open alert no longer produced is resolved at this as-of date, never deleted;
      - a resolved alert not produced stays as it was.
    Detection dates are as-of dates (the latest batch ingested), so a re-run on the same data
    changes nothing. A full refresh starts the lifecycle again: every alert first detected now. -#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='alert_id',
          on_schema_change='fail') }}
{%- set names = alert_columns() | map(attribute=0) | list %}
with detected as (
    select * from {{ ref('detected_alerts') }}
),

run as (
    select {{ as_of_date() }} as as_of
)

{%- if is_incremental() %},

previous as (
    select * from {{ this }}
),

still_or_newly_detected as (
    select
        {% for name in names %}d.{{ name }},
        {% endfor -%}
        'open' as status,
        coalesce(p.first_detected_as_of, run.as_of) as first_detected_as_of,
        run.as_of as last_detected_as_of,
        cast(null as date) as resolved_as_of
    from detected as d
    cross join run
    left join previous as p using (alert_id)
),

newly_resolved as (
    select
        {% for name in names %}p.{{ name }},
        {% endfor -%}
        'resolved' as status,
        p.first_detected_as_of,
        p.last_detected_as_of,
        run.as_of as resolved_as_of
    from previous as p
    cross join run
    where p.status = 'open'
      and p.alert_id not in (select alert_id from detected)
)

select * from still_or_newly_detected
union all
select * from newly_resolved

{%- else %}

select
    {{ names | join(',\n    ') }},
    'open' as status,
    run.as_of as first_detected_as_of,
    run.as_of as last_detected_as_of,
    cast(null as date) as resolved_as_of
from detected
cross join run

{%- endif %}

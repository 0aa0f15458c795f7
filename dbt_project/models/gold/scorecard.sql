{#- The scorecard of every supervision model, live or shadow: per model, rule branch and region,
    its alerts by severity and status, the dispositions written back for them, and the
    verified-hit rate (查实率) of models.md: confirmed / (confirmed + dismissed) among the alerts
    whose latest disposition is confirmed, dismissed or rectified (rectified counts as confirmed).
    The period is everything up to the as-of date. An alert with branches 'a,c' counts for branch
    a and for branch c; rule_branch '*' is the model as a whole.

    Live models are scored from `alerts` (so resolved alerts count too); shadow models, which
    never reach `alerts`, from their own tables (open, as their model computes them now). -#}
{%- do require_generated('powertrace_supervision_models') -%}
{%- set models = powertrace_supervision_models() %}
with scored as (
    select model_id, model_version, 'live' as mode, alert_id, rule_branch, severity, region_code, status
    from {{ ref('alerts') }}
{%- for name in models %}
    {%- if not execute or supervision_model_mode(name) != 'live' %}
    union all
    select model_id, model_version, '{{ supervision_model_mode(name) if execute else "shadow" }}', alert_id,
           rule_branch, severity, region_code, 'open'
    from {{ ref(name) }}
    {%- endif %}
{%- endfor %}
),

latest_disposition as (
    select alert_id, max_by(status, recorded_at) as disposition
    from {{ ref('disposition') }}
    where recorded_at <= {{ as_of_date() }} + interval 1 day
    group by alert_id
),

per_branch as (
    select s.*, branch.name as branch, d.disposition
    from scored as s
    {{ unnest_join(split_with('s.rule_branch', ',', "'*'"), 'branch', 'name') }}
    left join latest_disposition as d using (alert_id)
)

select
    model_id,
    max(model_version) as model_version,
    mode,
    branch as rule_branch,
    region_code,
    count(*) as alerts,
    count(*) filter (where severity = 'red') as red,
    count(*) filter (where severity = 'yellow') as yellow,
    count(*) filter (where status = 'open') as open,
    count(*) filter (where status = 'resolved') as resolved,
    count(disposition) as disposed,
    count(*) filter (where disposition = 'confirmed') as confirmed,
    count(*) filter (where disposition = 'rectified') as rectified,
    count(*) filter (where disposition = 'dismissed') as dismissed,
    count(*) filter (where disposition not in ('confirmed', 'rectified', 'dismissed')) as in_progress,
    cast(count(*) filter (where disposition in ('confirmed', 'rectified')) as double)
        / nullif(count(*) filter (where disposition in ('confirmed', 'rectified', 'dismissed')), 0) as verified_hit_rate,
    {{ as_of_date() }} as as_of
from per_branch
group by model_id, mode, branch, region_code

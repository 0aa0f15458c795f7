{#- SM05 项目技术负责人不在岗（违法分包风险）: for each contract naming a technical lead with R > 0
    required onsite days a month, each calendar month wholly inside [sign_date, end_date] that has
    ended by the as-of date is judged on the distinct days the lead checked in on the contract's
    project: below R yellow, below red_ratio x R red (both branches then fire; severity red).

    Readings (orchestration/world/scenarios/sm05.py): a null end_date is open (months run to the
    as-of date); a null sign_date holds at no date, so the contract is not judged. The project is
    the contract's own project_id: site attendance refers to it qualified with the trading system
    of the same city (silver's convention), so equal ids are the same project. -#}
with duties as (
    select
        c.contract_id,
        c.project_id,
        c.technical_lead_ref,
        c.required_onsite_days_per_month as required_days,
        c.sign_date,
        c.end_date,
        p.region_code,
        -- first whole month: the signing month when signed on its first day, else the next one
        {{ month_number('c.sign_date') }} + case when day(c.sign_date) = 1 then 0 else 1 end as first_month_no,
        least(coalesce(c.end_date, {{ as_of_date() }}), {{ as_of_date() }}) as judged_until
    from {{ ref('contract') }} as c
    left join {{ ref('tender_project') }} as p on p.project_id = c.project_id
    where c.technical_lead_ref is not null
      and c.required_onsite_days_per_month > 0
      and c.sign_date is not null
),

judged_months as (
    -- months whose last day is on or before both the end date and the as-of date
    select d.*, m.month_no
    from duties as d
    {{ unnest_join(int_range('d.first_month_no', month_number('d.judged_until') ~ ' + 1'), 'm', 'month_no') }}
    where {{ month_last_day('m.month_no') }} <= d.judged_until
),

presence as (
    select
        j.contract_id, j.month_no,
        count(distinct a.work_date) as days_present
    from judged_months as j
    left join {{ ref('site_attendance') }} as a
      on a.project_id = j.project_id
     and a.person_ref = j.technical_lead_ref
     and {{ month_number('a.work_date') }} = j.month_no
    group by all
),

measured as (
    select j.*, p.days_present, {{ threshold('red_ratio', 'j.region_code') }} as red_ratio
    from judged_months as j
    join presence as p using (contract_id, month_no)
),

fired as (
    select *, 'yellow' as branch from measured where days_present < required_days
    union all
    select *, 'red' from measured where days_present < red_ratio * required_days
),

findings as (
    select
        contract_id || '|' || {{ month_label('month_no') }} as primary_key,
        branch as rule_branch,
        branch as severity,
        region_code,
        technical_lead_ref as subject_ref,
        {{ month_last_day('month_no') }} as event_date,
        cast(null as decimal(18, 2)) as amount,
        {{ json_obj(
               branch='branch',
               records=json_arr(
                   evidence_record('contract', 'contract_id'),
                   evidence_record('tender_project', 'project_id'),
                   evidence_record('person', 'technical_lead_ref')),
               relation="'technical lead named in the contract, counted on the contract''s project'",
               figures=json_obj(month=month_label('month_no'), days_present='days_present', required_days='required_days'),
               thresholds=json_obj(red_ratio='red_ratio')) }} as evidence
    from fired
)

{{ alert_contract('findings') }}

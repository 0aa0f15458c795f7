{#- SM07 违规享受低保/养老待遇: (a) red: a subsidy or pension paid for a month starting after the
    recipient's death; (b) red: a subsidy whose recipient's household (same household_id, the
    recipient included) has an official in post or a salaried cadre on some day of the month;
    (c) yellow: a subsidy whose household owns a vehicle registered by the month's end worth
    >= vehicle_value, or is tied (legal rep, or person shareholder >= min_share, on some day of
    the month) to a company in business during the month; (d) red: the same recipient and
    program paid in two different region_codes for the same month (every payment alerts).
    Key: subsidy_id or pension_id.

    Readings (orchestration/world/scenarios/sm07.py): a recipient missing from the registry is a
    household of one; a salaried cadre on day D is a term valid at D (any village) with
    salaried_from <= D; a pay_month that is not 'YYYY-MM' is not judged. -#}
with subsidies as (
    select
        subsidy_id, recipient_ref, program, region_code, amount,
        {{ month_first_day(month_number_of_label('pay_month')) }} as month_first,
        {{ month_last_day(month_number_of_label('pay_month')) }} as month_last,
        -- the (c) thresholds of the payment's region, as columns: Spark cannot join on a subquery
        {{ threshold('vehicle_value', 'region_code') }} as vehicle_value,
        {{ threshold('min_share', 'region_code') }} as min_share
    from {{ ref('subsidy_payment') }}
    where recipient_ref is not null and {{ month_number_of_label('pay_month') }} is not null
),

deaths as (
    select person_ref, min(death_date) as death_date
    from {{ ref('death') }}
    where person_ref is not null and death_date is not null
    group by person_ref
),

pensions_of_the_dead as (
    -- every pension paid to a recipient with a death record (paid_after_death keeps those paid
    -- for a month after it): joined to the deaths first, so the recipient's region is looked up
    -- for these only, not for every pension (2 M at SF 1)
    select
        x.pension_id, x.recipient_ref, x.amount, p.region_code, d.death_date,
        {{ month_first_day(month_number_of_label('x.pay_month')) }} as month_first
    from {{ ref('pension_payment') }} as x
    join deaths as d on d.person_ref = x.recipient_ref
    left join {{ ref('person') }} as p on p.person_ref = x.recipient_ref
    where x.recipient_ref is not null and {{ month_number_of_label('x.pay_month') }} is not null
),

household_members as (
    -- every member of the recipient's household, the recipient included
    select s.subsidy_id, s.recipient_ref as member_ref
    from subsidies as s
    union
    select s.subsidy_id, m.person_ref
    from subsidies as s
    join {{ ref('person') }} as r on r.person_ref = s.recipient_ref and r.household_id is not null
    join {{ ref('person') }} as m on m.household_id = r.household_id and m.person_ref is not null
),

paid_after_death as (
    select 'subsidy' as kind, s.subsidy_id as record_id, s.recipient_ref, s.region_code, s.month_first, s.amount, d.death_date
    from subsidies as s join deaths as d on d.person_ref = s.recipient_ref
    where d.death_date < s.month_first
    union all
    select 'pension', pension_id, recipient_ref, region_code, month_first, amount, death_date
    from pensions_of_the_dead
    where death_date < month_first
),

-- (b) an official in post, or a salaried cadre, on some day of the month
household_in_office as (
    select s.subsidy_id, h.member_ref, 'official' as office, o.official_key as office_key
    from subsidies as s
    join household_members as h using (subsidy_id)
    join {{ ref('public_official') }} as o
      on o.person_ref = h.member_ref
     and o.start_date <= s.month_last and (o.end_date is null or o.end_date >= s.month_first)
    union all
    select s.subsidy_id, h.member_ref, 'salaried_cadre', c.cadre_key
    from subsidies as s
    join household_members as h using (subsidy_id)
    join {{ ref('village_cadre') }} as c
      on c.person_ref = h.member_ref
     and c.term_start is not null and c.salaried_from is not null
     and greatest(c.term_start, c.salaried_from) <= s.month_last
     and (c.term_end is null or c.term_end >= s.month_first)
),

-- (c) a costly vehicle, or a tie to a company in business during the month
household_wealth as (
    select s.subsidy_id, h.member_ref, 'vehicle' as tie, v.plate as tie_key, v.value as figure
    from subsidies as s
    join household_members as h using (subsidy_id)
    join {{ ref('vehicle') }} as v
      on v.owner_ref = h.member_ref and v.registered_date <= s.month_last
     and v.value >= s.vehicle_value
    union all
    select s.subsidy_id, h.member_ref, 'legal_rep', c.credit_code, null
    from subsidies as s
    join household_members as h using (subsidy_id)
    join {{ ref('company') }} as c
      on c.legal_rep_ref = h.member_ref
     and c.established_date <= s.month_last
     and (c.deregistered_date is null or c.deregistered_date >= s.month_first)
    union all
    select s.subsidy_id, h.member_ref, 'shareholder', c.credit_code, sh.share_ratio
    from subsidies as s
    join household_members as h using (subsidy_id)
    join {{ ref('shareholder') }} as sh
      on sh.holder_kind = 'person' and sh.holder_ref = h.member_ref
     and sh.share_ratio >= s.min_share
     and sh.from_date <= s.month_last and (sh.to_date is null or sh.to_date >= s.month_first)
    join {{ ref('company') }} as c
      on c.credit_code = sh.credit_code
     and c.established_date <= s.month_last
     and (c.deregistered_date is null or c.deregistered_date >= s.month_first)
),

paid_in_two_regions as (
    select s.*, {{ count_distinct_over('s.region_code', ['s.recipient_ref', 's.program', 's.month_first']) }} as regions
    from subsidies as s
    where s.program is not null and s.region_code is not null
    qualify regions >= 2
),

findings as (
    select record_id as primary_key, 'a' as rule_branch, 'red' as severity, region_code,
           recipient_ref as subject_ref, month_first as event_date, amount,
           {{ json_obj(
                  branch="'a'",
                  records=json_arr(
                      json_obj(entity="kind || '_payment'", key='record_id'),
                      evidence_record('person', 'recipient_ref'),
                      evidence_record('death', 'recipient_ref')),
                  relation="'recipient died before the first day of the pay month'",
                  figures=json_obj(death_date='death_date', month_first='month_first')) }} as evidence
    from paid_after_death

    union all

    select s.subsidy_id, 'b', 'red', s.region_code, s.recipient_ref, s.month_first, s.amount,
           {{ json_obj(
                  branch="'b'",
                  records=json_arr(
                      evidence_record('subsidy_payment', 's.subsidy_id'),
                      evidence_record('person', 'o.member_ref'),
                      json_obj(
                          entity="case o.office when 'official' then 'public_official' else 'village_cadre' end",
                          key='o.office_key')),
                  relation="'household member is ' || o.office || ' during the pay month'",
                  figures=json_obj(month_first='s.month_first', month_last='s.month_last')) }}
    from subsidies as s join household_in_office as o using (subsidy_id)

    union all

    select s.subsidy_id, 'c', 'yellow', s.region_code, s.recipient_ref, s.month_first, s.amount,
           {{ json_obj(
                  branch="'c'",
                  records=json_arr(
                      evidence_record('subsidy_payment', 's.subsidy_id'),
                      evidence_record('person', 'w.member_ref'),
                      json_obj(entity="case w.tie when 'vehicle' then 'vehicle' else 'company' end", key='w.tie_key')),
                  relation="'household member: ' || w.tie",
                  figures=json_obj(value_or_share='w.figure'),
                  thresholds=json_obj(vehicle_value='s.vehicle_value', min_share='s.min_share')) }}
    from subsidies as s join household_wealth as w using (subsidy_id)

    union all

    select subsidy_id, 'd', 'red', region_code, recipient_ref, month_first, amount,
           {{ json_obj(
                  branch="'d'",
                  records=json_arr(
                      evidence_record('subsidy_payment', 'subsidy_id'),
                      evidence_record('person', 'recipient_ref')),
                  relation="'same recipient and program paid in several regions for the month'",
                  figures=json_obj(program='program', regions='regions')) }}
    from paid_in_two_regions
)

{{ alert_contract('findings') }}

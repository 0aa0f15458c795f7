{#- SM06 工伤保险骗保: an injury_claim (a) whose injured person has no insurance_contribution with
    the claim's employer in the accident month M or in M-1 or M-2; (b) whose handler is the injured
    person or a close relative of them at approved_date; (c) sharing injured person and accident
    date with another claim (every claim of the group alerts). Severity red; key: claim_id.

    Readings (orchestration/world/scenarios/sm06.py): (a) judges only claims with injured person,
    employer and accident date; (b) needs approved_date for relatives (no date, no relatives);
    (c) groups claims on equal non-null injured_ref and accident_date. -#}
with claims as (
    select
        claim_id, injured_ref, employer_code, accident_date, handler_ref, approved_date, payout,
        substr(employer_code, 3, 6) as region_code,
        {{ month_number('accident_date') }} as accident_month_no
    from {{ ref('injury_claim') }}
),

contribution_months as (
    -- only the injured's contributions (3 M rows at SF 1, of which the claims need a few thousand)
    select person_ref, employer_code, {{ month_number_of_label('month') }} as month_no
    from {{ ref('insurance_contribution') }}
    where employer_code is not null
      and person_ref in (select injured_ref from claims where injured_ref is not null)
),

uninsured as (
    select c.*
    from claims as c
    where c.injured_ref is not null and c.employer_code is not null and c.accident_date is not null
      and not exists (
          select 1 from contribution_months as m
          where m.person_ref = c.injured_ref and m.employer_code = c.employer_code
            and m.month_no between c.accident_month_no - 2 and c.accident_month_no)
),

relatives_of_injured as (
    {{ close_relatives('claims', 'injured_ref', 'approved_date') }}
),

handled_by_family as (
    select c.*, 'self' as relation_path
    from claims as c
    where c.handler_ref is not null and c.handler_ref = c.injured_ref
    union all
    select r.claim_id, r.injured_ref, r.employer_code, r.accident_date, r.handler_ref, r.approved_date, r.payout,
           r.region_code, r.accident_month_no, r.relation_path
    from relatives_of_injured as r
    where r.party_ref = r.handler_ref
),

duplicated as (
    select c.*, count(*) over (partition by c.injured_ref, c.accident_date) as claims_in_group
    from claims as c
    where c.injured_ref is not null and c.accident_date is not null
    qualify claims_in_group >= 2
),

findings as (
    select claim_id as primary_key, 'a' as rule_branch, 'red' as severity, region_code,
           injured_ref as subject_ref, accident_date as event_date, payout as amount,
           {{ json_obj(
                  branch="'a'",
                  records=json_arr(
                      evidence_record('injury_claim', 'claim_id'),
                      evidence_record('person', 'injured_ref'),
                      evidence_record('company', 'employer_code')),
                  relation="'no contribution by the employer for the injured in M-2..M'",
                  figures=json_obj(
                      accident_month=month_label('accident_month_no'),
                      months_checked=json_arr(month_label('accident_month_no - 2'), month_label('accident_month_no')))) }} as evidence
    from uninsured

    union all

    select claim_id, 'b', 'red', region_code, injured_ref, accident_date, payout,
           {{ json_obj(
                  branch="'b'",
                  records=json_arr(
                      evidence_record('injury_claim', 'claim_id'),
                      evidence_record('person', 'injured_ref'),
                      evidence_record('person', 'handler_ref')),
                  relation="'handler is ' || relation_path || ' of the injured at approved_date'",
                  figures=json_obj(approved_date='approved_date')) }}
    from handled_by_family

    union all

    select claim_id, 'c', 'red', region_code, injured_ref, accident_date, payout,
           {{ json_obj(
                  branch="'c'",
                  records=json_arr(evidence_record('injury_claim', 'claim_id'), evidence_record('person', 'injured_ref')),
                  relation="'other claims of the same injured person and accident date'",
                  figures=json_obj(claims_in_group='claims_in_group', accident_date='accident_date')) }}
    from duplicated
)

{{ alert_contract('findings') }}

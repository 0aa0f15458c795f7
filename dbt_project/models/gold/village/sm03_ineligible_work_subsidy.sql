{#- SM03 村干部违规领取务工补贴: a village_payment of category work_subsidy whose payee, at
    pay_date, is a salaried cadre of the same village (branch cadre) or an official in post
    (branch official). Identity by person_ref only: a namesake with another id_number, or a payee
    whose id fails its check, matches nothing. -#}
with work_subsidies as (
    select payment_id, village_code, payee_ref, amount, pay_date
    from {{ ref('village_payment') }}
    where category = 'work_subsidy'
      and payee_kind = 'person'
      and payee_ref is not null
),

salaried_cadre_payees as (
    select p.*, c.cadre_key, c.role, c.term_start, c.term_end, c.salaried_from
    from work_subsidies as p
    join {{ ref('village_cadre') }} as c
      on c.person_ref = p.payee_ref
     and c.village_code = p.village_code
     and {{ holds_at('c.term_start', 'c.term_end', 'p.pay_date') }}
     and c.salaried_from <= p.pay_date
),

official_payees as (
    select p.*, o.official_key, o.org_code, o.start_date, o.end_date
    from work_subsidies as p
    join {{ ref('public_official') }} as o
      on o.person_ref = p.payee_ref
     and {{ holds_at('o.start_date', 'o.end_date', 'p.pay_date') }}
),

findings as (
    select
        payment_id as primary_key,
        'cadre' as rule_branch,
        'red' as severity,
        left(village_code, 6) as region_code,
        payee_ref as subject_ref,
        pay_date as event_date,
        amount,
        {{ json_obj(
               branch="'cadre'",
               records=json_arr(
                   evidence_record('village_payment', 'payment_id'),
                   evidence_record('village_cadre', 'cadre_key'),
                   evidence_record('person', 'payee_ref')),
               relation="'payee is a salaried cadre of the paying village at pay_date'",
               figures=json_obj(
                   pay_date='pay_date',
                   amount='amount',
                   role='role',
                   term_start='term_start',
                   term_end='term_end',
                   salaried_from='salaried_from')) }} as evidence
    from salaried_cadre_payees

    union all

    select
        payment_id,
        'official',
        'red',
        left(village_code, 6),
        payee_ref,
        pay_date,
        amount,
        {{ json_obj(
               branch="'official'",
               records=json_arr(
                   evidence_record('village_payment', 'payment_id'),
                   evidence_record('public_official', 'official_key'),
                   evidence_record('person', 'payee_ref')),
               relation="'payee is an official in post at pay_date'",
               figures=json_obj(
                   pay_date='pay_date',
                   amount='amount',
                   org_code='org_code',
                   start_date='start_date',
                   end_date='end_date')) }}
    from official_payees
)

{{ alert_contract('findings') }}

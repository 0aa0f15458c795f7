{#- SM01 村干部插手本村工程: a record of village V whose party is, at the record's date, a related
    party of a cadre of V valid at that date: (a) the contractor of a village_project
    (approved_date), (b) the payee of a project or materials village_payment (pay_date; each
    payment is its own alert, also when its project alerts), (c) the winner of a tender_project
    owned by V (award_date). Severity red; key: the record's qualified id.

    Readings (orchestration/world/scenarios/sm01.py): owner_code is matched against the village
    code (an organisation's 18-character code never equals a 12-digit village code); a record
    with a null date or party is not judged. -#}
with records as (
    select 'a' as branch, 'village_project' as entity, vproject_id as record_id, village_code,
           contractor_ref as involved_ref, approved_date as record_date, amount
    from {{ ref('village_project') }}
    union all
    select 'b', 'village_payment', payment_id, village_code, payee_ref, pay_date, amount
    from {{ ref('village_payment') }}
    where category in ('project', 'materials')
    union all
    select 'c', 'tender_project', p.project_id, p.owner_code, w.winner_code, p.award_date, w.winning_price
    from {{ ref('tender_project') }} as p
    inner join {{ ref('tender_winner') }} as w using (project_id)
    where {{ regexp_full_match('p.owner_code', '\\d{12}') }}   -- owned by a village, not an organisation
),

judged as (
    select *, left(village_code, 6) as region_code,
           {{ threshold('min_share', 'left(village_code, 6)') }} as min_share
    from records
    where record_date is not null and involved_ref is not null and village_code is not null
),

involved as (
    {{ cadre_related('judged', 'village_code', 'record_date', 'involved_ref', 'min_share') }}
),

findings as (
    select
        record_id as primary_key,
        branch as rule_branch,
        'red' as severity,
        region_code,
        cadre_ref as subject_ref,
        record_date as event_date,
        amount,
        {{ json_obj(
               branch='branch',
               records=json_arr(
                   json_obj(entity='entity', key='record_id'),
                   evidence_record('village_cadre', 'cadre_key'),
                   evidence_record('person', 'cadre_ref'),
                   json_obj(
                       entity="case when involved_ref = cadre_ref or relation_path not like '%→%' then 'person' else 'company' end",
                       key='involved_ref')),
               relation='relation_path',
               figures=json_obj(record_date='record_date', amount='amount'),
               thresholds=json_obj(min_share='min_share')) }} as evidence
    from involved
)

{{ alert_contract('findings') }}

{#- The real-time payment check's index (published as ineligible_payees, read by
    orchestration/service/payment_check.py): one row per interval in which a person may not
    receive a work subsidy under SM03. It reads the rows sm03_ineligible_work_subsidy judges, with
    the same definitions (models.md), so the check and the batch model agree on every payment:
    - branch cadre: a village_cadre row of village V is a salaried cadre of V at D when
      holds_at(term_start, term_end, D) and salaried_from <= D, that is over
      [greatest(term_start, salaried_from), term_end]. No interval when salaried_from is null
      (never salaried) or term_start is null (holds at no date). Each row is judged alone: pay
      begun in an ended term does not make a later unsalaried term salaried.
    - branch official: a public_official row is in post over [start_date, end_date], anywhere
      (village_code null); none without start_date.
    An interval that starts after it ends (salaried only after the term ended, an end before the
    start) holds at no date and is left out. A row whose id_number fails its check has no
    person_ref: it matches no payee and is left out. Equal intervals from several rows are one. -#}
with cadre_intervals as (
    select
        person_ref,
        'cadre' as branch,
        village_code,
        greatest(term_start, salaried_from) as valid_from,
        term_end as valid_to
    from {{ ref('village_cadre') }}
    where person_ref is not null and term_start is not null and salaried_from is not null
),

official_intervals as (
    select
        person_ref,
        'official' as branch,
        cast(null as {{ sql_type('varchar') }}) as village_code,
        start_date as valid_from,
        end_date as valid_to
    from {{ ref('public_official') }}
    where person_ref is not null and start_date is not null
),

intervals as (
    select * from cadre_intervals
    union all
    select * from official_intervals
)

select distinct person_ref, branch, village_code, valid_from, valid_to
from intervals
where valid_to is null or valid_from <= valid_to

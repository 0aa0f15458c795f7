{#-
  The relationship graph: typed, dated edges from a person to a person, company, organisation or
  village, built from the registries (models.md, "Shared definitions"). Every edge holds at D
  exactly when holds_at(valid_from, valid_to, D):

    spouse       marriage rows, both directions, from registered_date to the day BEFORE
                 dissolved_date (dissolved on D: no longer spouses on D); and the head and the
                 spouse of one household when no marriage row at all exists between the two
    parent, child, sibling
                 the household pairs of models.md (what to_ref is to from_ref), both directions;
                 person is the latest snapshot, so they hold at every date (valid_from 0001-01-01)
    legal_rep    person -> company credit code, established_date .. deregistered_date
    shareholder  person -> company, from_date .. to_date, with share_ratio (company holders are
                 not followed, so they are not edges)
    official_of  person -> org_code, start_date .. end_date
    cadre_of     person -> village_code, term_start .. term_end

  Identifiers failing their check (null refs) make no edge. A null validity start stays null and
  holds at no date.
-#}
{%- set always = "date '0001-01-01'" %}

with persons as (
    select person_ref, household_id, relation_to_head
    from {{ ref('person') }}
    where person_ref is not null and household_id is not null and relation_to_head is not null
),

married_pairs as (
    -- every pair with a marriage row, whatever its dates: such a pair is never a household spouse
    select distinct least(person_a_ref, person_b_ref) as ref_low, greatest(person_a_ref, person_b_ref) as ref_high
    from {{ ref('marriage') }}
    where person_a_ref is not null and person_b_ref is not null
),

marriage_edges as (
    select
        'marriage:' || marriage_id || '|' || direction as relation_key,
        from_ref, to_ref, 'person' as to_kind, 'spouse' as relation_type,
        registered_date as valid_from,
        dissolved_date - 1 as valid_to,
        cast(null as double) as share_ratio,
        'marriage' as source,
        marriage_id as source_key
    from (
        select marriage_id, person_a_ref as from_ref, person_b_ref as to_ref, registered_date, dissolved_date, 'a' as direction
        from {{ ref('marriage') }}
        union all
        select marriage_id, person_b_ref, person_a_ref, registered_date, dissolved_date, 'b'
        from {{ ref('marriage') }}
    )
    where from_ref is not null and to_ref is not null and from_ref <> to_ref
),

-- (relation_to_head of from_ref, relation_to_head of to_ref) -> what to_ref is to from_ref
household_pair_types (from_relation, to_relation, relation_type) as (
    values
        ('head', 'child', 'child'), ('child', 'head', 'parent'),
        ('spouse', 'child', 'child'), ('child', 'spouse', 'parent'),
        ('head', 'parent', 'parent'), ('parent', 'head', 'child'),
        ('sibling', 'parent', 'parent'), ('parent', 'sibling', 'child'),
        ('child', 'child', 'sibling'),
        ('head', 'sibling', 'sibling'), ('sibling', 'head', 'sibling'),
        ('sibling', 'sibling', 'sibling'),
        ('head', 'spouse', 'spouse'), ('spouse', 'head', 'spouse')
),

household_edges as (
    select
        'household:' || p.household_id || '|' || p.person_ref || '|' || q.person_ref as relation_key,
        p.person_ref as from_ref, q.person_ref as to_ref, 'person' as to_kind, t.relation_type,
        {{ always }} as valid_from,
        cast(null as date) as valid_to,
        cast(null as double) as share_ratio,
        'household' as source,
        p.household_id as source_key
    from persons as p
    inner join persons as q on p.household_id = q.household_id and p.person_ref <> q.person_ref
    inner join household_pair_types as t on p.relation_to_head = t.from_relation and q.relation_to_head = t.to_relation
    where t.relation_type <> 'spouse'
        or not exists (
            select 1 from married_pairs as m
            where m.ref_low = least(p.person_ref, q.person_ref) and m.ref_high = greatest(p.person_ref, q.person_ref))
),

legal_rep_edges as (
    select
        'company:' || credit_code as relation_key,
        legal_rep_ref as from_ref, credit_code as to_ref, 'company' as to_kind, 'legal_rep' as relation_type,
        established_date as valid_from, deregistered_date as valid_to,
        cast(null as double) as share_ratio,
        'company' as source,
        company_key as source_key
    from {{ ref('company') }}
    where credit_code is not null and legal_rep_ref is not null
),

shareholder_edges as (
    select
        'shareholder:' || shareholder_key as relation_key,
        holder_ref as from_ref, credit_code as to_ref, 'company' as to_kind, 'shareholder' as relation_type,
        from_date as valid_from, to_date as valid_to,
        share_ratio,
        'shareholder' as source,
        shareholder_key as source_key
    from {{ ref('shareholder') }}
    where holder_kind = 'person' and holder_ref is not null and credit_code is not null
),

official_edges as (
    select
        'public_official:' || official_key as relation_key,
        person_ref as from_ref, org_code as to_ref, 'organisation' as to_kind, 'official_of' as relation_type,
        start_date as valid_from, end_date as valid_to,
        cast(null as double) as share_ratio,
        'public_official' as source,
        official_key as source_key
    from {{ ref('public_official') }}
    where person_ref is not null and org_code is not null
),

cadre_edges as (
    select
        'village_cadre:' || cadre_key as relation_key,
        person_ref as from_ref, village_code as to_ref, 'village' as to_kind, 'cadre_of' as relation_type,
        term_start as valid_from, term_end as valid_to,
        cast(null as double) as share_ratio,
        'village_cadre' as source,
        cadre_key as source_key
    from {{ ref('village_cadre') }}
    where person_ref is not null and village_code is not null
)

select * from marriage_edges
union all
select * from household_edges
union all
select * from legal_rep_edges
union all
select * from shareholder_edges
union all
select * from official_edges
union all
select * from cadre_edges

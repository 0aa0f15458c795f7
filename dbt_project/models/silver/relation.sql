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

  Incremental by the source keys a build touches (the strategy replace_by_source,
  macros/silver/replace_by_source.sql), so that a day's build costs a day's rows, not the graph:
  every edge comes from one source row (marriage_id, company_key, shareholder_key, official_key,
  cadre_key) or one household (household_id), and source_ingested_at is when bronze committed
  the newest row it comes from. A build recomputes every edge of the keys that
    - have a silver row committed after the newest source_ingested_at the table holds,
    - lost their silver row since (a re-delivered batch no longer carries it), or, for a
      household, a member (the member moved or was dropped),
    - are households of a party of a new, changed or dropped marriage row (a household's head
      and spouse make a spouse edge only when no marriage row at all exists between the two),
  and replaces their edges: each touched key is also marked by one row with a null relation_key,
  by which the strategy deletes the key's old edges (a key left without edges included); marks
  are not kept. tests/silver/test_relation_incremental.py
  checks that a daily build ends where a full build would. A --full-refresh of an entity it reads
  needs one of relation after it (dbt_project/README.md).
-#}
{#- unique_key: the key unique_key_check holds (the strategy replaces by source and source_key) -#}
{{ config(materialized='incremental', incremental_strategy='replace_by_source', on_schema_change='fail',
          unique_key='relation_key') }}
{%- set always = "date '0001-01-01'" %}
{%- set incremental = this is not none and is_incremental() %}
{#- (source, silver table, its key column) of the edges made from one silver row each -#}
{%- set row_sources = [
    ('marriage', 'marriage', 'marriage_id'),
    ('company', 'company', 'company_key'),
    ('shareholder', 'shareholder', 'shareholder_key'),
    ('public_official', 'public_official', 'official_key'),
    ('village_cadre', 'village_cadre', 'cadre_key'),
] %}

with persons as (
    select person_ref, household_id, relation_to_head, ingested_at
    from {{ ref('person') }}
    where person_ref is not null and household_id is not null and relation_to_head is not null
),
{%- if incremental %}

read_through as (
    select coalesce(max(source_ingested_at), timestamptz '1970-01-01 00:00:00+00') as ingested_at from {{ this }}
),

touched_rows as (
    -- "gone since": a left join keeping the unmatched, here and in touched_households; DuckDB
    -- runs a NOT EXISTS as a correlated join, 2.5x slower (household check at SF 1: 1.5 -> 0.6 s)
    {%- for source, table, key in row_sources %}
    -- {{ table }}: rows committed since, and rows gone since
    select '{{ source }}' as source, {{ key }} as source_key
    from {{ ref(table) }}
    where ingested_at > (select ingested_at from read_through)
    union
    select edge.source, edge.source_key
    from {{ this }} as edge
    left join {{ ref(table) }} as row on row.{{ key }} = edge.source_key
    where edge.source = '{{ source }}' and row.{{ key }} is null
    {%- if not loop.last %}
    union
    {%- endif %}
    {%- endfor %}
),

marriage_parties as (
    select person_a_ref as person_ref from {{ ref('marriage') }} where ingested_at > (select ingested_at from read_through)
    union
    select person_b_ref from {{ ref('marriage') }} where ingested_at > (select ingested_at from read_through)
    union
    select edge.from_ref
    from {{ this }} as edge
    inner join touched_rows as touched on touched.source = 'marriage' and touched.source_key = edge.source_key
    where edge.source = 'marriage'
),

touched_households as (
    select household_id from {{ ref('person') }}
    where ingested_at > (select ingested_at from read_through) and household_id is not null
    union
    select edge.source_key
    from {{ this }} as edge
    left join persons on persons.household_id = edge.source_key and persons.person_ref = edge.from_ref
    where edge.source = 'household' and persons.person_ref is null
    union
    select household_id from persons where person_ref in (select person_ref from marriage_parties)
),

touched as (
    select source, source_key from touched_rows
    union all
    select 'household', household_id from touched_households
),
{%- endif %}

household_members as (
    select * from persons
    {%- if incremental %}
    where household_id in (select household_id from touched_households)
    {%- endif %}
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
        marriage_id as source_key,
        ingested_at as source_ingested_at
    from (
        select marriage_id, person_a_ref as from_ref, person_b_ref as to_ref, registered_date, dissolved_date, ingested_at,
               'a' as direction
        from {{ ref('marriage') }}
        union all
        select marriage_id, person_b_ref, person_a_ref, registered_date, dissolved_date, ingested_at, 'b'
        from {{ ref('marriage') }}
    )
    where from_ref is not null and to_ref is not null and from_ref <> to_ref
    {%- if incremental %}
        and marriage_id in (select source_key from touched_rows where source = 'marriage')
    {%- endif %}
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
        p.household_id as source_key,
        greatest(p.ingested_at, q.ingested_at) as source_ingested_at
    from household_members as p
    inner join household_members as q on p.household_id = q.household_id and p.person_ref <> q.person_ref
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
        company_key as source_key,
        ingested_at as source_ingested_at
    from {{ ref('company') }}
    where credit_code is not null and legal_rep_ref is not null
    {%- if incremental %}
        and company_key in (select source_key from touched_rows where source = 'company')
    {%- endif %}
),

shareholder_edges as (
    select
        'shareholder:' || shareholder_key as relation_key,
        holder_ref as from_ref, credit_code as to_ref, 'company' as to_kind, 'shareholder' as relation_type,
        from_date as valid_from, to_date as valid_to,
        share_ratio,
        'shareholder' as source,
        shareholder_key as source_key,
        ingested_at as source_ingested_at
    from {{ ref('shareholder') }}
    where holder_kind = 'person' and holder_ref is not null and credit_code is not null
    {%- if incremental %}
        and shareholder_key in (select source_key from touched_rows where source = 'shareholder')
    {%- endif %}
),

official_edges as (
    select
        'public_official:' || official_key as relation_key,
        person_ref as from_ref, org_code as to_ref, 'organisation' as to_kind, 'official_of' as relation_type,
        start_date as valid_from, end_date as valid_to,
        cast(null as double) as share_ratio,
        'public_official' as source,
        official_key as source_key,
        ingested_at as source_ingested_at
    from {{ ref('public_official') }}
    where person_ref is not null and org_code is not null
    {%- if incremental %}
        and official_key in (select source_key from touched_rows where source = 'public_official')
    {%- endif %}
),

cadre_edges as (
    select
        'village_cadre:' || cadre_key as relation_key,
        person_ref as from_ref, village_code as to_ref, 'village' as to_kind, 'cadre_of' as relation_type,
        term_start as valid_from, term_end as valid_to,
        cast(null as double) as share_ratio,
        'village_cadre' as source,
        cadre_key as source_key,
        ingested_at as source_ingested_at
    from {{ ref('village_cadre') }}
    where person_ref is not null and village_code is not null
    {%- if incremental %}
        and cadre_key in (select source_key from touched_rows where source = 'village_cadre')
    {%- endif %}
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
{%- if incremental %}
union all
-- every touched key once: replace_by_source deletes the key's edges by it and keeps the edges above
select
    cast(null as varchar), cast(null as varchar), cast(null as varchar), cast(null as varchar), cast(null as varchar),
    cast(null as date), cast(null as date), cast(null as double),
    source, source_key,
    cast(null as timestamptz)
from touched
{%- endif %}

{#- SM08 集体资产低价出租: a negotiated or renewal asset_lease (a) whose rent per m2 is below
    rent_ratio x the median rent per m2 of at least three comparables (public_auction or
    public_bidding leases of the same asset_type in the same town, the first 9 digits of
    village_code, starting within 365 days of it, before or after), or (b) a renewal below the
    annual_rent of its previous lease. Yellow; red when the lessee is a related party of a cadre
    of the village at start_date. Key: the qualified lease_id.

    Readings (orchestration/world/scenarios/sm08.py): leases with area_m2 null or 0, or without
    rent, start date or village, are neither judged nor comparables; the previous lease is looked
    up in the lease's own system and only its annual_rent is read; "below" is strict. -#}
with measurable as (
    select *, annual_rent / area_m2 as rent_per_m2, left(village_code, 9) as town_code,
           left(village_code, 6) as region_code
    from {{ ref('asset_lease') }}
    where area_m2 > 0 and annual_rent is not null and start_date is not null and village_code is not null
),

judged as (
    select *,
           {{ threshold('rent_ratio', 'region_code') }} as rent_ratio,
           {{ threshold('min_share', 'region_code') }} as min_share
    from measurable
    where method in ('negotiated', 'renewal')
),

market as (
    select j.lease_id, count(*) as comparables, median(c.rent_per_m2) as median_rent_per_m2
    from judged as j
    inner join measurable as c
        on c.method in ('public_auction', 'public_bidding')
        and c.town_code = j.town_code and c.asset_type = j.asset_type
        and abs({{ dbt.datediff('j.start_date', 'c.start_date', 'day') }}) <= 365
    group by j.lease_id
    having count(*) >= 3
),

below_market as (
    select j.*, m.comparables, m.median_rent_per_m2, 'a' as branch, cast(null as decimal(18, 2)) as previous_rent
    from judged as j
    inner join market as m using (lease_id)
    where j.rent_per_m2 < j.rent_ratio * m.median_rent_per_m2
),

renewed_cheaper as (
    select j.*, null, null, 'b', p.annual_rent
    from judged as j
    inner join {{ ref('asset_lease') }} as p on p.lease_id = j.previous_lease_id
    where j.method = 'renewal' and p.annual_rent is not null and j.annual_rent < p.annual_rent
),

fired as (
    select * from below_market
    union all
    select * from renewed_cheaper
),

lessee_related as (
    {{ cadre_related('fired', 'village_code', 'start_date', 'lessee_ref', 'min_share') }}
),

cadre_ties as (
    select lease_id, min(cadre_key) as cadre_key, min(relation_path) as relation_path
    from lessee_related
    group by lease_id
),

findings as (
    select
        f.lease_id as primary_key,
        f.branch as rule_branch,
        case when t.lease_id is null then 'yellow' else 'red' end as severity,
        f.region_code,
        f.lessee_ref as subject_ref,
        f.start_date as event_date,
        f.annual_rent as amount,
        {{ json_obj(
               branch='f.branch',
               records=json_arr(
                   evidence_record('asset_lease', 'f.lease_id'),
                   evidence_record('asset_lease', 'f.previous_lease_id'),
                   json_obj(
                       entity="case f.lessee_kind when 'person' then 'person' else 'company' end",
                       key='f.lessee_ref')),
               relation="coalesce('lessee is ' || t.relation_path || ' of cadre ' || t.cadre_key, 'lessee not related to a cadre of the village')",
               figures=json_obj(
                   rent_per_m2='f.rent_per_m2',
                   median_rent_per_m2='f.median_rent_per_m2',
                   comparables='f.comparables',
                   annual_rent='f.annual_rent',
                   previous_rent='f.previous_rent'),
               thresholds=json_obj(rent_ratio='f.rent_ratio', min_share='f.min_share')) }} as evidence
    from fired as f
    left join cadre_ties as t using (lease_id)
)

{{ alert_contract('findings') }}

{#- SM02 拆分工程规避招标: (a) a labour_only village_project whose own amount plus all its
    village_procurement rows (same vproject_id) reach tender_threshold while every single row is
    below it; (b) per village and contractor, the works projects below the threshold, ordered by
    (approved_date, vproject_id), form series greedily: a series starts at the first row not yet in
    a series and takes every later row approved within split_window_days of that first row; a
    series of at least two rows reaching the threshold alerts. Yellow; red when a contractor or
    supplier of the alerted rows is, at that row's date, a related party of a cadre of the village.
    Key: the vproject_id of the labour_only project / of the series' first row.

    Readings (orchestration/world/scenarios/sm02.py): null amounts are neither summed nor tested;
    series take only rows with amount, date and contractor; "within W days": 0 <= days <= W. -#}
with recursive projects as (
    select p.*, left(p.village_code, 6) as region_code,
           {{ threshold('tender_threshold', 'left(p.village_code, 6)') }} as tender_threshold,
           {{ threshold('split_window_days', 'left(p.village_code, 6)') }} as split_window_days
    from {{ ref('village_project') }} as p
    where p.village_code is not null
),

-- (a) ------------------------------------------------------------------------------------------
labour_only_rows as (
    -- the project itself and its procurement rows, each with the party it names and its date
    select vproject_id, 'village_project' as entity, vproject_id as row_id, contractor_ref as involved_ref,
           amount, approved_date as row_date
    from projects
    where kind = 'labour_only'
    union all
    select p.vproject_id, 'village_procurement', b.purchase_id, b.supplier_code, b.amount, b.purchase_date
    from projects as p
    inner join {{ ref('village_procurement') }} as b on b.vproject_id = p.vproject_id
    where p.kind = 'labour_only'
),

labour_only_totals as (
    select vproject_id, sum(amount) as total, count(amount) as parts, max(amount) as largest
    from labour_only_rows
    group by vproject_id
),

split_purchases as (
    -- the rows' list only for the projects that split: listing every project's rows before
    -- testing the totals was most of the model's time
    select p.vproject_id as alert_key, 'a' as branch, p.village_code, p.region_code, p.contractor_ref,
           p.approved_date as event_date,
           p.tender_threshold, t.total, t.parts,
           {{ ordered_list('r.row_id', ['r.row_date', 'r.row_id']) }} as row_ids
    from projects as p
    inner join labour_only_totals as t using (vproject_id)
    inner join labour_only_rows as r using (vproject_id)
    where t.total >= p.tender_threshold and t.largest < p.tender_threshold
    group by all
),

-- (b) ------------------------------------------------------------------------------------------
small_works as (
    select *, row_number() over (partition by village_code, contractor_ref order by approved_date, vproject_id) as position
    from projects
    where kind = 'works' and amount < tender_threshold and approved_date is not null and contractor_ref is not null
),

window_ends as (
    -- the last position approved within the window of a series starting at this row
    select s.village_code, s.contractor_ref, s.position, max(later.position) as last_position
    from small_works as s
    inner join small_works as later
        on later.village_code = s.village_code and later.contractor_ref = s.contractor_ref
        and later.position >= s.position
        and later.approved_date <= s.approved_date + cast(s.split_window_days as integer)
    group by all
),

series_starts (village_code, contractor_ref, position, last_position) as (
    -- recursive: the first row starts a series; the row after a series' last one starts the next
    select village_code, contractor_ref, position, last_position from window_ends where position = 1
    union all
    select w.village_code, w.contractor_ref, w.position, w.last_position
    from series_starts as s
    inner join window_ends as w
        on w.village_code = s.village_code and w.contractor_ref = s.contractor_ref
        and w.position = s.last_position + 1
),

split_series as (
    select first.vproject_id as alert_key, 'b' as branch, first.village_code, first.region_code,
           first.contractor_ref, first.approved_date as event_date, first.tender_threshold, sum(part.amount) as total,
           count(*) as parts, {{ ordered_list('part.vproject_id', ['part.position']) }} as row_ids
    from series_starts as s
    inner join small_works as first
        on first.village_code = s.village_code and first.contractor_ref = s.contractor_ref and first.position = s.position
    inner join small_works as part
        on part.village_code = s.village_code and part.contractor_ref = s.contractor_ref
        and part.position between s.position and s.last_position
    where s.last_position > s.position   -- positions are consecutive: a series of one row is not listed
    group by all
    having count(*) >= 2 and sum(part.amount) >= first.tender_threshold
),

alerted as (
    select * from split_purchases
    union all
    select * from split_series
),

-- severity -------------------------------------------------------------------------------------
alerted_rows as (
    -- every row of an alert with the party it names, at that row's date
    select a.alert_key, a.village_code, r.involved_ref, r.row_date,
           {{ threshold('min_share', 'a.region_code') }} as min_share
    from alerted as a
    inner join labour_only_rows as r on a.branch = 'a' and r.vproject_id = a.alert_key
    union all
    select a.alert_key, a.village_code, w.contractor_ref, w.approved_date,
           {{ threshold('min_share', 'a.region_code') }}
    from alerted as a
    {{ unnest_join('a.row_ids', 'series_row', 'vproject_id') }}
    inner join small_works as w on w.vproject_id = series_row.vproject_id  -- an equi-join, not a list scan
    where a.branch = 'b'
),

related_rows as (
    {{ cadre_related('alerted_rows', 'village_code', 'row_date', 'involved_ref', 'min_share') }}
),

cadre_ties as (
    select alert_key, min(cadre_ref) as cadre_ref, min(cadre_key) as cadre_key,
           min(relation_path) as relation_path, min(involved_ref) as involved_ref
    from related_rows
    group by alert_key
),

findings as (
    select
        a.alert_key as primary_key,
        a.branch as rule_branch,
        case when t.alert_key is null then 'yellow' else 'red' end as severity,
        a.region_code,
        a.contractor_ref as subject_ref,
        a.event_date,
        a.total as amount,
        {{ json_obj(
               branch='a.branch',
               records=json_list('a.row_ids', 'id', json_obj(
                   entity="case when a.branch = 'a' and id <> a.alert_key then 'village_procurement' else 'village_project' end",
                   key='id')),
               relation="coalesce('party of the rows is ' || t.relation_path || ' of cadre ' || t.cadre_key,"
                        ~ " 'no party related to a cadre of the village')",
               figures=json_obj(total='a.total', parts='a.parts'),
               thresholds=json_obj(tender_threshold='a.tender_threshold')) }} as evidence
    from alerted as a
    left join cadre_ties as t using (alert_key)
)

{{ alert_contract('findings') }}

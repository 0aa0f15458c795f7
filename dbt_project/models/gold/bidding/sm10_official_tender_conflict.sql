{#- SM10 公职人员招投标利益冲突: a tender_project owned by an organisation whose winner is, at
    award_date, a company of which an official in post at that organisation (branch official) or
    a close relative of such an official (branch relative) is legal rep or a person shareholder
    with share_ratio >= min_share. Severity red; key: the qualified project_id.

    Readings (orchestration/world/scenarios/sm10.py): several winners are each judged; a project
    without award_date is not judged; the company's ties are the relation graph's legal_rep and
    shareholder edges valid at award_date. -#}
with awarded as (
    select p.project_id, p.owner_code, p.region_code, p.award_date, w.winner_code, w.winning_price,
           {{ threshold('min_share', 'p.region_code') }} as min_share
    from {{ ref('tender_project') }} as p
    inner join {{ ref('tender_winner') }} as w using (project_id)
    where p.owner_type = 'org' and p.award_date is not null
),

officials_at_award as (
    select a.*, o.person_ref as official_ref, o.official_key
    from awarded as a
    inner join {{ ref('public_official') }} as o
        on o.org_code = a.owner_code
        and o.person_ref is not null
        and {{ holds_at('o.start_date', 'o.end_date', 'a.award_date') }}
),

winner_ties as (
    -- persons tied to the winning company at award_date: its legal rep, its shareholders >= min_share
    select a.project_id, a.winner_code, r.from_ref as tied_ref, r.relation_type as tie, r.share_ratio
    from awarded as a
    inner join {{ ref('relation') }} as r
        on r.to_ref = a.winner_code
        and r.relation_type in ('legal_rep', 'shareholder')
        and {{ holds_at('r.valid_from', 'r.valid_to', 'a.award_date') }}
        and (r.relation_type = 'legal_rep' or r.share_ratio >= a.min_share)
),

official_ties as (
    -- (official) an official in post is the winner's tie themself
    select o.*, t.tied_ref, t.tie, t.share_ratio
    from officials_at_award as o
    inner join winner_ties as t
        on t.project_id = o.project_id and t.winner_code = o.winner_code and t.tied_ref = o.official_ref
),

relative_pairs as (
    -- (official, tied person) pairs joined by a close-relative edge at any date: the only pairs
    -- close_relatives can answer yes for. Pairing every official of an organisation with every
    -- tied person of its projects first made a million questions at SF 1, most of the model's time
    select distinct r.from_ref as official_ref, r.to_ref as tied_ref
    from {{ ref('relation') }} as r
    where r.relation_type in {{ person_relation_types() }}
        and r.from_ref in (select official_ref from officials_at_award)
        and r.to_ref in (select tied_ref from winner_ties)
),

relative_questions as (
    select o.*, t.tied_ref, t.tie, t.share_ratio
    from officials_at_award as o
    inner join relative_pairs as p on p.official_ref = o.official_ref
    inner join winner_ties as t
        on t.project_id = o.project_id and t.winner_code = o.winner_code and t.tied_ref = p.tied_ref
),

relatives_tied as (
    -- is the tied person, at award_date, one of the official's close relatives, and how
    {{ close_relatives('relative_questions', 'official_ref', 'award_date', party='tied_ref') }}
),

conflicts as (
    select {{ star_except(none, ['tied_ref', 'tie', 'share_ratio']) }}, 'official' as branch, 'self' as relation_path,
           tied_ref, tie, share_ratio
    from official_ties
    union all
    select {{ star_except(none, ['tied_ref', 'tie', 'share_ratio', 'party_ref', 'party_kind', 'relation_path']) }},
           'relative', relation_path, tied_ref, tie, share_ratio
    from relatives_tied
),

findings as (
    select
        project_id as primary_key,
        branch as rule_branch,
        'red' as severity,
        region_code,
        winner_code as subject_ref,
        award_date as event_date,
        winning_price as amount,
        {{ json_obj(
               branch='branch',
               records=json_arr(
                   evidence_record('tender_project', 'project_id'),
                   evidence_record('public_official', 'official_key'),
                   evidence_record('person', 'official_ref'),
                   evidence_record('person', 'tied_ref'),
                   evidence_record('company', 'winner_code')),
               relation="relation_path || ' of the official is ' || tie || ' of the winner'",
               figures=json_obj(award_date='award_date', share_ratio='share_ratio'),
               thresholds=json_obj(min_share='min_share')) }} as evidence
    from conflicts
)

{{ alert_contract('findings') }}

{#- "A related party of a cadre of village V at D" (SM01, SM02 severity, SM08 severity), as a
    SELECT usable as a CTE body: the rows of `records` whose party (`party_col`, a person_ref or a
    credit code) is, at `date_col`, a related party (models.md) of some cadre of `village_col`
    valid at that date. Every column of `records` is kept, plus cadre_ref, cadre_key and
    relation_path (from the cadre to the party); a record related to several cadres gives several
    rows. `min_share_col` names a column of `records` holding the min_share resolved for the
    record's region (threshold('min_share', ...)). `records` must not have columns named
    party_ref, party_kind or relation_path (related_parties adds them). -#}
{% macro cadre_related(records, village_col, date_col, party_col, min_share_col) -%}
    {#- Why the first four CTEs: a village has about eight cadres, so pairing every record with
        its village's cadres first (SF 10: 4.6 M records, 40 M pairs carrying the record's
        columns) spilled tens of GB. A record can only be found when its party is reachable over
        relation's edges (dates and shares aside) from some cadre of ITS village, which few are:
        records are cut to those before the pairing. The paths are related_parties' own
        (relation_paths), found once and used twice: for the cut and, with their dates and shares,
        for the answer (reading the relation twice was half of SM01, SM02 and SM08). The reachable
        set is computed here, in each of SM01, SM02 and SM08, not in a shared model: their unit
        tests would otherwise have to mock it consistently with their relation rows. -#}
    with _cr_cadre_persons as (
        -- only the villages of the records: a reachable party counts only in its own village
        select distinct village_code, person_ref as ref
        from {{ ref('village_cadre') }}
        where person_ref is not null
          and village_code in (select {{ village_col }} from {{ records }} where {{ party_col }} is not null)
    ),

    -- every related-party path from those cadres, dates and shares aside: read from the relation
    -- once, for the cut below and again for the answer (related_parties' paths=)
    _cr_paths as (
        {{ relation_paths('_cr_cadre_persons', 'ref') }}
    ),

    _cr_reachable as (
        select distinct c.village_code, p.party_ref as ref
        from _cr_cadre_persons as c
        inner join _cr_paths as p on p._rp_ref = c.ref
    ),

    _cr_records as (
        -- a join (_cr_reachable is distinct): DuckDB runs the EXISTS it replaces as a correlated join
        select r.* from {{ records }} as r
        inner join _cr_reachable as x on x.village_code = r.{{ village_col }} and x.ref = r.{{ party_col }}
    ),

    _cr_cadres_at_date as (
        select r.*, c.person_ref as cadre_ref, c.cadre_key
        from _cr_records as r
        inner join {{ ref('village_cadre') }} as c
            on c.village_code = r.{{ village_col }}
            and c.person_ref is not null
            and {{ holds_at('c.term_start', 'c.term_end', 'r.' ~ date_col) }}
    ),

    _cr_parties as (
        {{ related_parties('_cr_cadres_at_date', 'cadre_ref', date_col, min_share_col, party=party_col, paths='_cr_paths') }}
    )

    select {{ star_except(none, ['party_ref', 'party_kind']) }}
    from _cr_parties
{%- endmacro %}

{#- "A related party of a cadre of village V at D" (SM01, SM02 severity, SM08 severity), as a
    SELECT usable as a CTE body: the rows of `records` whose party (`party_col`, a person_ref or a
    credit code) is, at `date_col`, a related party (models.md) of some cadre of `village_col`
    valid at that date. Every column of `records` is kept, plus cadre_ref, cadre_key and
    relation_path (from the cadre to the party); a record related to several cadres gives several
    rows. `min_share_col` names a column of `records` holding the min_share resolved for the
    record's region (threshold('min_share', ...)). `records` must not have columns named
    party_ref, party_kind or relation_path (related_parties adds them). -#}
{% macro cadre_related(records, village_col, date_col, party_col, min_share_col) -%}
    with _cr_cadres_at_date as (
        select r.*, c.person_ref as cadre_ref, c.cadre_key
        from {{ records }} as r
        inner join {{ ref('village_cadre') }} as c
            on c.village_code = r.{{ village_col }}
            and c.person_ref is not null
            and {{ holds_at('c.term_start', 'c.term_end', 'r.' ~ date_col) }}
        where r.{{ party_col }} is not null
    ),

    _cr_parties as (
        {{ related_parties('_cr_cadres_at_date', 'cadre_ref', date_col, min_share_col, party=party_col) }}
    )

    select {{ star_except(none, ['party_ref', 'party_kind']) }}
    from _cr_parties
{%- endmacro %}

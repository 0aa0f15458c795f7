{#-
  "Close relatives" and "Related parties" of models.md, over the relation model. Both render a
  SELECT (usable as a CTE body) that keeps every column of every row of `anchors` and adds one row
  per party found:

    party_ref       person_ref of a person, credit_code of a company
    party_kind      person | company
    relation_path   how the party is reached from the anchor person: 'self', 'spouse', 'parent',
                    'child', 'sibling', or '<person step>→legal_rep' / '<person step>→shareholder'
                    (e.g. 'spouse→legal_rep', 'self→shareholder')

  anchors     the name of a relation or CTE
  anchor_ref  SQL expression over anchors' columns: the person_ref of P (null: no parties)
  at_date     SQL expression over anchors' columns: the date D
  min_share   SQL expression (a literal or a column of anchors, e.g. the threshold resolved for
              the record's region): a shareholder row counts when its share_ratio >= min_share

  close_relatives(anchors, anchor_ref, at_date): P's spouses at D and household parents, children
  and siblings (P excluded, no companies).
  related_parties(anchors, anchor_ref, at_date, min_share=0.05): P itself ('self'), P's close
  relatives at D, and every company any of these is, at D, legal rep of or a person shareholder of
  with share_ratio >= min_share (each row alone, nothing summed; company holders not followed).

  party       optional SQL expression over anchors' columns (both macros): only that party is
              looked for (is it one of P's close relatives / related parties at D, and by which
              path?), much cheaper than listing all
  paths       optional (related_parties): the name of a CTE rendered by relation_paths(refs, col)
              with its defaults (self and companies included) over a set of persons that includes
              every anchor person; the relation is then not read again (cadre_related, which
              needs the paths first to cut its records)

  A party reached by several paths is listed once, by its shortest path (then alphabetically).
  Anchor rows without parties (a null ref, an unknown person with no ties is still 'self') are
  dropped by the join; use a left join on the result to keep them.

  Usage, in a gold model:
      with payments as (...),
      payee_related as ({{ related_parties('cadres_at_pay_date', 'cadre_ref', 'pay_date', 'min_share') }})
      select ... from payee_related where party_ref = payee_ref
-#}

{% macro close_relatives(anchors, anchor_ref, at_date, party=none) -%}
    {{ _related(anchors, anchor_ref, at_date, none, with_self=false, with_companies=false, party=party) }}
{%- endmacro %}


{#- The edge types a related party is reached by: person to person first, then person to company.
    Every macro that follows or prefilters those paths reads them here (cadre_related, SM10). -#}
{% macro person_relation_types() %}('spouse', 'parent', 'child', 'sibling'){% endmacro %}
{% macro company_relation_types() %}('legal_rep', 'shareholder'){% endmacro %}


{% macro related_parties(anchors, anchor_ref, at_date, min_share=0.05, party=none, paths=none) -%}
    {{ _related(anchors, anchor_ref, at_date, min_share, with_self=true, with_companies=true, party=party, paths=paths) }}
{%- endmacro %}


{% macro _related(anchors, anchor_ref, at_date, min_share, with_self, with_companies, party=none, paths=none) -%}
    {#- How it is computed, and why: the paths from each distinct anchor person are found once,
        with the span of dates over which each holds (both edges' spans intersected), and only then
        matched to the questions' dates. Asking the relation per (person, date) instead multiplied
        every edge by the number of distinct dates asked (cadre_related at SF 1: millions of
        questions, 40 s); the paths of the anchors are a few per person. With `party` (an
        expression over anchors' columns), only that party is looked for: cadre_related's case.
        `paths` names a CTE of relation_paths() already holding the paths of every anchor person
        (cadre_related's, which computed them to cut its records): then the relation is not read
        again. -#}
    {%- set min_share_expr = 'cast(null as double)' if min_share is none else 'cast(' ~ min_share ~ ' as double)' -%}
    with _rp_anchor_rows as (
        select
            *,
            {{ anchor_ref }} as _rp_ref,
            cast({{ at_date }} as date) as _rp_date,
            {{ min_share_expr }} as _rp_min_share
            {%- if party is not none %},
            {{ party }} as _rp_party
            {%- endif %}
        from {{ anchors }}
    ),

    -- each distinct question once, however many anchor rows ask it
    _rp_questions as (
        select distinct _rp_ref, _rp_date, _rp_min_share{% if party is not none %}, _rp_party{% endif %}
        from _rp_anchor_rows
        where _rp_ref is not null and _rp_date is not null{% if party is not none %} and _rp_party is not null{% endif %}
    ),
    {%- if paths is none %}

    _rp_paths as (
        {{ relation_paths('_rp_questions', '_rp_ref', with_self=with_self, with_companies=with_companies) }}
    ),
    {%- endif %}

    _rp_shortest as (
        select q.*, p.party_ref, p.party_kind, p.relation_path
        from _rp_questions as q
        inner join {{ paths or '_rp_paths' }} as p
            on p._rp_ref = q._rp_ref
            {%- if party is not none %}
            and p.party_ref = q._rp_party
            {%- endif %}
            and {{ holds_at('p.valid_from', 'p.valid_to', 'q._rp_date') }}
            and (p.company_step is null or p.company_step = 'legal_rep' or p.share_ratio >= q._rp_min_share)
        qualify row_number() over (
            partition by q._rp_ref, q._rp_date, q._rp_min_share, p.party_ref
            order by cast(p.relation_path <> 'self' as integer)
                     + length(p.relation_path) - length(replace(p.relation_path, '→', '')),
                     p.relation_path) = 1
    )

    select
        {{ star_except('a', ['_rp_ref', '_rp_date', '_rp_min_share'] + (['_rp_party'] if party is not none else [])) }},
        s.party_ref,
        s.party_kind,
        s.relation_path
    from _rp_anchor_rows as a
    inner join _rp_shortest as s
        on a._rp_ref = s._rp_ref
        and a._rp_date = s._rp_date
        and a._rp_min_share is not distinct from s._rp_min_share
        {%- if party is not none %}
        and a._rp_party = s._rp_party
        {%- endif %}
{%- endmacro %}


{#- Every path of related_parties (with_companies) or close_relatives from each distinct non-null
    person `ref_col` of `refs`, dates aside: one row per (_rp_ref, party_ref, relation_path) with
    the span over which the path holds (valid_from null: never; valid_to null: open), party_kind,
    company_step (the company edge's type) and share_ratio (a shareholder edge's). A SELECT usable
    as a CTE body; _related matches these paths to its questions' dates and shares. -#}
{% macro relation_paths(refs, ref_col, with_self=true, with_companies=true) -%}
    {%- set relation = ref('relation') -%}
    {%- set always = "date '0001-01-01'" -%}
    with _rp_from as (
        select distinct {{ ref_col }} as _rp_ref from {{ refs }} where {{ ref_col }} is not null
    ),

    -- every person path from an anchor, with the span over which it holds
    _rp_person_paths as (
        {%- if with_self %}
        select _rp_ref, _rp_ref as party_ref, 'self' as relation_path,
               {{ always }} as valid_from, cast(null as date) as valid_to
        from _rp_from
        union all
        {%- endif %}
        select a._rp_ref, r.to_ref as party_ref, r.relation_type as relation_path, r.valid_from, r.valid_to
        from _rp_from as a
        inner join {{ relation }} as r
            on r.from_ref = a._rp_ref
            and r.relation_type in {{ person_relation_types() }}
            and r.to_ref <> a._rp_ref
    )

    select *, 'person' as party_kind, cast(null as {{ sql_type('varchar') }}) as company_step,
           cast(null as double) as share_ratio
    from _rp_person_paths
    {%- if with_companies %}
    union all
    -- both edges must hold at D: the later start, the earlier end (a null start holds never)
    select
        p._rp_ref, r.to_ref, p.relation_path || '→' || r.relation_type,
        case when p.valid_from is not null and r.valid_from is not null
             then greatest(p.valid_from, r.valid_from) end,
        case when p.valid_to is null then r.valid_to
             when r.valid_to is null then p.valid_to
             else least(p.valid_to, r.valid_to) end,
        'company', r.relation_type, r.share_ratio
    from _rp_person_paths as p
    inner join {{ relation }} as r
        on r.from_ref = p.party_ref
        and r.relation_type in {{ company_relation_types() }}
    {%- endif %}
{%- endmacro %}

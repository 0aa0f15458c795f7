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

  A party reached by several paths is listed once, by its shortest path (then alphabetically).
  Anchor rows without parties (a null ref, an unknown person with no ties is still 'self') are
  dropped by the join; use a left join on the result to keep them.

  Usage, in a gold model:
      with payments as (...),
      payee_related as ({{ related_parties('cadres_at_pay_date', 'cadre_ref', 'pay_date', 'min_share') }})
      select ... from payee_related where party_ref = payee_ref
-#}

{% macro close_relatives(anchors, anchor_ref, at_date) -%}
    {{ _related(anchors, anchor_ref, at_date, none, with_self=false, with_companies=false) }}
{%- endmacro %}


{% macro related_parties(anchors, anchor_ref, at_date, min_share=0.05) -%}
    {{ _related(anchors, anchor_ref, at_date, min_share, with_self=true, with_companies=true) }}
{%- endmacro %}


{% macro _related(anchors, anchor_ref, at_date, min_share, with_self, with_companies) -%}
    {%- set relation = ref('relation') -%}
    {%- set min_share_expr = 'cast(null as double)' if min_share is none else 'cast(' ~ min_share ~ ' as double)' -%}
    with _rp_anchor_rows as (
        select
            *,
            {{ anchor_ref }} as _rp_ref,
            cast({{ at_date }} as date) as _rp_date,
            {{ min_share_expr }} as _rp_min_share
        from {{ anchors }}
    ),

    -- each distinct question once, however many anchor rows ask it
    _rp_questions as (
        select distinct _rp_ref, _rp_date, _rp_min_share
        from _rp_anchor_rows
        where _rp_ref is not null and _rp_date is not null
    ),

    _rp_persons as (
        {%- if with_self %}
        select _rp_ref, _rp_date, _rp_min_share, _rp_ref as party_ref, 'self' as relation_path
        from _rp_questions
        union all
        {%- endif %}
        select q._rp_ref, q._rp_date, q._rp_min_share, r.to_ref as party_ref, r.relation_type as relation_path
        from _rp_questions as q
        inner join {{ relation }} as r
            on r.from_ref = q._rp_ref
            and r.relation_type in ('spouse', 'parent', 'child', 'sibling')
            and r.to_ref <> q._rp_ref
            and {{ holds_at('r.valid_from', 'r.valid_to', 'q._rp_date') }}
    ),

    _rp_parties as (
        select *, 'person' as party_kind from _rp_persons
        {%- if with_companies %}
        union all
        select
            p._rp_ref, p._rp_date, p._rp_min_share, r.to_ref as party_ref,
            p.relation_path || '→' || r.relation_type as relation_path,
            'company' as party_kind
        from _rp_persons as p
        inner join {{ relation }} as r
            on r.from_ref = p.party_ref
            and r.relation_type in ('legal_rep', 'shareholder')
            and {{ holds_at('r.valid_from', 'r.valid_to', 'p._rp_date') }}
            and (r.relation_type = 'legal_rep' or r.share_ratio >= p._rp_min_share)
        {%- endif %}
    ),

    _rp_shortest as (
        select * from _rp_parties
        qualify row_number() over (
            partition by _rp_ref, _rp_date, _rp_min_share, party_ref
            order by cast(relation_path <> 'self' as integer) + length(relation_path) - length(replace(relation_path, '→', '')),
                     relation_path) = 1
    )

    select
        {{ star_except('a', ['_rp_ref', '_rp_date', '_rp_min_share']) }},
        s.party_ref,
        s.party_kind,
        s.relation_path
    from _rp_anchor_rows as a
    inner join _rp_shortest as s
        on a._rp_ref = s._rp_ref
        and a._rp_date = s._rp_date
        and a._rp_min_share is not distinct from s._rp_min_share
{%- endmacro %}

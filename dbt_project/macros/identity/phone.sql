{#- Phones compared as digits: separators and the +86 / 0086 country prefix removed, full-width
    digits made half-width; an area-code landline keeps (or regains) its leading 0. Blank → null. -#}
{% macro normalise_phone(col) -%}
    {%- set digits = "regexp_replace(translate(" ~ col ~ ", '０１２３４５６７８９', '0123456789'), '[^0-9]', '', 'g')" -%}
    {%- set national = "case when starts_with(" ~ digits ~ ", '0086') then substr(" ~ digits ~ ", 5)"
                     ~ " when starts_with(" ~ digits ~ ", '86') and length(" ~ digits ~ ") >= 12 then substr(" ~ digits ~ ", 3)"
                     ~ " else " ~ digits ~ " end" -%}
    nullif(case when length({{ national }}) >= 9 and not regexp_matches({{ national }}, '^[01]')
                then '0' || {{ national }} else {{ national }} end, '')
{%- endmacro %}

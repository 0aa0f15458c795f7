{#- Phones compared as digits: separators and the +86 / 0086 country prefix removed, full-width
    digits made half-width; an area-code landline keeps (or regains) its leading 0. Blank → null. -#}
{% macro normalise_phone(col) -%}
    {%- set digits = regexp_remove("translate(" ~ col ~ ", '０１２３４５６７８９', '0123456789')", '[^0-9]') -%}
    {%- set national = "case when left(" ~ digits ~ ", 4) = '0086' then substr(" ~ digits ~ ", 5)"
                     ~ " when left(" ~ digits ~ ", 2) = '86' and length(" ~ digits ~ ") >= 12 then substr(" ~ digits ~ ", 3)"
                     ~ " else " ~ digits ~ " end" -%}
    nullif(case when length({{ national }}) >= 9 and left({{ national }}, 1) not in ('0', '1')
                then '0' || {{ national }} else {{ national }} end, '')
{%- endmacro %}

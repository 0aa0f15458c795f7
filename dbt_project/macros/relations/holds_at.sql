{#- "At date D" (models.md, shared definitions): a row valid over [start, end] holds when
    start <= D and (end is null or D <= end). A null start holds at no date. -#}
{% macro holds_at(start_col, end_col, date_expr) -%}
    coalesce({{ start_col }} <= {{ date_expr }} and ({{ end_col }} is null or {{ date_expr }} <= {{ end_col }}), false)
{%- endmacro %}

{#- Calendar months as running numbers (year * 12 + month - 1), so months subtract and zero-fill
    with int_range(): models.md speaks of months M-2, "the 6 months before M", "YYYY-MM" keys. -#}

{% macro month_number(date_expr) -%}
    (year({{ date_expr }}) * 12 + month({{ date_expr }}) - 1)
{%- endmacro %}

{#- 'YYYY-MM' text (as pay_month and insurance_contribution.month are written) to a month number;
    null unless it is a valid month. -#}
{% macro month_number_of_label(label_expr) -%}
    case when {{ regexp_full_match(label_expr, '\\d{4}-(0[1-9]|1[0-2])') }}
         then cast(left({{ label_expr }}, 4) as integer) * 12 + cast(right({{ label_expr }}, 2) as integer) - 1 end
{%- endmacro %}

{% macro month_label(number_expr) -%}
    printf('%04d-%02d', {{ int_div(number_expr, 12) }}, ({{ number_expr }}) % 12 + 1)
{%- endmacro %}

{% macro month_first_day(number_expr) -%}
    make_date(cast({{ int_div(number_expr, 12) }} as integer), cast(({{ number_expr }}) % 12 + 1 as integer), 1)
{%- endmacro %}

{% macro month_last_day(number_expr) -%}
    last_day({{ month_first_day(number_expr) }})
{%- endmacro %}

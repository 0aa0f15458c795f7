{#- The as-of date of the run (the latest batch date ingested), as a scalar SQL expression. -#}
{% macro as_of_date() -%}
    (select as_of_date from {{ ref('as_of_date') }})
{%- endmacro %}

{#- JSON, for the evidence of alerts (see sql.sql for the dispatch convention). DuckDB builds
    JSON values; Spark builds VARIANT values, so that objects of different shapes (the findings of
    different branches) union and nest, and turns them into text at the end (json_text).

      {{ json_obj(branch="'a'", records=json_arr(evidence_record('bid', 'bid_id')), figures=json_obj(total='total')) }}

    json_obj(key=expr, ...)   an object, keys in the order given; values are SQL expressions
    json_arr(expr, ...)       an array
    json_list(list_expr, var, item, first=none)
                              an array of `item` (an expression over the lambda variable `var`) for
                              every element of the list `list_expr`, `first` (if given) before them -#}

{% macro json_obj() -%}
    {{ adapter.dispatch('json_obj', 'powertrace')(kwargs) }}
{%- endmacro %}

{% macro default__json_obj(members) -%}
    json_object({% for key, value in members.items() %}'{{ key }}', {{ value }}{{ ', ' if not loop.last }}{% endfor %})
{%- endmacro %}

{% macro spark__json_obj(members) -%}
    to_variant_object(named_struct({% for key, value in members.items() %}'{{ key }}', {{ value }}{{ ', ' if not loop.last }}{% endfor %}))
{%- endmacro %}


{% macro json_arr() -%}
    {{ adapter.dispatch('json_arr', 'powertrace')(varargs) }}
{%- endmacro %}

{% macro default__json_arr(items) -%}
    json_array({{ items | join(', ') }})
{%- endmacro %}

{% macro spark__json_arr(items) -%}
    to_variant_object(array({{ items | join(', ') }}))
{%- endmacro %}


{% macro json_list(list_expr, var, item, first=none) -%}
    {{ adapter.dispatch('json_list', 'powertrace')(list_expr, var, item, first) }}
{%- endmacro %}

{% macro default__json_list(list_expr, var, item, first) -%}
    {%- set items = 'list_transform(' ~ list_expr ~ ', ' ~ var ~ ' -> ' ~ item ~ ')' -%}
    to_json({{ 'list_prepend(' ~ first ~ ', ' ~ items ~ ')' if first is not none else items }})
{%- endmacro %}

{% macro spark__json_list(list_expr, var, item, first) -%}
    {%- set items = 'transform(' ~ list_expr ~ ', ' ~ var ~ ' -> ' ~ item ~ ')' -%}
    to_variant_object({{ 'concat(array(' ~ first ~ '), ' ~ items ~ ')' if first is not none else items }})
{%- endmacro %}


{#- Aggregate: the JSON array of the group's `evidence` values, ordered by `order_key`, then by
    the evidence's text. -#}
{% macro json_agg_ordered(evidence, order_key) -%}
    {{ adapter.dispatch('json_agg_ordered', 'powertrace')(evidence, order_key) }}
{%- endmacro %}

{% macro default__json_agg_ordered(evidence, order_key) -%}
    to_json(list({{ evidence }} order by {{ order_key }}, cast({{ evidence }} as varchar)))
{%- endmacro %}

{% macro spark__json_agg_ordered(evidence, order_key) -%}
    {#- a VARIANT does not sort: sort (key, text) pairs and parse the text back -#}
    transform(array_sort(collect_list(named_struct('k', {{ order_key }}, 't', to_json({{ evidence }})))),
              x -> parse_json(x.t))
{%- endmacro %}


{#- A JSON value as text. -#}
{% macro json_text(json_expr) -%}
    {{ adapter.dispatch('json_text', 'powertrace')(json_expr) }}
{%- endmacro %}

{% macro default__json_text(json_expr) -%}
    cast({{ json_expr }} as varchar)
{%- endmacro %}

{% macro spark__json_text(json_expr) -%}
    to_json({{ json_expr }})
{%- endmacro %}

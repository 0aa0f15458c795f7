{#- Lists (DuckDB LIST, Spark ARRAY) and rows made from them (see sql.sql for the dispatch
    convention). -#}

{#- Aggregate: the list of `expr` over the group, ordered by `order_by` (a list of expressions;
    default: the value itself); distinct=true keeps each value once (then ordered by itself). -#}
{% macro ordered_list(expr, order_by=none, distinct=false) -%}
    {{ adapter.dispatch('ordered_list', 'powertrace')(expr, order_by, distinct) }}
{%- endmacro %}

{% macro default__ordered_list(expr, order_by, distinct) -%}
    list({{ 'distinct ' if distinct }}{{ expr }} order by {{ (order_by or [expr]) | join(', ') }})
{%- endmacro %}

{% macro spark__ordered_list(expr, order_by, distinct) -%}
    {%- if distinct or not order_by -%}
    array_sort({{ 'collect_set' if distinct else 'collect_list' }}({{ expr }}))
    {%- else -%}
    {#- sort (order keys..., value) structs, then keep the value -#}
    transform(array_sort(collect_list(named_struct(
        {%- for key in order_by %}'k{{ loop.index }}', {{ key }}, {% endfor %}'v', {{ expr }}))), x -> x.v)
    {%- endif %}
{%- endmacro %}


{#- Whether `list_expr` contains `value`. -#}
{% macro list_has(list_expr, value) -%}
    {{ adapter.dispatch('list_has', 'powertrace')(list_expr, value) }}
{%- endmacro %}

{% macro default__list_has(list_expr, value) -%}
    list_contains({{ list_expr }}, {{ value }})
{%- endmacro %}

{% macro spark__list_has(list_expr, value) -%}
    array_contains({{ list_expr }}, {{ value }})
{%- endmacro %}


{#- The first element of `list_expr`. -#}
{% macro list_first(list_expr) -%}
    {{ adapter.dispatch('list_first', 'powertrace')(list_expr) }}
{%- endmacro %}

{% macro default__list_first(list_expr) -%}
    {{ list_expr }}[1]
{%- endmacro %}

{% macro spark__list_first(list_expr) -%}
    element_at({{ list_expr }}, 1)
{%- endmacro %}


{#- The integers start, start + 1, ..., stop - 1 (empty when stop <= start). -#}
{% macro int_range(start, stop) -%}
    {{ adapter.dispatch('int_range', 'powertrace')(start, stop) }}
{%- endmacro %}

{% macro default__int_range(start, stop) -%}
    range({{ start }}, {{ stop }})
{%- endmacro %}

{% macro spark__int_range(start, stop) -%}
    {#- sequence() counts down when stop < start: keep only what lies below stop -#}
    filter(sequence({{ start }}, {{ stop }}), n -> n < {{ stop }})
{%- endmacro %}


{#- `text` split at `separator`, with `extra` (a SQL expression) appended. -#}
{% macro split_with(text, separator, extra) -%}
    {{ adapter.dispatch('split_with', 'powertrace')(text, separator, extra) }}
{%- endmacro %}

{% macro default__split_with(text, separator, extra) -%}
    list_append(string_split({{ text }}, '{{ separator }}'), {{ extra }})
{%- endmacro %}

{% macro spark__split_with(text, separator, extra) -%}
    {#- split() takes a regular expression -#}
    concat(split({{ text }}, '\\Q{{ separator }}\\E'), array({{ extra }}))
{%- endmacro %}


{#- A FROM-clause item: one row per element of `list_expr` (which may read the columns of the
    relations before it), as relation `alias` with the single column `column`:
        from months as m {{ unnest_join('range(...)', 'window_month', 'no') }} left join ... -#}
{% macro unnest_join(list_expr, alias, column) -%}
    {{ adapter.dispatch('unnest_join', 'powertrace')(list_expr, alias, column) }}
{%- endmacro %}

{% macro default__unnest_join(list_expr, alias, column) -%}
    cross join unnest({{ list_expr }}) as {{ alias }}({{ column }})
{%- endmacro %}

{% macro spark__unnest_join(list_expr, alias, column) -%}
    cross join lateral explode({{ list_expr }}) as {{ alias }}({{ column }})
{%- endmacro %}


{#- A FROM-clause item: the rows `rows` (a list of lists of SQL expressions, which may read the
    columns of the relations before it) as relation `alias` with `columns`. -#}
{% macro lateral_rows(rows, alias, columns) -%}
    {{ adapter.dispatch('lateral_rows', 'powertrace')(rows, alias, columns) }}
{%- endmacro %}

{% macro default__lateral_rows(rows, alias, columns) -%}
    cross join lateral (values
    {%- for row in rows %}
        ({{ row | join(', ') }}){{ ',' if not loop.last }}
    {%- endfor %}
    ) as {{ alias }}({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__lateral_rows(rows, alias, columns) -%}
    {#- VALUES may not read columns in Spark: an array of structs, one row each -#}
    cross join lateral inline(array(
    {%- for row in rows %}
        named_struct({% for value in row %}'{{ columns[loop.index0] }}', {{ value }}{{ ', ' if not loop.last }}{% endfor %}){{ ',' if not loop.last }}
    {%- endfor %}
    )) as {{ alias }}({{ columns | join(', ') }})
{%- endmacro %}


{#- Aggregate: the distinct values of `expr`, sorted and comma-joined ('a,c'). -#}
{% macro sorted_distinct_text(expr) -%}
    {{ adapter.dispatch('sorted_distinct_text', 'powertrace')(expr) }}
{%- endmacro %}

{% macro default__sorted_distinct_text(expr) -%}
    array_to_string(list_sort(list_distinct(list({{ expr }}))), ',')
{%- endmacro %}

{% macro spark__sorted_distinct_text(expr) -%}
    array_join(array_sort(collect_set({{ expr }})), ',')
{%- endmacro %}

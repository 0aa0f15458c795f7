{#-
  The engine-dependent SQL of the project, one small dispatched macro per construct
  (adapter.dispatch(name, 'powertrace')): default__ is DuckDB's (the production warehouse) and
  spark__ Apache Spark's (the `spark` target, docs/spark.md). Models and the other macros call the
  unprefixed names and never spell an engine's dialect themselves.

  Types. The project writes DuckDB type names (model YAML data_type, casts, the generated
  canonical types); sql_type() maps them for Spark, where `varchar` needs a length, a naive
  timestamp is timestamp_ntz and an instant (DuckDB's timestamp with time zone) is timestamp.
-#}

{% macro sql_type(duckdb_type) -%}
    {{ adapter.dispatch('sql_type', 'powertrace')(duckdb_type) }}
{%- endmacro %}

{% macro default__sql_type(duckdb_type) -%}
    {{ return(duckdb_type) }}
{%- endmacro %}

{% macro spark__sql_type(duckdb_type) -%}
    {%- set spark_types = {'varchar': 'string', 'timestamp': 'timestamp_ntz', 'timestamptz': 'timestamp',
                           'timestamp with time zone': 'timestamp', 'blob': 'binary'} -%}
    {{ return(spark_types.get(duckdb_type | lower | trim, duckdb_type)) }}
{%- endmacro %}


{#- Enforced contracts on Spark: dbt checks a model's columns against `cast(null as <data_type>)`
    of its YAML; the YAML names DuckDB types, so they are mapped first (dbt's own macro otherwise). -#}
{% macro spark__get_empty_schema_sql(columns) -%}
    {%- set mapped = {} -%}
    {%- for name, column in columns.items() -%}
        {%- set copy = column.copy() -%}
        {%- if copy.get('data_type') -%}{%- do copy.update({'data_type': sql_type(copy['data_type'])}) -%}{%- endif -%}
        {%- do mapped.update({name: copy}) -%}
    {%- endfor -%}
    {{ return(dbt.default__get_empty_schema_sql(mapped)) }}
{%- endmacro %}


{#- A failure raised by the query when it is evaluated (e.g. a missing threshold), with `message`
    a SQL string expression. -#}
{% macro raise_sql_error(message) -%}
    {{ adapter.dispatch('raise_sql_error', 'powertrace')(message) }}
{%- endmacro %}

{% macro default__raise_sql_error(message) -%}
    error({{ message }})
{%- endmacro %}

{% macro spark__raise_sql_error(message) -%}
    raise_error({{ message }})
{%- endmacro %}


{#- Integer division, rounding down (operands are non-negative here). -#}
{% macro int_div(dividend, divisor) -%}
    {{ adapter.dispatch('int_div', 'powertrace')(dividend, divisor) }}
{%- endmacro %}

{% macro default__int_div(dividend, divisor) -%}
    ({{ dividend }}) // {{ divisor }}
{%- endmacro %}

{% macro spark__int_div(dividend, divisor) -%}
    ({{ dividend }}) div {{ divisor }}
{%- endmacro %}


{#- Window: the number of distinct non-null values of `expr` in the row's partition. -#}
{% macro count_distinct_over(expr, partition_by) -%}
    {{ adapter.dispatch('count_distinct_over', 'powertrace')(expr, partition_by) }}
{%- endmacro %}

{% macro default__count_distinct_over(expr, partition_by) -%}
    count(distinct {{ expr }}) over (partition by {{ partition_by | join(', ') }})
{%- endmacro %}

{% macro spark__count_distinct_over(expr, partition_by) -%}
    {#- Spark has no distinct window aggregates -#}
    size(collect_set({{ expr }}) over (partition by {{ partition_by | join(', ') }}))
{%- endmacro %}


{#- `relation.*` without some columns. -#}
{% macro star_except(relation_alias, columns) -%}
    {{ adapter.dispatch('star_except', 'powertrace')(relation_alias, columns) }}
{%- endmacro %}

{% macro default__star_except(relation_alias, columns) -%}
    {{ relation_alias ~ '.' if relation_alias }}* exclude ({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__star_except(relation_alias, columns) -%}
    {{ relation_alias ~ '.' if relation_alias }}* except ({{ columns | join(', ') }})
{%- endmacro %}

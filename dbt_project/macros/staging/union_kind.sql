{#-
  union_kind(kind, entity): the body of a staging model. Unions the bronze tables of every system
  of `kind` that delivers `entity`, with the entity's canonical columns cast to their types
  (sql_type of the generated DuckDB names) and the lineage columns the layers above use. The list
  of tables comes from the generated powertrace_bronze_tables() (see orchestration/dbt_sources.py
  for why not from `graph`); when the model runs it is checked against the sources in the graph.
  A kind no system delivers yields an empty, typed relation, so every model downstream still
  builds.
-#}
{% macro union_kind(kind, entity) -%}
    {%- do require_generated('powertrace_bronze_tables') -%}
    {%- set tables = powertrace_bronze_tables().get(kind, {}).get(entity, []) -%}
    {%- set columns = powertrace_canonical_columns()[entity] -%}
    {%- if execute -%}{{ _check_bronze_tables(kind, entity, tables) }}{%- endif -%}
    {%- if tables | length == 0 %}
select {{ _staging_columns(columns, typed_nulls=true) }}
where false
    {%- else -%}
    {%- for table in tables %}
select {{ _staging_columns(columns) }}
from {{ source('bronze_' ~ kind, table) }}
{% if not loop.last %}union all{% endif %}
    {%- endfor -%}
    {%- endif %}
{%- endmacro %}


{#- The select list: canonical columns cast, then the lineage columns. -#}
{% macro _staging_columns(columns, typed_nulls=false) -%}
    {%- set types = powertrace_duckdb_types() -%}
    {%- set lineage = [('_system_id', 'varchar'), ('_batch_date', 'date'), ('_source_row', 'bigint'),
                       ('_ingested_at', 'timestamp with time zone')] -%}
    {%- for name, ctype in columns %}
    cast({{ 'null' if typed_nulls else adapter.quote(name) }} as {{ sql_type(types[ctype]) }}) as {{ adapter.quote(name) }},
    {%- endfor -%}
    {%- for name, dtype in lineage %}
    cast({{ 'null' if typed_nulls else name }} as {{ sql_type(dtype) }}) as {{ name }}{{ ',' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}


{#- At run time: the generated list must name exactly the graph's sources of this kind and entity. -#}
{% macro _check_bronze_tables(kind, entity, tables) -%}
    {%- set in_graph = [] -%}
    {%- for node in graph.sources.values() -%}
        {%- if node.source_name == 'bronze_' ~ kind and node.meta.get('entity') == entity -%}
            {%- do in_graph.append(node.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if (in_graph | sort) != (tables | sort) -%}
        {{ exceptions.raise_compiler_error(
            "staging " ~ kind ~ "/" ~ entity ~ ": the generated table list " ~ (tables | sort)
            ~ " differs from the sources " ~ (in_graph | sort)
            ~ ": run `powertrace prepare` to regenerate dbt_project/models/sources and macros/generated") }}
    {%- endif -%}
{%- endmacro %}


{#- A clear error when the generated macros are missing. Callers then call the generated macro by
    its name (not through a variable), so that dbt records the dependency and re-parses them
    when `powertrace prepare` changes it. -#}
{% macro require_generated(name) -%}
    {%- if context.get(name) is none -%}
        {{ exceptions.raise_compiler_error(
            "dbt_project/macros/generated/powertrace_generated.sql is missing or stale (no macro " ~ name
            ~ "): run `powertrace prepare`, which writes the dbt sources from the registry") }}
    {%- endif -%}
{%- endmacro %}

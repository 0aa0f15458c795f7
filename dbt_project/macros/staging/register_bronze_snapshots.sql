{#-
  Spark target only (docs/spark.md): every bronze source becomes a table of the Spark session's
  catalog over the Parquet snapshot `powertrace spark-build` writes of it (the source's
  meta.spark_location, orchestration/dbt_sources.py), declared with the generated source's
  columns and types (sql_type), so the sources resolve as on any catalog and no query has to infer
  a schema from the files. spark-build runs it first, in the build's session:
      dbt run-operation register_bronze_snapshots --target spark
-#}
{% macro register_bronze_snapshots() %}
    {%- if target.type != 'spark' -%}
        {{ exceptions.raise_compiler_error("register_bronze_snapshots is for the spark target (got " ~ target.type ~ ")") }}
    {%- endif -%}
    {%- set schemas = [] -%}
    {%- for node in graph.sources.values() if node.package_name == project_name and node.meta.get('spark_location') -%}
        {%- if node.schema not in schemas -%}
            {%- do run_query('create schema if not exists ' ~ node.schema) -%}
            {%- do schemas.append(node.schema) -%}
        {%- endif -%}
        {%- set columns = [] -%}
        {%- for column in node.columns.values() -%}
            {%- do columns.append(adapter.quote(column.name) ~ ' ' ~ sql_type(column.data_type)) -%}
        {%- endfor -%}
        {%- set location = node.meta.spark_location | replace('{system_id}', node.meta.system_id)
                                                    | replace('{table}', node.meta.table) -%}
        {%- do run_query('create table if not exists ' ~ node.schema ~ '.' ~ node.identifier
                         ~ ' (' ~ columns | join(', ') ~ ') using parquet location \'' ~ location ~ '\'') -%}
    {%- endfor -%}
    {{ log("register_bronze_snapshots: " ~ schemas | length ~ " bronze schemas registered", info=true) }}
{% endmacro %}

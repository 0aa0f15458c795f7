{#-
  unique_key_check (post-hook of every silver model, dbt_project.yml): the model's `unique_key`
  names one row after this build's write, or the build fails, naming the model, the key and how
  many rows carry it. Checked where the rows are written, in the build's own transaction, so it
  looks only at what the build could have broken:

  - an incremental build: the keys it merged (the rows of its temporary relation), each looked
    up in the whole table;
  - a build of the whole table (the first, or --full-refresh): every key, hashes grouped first and
    the keys themselves only where a hash repeats.

  The quality gate checked every key of every silver table after each run instead (at SF 1 about
  2 s of the daily gate step, growing with the tables, not with the day), though an increment
  merges a day's keys. A failed check rolls the build back, so the table stays as the
  last good build left it, and the run stops before the gates (docs/gates.md says why).

  On Spark the tables are Parquet files without transactions: nothing is checked there (the
  Spark build is compared with DuckDB's, docs/spark.md).
-#}
{% macro unique_key_check() -%}
    {{ return(adapter.dispatch('unique_key_check', 'powertrace')()) }}
{%- endmacro %}

{% macro default__unique_key_check() -%}
{%- endmacro %}

{% macro duckdb__unique_key_check() -%}
    {%- if execute -%}
    {%- set key = config.get('unique_key') -%}
    {%- if key is none or key is not string -%}
        {{ exceptions.raise_compiler_error(model.name ~ ": a silver model names its one key column as "
                                           ~ "config unique_key (the unique_key_check post-hook checks it)") }}
    {%- endif -%}
    {#- dbt-duckdb names the temporary relation <model>__dbt_tmp<timestamp> and keeps it on the
        build's connection (dbt's process) until the process ends: one there is this build's -#}
    {%- set merged = run_query("select max(table_name) from duckdb_tables() where temporary and starts_with(table_name, '"
                               ~ this.identifier ~ "__dbt_tmp')").columns[0].values()[0] -%}
    select error('{{ this.schema }}.{{ this.identifier }}: ' || rows_with_key || ' rows have {{ key }} '
                 || coalesce(cast(key as varchar), 'null') || ' after this build''s write (a silver key names one row)')
    from (
        select {{ key }} as key, count(*) as rows_with_key
        from {{ this }}
        {%- if merged %}
        where {{ key }} in (select {{ key }} from temp.main.{{ adapter.quote(merged) }})
        {%- else %}
        where hash({{ key }}) in (select hash({{ key }}) from {{ this }} group by 1 having count(*) > 1)
        {%- endif %}
        group by {{ key }}
        having count(*) > 1
        limit 1
    ) as repeated
    {%- endif -%}
{%- endmacro %}

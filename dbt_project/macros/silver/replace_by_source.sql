{#-
  replace_by_source: the incremental strategy of `relation` (models/silver/relation.sql). A build's
  rows are the edges of every (source, source_key) it touched, plus one row per touched key with a
  null relation_key. Every edge the table holds for a touched key is deleted (a key left without
  edges included), then the build's edges are inserted; the null rows are only marks and are not
  kept. Unlike delete+insert, a key whose edges are all gone is still cleared.
-#}
{% macro get_incremental_replace_by_source_sql(arg_dict) -%}
    {%- set target, build = arg_dict['target_relation'], arg_dict['temp_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }} as edge
    using (select distinct source, source_key from {{ build }}) as touched
    where edge.source = touched.source and edge.source_key = touched.source_key;

    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ build }} where relation_key is not null
{%- endmacro %}

{#-
  latest_per_key(relation, key_columns): one row per key, the latest delivery winning: the
  latest _batch_date, then the latest _ingested_at, then the highest _source_row. Duplicate rows
  within a delivery and change rows of later batches (registries send changed records again)
  both collapse to one row. `relation` must carry the staging lineage columns.
-#}
{% macro latest_per_key(relation, key_columns) -%}
    select * from {{ relation }}
    qualify row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by _batch_date desc, _ingested_at desc, _source_row desc) = 1
{%- endmacro %}


{#- A record id qualified by the system that issued it: '<system_id>:<record_id>' (null stays null). -#}
{% macro qualified_id(system_id_col, record_id_col) -%}
    case when {{ record_id_col }} is not null then {{ system_id_col }} || ':' || trim({{ record_id_col }}) end
{%- endmacro %}


{#- The key of a person-keyed row without a record id, free of personal data:
    '<system_id>:<HMAC of the normalised id_number>|<other key columns>'. The HMAC is taken even
    of an id that fails its check (it still names the row, though it joins nothing). -#}
{% macro pseudonymous_key(system_id_col, id_number_col, other_columns) -%}
    {{ system_id_col }} || ':' || coalesce({{ person_ref(id_number_col) }}, '')
    {%- for col in other_columns %} || '|' || coalesce(cast({{ col }} as {{ sql_type('varchar') }}), ''){% endfor %}
{%- endmacro %}

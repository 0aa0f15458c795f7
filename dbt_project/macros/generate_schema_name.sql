{#- Schemas are the layer names themselves (staging, silver, restricted, gold), not dbt's default
    <target schema>_<custom schema>: the warehouse has one target, and consumers name tables
    gold.alerts or restricted.person_identity. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}

{#- Text: regular expressions and timestamps as text (see sql.sql for the dispatch convention).
    Patterns are written once, in the syntax both engines share (RE2 in DuckDB, java.util.regex
    in Spark: classes, counted repetition, \s, \d, \x{HHHH}). Spark reads backslashes in string
    literals as escapes, so its macros double them. -#}

{#- True when the whole of `expr` matches `pattern`; null when expr is null. -#}
{% macro regexp_full_match(expr, pattern) -%}
    {{ adapter.dispatch('regexp_full_match', 'powertrace')(expr, pattern) }}
{%- endmacro %}

{% macro default__regexp_full_match(expr, pattern) -%}
    regexp_full_match({{ expr }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__regexp_full_match(expr, pattern) -%}
    {#- \z, not $: $ would also match before a final line break -#}
    ({{ expr }} rlike '{{ _spark_literal("^(?:" ~ pattern ~ ")\\z") }}')
{%- endmacro %}


{#- `expr` with every match of `pattern` removed. -#}
{% macro regexp_remove(expr, pattern) -%}
    {{ adapter.dispatch('regexp_remove', 'powertrace')(expr, pattern) }}
{%- endmacro %}

{% macro default__regexp_remove(expr, pattern) -%}
    regexp_replace({{ expr }}, '{{ pattern }}', '', 'g')
{%- endmacro %}

{% macro spark__regexp_remove(expr, pattern) -%}
    regexp_replace({{ expr }}, '{{ _spark_literal(pattern) }}', '')
{%- endmacro %}


{% macro _spark_literal(text) -%}
    {{ text | replace('\\', '\\\\') | replace("'", "\\'") }}
{%- endmacro %}


{#- A timestamp as ISO text with microseconds, 2026-10-05T08:01:02.000000. -#}
{% macro iso_timestamp_text(expr) -%}
    {{ adapter.dispatch('iso_timestamp_text', 'powertrace')(expr) }}
{%- endmacro %}

{% macro default__iso_timestamp_text(expr) -%}
    strftime({{ expr }}, '%Y-%m-%dT%H:%M:%S.%f')
{%- endmacro %}

{% macro spark__iso_timestamp_text(expr) -%}
    date_format({{ expr }}, 'yyyy-MM-dd\'T\'HH:mm:ss.SSSSSS')
{%- endmacro %}

{#- Every alert the live supervision models produce now, in the alert contract of models.md (no
    lifecycle: see alerts). The models are the gold files models/gold/<domain>/smNN_*.sql (listed
    by `powertrace prepare` in the generated powertrace_supervision_models(), checked against the
    graph when this runs); a model whose meta.mode is not 'live' (e.g. shadow) is built and scored
    but not alerted. -#}
{%- do require_generated('powertrace_supervision_models') -%}
{%- set models = powertrace_supervision_models() -%}
{%- if execute -%}{{ check_supervision_models(models) }}{%- endif -%}
{%- set names = alert_columns() | map(attribute=0) | list %}
-- typed and empty: the union has a first branch even before any model exists
select {% for name, type in alert_columns() %}cast(null as {{ sql_type(type) }}) as {{ name }}{{ ', ' if not loop.last }}{% endfor %}
where false
{%- for name in models %}
    {%- if not execute or supervision_model_mode(name) == 'live' %}
union all
select {{ names | join(', ') }} from {{ ref(name) }}
    {%- endif %}
{%- endfor %}

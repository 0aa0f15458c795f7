{#- Every alert of every live supervision model, in the alert contract of models.md.
    The models are the gold files models/gold/<domain>/smNN_*.sql (listed by `powertrace prepare`
    in the generated powertrace_supervision_models(), checked against the graph when this runs);
    a model whose meta.mode is not 'live' (e.g. shadow) is built but not alerted.
    Lifecycle for now: every alert is open and detected at this run's as-of date; tracking
    first detection and resolution across runs comes with the incremental version. -#}
{%- do require_generated('powertrace_supervision_models') -%}
{%- set models = powertrace_supervision_models() -%}
{%- if execute -%}{{ check_supervision_models(models) }}{%- endif -%}
{%- set names = alert_columns() | map(attribute=0) | list %}
with detected as (
    -- typed and empty: the union has a first branch even before any model exists
    select {% for name, type in alert_columns() %}cast(null as {{ type }}) as {{ name }}{{ ', ' if not loop.last }}{% endfor %}
    where false
{%- for name in models %}
    {%- if not execute or supervision_model_mode(name) == 'live' %}
    union all
    select {{ names | join(', ') }} from {{ ref(name) }}
    {%- endif %}
{%- endfor %}
)

select
    {{ names | join(',\n    ') }},
    'open' as status,
    {{ as_of_date() }} as first_detected_as_of,
    {{ as_of_date() }} as last_detected_as_of,
    cast(null as date) as resolved_as_of
from detected

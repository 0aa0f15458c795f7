{#- The run's model ledger: one row per supervision model built in this run, live or shadow, with
    the number of alerts it produced, even when that number is 0. The alerts gate checks that
    every live model has its row, so "no alerts" is never the silent result of a model that did
    not run. -#}
{%- do require_generated('powertrace_supervision_models') -%}
{%- set models = powertrace_supervision_models() %}
select
    cast(null as {{ sql_type('varchar') }}) as model_id,
    cast(null as {{ sql_type('varchar') }}) as model_version,
    cast(null as {{ sql_type('varchar') }}) as mode,
    cast(null as bigint) as alerts,
    cast(null as date) as as_of_date
where false
{%- for name in models %}
    {%- set model_id, version = supervision_model_identity(name) if execute else (name, '') %}
union all
select
    '{{ model_id }}',
    '{{ version }}',
    '{{ supervision_model_mode(name) if execute else "" }}',
    (select count(*) from {{ ref(name) }}),
    (select as_of_date from {{ ref('as_of_date') }})
{%- endfor %}

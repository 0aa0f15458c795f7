{#-
  Model parameters from the seed model_thresholds (models.md: "a thresholds table keyed by model,
  parameter and region_code, the most specific region wins: county, then city, then province").

    threshold('tender_threshold', 'left(village_code, 6)')
        The running model's parameter for the region of the record being judged, as a scalar SQL
        expression (double). A parameter the seed lacks for that region fails the query, naming
        model, parameter and region, rather than silently alerting nothing.
    model_enabled('region_code')
        Whether the running model is switched on for the region (parameter `enabled`, 1 or 0;
        no `enabled` row at all: on). alert_contract applies it, so models never call it.

  The model is the one being built (its meta.model_id), so a model's SQL never names itself.
-#}

{#- How specific a seed region is for a record's region: county 3, city 2, province 1 (also for a
    record without region), else null (another region's row). -#}
{% macro _threshold_specificity(seed_region, region_expr) -%}
    case when {{ seed_region }} = left({{ region_expr }}, 6) then 3
         when {{ seed_region }} = left({{ region_expr }}, 4) || '00' then 2
         when {{ seed_region }} = left({{ region_expr }}, 2) || '0000' then 1
         -- a record without a region (e.g. a recipient missing from the registry): the default
         when {{ region_expr }} is null and {{ seed_region }} like '__0000' then 1
    end
{%- endmacro %}


{#- The seed's value for the running model, `parameter` and the record's region (null when none):
    the most specific region's row. The seed's columns are renamed, so that a caller's
    unqualified region_code means its own. -#}
{% macro _parameter_value(parameter, region_expr) -%}
    {{ adapter.dispatch('parameter_value', 'powertrace')(parameter, region_expr) }}
{%- endmacro %}

{% macro default__parameter_value(parameter, region_expr) -%}
    (select max_by(_mt.value_, {{ _threshold_specificity('_mt.region_', region_expr) }})
     from {{ _thresholds_renamed(parameter) }}
     where {{ _threshold_specificity('_mt.region_', region_expr) }} is not null)
{%- endmacro %}

{#- Spark does not decorrelate an aggregate over both the record's and the seed's columns: one
    lookup per level of specificity, the most specific first (the seed holds one row per key). -#}
{% macro spark__parameter_value(parameter, region_expr) -%}
    coalesce(
        (select max(_mt.value_) from {{ _thresholds_renamed(parameter) }} where _mt.region_ = left({{ region_expr }}, 6)),
        (select max(_mt.value_) from {{ _thresholds_renamed(parameter) }} where _mt.region_ = left({{ region_expr }}, 4) || '00'),
        (select max(_mt.value_) from {{ _thresholds_renamed(parameter) }} where _mt.region_ = left({{ region_expr }}, 2) || '0000'),
        (select max(_mt.value_) from {{ _thresholds_renamed(parameter) }}
         where {{ region_expr }} is null and _mt.region_ like '__0000'))
{%- endmacro %}

{% macro _thresholds_renamed(parameter) -%}
    (select model_id as model_, parameter as parameter_, region_code as region_, value as value_
     from {{ ref('model_thresholds') }}
     where model_id = '{{ supervision_model_meta().model_id }}' and parameter = '{{ parameter }}') as _mt
{%- endmacro %}


{% macro threshold(parameter, region_expr) -%}
    {%- if parameter == 'enabled' -%}
        {{ exceptions.raise_compiler_error("threshold(): `enabled` is a switch, use model_enabled()") }}
    {%- endif -%}
    coalesce({{ _parameter_value(parameter, region_expr) }},
             {{ raise_sql_error("'model_thresholds has no " ~ parameter ~ " for model " ~ supervision_model_meta().model_id ~ "'"
                                ~ " || ' and region ' || coalesce(" ~ region_expr ~ ", 'null')"
                                ~ " || ' (add a province default row to dbt_project/seeds/model_thresholds.csv)'") }})
{%- endmacro %}


{% macro model_enabled(region_expr) -%}
    coalesce({{ _parameter_value('enabled', region_expr) }}, 1) = 1
{%- endmacro %}


{#- Seed test: one row per (model_id, parameter, region_code), or `threshold` would be ambiguous. -#}
{% test threshold_rows_unique(model) %}
    select model_id, parameter, region_code, count(*) as rows_per_key
    from {{ model }}
    group by model_id, parameter, region_code
    having count(*) > 1
{% endtest %}

{#-
  The alert contract of models.md, shared by every supervision model.

  A gold model computes its rule as a relation of findings, one row per fired rule branch (several
  rows per key are fine), with the columns
      primary_key   the model's record key, built from qualified record ids (never personal data)
      rule_branch   the branch that fired, e.g. 'cadre' or 'a'
      severity      'red' or 'yellow'
      region_code, subject_ref, event_date, amount   as models.md's table of regions says
      evidence      JSON of this finding: json_obj(...) (macros/engine/json.sql), see evidence_record()
  and ends with {{ alert_contract('findings') }}, which makes one alert per primary key: the
  fired branches sorted and comma-joined, the highest severity, the evidences of all findings,
  and the model's identity from its YAML meta (model_id, version, name_zh, domain). Findings of
  a region where the model is switched off (seed model_thresholds, parameter `enabled`) are
  dropped here, so no model repeats the switch.

  The contract is held here, as the rows are written, not by data tests after the build: the
  grouping makes primary_key unique, and a finding without a primary_key, or a key whose
  findings carry no severity red or yellow, fails the model with an error naming the model and
  the key (tests/gold/test_alert_contract.py).
-#}

{#- The columns of a model's alerts, in order, with their types (alerts.sql adds the lifecycle). -#}
{% macro alert_columns() -%}
    {{ return([('alert_id', 'varchar'), ('model_id', 'varchar'), ('model_version', 'varchar'),
               ('rule_branch', 'varchar'), ('severity', 'varchar'), ('domain', 'varchar'),
               ('region_code', 'varchar'), ('primary_key', 'varchar'), ('subject_ref', 'varchar'),
               ('title', 'varchar'), ('evidence', 'varchar'), ('amount', 'decimal(18,2)'),
               ('event_date', 'date')]) }}
{%- endmacro %}


{#- touched_keys: an incremental model's CTE of the keys it judged (macros/alerts/incremental_alerts.sql). -#}
{% macro alert_contract(findings, touched_keys=none) -%}
    {%- set meta = supervision_model_meta() %}
select
    {{ alert_id("'" ~ meta.model_id ~ "'", 'primary_key') }} as alert_id,
    '{{ meta.model_id }}' as model_id,
    '{{ meta.version }}' as model_version,
    {{ sorted_distinct_text('rule_branch') }} as rule_branch,
    coalesce(case max(case severity when 'red' then 2 when 'yellow' then 1 end)
                 when 2 then 'red' when 1 then 'yellow' end,
             {{ raise_sql_error("'" ~ meta.model_id ~ ": the findings of primary_key ' || coalesce(primary_key, 'null')"
                                ~ " || ' carry no severity red or yellow (the alert contract, models.md)'") }}) as severity,
    '{{ meta.domain }}' as domain,
    min(region_code) as region_code,
    coalesce(primary_key,
             {{ raise_sql_error("'" ~ meta.model_id ~ ": a finding without a primary_key (the alert contract"
                                ~ " needs one per alert, models.md)'") }}) as primary_key,
    min(subject_ref) as subject_ref,
    '{{ meta.name_zh }}' as title,
    {{ json_text(json_obj(model_id="'" ~ meta.model_id ~ "'", primary_key='primary_key',
                          findings=json_agg_ordered('evidence', 'rule_branch'))) }} as evidence,
    cast(min(amount) as decimal(18, 2)) as amount,
    min(event_date) as event_date
from {{ findings }} as f
where {{ model_enabled('f.region_code') }}
group by primary_key
{{- alert_marks(touched_keys) }}
{%- endmacro %}


{#- Deterministic alert id: md5 hex of model_id || '|' || primary_key (not of the version: a new
    version of a model keeps its alerts' ids, so dispositions stay attached). -#}
{% macro alert_id(model_id, primary_key) -%}
    md5({{ model_id }} || '|' || {{ primary_key }})
{%- endmacro %}


{#- One record of an evidence: {"entity": <canonical entity>, "key": <its silver key>}. Persons
    are given by person_ref (entity 'person'), never by id_number or name. -#}
{% macro evidence_record(entity, key_expr) -%}
    {{ json_obj(entity="'" ~ entity ~ "'", key=key_expr) }}
{%- endmacro %}


{#- The running model's supervision meta from its YAML, checked when the model runs. A unit test
    runs the model's SQL as its own node, without the model's YAML (nor the graph): there the meta
    is a stand-in whose model_id comes from the tested model's name (smNN_... -> SMNN, a pairing
    check_supervision_models enforces), so thresholds resolve for the right model; the other
    identity columns are 'unit_test' (unit tests judge the rule, the build judges the identity).
    While parsing (execute false) the stand-in is a placeholder: only the SQL's refs matter. -#}
{% macro supervision_model_meta() -%}
    {%- if not execute -%}
        {{ return({'model_id': 'unit_test', 'version': 'unit_test', 'domain': 'unit_test', 'name_zh': 'unit_test'}) }}
    {%- endif -%}
    {%- if model.resource_type == 'unit_test' -%}
        {%- set tested = model.tested_node_unique_id.split('.')[-1] -%}
        {{ return({'model_id': model_id_of(tested), 'version': 'unit_test', 'domain': 'unit_test', 'name_zh': 'unit_test'}) }}
    {%- endif -%}
    {%- set meta = model.config.get('meta', {}) -%}
    {%- for key in ['model_id', 'version', 'domain', 'name_zh', 'severity', 'mode'] -%}
        {%- if not meta.get(key) -%}
            {{ exceptions.raise_compiler_error("supervision model " ~ model.name ~ ": meta." ~ key
                ~ " is missing in its YAML (see dbt_project/README.md, 'Adding a supervision model')") }}
        {%- endif -%}
        {%- if "'" in (meta.get(key) | string) -%}
            {{ exceptions.raise_compiler_error("supervision model " ~ model.name ~ ": meta." ~ key ~ " must not contain a quote") }}
        {%- endif -%}
    {%- endfor -%}
    {%- if meta.model_id != model_id_of(model.name) -%}
        {{ exceptions.raise_compiler_error("supervision model " ~ model.name ~ ": meta.model_id " ~ meta.model_id
            ~ " must match its file name (" ~ model_id_of(model.name) ~ ")") }}
    {%- endif -%}
    {{ return(meta) }}
{%- endmacro %}


{#- The model_id a supervision model's name carries: sm03_ineligible_work_subsidy -> SM03. -#}
{% macro model_id_of(model_name) -%}
    {{ return(model_name.split('_')[0] | upper) }}
{%- endmacro %}

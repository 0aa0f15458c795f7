{#- The supervision models as alerts.sql sees them. -#}

{#- When alerts runs: the generated list must be exactly the graph's models carrying meta.model_id
    (a model added since the last `powertrace prepare`, or a file misnamed, is caught here). -#}
{% macro check_supervision_models(models) -%}
    {%- set in_graph = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.package_name == project_name
               and node.config.get('meta', {}).get('model_id') -%}
            {%- do in_graph.append(node.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if (in_graph | sort) != (models | sort) -%}
        {{ exceptions.raise_compiler_error(
            "alerts: the generated list of supervision models " ~ (models | sort) ~ " differs from the models with "
            ~ "meta.model_id " ~ (in_graph | sort) ~ ": name them models/gold/<domain>/smNN_<name>.sql and run "
            ~ "`powertrace prepare`") }}
    {%- endif -%}
{%- endmacro %}


{#- (meta.model_id, meta.version) of a supervision model, by its dbt model name. -#}
{% macro supervision_model_identity(name) -%}
    {%- set meta = graph.nodes['model.' ~ project_name ~ '.' ~ name].config.get('meta', {}) -%}
    {{ return((meta.get('model_id'), meta.get('version'))) }}
{%- endmacro %}


{#- meta.mode of a supervision model ('live' models feed alerts; e.g. 'shadow' ones do not). -#}
{% macro supervision_model_mode(name) -%}
    {{ return(graph.nodes['model.' ~ project_name ~ '.' ~ name].config.get('meta', {}).get('mode')) }}
{%- endmacro %}

{#-
  The identifier columns of silver, written once. Every silver model normalises in its first CTE
  and emits these columns in its final select, so that all entities spell refs the same way:

    person_id_columns(norm, stem, valid_column=<stem>_id_valid)    <stem>_ref, <valid_column>
        norm: an already normalised id_number (normalise_id_number). The ref is the HMAC
        person_ref, null when the id fails its check (it joins nothing, the flag counts it).
        A column named id_number becomes person_ref / id_number_valid:
        person_id_columns('id_number', 'person', 'id_number_valid').

    party_kind(id_norm, code_norm, type_col)               person | company | null
    party_id_columns(id_norm, code_norm, kind_col, stem)   <stem>_ref, <stem>_id_valid
        For columns holding a person OR a company (holder_id, contractor_id, payee_id, lessee_id):
        first select party_kind(...) as <stem>_kind (the delivered type when it is person or
        company, else inferred from which check the identifier passes, id_number first), then
        party_id_columns over it: the ref is the person_ref of a person, the normalised credit
        code of a company, null when the identifier fails its check.

    credit_code_columns(norm, col)          <col>, <col>_valid
        The normalised code, null when it fails its check.
-#}

{% macro person_id_columns(norm, stem, valid_column=none) -%}
    case when {{ id_number_is_valid(norm) }} then {{ person_ref(norm) }} end as {{ stem }}_ref,
    {{ id_number_is_valid(norm) }} as {{ valid_column or stem ~ '_id_valid' }}
{%- endmacro %}


{#- The party kind alone (person | company | null), for models that need it before the ref. -#}
{% macro party_kind(id_norm, code_norm, type_col) -%}
    case when lower(trim({{ type_col }})) in ('person', 'company') then lower(trim({{ type_col }}))
         when {{ id_number_is_valid(id_norm) }} then 'person'
         when {{ credit_code_is_valid(code_norm) }} then 'company' end
{%- endmacro %}


{% macro party_id_columns(id_norm, code_norm, kind_col, stem) -%}
    case {{ kind_col }}
        when 'person' then case when {{ id_number_is_valid(id_norm) }} then {{ person_ref(id_norm) }} end
        when 'company' then case when {{ credit_code_is_valid(code_norm) }} then {{ code_norm }} end
    end as {{ stem }}_ref,
    coalesce(case {{ kind_col }}
        when 'person' then {{ id_number_is_valid(id_norm) }}
        when 'company' then {{ credit_code_is_valid(code_norm) }} end, false) as {{ stem }}_id_valid
{%- endmacro %}


{% macro credit_code_columns(norm, col) -%}
    case when {{ credit_code_is_valid(norm) }} then {{ norm }} end as {{ col }},
    {{ credit_code_is_valid(norm) }} as {{ col }}_valid
{%- endmacro %}

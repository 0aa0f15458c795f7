{#-
  person_ref(col): lowercase hex HMAC-SHA256 of `col` (a normalised, valid id_number) under the
  pseudonym key, equal byte for byte to orchestration.pseudonym.person_ref:
      HMAC(K, m) = SHA256((K xor opad) || SHA256((K xor ipad) || m))
  The two padded keys are variables of the session, so the key never appears in compiled SQL or
  logs: DuckDB variables set on every connection by the orchestration.dbt_session plugin; on
  Spark, session variables declared by orchestration.spark_build when it opens the session. A
  session without them fails loudly instead of producing null refs.
-#}
{% macro person_ref(col) -%}
    {{ adapter.dispatch('person_ref', 'powertrace')(col) }}
{%- endmacro %}

{% macro default__person_ref(col) -%}
    sha256({{ _hmac_pad('opad') }} || unhex(sha256({{ _hmac_pad('ipad') }} || encode({{ col }}))))
{%- endmacro %}

{#- The casts matter: an untyped null would let DuckDB fold the whole hash to null before error()
    runs. -#}
{% macro _hmac_pad(which) -%}
    coalesce(cast(getvariable('powertrace_hmac_{{ which }}') as blob),
             cast(error('DuckDB variable powertrace_hmac_{{ which }} is not set: run dbt with the powertrace profile (plugin orchestration.dbt_session)') as blob))
{%- endmacro %}

{#- An undeclared session variable fails the query when Spark analyses it (UNRESOLVED_COLUMN
    naming powertrace_hmac_ipad): run the Spark target through `powertrace spark-build`. -#}
{% macro spark__person_ref(col) -%}
    sha2(concat(powertrace_hmac_opad, unhex(sha2(concat(powertrace_hmac_ipad, encode({{ col }}, 'UTF-8')), 256))), 256)
{%- endmacro %}

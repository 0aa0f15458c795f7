{#-
  PRC resident identity numbers (GB 11643-1999). Identity is decided by the normalised id_number,
  never by name; an id that fails its check character joins nothing (silver keeps it, flagged).
  The macros render SQL expressions over a column or expression `col` (engine-specific parts
  dispatched, macros/engine/).
-#}

{#- Check character of a 17-digit body: ISO 7064 MOD 11-2, weights 2^(17-i) mod 11. The 17 digits
    are read as one integer and taken apart by arithmetic, the same SQL on both engines: DuckDB
    evaluates it about eight times faster than a lambda over the characters, and silver evaluates
    it for every id of every row (at SF 10 the lambda was most of the CPU of the large entities).
    A body that is not 17 digits gives null (callers match the digits first). -#}
{% macro id_check_char(body17) -%}
    {%- set digits = "try_cast(" ~ body17 ~ " as bigint)" -%}
    substr('10X98765432', 1 + cast((
        {%- for w in _id_weights().split(',') %}
        {%- if not loop.first %} + {% endif %}({{ int_div(digits, 10 ** (17 - loop.index)) }} % 10) * {{ w | trim }}
        {%- endfor %}) % 11 as integer), 1)
{%- endmacro %}

{% macro _id_weights() %}7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2{% endmacro %}


{#- Spelling noise removed: full-width digits and Ｘ/ｘ to half-width, every space (also the
    ideographic U+3000) removed, lowercase x to X; blank becomes null. -#}
{% macro _id_number_cleaned(col) -%}
    nullif(upper({{ regexp_remove("translate(" ~ col ~ ", '０１２３４５６７８９Ｘｘ', '0123456789XX')", '[\\s\\x{3000}]') }}), '')
{%- endmacro %}


{#- The 18-character form: cleaned, and a 15-digit legacy number widened by inserting the century
    '19' after the 6-digit birth place and appending the computed check character. Anything else
    is returned cleaned but unchanged, for id_number_is_valid to judge. -#}
{% macro normalise_id_number(col) -%}
    {%- set cleaned = _id_number_cleaned(col) -%}
    {%- set body17 = "(left(" ~ cleaned ~ ", 6) || '19' || right(" ~ cleaned ~ ", 9))" -%}
    case when {{ regexp_full_match(cleaned, '[0-9]{15}') }}
         then {{ body17 }} || {{ id_check_char(body17) }}
         else {{ cleaned }} end
{%- endmacro %}


{#- True when `col` (already normalised) is 17 digits plus the right check character; false
    otherwise, null included. Birth place and birth date are not judged. -#}
{% macro id_number_is_valid(col) -%}
    coalesce({{ regexp_full_match(col, '[0-9]{17}[0-9X]') }}
             and right({{ col }}, 1) = {{ id_check_char("left(" ~ col ~ ", 17)") }}, false)
{%- endmacro %}

{#- Unified social credit codes (GB 32100-2015): 18 characters over 0-9 A-H J-N P Q R T U W X Y,
    the last a weighted mod-31 check character. -#}

{% macro _credit_code_alphabet() %}0123456789ABCDEFGHJKLMNPQRTUWXY{% endmacro %}


{#- Full-width digits and letters to half-width, spaces removed, upper case; blank becomes null. -#}
{% macro normalise_credit_code(col) -%}
    nullif(upper({{ regexp_remove("translate(" ~ col ~ ",
        '０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ',
        '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz')", '[\\s\\x{3000}]') }}), '')
{%- endmacro %}


{#- Check character of a 17-character body: alphabet[(31 - sum(index * weight) mod 31) mod 31].
    One term per character, the same SQL on both engines (about three times faster in DuckDB than
    a lambda over the characters). -#}
{% macro credit_code_check_char(body17) -%}
    substr('{{ _credit_code_alphabet() }}', 1 + cast((31 - (
        {%- for w in _credit_code_weights().split(',') %}
        {%- if not loop.first %} + {% endif %}(instr('{{ _credit_code_alphabet() }}', substr({{ body17 }}, {{ loop.index }}, 1)) - 1) * {{ w | trim }}
        {%- endfor %}) % 31) % 31 as integer), 1)
{%- endmacro %}

{% macro _credit_code_weights() %}1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28{% endmacro %}


{#- True when `col` (already normalised) is 18 characters of the alphabet with the right check
    character; false otherwise, null included. -#}
{% macro credit_code_is_valid(col) -%}
    coalesce({{ regexp_full_match(col, '[0-9A-HJ-NPQRTUWXY]{18}') }}
             and right({{ col }}, 1) = {{ credit_code_check_char("left(" ~ col ~ ", 17)") }}, false)
{%- endmacro %}

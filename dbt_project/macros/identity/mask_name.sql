{#- A person's name masked for display in gold and published tables (names never leave the
    restricted schema unmasked): the first and the last character kept, every character between
    them starred, 张小三 → 张*三, 欧阳小明 → 欧**明; a two-character name keeps its first, 张三 → 张*;
    one character → *; blank or null → null. Spaces are removed first. -#}
{% macro mask_name(col) -%}
    {%- set name = "nullif(" ~ regexp_remove(col, '[\\s\\x{3000}]') ~ ", '')" -%}
    case when length({{ name }}) = 1 then '*'
         when length({{ name }}) = 2 then left({{ name }}, 1) || '*'
         when length({{ name }}) > 2 then left({{ name }}, 1) || repeat('*', length({{ name }}) - 2) || right({{ name }}, 1)
    end
{%- endmacro %}

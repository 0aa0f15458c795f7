{#- The as-of date of this run: the latest batch date in bronze over every registered system.
    Alerts carry it (first/last detected) instead of wall-clock time, so re-running on the same
    data yields identical alerts. Null while nothing has been ingested. -#}
{%- do require_generated('powertrace_bronze_tables') -%}
{%- set tables = powertrace_bronze_tables() %}
select max(batch_date) as as_of_date
from (
    select cast(null as date) as batch_date
{%- for kind, per_entity in tables.items() %}{% for entity, names in per_entity.items() %}{% for name in names %}
    union all select max(_batch_date) from {{ source('bronze_' ~ kind, name) }}
{%- endfor %}{% endfor %}{% endfor %}
) as per_table

{#- Deaths of the death registry, one row per person (the latest delivery winning). A recipient
    whose death_date is before the first day of a pay month is ineligible (SM07). -#}
with staged as (
    select
        _system_id as system_id,
        {{ normalise_id_number('id_number') }} as id_number,
        death_date,
        source_ref,
        _batch_date,
        _ingested_at,
        _source_row
    from {{ ref('stg_death_registry__death') }}
),

latest as (
    {{ latest_per_key('staged', ['id_number']) }}
)

select
    {{ pseudonymous_key('system_id', 'id_number', []) }} as death_key,
    system_id,
    {{ person_id_columns('id_number', 'person', 'id_number_valid') }},
    death_date,
    source_ref,
    _batch_date as batch_date,
    _source_row as source_row
from latest

{#- Re-identification table (restricted schema): person_ref -> normalised id_number and name, one
    row per person seen with a valid id_number in any person-bearing source. The name is the
    household registry's when it has one, else the latest delivered. Only the alert service's
    re-identification path, under its own permission, reads this table. -#}
with seen as (
    select id_number, name, 1 as name_priority, _batch_date, _ingested_at, _source_row
    from {{ ref('stg_household_registry__person') }}
    union all
    select id_number, name, 2, _batch_date, _ingested_at, _source_row
    from {{ ref('stg_village_cadre_roster__village_cadre') }}
    union all
    select id_number, name, 2, _batch_date, _ingested_at, _source_row
    from {{ ref('stg_official_roster__public_official') }}
    union all
    select payee_id, payee_name, 3, _batch_date, _ingested_at, _source_row
    from {{ ref('stg_village_finance__village_payment') }}
    where coalesce(lower(trim(payee_type)), '') <> 'company'  -- invalid ids drop out below
),

normalised as (
    select {{ normalise_id_number('id_number') }} as id_number, nullif(trim(name), '') as name,
           name_priority, _batch_date, _ingested_at, _source_row
    from seen
),

valid as (
    select * from normalised where {{ id_number_is_valid('id_number') }}
)

select
    {{ person_ref('id_number') }} as person_ref,
    id_number,
    name
from valid
qualify row_number() over (
    partition by id_number
    order by name is null, name_priority, _batch_date desc, _ingested_at desc, _source_row desc) = 1

{#- Re-identification table (restricted schema): person_ref -> normalised id_number and name, one
    row per person seen with a valid id_number in any person-bearing source. The name is the
    household registry's when it has one, else the latest delivered, else null. Published, for
    the alert service only, to <lake>/restricted/person_identity (orchestration/publish/restricted.py). Only the alert service's
    re-identification path, under its own permission, reads this table.

    Incremental: a build reads only the staging rows committed since the table's latest
    ingested_at (as silver does, macros/silver/incremental.sql) and re-chooses the name of the
    id_numbers they carry, against the row the table already holds; the choice's inputs
    (name_priority, batch_date, ingested_at, source_row) are kept as columns for that, and are not
    published. -#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='id_number',
          on_schema_change='fail') }}
{#- Sources that deliver a person's name beside the id (priority: the household registry's name
    first), then every other person identifier column of the canonical entities (no name), so that
    every person_ref silver and gold can show is re-identifiable. -#}
{%- set named = [
    ('stg_household_registry__person', 'id_number', 'name', 1, none),
    ('stg_village_cadre_roster__village_cadre', 'id_number', 'name', 2, none),
    ('stg_official_roster__public_official', 'id_number', 'name', 2, none),
    ('stg_village_finance__village_payment', 'payee_id', 'payee_name', 3, "coalesce(lower(trim(payee_type)), '') <> 'company'"),
] %}
{%- set unnamed = [
    ('stg_marriage_registry__marriage', 'person_a_id', none),
    ('stg_marriage_registry__marriage', 'person_b_id', none),
    ('stg_death_registry__death', 'id_number', none),
    ('stg_business_registry__company', 'legal_rep_id', none),
    ('stg_business_registry__shareholder', 'holder_id', "coalesce(lower(trim(holder_type)), '') <> 'company'"),
    ('stg_public_resource_trading__contract', 'technical_lead_id', none),
    ('stg_site_attendance__site_attendance', 'id_number', none),
    ('stg_village_finance__village_project', 'contractor_id', "coalesce(lower(trim(contractor_type)), '') <> 'company'"),
    ('stg_asset_trading__asset_lease', 'lessee_id', "coalesce(lower(trim(lessee_type)), '') <> 'company'"),
    ('stg_social_assistance__subsidy_payment', 'recipient_id', none),
    ('stg_pension__pension_payment', 'recipient_id', none),
    ('stg_social_insurance__insurance_contribution', 'id_number', none),
    ('stg_work_injury__injury_claim', 'injured_id', none),
    ('stg_work_injury__injury_claim', 'handler_id', none),
    ('stg_hospital_his__prescription', 'doctor_id', none),
    ('stg_hospital_his__prescription', 'patient_id', none),
    ('stg_vehicle_registry__vehicle', 'owner_id', none),
    ('stg_property_registry__property', 'owner_id', none),
] %}
{%- set committed_since_last_build -%}
    {%- if this is not none and is_incremental() %}
        and _ingested_at > (select coalesce(max(ingested_at), timestamptz '1970-01-01 00:00:00+00') from {{ this }})
    {%- endif %}
{%- endset %}

with seen as (
    {%- for model, id_col, name_col, priority, condition in named %}
    select {{ id_col }} as id_number, {{ name_col }} as name, {{ priority }} as name_priority,
           _batch_date, _ingested_at, _source_row
    from {{ ref(model) }}
    where {{ condition or 'true' }}  -- invalid ids drop out below
        {{- committed_since_last_build }}
    union all
    {%- endfor %}
    {%- for model, id_col, condition in unnamed %}
    select {{ id_col }}, cast(null as {{ sql_type('varchar') }}), 9, cast(null as date), max(_ingested_at), cast(null as bigint)
    from {{ ref(model) }}
    where {{ id_col }} is not null{% if condition %} and {{ condition }}{% endif %}
        {{- committed_since_last_build }}
    group by {{ id_col }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

normalised as (
    select {{ normalise_id_number('id_number') }} as id_number, nullif(trim(name), '') as name,
           name_priority, _batch_date, _ingested_at, _source_row
    from seen
),

valid as (
    select * from normalised where {{ id_number_is_valid('id_number') }}
),

candidates as (
    select id_number, name, name_priority, _batch_date as batch_date, _ingested_at as ingested_at,
           _source_row as source_row
    from valid
    {%- if this is not none and is_incremental() %}
    union all
    -- the row already chosen for an id_number the new rows carry competes with them
    select id_number, name, name_priority, batch_date, ingested_at, source_row
    from {{ this }}
    where id_number in (select id_number from valid)
    {%- endif %}
)

select
    {{ person_ref('id_number') }} as person_ref,
    id_number,
    name,
    name_priority,
    batch_date,
    ingested_at,
    source_row
from candidates
qualify row_number() over (
    partition by id_number
    order by name is null, name_priority, batch_date desc nulls last, ingested_at desc nulls last,
             source_row desc nulls last) = 1

{#- Re-identification table (restricted schema): person_ref -> normalised id_number and name, one
    row per person seen with a valid id_number in any person-bearing source. The name is the
    household registry's when it has one, else the latest delivered, else null. Published, for
    the alert service only, to <lake>/restricted/person_identity (orchestration/assets/restricted.py). Only the alert service's
    re-identification path, under its own permission, reads this table. -#}
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
with seen as (
    {%- for model, id_col, name_col, priority, condition in named %}
    select {{ id_col }} as id_number, {{ name_col }} as name, {{ priority }} as name_priority,
           _batch_date, _ingested_at, _source_row
    from {{ ref(model) }}
    {%- if condition %}
    where {{ condition }}  -- invalid ids drop out below
    {%- endif %}
    union all
    {%- endfor %}
    {%- for model, id_col, condition in unnamed %}
    select distinct {{ id_col }}, cast(null as {{ sql_type('varchar') }}), 9, cast(null as date), cast(null as {{ sql_type('timestamptz') }}), cast(null as bigint)
    from {{ ref(model) }}
    where {{ id_col }} is not null{% if condition %} and {{ condition }}{% endif %}
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
)

select
    {{ person_ref('id_number') }} as person_ref,
    id_number,
    name
from valid
qualify row_number() over (
    partition by id_number
    order by name is null, name_priority, _batch_date desc, _ingested_at desc, _source_row desc) = 1

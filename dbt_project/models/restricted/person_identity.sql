{#- Re-identification table (restricted schema): person_ref -> normalised id_number and name, one
    row per person seen with a valid id_number in any person-bearing source. The name is the
    household registry's when it has one, else the latest delivered, else null. Published, for
    the alert service only, to <lake>/restricted/person_identity (orchestration/publish/restricted.py). Only the alert service's
    re-identification path, under its own permission, reads this table.

    Incremental: a build reads only the staging rows bronze committed after the latest commit an
    earlier build read (read_through: the newest row READ, not the newest row chosen: a row
    that loses to a household-registry name must not be read again by every build), and
    re-chooses the name of the id_numbers they carry against the row the table already holds;
    the choice's inputs (name_priority, batch_date, ingested_at, source_row) are kept as columns
    for that, and are not published. Each staging model is read once (a scan of a kind's bronze
    tables costs about a second however few rows it returns). -#}
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
    ('stg_marriage_registry__marriage', ['person_a_id', 'person_b_id'], none),
    ('stg_death_registry__death', ['id_number'], none),
    ('stg_business_registry__company', ['legal_rep_id'], none),
    ('stg_business_registry__shareholder', ['holder_id'], "coalesce(lower(trim(holder_type)), '') <> 'company'"),
    ('stg_public_resource_trading__contract', ['technical_lead_id'], none),
    ('stg_site_attendance__site_attendance', ['id_number'], none),
    ('stg_village_finance__village_project', ['contractor_id'], "coalesce(lower(trim(contractor_type)), '') <> 'company'"),
    ('stg_asset_trading__asset_lease', ['lessee_id'], "coalesce(lower(trim(lessee_type)), '') <> 'company'"),
    ('stg_social_assistance__subsidy_payment', ['recipient_id'], none),
    ('stg_pension__pension_payment', ['recipient_id'], none),
    ('stg_social_insurance__insurance_contribution', ['id_number'], none),
    ('stg_work_injury__injury_claim', ['injured_id', 'handler_id'], none),
    ('stg_hospital_his__prescription', ['doctor_id', 'patient_id'], none),
    ('stg_vehicle_registry__vehicle', ['owner_id'], none),
    ('stg_property_registry__property', ['owner_id'], none),
] %}
{%- set read_since_last_build = committed_since_last_build('read_through') %}  {#- read once, used per source #}

with seen as (
    {%- for model, id_col, name_col, priority, condition in named %}
    select {{ id_col }} as id_number, {{ name_col }} as name, {{ priority }} as name_priority,
           _batch_date, _ingested_at, _source_row
    from {{ ref(model) }}
    where {{ condition or 'true' }}  -- invalid ids drop out below
        and {{ read_since_last_build }}
    union all
    {%- endfor %}
    {%- for model, id_cols, condition in unnamed %}
    {%- set id_rows = [] %}{% for column in id_cols %}{% do id_rows.append(['rows_read.' ~ column]) %}{% endfor %}
    select ids.id_number, cast(null as {{ sql_type('varchar') }}), 9, cast(null as date), max(_ingested_at),
           cast(null as bigint)
    from {{ ref(model) }} as rows_read
    {{ lateral_rows(id_rows, 'ids', ['id_number']) }}
    where ids.id_number is not null{% if condition %} and {{ condition }}{% endif %}
        and {{ read_since_last_build }}
    group by ids.id_number
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
    source_row,
    (select max(_ingested_at) from seen) as read_through
from candidates
qualify row_number() over (
    partition by id_number
    order by name is null, name_priority, batch_date desc nulls last, ingested_at desc nulls last,
             source_row desc nulls last) = 1

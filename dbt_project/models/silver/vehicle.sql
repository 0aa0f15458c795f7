{#- Motor vehicles of the vehicle registry (a full snapshot on the 1st of every month: the latest
    snapshot wins), one row per plate; the owner by owner_ref (person_ref, or the credit code of a
    company owner, inferred from which check the owner_id passes). -#}
with staged as (
    select
        _system_id as system_id,
        upper(regexp_replace(plate, '[\s\x{3000}]', '', 'g')) as plate,
        {{ normalise_id_number('owner_id') }} as owner_id_number,
        {{ normalise_credit_code('owner_id') }} as owner_credit_code,
        vehicle_type,
        value,
        registered_date,
        _batch_date,
        _ingested_at,
        _source_row
    from {{ ref('stg_vehicle_registry__vehicle') }}
),

latest as (
    {{ latest_per_key('staged', ['plate']) }}
),

typed as (
    select *, {{ party_kind('owner_id_number', 'owner_credit_code', 'null') }} as owner_kind
    from latest
)

select
    system_id || ':' || plate as vehicle_key,
    system_id,
    plate,
    owner_kind,
    {{ party_id_columns('owner_id_number', 'owner_credit_code', 'owner_kind', 'owner') }},
    vehicle_type,
    value,
    registered_date,
    _batch_date as batch_date,
    _source_row as source_row
from typed
where plate is not null

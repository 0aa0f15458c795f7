{#- Village cadres (村社干部) of the provincial roster, one row per (person, village, term start).
    person_ref is null when the id_number fails its check (id_number_valid = false): such a row
    is kept and counted but joins nothing. holds_interval is false when term_start is missing:
    such a row holds at no date.
    Incremental on what bronze has committed since the last build (macros/silver/incremental.sql). -#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', on_schema_change='fail', unique_key='cadre_key',
          post_hook="{{ delete_superseded_rows() }}") }}

with candidates as (
    {{ incremental_candidates(ref('stg_village_cadre_roster__village_cadre')) }}
),

staged as (
    select
        _system_id as system_id,
        {{ normalise_id_number('id_number') }} as id_number,
        trim(village_code) as village_code,
        role,
        term_start,
        term_end,
        salaried_from,
        _batch_date,
        _ingested_at,
        _source_row
    from candidates
),

latest as (
    {{ latest_per_key('staged', ['system_id', 'id_number', 'village_code', 'term_start']) }}
),

checked as (
    select *, {{ id_number_is_valid('id_number') }} as id_number_valid
    from latest
),

new_rows as (
    select
        {{ pseudonymous_key('system_id', 'id_number', ['village_code', 'term_start']) }} as cadre_key,
        system_id,
        case when id_number_valid then {{ person_ref('id_number') }} end as person_ref,
        id_number_valid,
        village_code,
        role,
        term_start,
        term_end,
        salaried_from,
        term_start is not null as holds_interval,
        _batch_date as batch_date,
        _source_row as source_row,
        _ingested_at as ingested_at
    from checked
)

{{ incremental_rows('new_rows', 'cadre_key') }}

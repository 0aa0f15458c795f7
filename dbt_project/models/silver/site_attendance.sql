{#- Real-name site attendance of every city's construction sites, one row per (project, person,
    work day). project_id names a tender project of the public resource trading system of the same
    city, so it is qualified with that system: public_resource_trading_<city>:<project_id>.
    Incremental on what bronze has committed since the last build (macros/silver/incremental.sql). -#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', on_schema_change='fail', unique_key='attendance_key',
          post_hook="{{ delete_superseded_rows() }}") }}

with candidates as (
    {{ incremental_candidates(ref('stg_site_attendance__site_attendance')) }}
),

staged as (
    select
        _system_id as system_id,
        {{ qualified_id("'public_resource_trading_' || right(_system_id, 6)", 'project_id') }} as project_id,
        {{ normalise_id_number('id_number') }} as id_number,
        work_date,
        check_in,
        _batch_date,
        _ingested_at,
        _source_row
    from candidates
),

latest as (
    {{ latest_per_key('staged', ['system_id', 'project_id', 'id_number', 'work_date']) }}
),

new_rows as (
    select
        {{ pseudonymous_key('system_id', 'id_number', ['project_id', 'work_date']) }} as attendance_key,
        system_id,
        project_id,
        {{ person_id_columns('id_number', 'person', 'id_number_valid') }},
        work_date,
        check_in,
        _batch_date as batch_date,
        _source_row as source_row,
        _ingested_at as ingested_at
    from latest
)

{{ incremental_rows('new_rows', 'attendance_key') }}

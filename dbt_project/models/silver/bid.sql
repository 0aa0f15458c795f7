{#- Bids of every city's public resource trading system, one row per bid, with the e-bid metadata
    SM09 compares. bidder_code is the normalised credit code (null when it fails its check);
    contact_phone digits only; client_mac lowercase with colons; placeholders (0.0.0.0,
    00:00:00:00:00:00, unknown, -) and blanks become null so that they never match. The contact's
    name is personal data and stays out of silver.
    Incremental on what bronze has committed since the last build (macros/silver/incremental.sql). -#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', on_schema_change='fail', unique_key='bid_id',
          post_hook="{{ delete_superseded_rows() }}") }}

with candidates as (
    {{ incremental_candidates(ref('stg_public_resource_trading__bid')) }}
),

staged as (
    select
        {{ qualified_id('_system_id', 'bid_id') }} as bid_id,
        _system_id as system_id,
        trim(bid_id) as source_bid_id,
        {{ qualified_id('_system_id', 'project_id') }} as project_id,
        {{ normalise_credit_code('bidder_code') }} as bidder_code_normalised,
        bid_price,
        submitted_at,
        {{ normalise_phone('contact_phone') }} as contact_phone,
        nullif(trim(client_ip), '') as client_ip,
        lower(replace(replace(nullif(trim(client_mac), ''), '-', ':'), '.', ':')) as client_mac,
        lower(nullif(trim(doc_hash), '')) as doc_hash,
        lower(trim(status)) as status,
        _batch_date,
        _ingested_at,
        _source_row
    from candidates
),

latest as (
    {{ latest_per_key('staged', ['bid_id']) }}
),

new_rows as (
    select
        bid_id,
        system_id,
        source_bid_id,
        project_id,
        {{ credit_code_columns('bidder_code_normalised', 'bidder_code') }},
        bid_price,
        submitted_at,
        case when contact_phone not in ('0', '00000000000') and not {{ regexp_full_match('contact_phone', '0+') }} then contact_phone end as contact_phone,
        case when client_ip not in ('0.0.0.0', 'unknown', '-') then client_ip end as client_ip,
        case when client_mac not in ('00:00:00:00:00:00', 'unknown', '-') then client_mac end as client_mac,
        case when doc_hash not in ('unknown', '-') then doc_hash end as doc_hash,
        status,
        _batch_date as batch_date,
        _source_row as source_row,
        _ingested_at as ingested_at
    from latest
)

{{ incremental_rows('new_rows', 'bid_id') }}

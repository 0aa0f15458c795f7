{#- Winner of a tender_project (models.md, shared definitions): the bidder of its bid with status
    won; where it has none, the supplier_code of its contract. One row per project and winner
    (several won bids, or several contracts, make several winners: each is judged), with the
    winning price: the won bid's price, else the contract amount. Bids and contracts carry the
    project_id qualified with their own trading system, so equal ids are the same project.
    Read by SM01 (c), SM09 and SM10; not a supervision model. -#}
with won_bids as (
    select project_id, bidder_code as winner_code, max(bid_price) as winning_price, 'bid' as winner_source
    from {{ ref('bid') }}
    where status = 'won' and bidder_code is not null and project_id is not null
    group by project_id, bidder_code
),

contracted as (
    select project_id, supplier_code as winner_code, max(amount) as winning_price, 'contract' as winner_source
    from {{ ref('contract') }}
    where supplier_code is not null and project_id is not null
      and project_id not in (select project_id from won_bids)
    group by project_id, supplier_code
)

select * from won_bids
union all
select * from contracted

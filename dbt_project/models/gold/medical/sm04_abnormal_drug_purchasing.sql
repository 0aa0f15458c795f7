{#- SM04 药品异常采购与处方回扣风险: a month's purchases of a drug by a hospital spiking over its
    own baseline (branch yellow, key H|G|YYYY-MM) and, in such a month, a doctor prescribing a
    large share of it with a personal spike (branch red, key H|G|YYYY-MM|doctor_ref).

    Readings (as the truth oracle orchestration/world/scenarios/sm04.py takes them): the history
    runs from the month of H's first purchase of G to M-1, zero-filled, at least 3 months; the
    baseline is the median of its last min(6, history) months. H's prescribed quantity counts
    every prescription of G at H in M (with or without a doctor); the doctors judged are those
    with a positive quantity in M; their own median covers M-6..M-1, zero-filled. -#}
with monthly_purchases as (
    select
        hospital_code,
        drug_code,
        {{ month_number('order_date') }} as month_no,
        sum(quantity) as quantity,
        avg(unit_price) as mean_unit_price
    from {{ ref('drug_purchase') }}
    where hospital_code is not null and drug_code is not null and order_date is not null
    group by all
),

histories as (
    select
        p.*,
        substr(p.hospital_code, 3, 6) as region_code,
        min(p.month_no) over (partition by p.hospital_code, p.drug_code) as first_month_no
    from monthly_purchases as p
),

baselines as (
    -- the last min(6, history) months before M, months without purchases counted as 0
    select h.hospital_code, h.drug_code, h.month_no,
           median(coalesce(past.quantity, 0)) as baseline,
           count(*) as months_in_baseline
    from histories as h
    {{ unnest_join(int_range('greatest(h.first_month_no, h.month_no - 6)', 'h.month_no'), 'window_month', 'no') }}
    left join monthly_purchases as past
      on past.hospital_code = h.hospital_code and past.drug_code = h.drug_code and past.month_no = window_month.no
    where h.month_no - h.first_month_no >= 3
    group by all
),

yellow_months as (
    select h.*, b.baseline,
           {{ threshold('spike_factor', 'h.region_code') }} as spike_factor,
           {{ threshold('min_quantity', 'h.region_code') }} as min_quantity
    from histories as h
    join baselines as b using (hospital_code, drug_code, month_no)
),

yellow as (
    select *,
           hospital_code || '|' || drug_code || '|' || {{ month_label('month_no') }} as month_key
    from yellow_months
    where quantity >= spike_factor * baseline and quantity >= min_quantity
),

prescribed as (
    select
        rx.hospital_code,
        rx.drug_code,
        rx.doctor_ref,
        {{ month_number('rx.rx_date') }} as month_no,
        sum(rx.quantity) as quantity
    from {{ ref('prescription') }} as rx
    -- a join, not EXISTS: DuckDB runs that EXISTS as a correlated (delim) join, most of the model
    inner join (select distinct hospital_code, drug_code from yellow) as y
        on y.hospital_code = rx.hospital_code and y.drug_code = rx.drug_code
    where rx.rx_date is not null
    group by all
),

doctors_in_yellow_months as (
    select
        y.month_key, y.region_code, y.month_no, y.hospital_code, y.drug_code, y.spike_factor,
        y.quantity * y.mean_unit_price as purchase_amount,
        {{ threshold('doctor_share', 'y.region_code') }} as doctor_share,
        d.doctor_ref,
        d.quantity,
        sum(all_rx.quantity) as hospital_quantity
    from yellow as y
    join prescribed as d
      on d.hospital_code = y.hospital_code and d.drug_code = y.drug_code and d.month_no = y.month_no
     and d.doctor_ref is not null and d.quantity > 0
    join prescribed as all_rx
      on all_rx.hospital_code = y.hospital_code and all_rx.drug_code = y.drug_code and all_rx.month_no = y.month_no
    group by all
),

doctor_medians as (
    select c.month_key, c.doctor_ref, median(coalesce(past.quantity, 0)) as own_median
    from doctors_in_yellow_months as c
    {{ unnest_join(int_range('c.month_no - 6', 'c.month_no'), 'window_month', 'no') }}
    left join prescribed as past
      on past.hospital_code = c.hospital_code and past.drug_code = c.drug_code
     and past.doctor_ref = c.doctor_ref and past.month_no = window_month.no
    group by all
),

red as (
    select c.*, m.own_median
    from doctors_in_yellow_months as c
    join doctor_medians as m using (month_key, doctor_ref)
    where c.quantity >= c.doctor_share * c.hospital_quantity
      and c.quantity >= c.spike_factor * m.own_median
),

findings as (
    select
        month_key as primary_key,
        'yellow' as rule_branch,
        'yellow' as severity,
        region_code,
        hospital_code as subject_ref,
        {{ month_first_day('month_no') }} as event_date,
        quantity * mean_unit_price as amount,
        {{ json_obj(
               branch="'yellow'",
               records=json_arr(
                   evidence_record('company', 'hospital_code'),
                   json_obj(entity="'drug_purchase'", key='month_key')),
               relation="'monthly purchased quantity against the hospital''s own baseline'",
               figures=json_obj(quantity='quantity', baseline='baseline', mean_unit_price='mean_unit_price'),
               thresholds=json_obj(spike_factor='spike_factor', min_quantity='min_quantity')) }} as evidence
    from yellow

    union all

    select
        month_key || '|' || doctor_ref,
        'red',
        'red',
        region_code,
        doctor_ref,
        {{ month_first_day('month_no') }},
        purchase_amount,
        {{ json_obj(
               branch="'red'",
               records=json_arr(
                   evidence_record('company', 'hospital_code'),
                   evidence_record('person', 'doctor_ref'),
                   json_obj(entity="'prescription'", key="month_key || '|' || doctor_ref")),
               relation="'doctor of the hospital prescribing the spiking drug in the yellow month'",
               figures=json_obj(doctor_quantity='quantity', hospital_quantity='hospital_quantity', own_median='own_median'),
               thresholds=json_obj(doctor_share='doctor_share', spike_factor='spike_factor')) }}
    from red
)

{{ alert_contract('findings') }}

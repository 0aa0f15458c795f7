{{ union_kind('drug_purchasing', 'drug_purchase') }}

{{ union_kind('village_finance', 'village_procurement') }}

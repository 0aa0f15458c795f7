{{ union_kind('business_registry', 'company') }}

{{ union_kind('household_registry', 'person') }}

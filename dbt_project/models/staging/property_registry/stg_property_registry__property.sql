{{ union_kind('property_registry', 'property') }}

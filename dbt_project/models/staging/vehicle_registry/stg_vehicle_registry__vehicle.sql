{{ union_kind('vehicle_registry', 'vehicle') }}

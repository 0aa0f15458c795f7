{{ union_kind('death_registry', 'death') }}

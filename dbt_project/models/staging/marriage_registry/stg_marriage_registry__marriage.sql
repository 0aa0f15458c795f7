{{ union_kind('marriage_registry', 'marriage') }}

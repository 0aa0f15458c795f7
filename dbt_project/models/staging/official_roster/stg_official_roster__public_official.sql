{{ union_kind('official_roster', 'public_official') }}

{{ union_kind('village_cadre_roster', 'village_cadre') }}

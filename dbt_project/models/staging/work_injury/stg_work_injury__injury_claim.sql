{{ union_kind('work_injury', 'injury_claim') }}

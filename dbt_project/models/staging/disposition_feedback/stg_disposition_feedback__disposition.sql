{{ union_kind('disposition_feedback', 'disposition') }}

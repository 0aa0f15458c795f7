{{ union_kind('social_assistance', 'subsidy_payment') }}

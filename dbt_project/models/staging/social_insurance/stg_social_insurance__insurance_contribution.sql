{{ union_kind('social_insurance', 'insurance_contribution') }}

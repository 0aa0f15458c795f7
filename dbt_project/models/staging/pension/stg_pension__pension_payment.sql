{{ union_kind('pension', 'pension_payment') }}

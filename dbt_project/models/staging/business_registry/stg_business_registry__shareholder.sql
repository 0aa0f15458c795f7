{{ union_kind('business_registry', 'shareholder') }}

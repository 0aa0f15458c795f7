{{ union_kind('public_resource_trading', 'contract') }}

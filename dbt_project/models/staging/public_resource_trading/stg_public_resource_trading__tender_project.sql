{{ union_kind('public_resource_trading', 'tender_project') }}

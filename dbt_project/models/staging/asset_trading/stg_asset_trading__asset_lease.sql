{{ union_kind('asset_trading', 'asset_lease') }}

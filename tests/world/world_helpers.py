"""Helpers of the world generator's tests: a few-system registry and tiny worlds rendered with it."""
from __future__ import annotations

from pathlib import Path

from orchestration.world.defects import DefectRates
from orchestration.world.generate import generate

# One system per format, encoding and delivery mode (with header rows above the header, several
# tables, mapping versions and code values): every rendering path at a fraction of the cost.
MINI_SYSTEMS = {
    "household_registry_330000": "province/household_registry",   # snapshot
    "marriage_registry_330000": "province/marriage_registry",     # snapshot with change rows
    "official_roster_330000": "province/official_roster",         # monthly snapshot, xlsx, title row
    "business_registry_330000": "province/business_registry",     # two tables
    "village_finance_330100": "city/village_finance",             # csv gbk, three tables
    "village_finance_330200": "city/village_finance",             # a mapping version in the daily range
    "hospital_his_007": "hospital/hospital_his",                  # csv utf-8-sig
    "asset_trading_330300": "city/asset_trading",                 # xlsx increment
    "asset_trading_330400": "city/asset_trading",                 # parquet
    "social_insurance_330000": "province/social_insurance",
    "disposition_feedback_330000": "province/disposition_feedback",  # never has rows
}
# Rates high enough that every row defect appears even in a tiny world.
HIGH_RATES = DefectRates(duplicate=0.02, id_noise=0.05, bad_check=0.02, null_required=0.02, impossible_date=0.02,
                         future_date=0.02, negative_amount=0.02, field_count=0.02, truncated_line=0.2,
                         empty_file=0.2, schema_drift=0.01)


def tiny(lake: Path, sources: Path, seed: int = 7, rates: DefectRates = HIGH_RATES) -> Path:
    """A background-only world at SF 0.002 rendered for the mini registry."""
    generate(lake, 0.002, seed, progress=False, defects=rates, scenarios=[], sources=sources)
    return lake

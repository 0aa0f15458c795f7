"""The powertrace code location: one Definitions assembled from the registry and the dbt manifest.

Loading this module imports Dagster and dagster-dbt, reads the YAML registry and the prepared
dbt manifest, and nothing else: no data, no Great Expectations, no dbt parse.
"""
from __future__ import annotations

import dagster as dg

from orchestration.assets.bronze import bronze_assets
from orchestration.assets.dbt import build_dbt_assets, dbt_resource
from orchestration.assets.publish import published_alerts
from orchestration.assets.restricted import restricted_person_identity
from orchestration.automation.sensors import landing_sensor

MAIN_JOB = "main_job"

main_job = dg.define_asset_job(
    MAIN_JOB, selection=dg.AssetSelection.all(),
    description="Landing → bronze → silver → gold → gates → published alerts.",
)

defs = dg.Definitions(
    assets=[*bronze_assets(), build_dbt_assets(), published_alerts, restricted_person_identity],
    jobs=[main_job],
    sensors=[landing_sensor],
    resources={"dbt": dbt_resource()},
)

"""The powertrace code location: one Definitions assembled from the registry, the dbt manifest and
the expectation suites.

Loading this module imports Dagster and dagster-dbt, reads the YAML registry, the suites and the
prepared dbt manifest, and nothing else: no data, no Great Expectations, no dbt parse.
"""
from __future__ import annotations

import dagster as dg

from orchestration.assets.bronze import bronze_assets
from orchestration.assets.dbt import build_dbt_assets, dbt_resource
from orchestration.assets.feedback import disposition_feedback_export
from orchestration.assets.gates import build_gate_checks
from orchestration.assets.publish import build_publication
from orchestration.automation.notify import notification_sensors
from orchestration.automation.schedules import daily_schedule
from orchestration.automation.sensors import landing_sensor

MAIN_JOB = "main_job"

main_job = dg.define_asset_job(
    MAIN_JOB, selection=dg.AssetSelection.all(),
    description="Landing → bronze → silver → gold → quality gates → published alerts.",
)

defs = dg.Definitions(
    assets=[disposition_feedback_export, *bronze_assets(), build_dbt_assets(), build_publication()],
    asset_checks=[build_gate_checks()],
    jobs=[main_job],
    schedules=[daily_schedule(main_job)],
    sensors=[landing_sensor, *notification_sensors],
    resources={"dbt": dbt_resource()},
)

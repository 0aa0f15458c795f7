"""End to end through dbt: a hand-made bronze zone → `dbt build` → SM03 alerts in gold.alerts.

Bronze holds two sets of rows: a handful written here (one per case, village_finance_330100
payments P-*), and the synthetic world's SM03 plantings (positives and decoys) with its
independent truth oracle, their payee ids respelled the ways sources spell them.
The project is copied to tmp_path and its sources generated there from the shipped registry, so
the test neither reads nor writes the working tree's generated files, and runs in parallel.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from collections import defaultdict
from decimal import Decimal

import duckdb
import pytest

from dbt_bronze_fixture import write_bronze
from orchestration.contracts import registry
from orchestration.dbt_sources import write_sources
from orchestration.pseudonym import person_ref
from orchestration.settings import DBT_PROJECT_DIR
from orchestration.world.core import World, make_credit_code, make_id_number, to_legacy_15
from orchestration.world.scenarios import sm03
from orchestration.world.scenarios._common import DEFAULT_PARAMS
from orchestration.world.scenarios._frames import frames

KEY = "test-key-for-dbt-build"
VILLAGE = "330102001001"
OTHER_VILLAGE = "330102001002"
BACKFILL, LATER = dt.date(2026, 9, 30), dt.date(2026, 10, 5)
PAY_DATE = dt.date(2026, 9, 15)

CADRE = make_id_number("330102", dt.date(1965, 3, 1), 1)
OFFICIAL = make_id_number("330102", dt.date(1970, 5, 2), 2)
NAMESAKE = make_id_number("330102", dt.date(1980, 7, 3), 3)     # same name as CADRE
ENDED = make_id_number("330102", dt.date(1961, 1, 4), 4)        # term ended before the payment
LATE_PAY = make_id_number("330102", dt.date(1962, 2, 5), 5)     # salaried only after the payment
BAD_CHECK = CADRE[:17] + ("0" if CADRE[17] != "0" else "1")     # CADRE with a wrong check character
COMPANY = make_credit_code("330102", 7)


def payment(pid: str, payee: str, *, village=VILLAGE, category="work_subsidy", payee_type="person",
            name="张伟", amount=Decimal("800.00")) -> dict:
    return {"payment_id": pid, "village_code": village, "payee_id": payee, "payee_type": payee_type,
            "payee_name": name, "category": category, "purpose": "消防演练务工", "amount": amount,
            "pay_date": PAY_DATE}


def cadre(ident: str, *, term_end=None, salaried_from=dt.date(2024, 1, 1), name="张伟") -> dict:
    return {"id_number": ident, "name": name, "village_code": VILLAGE, "role": "member",
            "term_start": dt.date(2021, 1, 1), "term_end": term_end, "salaried_from": salaried_from}


BRONZE = {
    ("village_finance_330100", "village_payment"): [
        (BACKFILL, [
            payment("P-CADRE", CADRE.lower() if CADRE.endswith("X") else f" {CADRE[:6]} {CADRE[6:]} "),
            payment("P-OFFICIAL", to_legacy_15(OFFICIAL), name="李娜"),
            payment("P-NAMESAKE", NAMESAKE),
            payment("P-ENDED", ENDED),
            payment("P-OTHER-VILLAGE", CADRE, village=OTHER_VILLAGE),
            payment("P-LATE-PAY", LATE_PAY),
            payment("P-COMPANY", COMPANY, payee_type="company", name="杭州某劳务有限公司"),
            payment("P-MATERIALS", CADRE, category="materials"),
            payment("P-BAD-CHECK", BAD_CHECK),
        ]),
        # a re-sent row of a payment (a duplicate in a later batch): still one alert, latest amount
        (LATER, [payment("P-CADRE", CADRE, amount=Decimal("900.00"))]),
    ],
    ("village_cadre_roster_330000", "village_cadre"): [(BACKFILL, [
        cadre(CADRE),
        cadre(ENDED, term_end=dt.date(2026, 6, 30)),
        cadre(LATE_PAY, salaried_from=dt.date(2026, 10, 1)),
    ])],
    ("official_roster_330000", "public_official"): [(BACKFILL, [{
        "id_number": OFFICIAL, "name": "李娜", "org_code": make_credit_code("330102", 8, "11"),
        "org_name": "某区农业农村局", "org_type": "government", "position": "科员", "rank": "一级科员",
        "region_code": "330102", "start_date": dt.date(2015, 1, 1), "end_date": None}])],
    ("household_registry_330000", "person"): [(BACKFILL, [
        {"id_number": CADRE, "name": "张伟", "gender": "M", "birth_date": dt.date(1965, 3, 1),
         "household_id": "H1", "relation_to_head": "head", "region_code": "330102", "village_code": VILLAGE},
        {"id_number": NAMESAKE, "name": "张伟", "gender": "M", "birth_date": dt.date(1980, 7, 3),
         "household_id": "H2", "relation_to_head": "head", "region_code": "330102", "village_code": VILLAGE},
    ])],
}


WORLD_ENTITIES = ("village_payment", "village_cadre", "public_official", "person")


def respelled(ident: str, i: int) -> str:
    """An id_number as some source spells it: as is, lowercase x, full width, spaced, 15 digits."""
    variant = i % 5
    if variant == 1:
        return ident.lower()
    if variant == 2:
        return ident.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    if variant == 3:
        return f" {ident[:6]} {ident[6:]}"
    if variant == 4 and len(ident) == 18 and ident[6:8] == "19":
        return to_legacy_15(ident)
    return ident


def sm03_world() -> tuple[dict, set[tuple[str, str, str]]]:
    """Bronze rows of the world's SM03 plantings by (system, table), and the oracle's alerts."""
    world = World(20261127, 0.01)
    sm03.plant(world)
    tables = frames(world)
    rows: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for entity in WORLD_ENTITIES:  # each system's table is named after its entity
        for i, row in enumerate(tables[entity].iter_rows(named=True)):
            system_id = row.pop("_system_id")
            if entity == "village_payment" and row["payee_type"] == "person":
                row["payee_id"] = respelled(row["payee_id"], i)
            rows[(system_id, entity)].append(row)
    truth = {(r["primary_key"], r["rule_branch"], r["severity"])
             for r in sm03.truth(tables, DEFAULT_PARAMS).iter_rows(named=True)}
    return rows, truth


@pytest.fixture(scope="module")
def world_truth() -> set[tuple[str, str, str]]:
    return sm03_world()[1]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The project built once over the bronze; yields (lake, dbt_dir, target)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    root = tmp_path_factory.mktemp("dbt_build")
    lake, dbt_dir, target = root / "lake", root / "dbt_project", root / "state" / "target"
    shutil.copytree(DBT_PROJECT_DIR, dbt_dir,
                    ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", "sources", "generated"))
    write_sources(dbt_dir, registry())
    batches = {key: list(value) for key, value in BRONZE.items()}
    for key, rows in sm03_world()[0].items():
        batches.setdefault(key, []).append((BACKFILL, rows))
    write_bronze(lake, registry(), batches)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("POWERTRACE_LAKE", str(lake))
        mp.setenv("POWERTRACE_PSEUDONYM_KEY", KEY)
        result = dbtRunner().invoke(["build", "--project-dir", str(dbt_dir), "--profiles-dir", str(dbt_dir),
                                     "--target-path", str(target), "--log-path", str(root / "state" / "logs"),
                                     "--quiet"])
    # dbt-duckdb keeps its database open in the process after a run (profile keep_open default):
    # close it, or DuckDB refuses the read-only connections below.
    DuckDBConnectionManager.close_all_connections()
    failed = [r.node.name for r in (result.result or []) if r.status not in ("success", "pass")]
    assert result.success, f"dbt build failed: {result.exception or failed}"
    return lake, dbt_dir, target


def query(lake, sql: str) -> list[dict]:
    with duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True) as con:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]


def test_sm03_alerts_exactly_the_positives(built):
    lake, _, _ = built
    alerts = query(lake, "select * from gold.alerts where model_id = 'SM03' "
                         "and primary_key like 'village_finance_330100:P-%' order by primary_key")
    assert [(a["model_id"], a["primary_key"], a["rule_branch"], a["severity"]) for a in alerts] == [
        ("SM03", "village_finance_330100:P-CADRE", "cadre", "red"),
        ("SM03", "village_finance_330100:P-OFFICIAL", "official", "red"),
    ]
    cadre_alert, official_alert = alerts
    assert cadre_alert["alert_id"] == hashlib.md5(b"SM03|village_finance_330100:P-CADRE").hexdigest()
    assert cadre_alert["subject_ref"] == person_ref(CADRE, key=KEY)
    assert official_alert["subject_ref"] == person_ref(OFFICIAL, key=KEY)
    assert str(cadre_alert["amount"]) == "900.00"  # the later delivery of the payment wins
    assert cadre_alert["region_code"] == "330102" and cadre_alert["event_date"] == PAY_DATE
    assert cadre_alert["title"] == "村干部违规领取务工补贴" and cadre_alert["domain"] == "village"
    assert cadre_alert["model_version"] == "1.0.0" and cadre_alert["status"] == "open"
    assert cadre_alert["first_detected_as_of"] == cadre_alert["last_detected_as_of"] == LATER
    assert cadre_alert["resolved_as_of"] is None


def test_sm03_agrees_with_the_world_truth_oracle(built, world_truth):
    lake, _, _ = built
    alerts = query(lake, "select primary_key, rule_branch, severity from gold.alerts "
                         "where model_id = 'SM03' and primary_key not like 'village_finance_330100:P-%'")
    got = {(a["primary_key"], a["rule_branch"], a["severity"]) for a in alerts}
    assert len(world_truth) >= 40
    assert got == world_truth, {"missed": sorted(world_truth - got), "false alerts": sorted(got - world_truth)}


def test_evidence_names_records_and_persons_by_ref(built):
    lake, _, _ = built
    (alert,) = query(lake, "select evidence from gold.alerts where primary_key = 'village_finance_330100:P-CADRE'")
    evidence = json.loads(alert["evidence"])
    (finding,) = evidence["findings"]
    records = {r["entity"]: r["key"] for r in finding["records"]}
    assert records["village_payment"] == "village_finance_330100:P-CADRE"
    assert records["person"] == person_ref(CADRE, key=KEY)
    assert records["village_cadre"].startswith("village_cadre_roster_330000:")
    assert CADRE not in alert["evidence"] and "张伟" not in alert["evidence"]


def test_no_raw_identity_outside_the_restricted_schema(built):
    lake, _, _ = built
    raw = [CADRE, CADRE.lower(), OFFICIAL, to_legacy_15(OFFICIAL), NAMESAKE, "张伟", "李娜"]
    tables = query(lake, "select table_schema, table_name from information_schema.tables "
                         "where table_schema in ('silver', 'gold') and table_type = 'BASE TABLE'")
    assert {t["table_name"] for t in tables} >= {"village_payment", "village_cadre", "public_official", "alerts"}
    for t in tables:
        text = json.dumps(query(lake, f"select * from {t['table_schema']}.{t['table_name']}"), default=str,
                          ensure_ascii=False)
        leaked = [value for value in raw if value in text]
        assert not leaked, f"{t['table_schema']}.{t['table_name']} holds raw personal data {leaked}"
    identity = {r["id_number"]: r for r in query(lake, "select * from restricted.person_identity")}
    assert identity[CADRE]["person_ref"] == person_ref(CADRE, key=KEY) and identity[CADRE]["name"] == "张伟"
    assert identity[OFFICIAL]["name"] == "李娜"  # spelled as a legacy 15-digit number in the payment


def test_invalid_ids_are_kept_and_flagged(built):
    lake, _, _ = built
    (row,) = query(lake, "select payee_id_valid, payee_ref from silver.village_payment "
                         "where payment_id = 'village_finance_330100:P-BAD-CHECK'")
    assert row == {"payee_id_valid": False, "payee_ref": None}


def test_manifest_does_not_depend_on_the_lake(built):
    lake, _, target = built
    manifest = (target / "manifest.json").read_text(encoding="utf-8")
    assert str(lake) not in manifest
    assert KEY not in manifest

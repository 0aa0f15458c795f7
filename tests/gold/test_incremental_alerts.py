"""An incremental supervision model (SM09, dbt_project/macros/alerts/incremental_alerts.sql)
re-judges only the projects whose inputs changed, and still ends where a full build would: after
a day that adds, drops and moves bids, changes a bidder's company row and its credit code, brings
a contract that sets a winning price and re-dates a project, its alerts equal a full build's of
the same silver tables, an untouched project's alert is not rewritten, and a change to the dbt
project (or dbt run without the project's fingerprint) judges every project again.

The silver tables are written by hand (only the columns SM09 and tender_winner read); dbt builds
the thresholds seed, tender_winner and SM09 over them."""
from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import pytest

from orchestration.settings import DBT_PROJECT_DIR

DAY1 = dt.datetime(2026, 10, 1, 23, tzinfo=dt.timezone.utc)
DAY2 = dt.datetime(2026, 10, 2, 23, tzinfo=dt.timezone.utc)
FINGERPRINT = "POWERTRACE_DBT_PROJECT_FINGERPRINT"

TABLES = {
    "tender_project": "project_id varchar, region_code varchar, award_date date, ingested_at timestamptz",
    "bid": "bid_id varchar, project_id varchar, bidder_code varchar, client_ip varchar, client_mac varchar, "
           "doc_hash varchar, contact_phone varchar, bid_price decimal(18,2), status varchar, ingested_at timestamptz",
    "contract": "contract_id varchar, project_id varchar, supplier_code varchar, amount decimal(18,2), "
                "ingested_at timestamptz",
    "company": "company_key varchar, credit_code varchar, legal_rep_ref varchar, phone varchar, ingested_at timestamptz",
}
PROJECTS = ["A", "B", "C", "D", "E", "F", "G", "H"]


def bid(bid_id, project, bidder, ip=None, doc=None, phone=None, status="lost"):
    price = 100 + 10 * (ord(bid_id[0]) - ord("a")) + int(bid_id[1:])  # every bid its own price
    return (bid_id, f"prt:{project}", bidder, ip, None, doc, phone, price, status)


DAY1_ROWS = {
    "tender_project": [(f"prt:{p}", "330102", "2026-05-01") for p in PROJECTS],
    "bid": [
        bid("a1", "A", "X1", ip="10.0.0.1"), bid("a2", "A", "X2", ip="10.0.0.2"),            # A: no alert yet
        bid("b1", "B", "X1", doc="h1"), bid("b2", "B", "X2", doc="h1"),                     # B: doc_hash
        bid("c1", "C", "X1", phone="138"), bid("c2", "C", "X2", phone="138"),               # C: contact_phone
        bid("d1", "D", "X3", phone="138"),                                                  # D: one bidder
        bid("e1", "E", "X2"), bid("e2", "E", "X4"),                            # E: company_phone
        bid("f1", "F", "X1", ip="10.0.0.9"), bid("f2", "F", "X2", ip="10.0.0.9"),           # F: client_ip
        bid("g1", "G", "X5", doc="h7"), bid("g2", "G", "X6", doc="h7"),                     # G: untouched
        bid("h1", "H", "X7", ip="10.0.1.1", status="won"), bid("h2", "H", "X8", ip="10.0.1.1"),  # H: re-dated
    ],
    "contract": [],
    "company": [("k2", "X2", "r2", "0571-1"), ("k4", "X4", "r4", "0571-1"), ("k5", "X5", "r5", "0571-5"),
                ("k6", "X6", "r6", "0571-6"), ("k8", "X8", "r8", "0571-8")],
}


def day2(con) -> None:
    """The second day's silver as the incremental silver models leave it: replaced rows carry the
    new ingested_at, rows a re-delivered batch no longer carries are gone."""
    at = DAY2
    con.execute("update silver.bid set client_ip = '10.0.0.1', ingested_at = ? where bid_id = 'a2'", [at])  # A alerts
    con.execute("delete from silver.bid where bid_id = 'b2'")                       # B: dropped by a correction
    con.execute("update silver.bid set project_id = 'prt:D', ingested_at = ? where bid_id = 'c2'", [at])  # C -> D
    con.execute("update silver.company set phone = '0571-2', ingested_at = ? where credit_code = 'X2'", [at])  # E
    con.execute("update silver.company set credit_code = 'X8N', ingested_at = ? where company_key = 'k8'", [at])
    con.execute("insert into silver.contract values ('t1', 'prt:F', 'X2', 5000.0, ?)", [at])  # F's winner
    con.execute("update silver.tender_project set award_date = '2026-06-01', ingested_at = ? "
                "where project_id = 'prt:H'", [at])


def alerts(lake) -> dict[str, tuple]:
    with duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute("select primary_key, rule_branch, severity, region_code, subject_ref, evidence, amount, "
                           "event_date from gold.sm09_collusive_bidding").fetchall()
    return {r[0]: r for r in rows}


def tamper_g(lake) -> None:
    """Mark G's alert, so that a build that rewrites it shows."""
    with duckdb.connect(str(lake / "warehouse.duckdb")) as con:
        con.execute("update gold.sm09_collusive_bidding set evidence = 'kept' where primary_key = 'prt:G'")


@pytest.fixture(scope="module")
def build(dbt_over_lake, tmp_path_factory):
    root = tmp_path_factory.mktemp("incremental_alerts")

    def run(lake, *args, fingerprint="project-v1"):
        with pytest.MonkeyPatch.context() as mp:
            if fingerprint:
                mp.setenv(FINGERPRINT, fingerprint)
            else:
                mp.delenv(FINGERPRINT, raising=False)
            for command in (["seed", "--select", "model_thresholds"],
                            ["run", "--select", "tender_winner", "sm09_collusive_bidding", *args]):
                result = dbt_over_lake(root, lake, DBT_PROJECT_DIR, command)
                assert result.success, result.exception
    return root, run


@pytest.fixture(scope="module")
def days(build, silver_by_hand):
    """SM09's alerts after day 1 (built anew), after day 2 (incremental, G tampered before) and
    after day 2 built with --full-refresh on a copy."""
    root, run = build
    daily, full = root / "daily", root / "full"
    silver_by_hand(daily, TABLES, DAY1_ROWS, DAY1)
    run(daily)
    after_day1 = alerts(daily)
    tamper_g(daily)
    with duckdb.connect(str(daily / "warehouse.duckdb")) as con:
        day2(con)
    shutil.copytree(daily, full)
    run(daily)
    run(full, "--full-refresh")
    return after_day1, alerts(daily), alerts(full)


def test_day_one_alerts_what_it_should(days):
    day1, _, _ = days
    assert {k: v[1] for k, v in day1.items()} == {
        "prt:B": "doc_hash", "prt:C": "contact_phone", "prt:E": "company_phone", "prt:F": "client_ip",
        "prt:G": "doc_hash", "prt:H": "client_ip"}


def test_the_daily_build_equals_a_full_build_but_for_the_untouched_alert(days):
    _, daily, full = days
    assert daily["prt:G"][5] == "kept"          # not re-judged: no input of G changed
    assert {k: v for k, v in daily.items() if k != "prt:G"} == {k: v for k, v in full.items() if k != "prt:G"}
    assert set(daily) == set(full)


def test_the_day_changed_what_it_should(days):
    day1, daily, _ = days
    assert daily["prt:A"][1] == "client_ip"                          # a bid's new value
    assert "prt:B" not in daily and "prt:C" not in daily            # dropped bid, moved bid
    assert daily["prt:D"][1] == "contact_phone"                      # the moved bid's new project
    assert "prt:E" not in daily                                     # a bidder's company changed
    assert daily["prt:F"][6] is not None and day1["prt:F"][6] is None  # the contract's winning price
    assert daily["prt:H"][7] == dt.date(2026, 6, 1)                  # re-dated


def test_a_changed_project_or_no_fingerprint_judges_every_project(build, days):
    root, run = build
    _, _, full = days
    for name, fingerprint in (("changed", "project-v2"), ("by_hand", None)):
        lake = root / name
        shutil.copytree(root / "daily", lake)
        run(lake, fingerprint=fingerprint)
        assert alerts(lake) == full, name


def test_a_build_with_nothing_new_changes_nothing(build, days):
    root, run = build
    lake = root / "again"
    shutil.copytree(root / "daily", lake)
    before = alerts(lake)
    run(lake)
    assert alerts(lake) == before


def changes_seen_and_a_recount(lake, model: str, tracked: dict[str, str]) -> tuple[set, set]:
    """What the model keeps per tracked input (changes_seen: one row per value of its column and a
    totals row) and the same figures counted afresh from the silver tables: equal after every
    build, whether it counted again in full or rewrote only the new rows' values."""
    recount = set()
    with duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True) as con:
        kept = set(con.execute(f"select input, value, row_count, newest from gold.{model}__changes_seen "
                               "where input <> '(definition)'").fetchall())
        for table, column in tracked.items():
            recount |= set(con.execute(
                f"select '{table}', cast({column} as varchar), count(*), max(ingested_at) "
                f"from silver.{table} where {column} is not null group by all "
                f"union all select '{table}', null, count(*), max(ingested_at) "
                f"from silver.{table} where {column} is not null").fetchall())
    return kept, recount


SM09_TRACKED = {"tender_project": "project_id", "bid": "project_id", "contract": "project_id", "company": "credit_code"}


def day3(con) -> None:
    """A day of new rows only (the usual day for bids and contracts): a new project whose bidders
    share an IP, a contract for A. Every tracked input takes the path that reads only them."""
    at = dt.datetime(2026, 10, 3, 23, tzinfo=dt.timezone.utc)
    con.execute("insert into silver.tender_project values ('prt:I', '330102', '2026-07-01', ?)", [at])
    for row in (bid("i1", "I", "X1", ip="10.0.2.2"), bid("i2", "I", "X2", ip="10.0.2.2")):
        con.execute("insert into silver.bid values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [*row, at])
    con.execute("insert into silver.contract values ('t2', 'prt:A', 'X1', 7000.0, ?)", [at])


def test_the_counts_kept_equal_a_recount_after_a_day_of_changes_and_after_a_day_of_new_rows(build, days):
    root, run = build
    kept, recount = changes_seen_and_a_recount(root / "daily", "sm09_collusive_bidding", SM09_TRACKED)
    assert kept == recount
    lake, full = root / "new_rows_only", root / "new_rows_only_full"
    shutil.copytree(root / "daily", lake)
    with duckdb.connect(str(lake / "warehouse.duckdb")) as con:
        day3(con)
    shutil.copytree(lake, full)
    run(lake)
    run(full, "--full-refresh")
    daily, rebuilt = alerts(lake), alerts(full)
    assert daily["prt:I"][1] == "client_ip" and daily["prt:A"][6] is not None   # the new rows were judged
    assert {k: v for k, v in daily.items() if k != "prt:G"} == {k: v for k, v in rebuilt.items() if k != "prt:G"}
    kept, recount = changes_seen_and_a_recount(lake, "sm09_collusive_bidding", SM09_TRACKED)
    assert kept == recount

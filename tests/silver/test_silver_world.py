"""Silver on the real pipeline's build of the small world (`built_world`, tests/conftest.py):
every canonical entity populated, bronze→silver counts reconciled against an independent Python
computation of the canonical keys, one person across identifier spellings, and the world's
corrected re-delivery replacing what silver had built from the original."""
from __future__ import annotations

import json
from collections import Counter

import pytest

from orchestration.canonical import entities
from orchestration.identity import (
    credit_code_is_valid,
    id_number_is_valid,
    normalise_credit_code,
    normalise_id_number,
)
from orchestration.pseudonym import person_ref

pytestmark = pytest.mark.slow

# The staging view of each entity (kind__entity), for counting what bronze delivered.
STAGING = {
    "person": "stg_household_registry__person", "marriage": "stg_marriage_registry__marriage",
    "death": "stg_death_registry__death", "public_official": "stg_official_roster__public_official",
    "village_cadre": "stg_village_cadre_roster__village_cadre", "company": "stg_business_registry__company",
    "shareholder": "stg_business_registry__shareholder",
    "tender_project": "stg_public_resource_trading__tender_project", "bid": "stg_public_resource_trading__bid",
    "contract": "stg_public_resource_trading__contract", "site_attendance": "stg_site_attendance__site_attendance",
    "village_project": "stg_village_finance__village_project",
    "village_payment": "stg_village_finance__village_payment",
    "village_procurement": "stg_village_finance__village_procurement", "asset_lease": "stg_asset_trading__asset_lease",
    "subsidy_payment": "stg_social_assistance__subsidy_payment", "pension_payment": "stg_pension__pension_payment",
    "insurance_contribution": "stg_social_insurance__insurance_contribution",
    "injury_claim": "stg_work_injury__injury_claim", "drug_purchase": "stg_drug_purchasing__drug_purchase",
    "prescription": "stg_hospital_his__prescription", "vehicle": "stg_vehicle_registry__vehicle",
    "property": "stg_property_registry__property", "disposition": "stg_disposition_feedback__disposition",
}
PERSON_ID_COLUMNS = {"id_number", "person_a_id", "person_b_id", "legal_rep_id", "technical_lead_id", "recipient_id",
                     "injured_id", "handler_id", "doctor_id", "patient_id"}
CODE_COLUMNS = {"credit_code", "org_code", "bidder_code", "supplier_code", "employer_code", "hospital_code"}
# Entities de-duplicated by their identity across systems; the others by system and key.
ACROSS_SYSTEMS = {"death", "company", "shareholder", "vehicle", "disposition"}
# Entities whose rows with a null key are left out of silver (they have nothing to be keyed by).
NULL_KEY_DROPPED = {"company", "vehicle", "disposition"}


def canonical_key(entity: str, row: dict) -> tuple:
    """The row's silver key, computed with the Python identity rules (orchestration/identity.py)."""
    key = []
    for col in entities()[entity].key:
        value = row[col]
        if col in PERSON_ID_COLUMNS:
            value = normalise_id_number(value)
        elif col in CODE_COLUMNS:
            value = normalise_credit_code(value)
        elif col == "holder_id":
            kind = (row["holder_type"] or "").strip().lower()
            ident = normalise_id_number(value)
            if kind not in ("person", "company"):
                kind = "person" if id_number_is_valid(ident) else "company" if credit_code_is_valid(
                    normalise_credit_code(value)) else None
            value = normalise_credit_code(value) if kind == "company" else ident
        elif col == "plate":
            value = "".join((value or "").split()).upper() or None
        elif isinstance(value, str):
            value = value.strip()
        key.append(value)
    return tuple(key) if entity in ACROSS_SYSTEMS else (row["_system_id"], *key)


def staging_rows(world, entity: str) -> list[dict]:
    import duckdb

    from orchestration.dbt_session import bronze_attach_statements

    with duckdb.connect(str(world.lake / "warehouse.duckdb"), read_only=True) as con:
        con.execute("load delta")
        for statement in bronze_attach_statements(world.lake):  # the staging views read bronze through them
            con.execute(statement)
        cur = con.execute(f"select * from staging.{STAGING[entity]}")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]


def test_the_build_of_staging_silver_and_restricted_passed(built_world):
    ours = [n for n in built_world.failed if ".staging" in n or "silver" in n or "restricted" in n
            or n.startswith(("model.powertrace.stg_", "dbt:"))]
    assert not ours, ours


def test_every_canonical_entity_is_populated(built_world):
    counts = {e: built_world.query(f"select count(*) as n from silver.{e}")[0]["n"] for e in entities()}
    empty = sorted(e for e, n in counts.items() if n == 0 and e != "disposition")  # the alert service fills it
    assert not empty, counts
    assert built_world.query("select count(*) as n from silver.relation")[0]["n"] > 0


@pytest.mark.parametrize("entity", sorted(STAGING))
def test_bronze_to_silver_counts_reconcile(built_world, entity):
    """bronze rows = silver rows + rows collapsed by de-duplication (+ rows whose key is null);
    and rows kept with an invalid key identifier are counted, never dropped."""
    rows = staging_rows(built_world, entity)
    keys = Counter(canonical_key(entity, r) for r in rows)
    dropped = 0
    if entity in NULL_KEY_DROPPED:
        dropped = sum(n for k, n in keys.items() if None in k)
        keys = Counter({k: n for k, n in keys.items() if None not in k})
    duplicates = sum(keys.values()) - len(keys)
    silver_rows = built_world.query(f"select count(*) as n from silver.{entity}")[0]["n"]
    assert len(rows) == silver_rows + duplicates + dropped, {
        "bronze": len(rows), "silver": silver_rows, "duplicates": duplicates, "null keys": dropped}
    id_key = [c for c in entities()[entity].key if c in PERSON_ID_COLUMNS]
    if id_key:
        position = entities()[entity].key.index(id_key[0]) + (0 if entity in ACROSS_SYSTEMS else 1)
        invalid = sum(1 for k in keys if not id_number_is_valid(k[position]))
        flagged = built_world.query(f"select count(*) as n from silver.{entity} where not id_number_valid")[0]["n"]
        assert flagged == invalid


def test_15_and_18_digit_spellings_are_one_person(built_world):
    """Persons some source delivered with a legacy 15-digit id join the household registry's
    person delivered with 18 digits: one person_ref, one silver.person row."""
    legacy = [r["recipient_id"] for r in staging_rows(built_world, "subsidy_payment")
              if r["recipient_id"] and len("".join(r["recipient_id"].split())) == 15]
    legacy += [r["payee_id"] for r in staging_rows(built_world, "village_payment")
               if r["payee_id"] and len("".join(r["payee_id"].split())) == 15]
    assert legacy, "the world delivers some legacy 15-digit ids"
    refs = {person_ref(normalise_id_number(v), key=built_world.key) for v in legacy}
    persons = {r["person_ref"] for r in built_world.query("select person_ref from silver.person")}
    assert refs <= persons
    in_silver = {r["recipient_ref"] for r in built_world.query("select recipient_ref from silver.subsidy_payment")}
    in_silver |= {r["payee_ref"] for r in built_world.query("select payee_ref from silver.village_payment")}
    assert refs <= in_silver


def test_a_corrected_redelivery_replaces_what_silver_built_from_the_original(built_world):
    redelivery = built_world.redelivery
    assert redelivery, "the small world holds one corrected re-delivery"
    entity, sid, day = redelivery["entity"], redelivery["system_id"], redelivery["batch_date"]
    key = next(c for c in built_world.query(f"select * from silver.{entity} limit 1")[0])  # the key column first
    after = {r[key]: r for r in built_world.query(
        f"select * from silver.{entity} where system_id = '{sid}' and batch_date = '{day}'")}
    before = {r[key]: r for r in redelivery["rows_before"]}
    assert set(after) == set(before)
    changed = [k for k in after if {c: v for c, v in after[k].items() if c != "ingested_at"}
               != {c: v for c, v in before[k].items() if c != "ingested_at"}]
    assert changed, "the correction changes amounts"
    assert all(after[k]["ingested_at"] > before[k]["ingested_at"] for k in after)
    # silver now agrees with the world's clean rows (the correction is right, the original was not)
    import polars as pl

    clean = pl.read_parquet(built_world.lake / "truth" / "clean" / f"{entity}.parquet").filter(
        pl.col("_system_id") == sid)
    record_id = entities()[entity].key[0]
    amounts = [c for c, t in entities()[entity].columns.items() if t == "decimal"]
    truth = {f"{sid}:{r[record_id]}": r for r in clean.iter_rows(named=True)}
    for k in changed:
        for col in amounts:
            assert float(after[k][col]) == pytest.approx(float(truth[k][col]), abs=0.01), (k, col)


def test_not_null_constraints_of_contracts_are_enforced_by_the_warehouse(built_world):
    # a contracted model's `constraints: [{type: not_null}]` replaces a not_null data test: DuckDB
    # refuses the null as the rows are written, so the column must come out NOT NULL in every
    # built table (also the incremental ones, whose later runs insert into the first run's table)
    manifest = json.loads((built_world.target / "manifest.json").read_text())
    declared = {(node["schema"], node["alias"], column): node["unique_id"]
                for node in manifest["nodes"].values()
                if node["resource_type"] == "model" and node["config"]["contract"]["enforced"]
                for column, spec in node["columns"].items()
                if any(c["type"] == "not_null" for c in spec.get("constraints") or [])}
    assert len(declared) >= 60, "the silver contracts declare their not-null columns"
    nullable = {(r["schema_name"], r["table_name"], r["column_name"]): r["is_nullable"]
                for r in built_world.query("select schema_name, table_name, column_name, is_nullable "
                                           "from duckdb_columns() where database_name = 'warehouse'")}
    missing = sorted(f"{s}.{t}.{c} ({uid})" for (s, t, c), uid in declared.items() if (s, t, c) not in nullable)
    assert not missing, "declared columns not in the warehouse: " + ", ".join(missing)
    unenforced = sorted(f"{s}.{t}.{c}" for (s, t, c) in declared if nullable[(s, t, c)])
    assert not unenforced, "not_null declared but the column accepts nulls: " + ", ".join(unenforced)

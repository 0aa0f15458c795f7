"""The landing zone of the SF 0.01 world: batches, manifest, re-delivery, spread rules, content."""
from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import re
from collections import Counter, defaultdict

import polars as pl
import pytest

from orchestration.canonical import entities
from orchestration.world.core import BACKFILL_DATE, WORLD_END
from orchestration.world.render import MONTHLY_DATES

from world_readback import count_records, read_records, to_canonical

DAILY = 31


def test_every_system_delivers_its_batches(manifest, world_registry):
    landing = manifest.filter(~pl.col("superseded"))
    batches = landing.group_by("system_id").agg(pl.col("batch_date").unique().sort())
    by_system = dict(batches.iter_rows())
    assert set(by_system) == set(world_registry)
    for sid, contract in world_registry.items():
        days = by_system[sid]
        mode = contract.delivery.mode
        if mode == "increment":
            assert len(days) == 1 + DAILY and days[0] == BACKFILL_DATE and days[-1] == WORLD_END, sid
        elif mode == "monthly_snapshot":
            assert days == MONTHLY_DATES, sid
        else:
            assert days[0] == BACKFILL_DATE and all(BACKFILL_DATE <= d <= WORLD_END for d in days), sid
        tables = landing.filter((pl.col("system_id") == sid) & (pl.col("batch_date") == days[0]))
        assert tables.height >= len(contract.tables), sid


def test_registries_deliver_change_rows(small_world, manifest):
    marriages = manifest.filter((pl.col("system_id") == "marriage_registry_330000") & ~pl.col("superseded"))
    assert marriages.height > 1, "a dissolution during October is delivered as a change row"


def test_manifest_lists_every_file_with_hash_and_record_count(small_world, manifest, world_registry):
    on_disk = {p.relative_to(small_world).as_posix() for p in (small_world / "landing").rglob("*") if p.is_file()}
    landing = manifest.filter(~pl.col("superseded"))
    assert set(landing["path"].to_list()) == on_disk
    assert manifest["path"].n_unique() == manifest.height
    for row in manifest.iter_rows(named=True):
        data = (small_world / row["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row["sha256"], row["path"]
        assert row["path"].endswith(f"{row['system_id']}/{row['batch_date']}/{row['file_name']}")
        got = count_records(small_world / row["path"], world_registry[row["system_id"]])
        assert got == row["records"], row["path"]


def test_one_corrected_redelivery(small_world, manifest):
    again = manifest.filter(pl.col("delivery") == 2)
    old = manifest.filter(pl.col("superseded"))
    assert again.height == 1 and old.height == 1
    a, o = again.row(0, named=True), old.row(0, named=True)
    assert (a["system_id"], a["batch_date"], a["file_name"]) == (o["system_id"], o["batch_date"], o["file_name"])
    assert o["path"].startswith("truth/superseded/") and a["path"].startswith("landing/")
    assert o["delivery"] == 1 and not a["superseded"]
    assert o["sha256"] != a["sha256"] and a["batch_date"] > BACKFILL_DATE


# --------------------------------------------------------------------------- spread rules (world.md)
def header_language(headers: list[str]) -> str:
    if any(re.search(r"[\u4e00-\u9fff]", h) for h in headers):
        return "chinese"
    return "english" if any(re.search(r"[a-z]", h) for h in headers) else "pinyin"


def test_spread_of_formats_encodings_styles_units_and_languages(small_world, manifest, world_registry):
    first = manifest.filter(~pl.col("superseded") & (pl.col("records") > 0)).group_by("system_id").first()
    formats, encodings, styles, units, languages = Counter(), Counter(), Counter(), Counter(), Counter()
    kind_formats = defaultdict(set)
    for row in first.iter_rows(named=True):
        contract = world_registry[row["system_id"]]
        path = small_world / row["path"]
        ext = path.suffix.lstrip(".")
        formats[ext] += 1
        kind_formats[contract.kind].add(ext)
        if ext == "csv":
            data = path.read_bytes()
            if data.startswith(b"\xef\xbb\xbf"):
                encodings["utf-8-sig"] += 1
            else:
                try:
                    data.decode("utf-8")
                    encodings["utf-8"] += 1
                except UnicodeDecodeError:
                    data.decode("gbk")
                    encodings["gbk"] += 1
        header, _ = read_records(path, contract)
        languages[header_language(header)] += 1
        seen_styles, seen_units = set(), set()
        for table in contract.tables.values():
            types = entities()[table.entity].columns
            for mapping in table.mappings:
                for rule in mapping.columns.values():
                    if types[rule.column] in ("date", "timestamp"):
                        seen_styles.add(rule.date_style or "iso")
                    if types[rule.column] == "decimal":
                        seen_units.add(rule.unit or "yuan")
        for s in seen_styles:
            styles[s] += 1
        for u in seen_units:
            units[u] += 1
    assert set(formats) == {"csv", "xlsx", "jsonl", "parquet"} and min(formats.values()) >= 3, formats
    assert set(encodings) == {"utf-8", "utf-8-sig", "gbk"} and min(encodings.values()) >= 3, encodings
    assert set(styles) == {"iso", "slash", "compact", "excel_serial"} and min(styles.values()) >= 3, styles
    assert set(units) == {"yuan", "fen"} and min(units.values()) >= 3, units
    assert set(languages) == {"chinese", "english", "pinyin"} and min(languages.values()) >= 3, languages
    several = Counter(c.kind for c in world_registry.values())
    for kind, n in several.items():
        if n > 1:
            assert len(kind_formats[kind]) >= 2, (kind, kind_formats[kind])


# --------------------------------------------------------------------------- content round trip
JUNK = {"bad_check", "null_required", "impossible_date", "future_date", "negative_amount", "field_count",
        "truncated_line", "duplicate"}
SAMPLE = ["village_finance_330100", "hospital_his_007", "asset_trading_330300", "asset_trading_330400",
          "business_registry_330000", "official_roster_330000", "marriage_registry_330000",
          "public_resource_trading_330300", "social_assistance_330500"]


def _comparable(row: dict, columns: list[str]) -> tuple:
    out = []
    for c in columns:
        v = row.get(c)
        if isinstance(v, float):
            v = round(v, 2)
        if isinstance(v, dt.datetime):
            v = v.replace(microsecond=0)
        out.append(v)
    return tuple(out)


@pytest.mark.parametrize("sid", SAMPLE)
def test_deliveries_read_back_to_the_clean_rows(small_world, manifest, world_registry, sid):
    """Reading a system's landing files with its contract (junk rows and duplicates left out,
    identifiers normalised) gives back exactly its clean rows."""
    contract = world_registry[sid]
    defects = pl.read_parquet(small_world / "truth" / "defects.parquet").filter(pl.col("system_id") == sid)
    skip = {(r["batch_date"], r["file_name"], r["record"]) for r in defects.iter_rows(named=True) if r["defect"] in JUNK}
    drifted = {(r["batch_date"], r["file_name"]): r["detail"].split(" -> ")
               for r in defects.iter_rows(named=True) if r["defect"] == "schema_drift"}
    files = manifest.filter((pl.col("system_id") == sid) & ~pl.col("superseded")).sort("batch_date")
    for table_name, table in contract.tables.items():
        got: dict[tuple, dict] = {}
        names = {f for f in files["file_name"].unique().to_list() if fnmatch.fnmatchcase(f, table.file_pattern)}
        for row in files.filter(pl.col("file_name").is_in(list(names))).iter_rows(named=True):
            header, records = read_records(small_world / row["path"], contract)
            if contract.delivery.mode == "monthly_snapshot" and row["batch_date"] != MONTHLY_DATES[-1]:
                continue
            renamed = drifted.get((row["batch_date"], row["file_name"]))
            if renamed:
                header = [renamed[0] if h == renamed[1] else h for h in header]
            mapping = table.mapping_for(row["batch_date"]) or table.mappings[0]
            for i, values in enumerate(records, start=1):
                if (row["batch_date"], row["file_name"], i) in skip:
                    continue
                record = to_canonical(header, values, mapping, table.entity)
                got[tuple(record[k] for k in table.primary_key)] = record  # later batches win
        clean = pl.read_parquet(small_world / "truth" / "clean" / f"{table.entity}.parquet").filter(
            pl.col("_system_id") == sid)
        mapped = sorted(set.intersection(*(set(r.column for r in m.columns.values()) for m in table.mappings)))
        expected = sorted((_comparable(r, mapped) for r in clean.iter_rows(named=True)), key=repr)
        actual = sorted((_comparable(r, mapped) for r in got.values()), key=repr)
        assert len(actual) == len(expected), (sid, table_name)
        assert actual == expected, (sid, table_name)

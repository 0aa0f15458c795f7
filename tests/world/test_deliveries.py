"""The landing zone of the SF 0.01 world: batches, manifest, re-delivery, spread rules, content."""
from __future__ import annotations

import re
from collections import Counter, defaultdict

import polars as pl
import pytest

from orchestration.canonical import entities
from orchestration.world.core import BACKFILL_DATE, WORLD_END
from orchestration.world.render import MONTHLY_DATES

from world_readback import manifest_problems, read_back, read_records

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


def test_manifest_lists_every_file_with_hash_and_record_count(small_world, world_registry):
    assert manifest_problems(small_world, world_registry) == []


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
SAMPLE = ["village_finance_330100", "hospital_his_007", "asset_trading_330300", "asset_trading_330400",
          "business_registry_330000", "official_roster_330000", "marriage_registry_330000",
          "public_resource_trading_330300", "social_assistance_330500"]


@pytest.mark.parametrize("sid", SAMPLE)
def test_deliveries_read_back_to_the_clean_rows(small_world, world_registry, sid):
    """Reading a system's landing files with its contract (junk rows and duplicates left out,
    identifiers normalised) gives back exactly its clean rows."""
    for table_name, (actual, expected) in read_back(small_world, world_registry[sid]).items():
        assert len(actual) == len(expected), (sid, table_name)
        assert actual == expected, (sid, table_name)

"""The shipped registry: 153 systems as docs/architecture.md lists them, spread over vendors as
world.md demands, and contracts complete enough for the supervision models."""
from __future__ import annotations

import fnmatch
import re
from collections import Counter, defaultdict

import pytest

from orchestration.canonical import entities
from orchestration.contracts import contract_paths, registry as cached_registry
from orchestration.settings import SOURCES_DIR
from orchestration.world.core import CITIES, N_HOSPITALS, PROVINCE_SYSTEMS, World, hospital_system_id

CITY_KINDS = {"village_finance": {"village_project", "village_payment", "village_procurement"},
              "asset_trading": {"asset_lease"},
              "public_resource_trading": {"tender_project", "bid", "contract"},
              "social_assistance": {"subsidy_payment"}, "site_attendance": {"site_attendance"}}
MULTI_INSTANCE_KINDS = [*CITY_KINDS, "hospital_his"]
MONTHLY = {"vehicle_registry_330000", "property_registry_330000", "official_roster_330000"}
SNAPSHOT = {"household_registry_330000", "marriage_registry_330000", "death_registry_330000",
            "business_registry_330000", "village_cadre_roster_330000"}
# Columns no supervision model reads; a vendor may leave them out. Every other canonical
# column must be delivered by every instance of a kind.
OPTIONAL = {"village_project": {"name"}, "village_payment": {"purpose"}, "village_procurement": {"item"},
            "tender_project": {"name"}, "bid": {"contact_name"}, "site_attendance": {"check_in"},
            "company": {"reg_address"}, "injury_claim": {"diagnosis"}}
EXTENSION = {"csv": ".csv", "xlsx": ".xlsx", "jsonl": ".jsonl", "parquet": ".parquet"}


def header_language(header: str) -> str:
    if re.search(r"[\u4e00-\u9fff]", header):
        return "chinese"
    return "pinyin" if header.upper() == header else "english"


def text_rules(contract):
    """Every (entity, column type, rule, native header) of every mapping version."""
    ents = entities()
    for table in contract.tables.values():
        for mapping in table.mappings:
            for native, rule in mapping.columns.items():
                yield table.entity, ents[table.entity].columns[rule.column], rule, native


def systems_using(registry, feature) -> Counter:
    """How many systems use each value of ``feature(contract) -> set of values``."""
    counts: Counter = Counter()
    for c in registry.values():
        counts.update(feature(c))
    return counts


def test_every_contract_loads(registry):
    assert len(registry) == 153
    assert len(contract_paths(SOURCES_DIR)) == 153
    assert cached_registry() == registry


def test_systems_match_the_architecture_table(registry):
    ents = entities()
    province = {sid for sid in registry if registry[sid].level == "province"}
    assert province == set(PROVINCE_SYSTEMS.values())
    for entity, sid in PROVINCE_SYSTEMS.items():
        assert entity in registry[sid].tables
    for kind, tables in CITY_KINDS.items():
        ids = {sid for sid, c in registry.items() if c.kind == kind}
        assert ids == {f"{kind}_{prefix}00" for prefix in CITIES}
        for sid in ids:
            c = registry[sid]
            assert (c.level, c.region_code, set(c.tables)) == ("city", sid[-6:], tables)
    hospitals = World(1, 0.0001).hospitals
    his = {sid: c for sid, c in registry.items() if c.kind == "hospital_his"}
    assert len(his) == N_HOSPITALS == 85
    for i, code in enumerate(hospitals):
        c = his[hospital_system_id(i)]
        assert (c.level, c.region_code, set(c.tables), c.sensitive) == ("hospital", code[2:8], {"prescription"}, True)
    assert Counter(c.level for c in registry.values()) == {"province": 13, "city": 55, "hospital": 85}
    for c in registry.values():
        assert all(name == t.entity and name in ents for name, t in c.tables.items())
        assert c.sensitive == (c.kind == "hospital_his")


def test_files_live_at_level_kind_system_id(registry):
    for path in contract_paths(SOURCES_DIR):
        c = registry[path.stem]
        assert path.relative_to(SOURCES_DIR).parts == (c.level, c.kind, path.name)


def test_delivery_modes_and_freshness(registry):
    for sid, c in registry.items():
        mode = "monthly_snapshot" if sid in MONTHLY else "snapshot" if sid in SNAPSHOT else "increment"
        assert c.delivery.mode == mode, sid
        assert c.delivery.freshness_days == {"increment": 1, "snapshot": 7, "monthly_snapshot": 35}[mode], sid


def test_each_multi_instance_kind_uses_two_formats(registry):
    for kind in MULTI_INSTANCE_KINDS:
        formats = {c.delivery.format for c in registry.values() if c.kind == kind}
        assert len(formats) >= 2, kind


@pytest.mark.parametrize("feature, values", [
    (lambda c: {c.delivery.format}, ["csv", "xlsx", "jsonl", "parquet"]),
    (lambda c: {c.delivery.encoding} if c.delivery.format == "csv" else set(), ["utf-8", "utf-8-sig", "gbk"]),
    (lambda c: {r.date_style or "iso" for _, t, r, _ in text_rules(c) if t in ("date", "timestamp")},
     ["iso", "slash", "compact", "excel_serial"]),
    (lambda c: {r.unit or "yuan" for _, t, r, _ in text_rules(c) if t == "decimal"}, ["yuan", "fen"]),
    (lambda c: {header_language(n) for *_, n in text_rules(c)}, ["pinyin", "english", "chinese"]),
], ids=["format", "encoding", "date_style", "unit", "header_language"])
def test_each_variant_is_used_by_three_systems(registry, feature, values):
    counts = systems_using(registry, feature)
    assert {v: counts[v] for v in values if counts[v] < 3} == {}


def test_vendors_vary_codes_and_column_order(registry):
    code_styles = systems_using(registry, lambda c: {
        "numeric" if any(k[:1].isdigit() for k in r.codes) else "chinese"
        for _, _, r, _ in text_rules(c) if r.codes})
    assert code_styles["numeric"] >= 3 and code_styles["chinese"] >= 3
    for kind in MULTI_INSTANCE_KINDS:
        orders = {tuple(r.column for r in t.mappings[0].columns.values())
                  for c in registry.values() if c.kind == kind for t in c.tables.values()}
        assert len(orders) >= 2, kind


def test_excel_serial_dates_only_in_csv_and_xlsx(registry):
    for sid, c in registry.items():
        if any(r.date_style == "excel_serial" for *_, r, _ in text_rules(c)):
            assert c.delivery.format in ("csv", "xlsx"), sid


def test_some_vendors_renamed_headers_on_2026_10_15(registry):
    renamed = []
    for sid, c in registry.items():
        for t in c.tables.values():
            if len(t.mappings) == 2:
                first, second = t.mappings
                assert str(second.from_batch) == "2026-10-15", sid
                before = {r.column: n for n, r in first.columns.items()}
                after = {r.column: n for n, r in second.columns.items()}
                assert before.keys() == after.keys(), sid
                assert 1 <= sum(before[col] != after[col] for col in before) <= 2, sid
                renamed.append(sid)
    assert len(set(renamed)) >= 5


def test_tables_declare_their_rules(registry):
    ents = entities()
    for sid, c in registry.items():
        for name, t in c.tables.items():
            ent = ents[t.entity]
            assert t.primary_key == list(ent.key), (sid, name)
            assert set(ent.required) <= set(t.required), (sid, name)
            decimals = {col for col, typ in ent.columns.items() if typ == "decimal"}
            mapped = {r.column for m in t.mappings for r in m.columns.values()}
            assert set(t.non_negative) == decimals & mapped, (sid, name)
            assert not {"end_date", "term_end", "to_date", "bid_deadline"} & set(t.not_after_batch), (sid, name)
    payment = registry["village_finance_330100"].tables["village_payment"]
    assert {"payment_id", "village_code", "payee_id", "category", "amount", "pay_date"} <= set(payment.required)
    assert {"payee_id", "payee_name"} <= set(payment.personal_data)


def test_every_instance_delivers_what_the_models_need(registry):
    ents = entities()
    for sid, c in registry.items():
        for name, t in c.tables.items():
            needed = set(ents[t.entity].columns) - OPTIONAL.get(t.entity, set())
            for m in t.mappings:
                assert needed <= {r.column for r in m.columns.values()}, (sid, name, m.from_batch)


def test_file_patterns_match_the_format_and_one_table(registry):
    for sid, c in registry.items():
        for name, t in c.tables.items():
            assert t.file_pattern.endswith("*" + EXTENSION[c.delivery.format]), (sid, name)
            sample = t.file_pattern.replace("*", "-2")
            owners = [n for n, o in c.tables.items() if fnmatch.fnmatchcase(sample, o.file_pattern)]
            assert owners == [name], (sid, sample)


def test_extra_columns_are_distinct_from_mapped_headers(registry):
    vendors_with_extras = 0
    for sid, c in registry.items():
        for t in c.tables.values():
            headers = set().union(*(m.columns for m in t.mappings))
            assert not headers & set(t.extra_columns), sid
            assert len(set(t.extra_columns)) == len(t.extra_columns), sid
            vendors_with_extras += bool(t.extra_columns)
    assert vendors_with_extras >= 100


def test_gbk_systems_can_encode_their_headers_and_codes(registry):
    for sid, c in registry.items():
        if c.delivery.format == "csv" and c.delivery.encoding == "gbk":
            for t in c.tables.values():
                texts = [*t.extra_columns]
                for m in t.mappings:
                    texts += [*m.columns, *(k for r in m.columns.values() for k in (r.codes or {}))]
                for text in texts:
                    text.encode("gbk")  # raises on a character GBK lacks


def test_disposition_feedback_is_the_standard_exchange_format(registry):
    c = registry["disposition_feedback_330000"]
    assert (c.delivery.format, c.delivery.encoding, c.delivery.delimiter) == ("csv", "utf-8", ",")
    (table,) = c.tables.values()
    (mapping,) = table.mappings
    assert list(mapping.columns) == list(entities()["disposition"].columns)
    assert all(native == r.column and r.codes is None and r.date_style is None for native, r in mapping.columns.items())
    assert not table.extra_columns


def test_names_and_departments_are_chinese(registry):
    for sid, c in registry.items():
        assert re.search(r"[\u4e00-\u9fff]", c.name) and re.search(r"[\u4e00-\u9fff]", c.department), sid
    assert len({c.name for c in registry.values()}) == 153

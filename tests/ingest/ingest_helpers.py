"""Small handcrafted contracts and deliveries for the ingestion tests (everything in tmp_path)."""
from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import polars as pl
import yaml

from orchestration.contracts import Contract, load_contract

SYSTEM = "village_finance_330100"
DAY = dt.date(2026, 10, 1)
HEADER = "ZFBH,CBM,SKRZJHM,SKRMC,JE,ZFRQ,LB"

# One table (village_payment) of a CSV system; tests change what they need on a copy.
PAYMENT_CONTRACT: dict = {
    "system_id": SYSTEM,
    "name": "杭州市农村集体三资管理平台",
    "kind": "village_finance",
    "department": "杭州市农业农村局",
    "level": "city",
    "region_code": "330100",
    "delivery": {"format": "csv", "encoding": "utf-8", "delimiter": ",", "header_row": 1,
                 "mode": "increment", "freshness_days": 1},
    "tables": {
        "village_payment": {
            "entity": "village_payment",
            "file_pattern": "zfmx*.csv",
            "primary_key": ["payment_id"],
            "required": ["payment_id", "village_code", "amount", "pay_date"],
            "personal_data": ["payee_id", "payee_name"],
            "not_after_batch": ["pay_date"],
            "non_negative": ["amount"],
            "mappings": [{
                "from_batch": "2025-11-01",
                "columns": {
                    "ZFBH": {"column": "payment_id"},
                    "CBM": {"column": "village_code"},
                    "SKRZJHM": {"column": "payee_id"},
                    "SKRMC": {"column": "payee_name"},
                    "JE": {"column": "amount", "unit": "fen"},
                    "ZFRQ": {"column": "pay_date", "date_style": "compact"},
                    "LB": {"column": "category", "codes": {"务工补贴": "work_subsidy", "材料款": "materials"}},
                },
            }],
        },
    },
}


def contract_doc(**delivery) -> dict:
    """A deep copy of the payment contract, with delivery fields overridden."""
    doc = copy.deepcopy(PAYMENT_CONTRACT)
    doc["delivery"].update(delivery)
    return doc


def payment_table(doc: dict) -> dict:
    return doc["tables"]["village_payment"]


def write_contract(root: Path, doc: dict) -> Contract:
    """Write the contract where the registry expects it and load it (validated)."""
    path = root / "sources" / doc["level"] / doc["kind"] / f"{doc['system_id']}.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_contract(path)


def land(lake: Path, name: str, data: bytes | str, day: dt.date = DAY, system: str = SYSTEM,
         encoding: str = "utf-8") -> Path:
    """Deliver one file into landing/<system>/<day>/."""
    path = lake / "landing" / system / day.isoformat() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return path


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def bronze(lake: Path, table: str = "village_payment", system: str = SYSTEM) -> pl.DataFrame:
    return pl.read_delta(str(lake / "bronze" / system / table)).sort("_batch_date", "_file_name", "_source_row")

"""The canonical (silver) entities: the single source of truth for contract targets and dbt."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from orchestration.yaml_files import load_yaml

CANONICAL_FILE = Path(__file__).with_name("canonical.yaml")
TYPES = {"string", "date", "timestamp", "decimal", "int", "float", "bool"}
# Columns the spec marks nullable by name; all key columns and validity starts are required.
NULLABLE_BY_NAME = {"end_date", "term_end", "to_date", "dissolved_date", "deregistered_date",
                    "salaried_from", "award_date", "vproject_id", "previous_lease_id"}
VALIDITY_STARTS = {"start_date", "term_start", "from_date", "registered_date", "sign_date"}
# Identifier columns by the identifier rule that validates them in silver.
ID_NUMBER_COLUMNS = {"id_number", "person_a_id", "person_b_id", "legal_rep_id", "technical_lead_id",
                     "recipient_id", "injured_id", "handler_id", "doctor_id", "patient_id", "owner_id"}
CREDIT_CODE_COLUMNS = {"credit_code", "org_code", "bidder_code", "supplier_code", "employer_code",
                       "hospital_code"}


@dataclass(frozen=True)
class Entity:
    name: str
    key: tuple[str, ...]
    columns: dict[str, str]  # column -> type

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*self.key, *(c for c in self.columns if c in VALIDITY_STARTS)]))


@lru_cache(maxsize=1)
def entities() -> dict[str, Entity]:
    doc = load_yaml(CANONICAL_FILE.read_text(encoding="utf-8"))
    out = {}
    for name, spec in doc["entities"].items():
        cols = {c: str(t) for c, t in spec["columns"].items()}
        bad = {c: t for c, t in cols.items() if t not in TYPES}
        if bad:
            raise ValueError(f"{CANONICAL_FILE}: entity {name}: unknown column types {bad}")
        out[name] = Entity(name, tuple(spec["key"]), cols)
    return out

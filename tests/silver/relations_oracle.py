"""The oracle side of the related-parties comparison: (person, date) questions drawn from the
world's clean rows, answered by orchestration.world.scenarios._relations (the truth oracle's own
implementation of models.md), and the SQL side's query over the built warehouse."""
from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import polars as pl

from orchestration.pseudonym import person_ref
from orchestration.world.scenarios._relations import Relations

RELATION_ENTITIES = ("person", "marriage", "company", "shareholder")
MIN_SHARE = 0.05


def clean_tables(lake: Path) -> dict[str, pl.DataFrame]:
    return {e: pl.read_parquet(lake / "truth" / "clean" / f"{e}.parquet") for e in RELATION_ENTITIES}


def questions(tables: dict[str, pl.DataFrame], n: int, seed: int = 11) -> list[tuple[str, dt.date]]:
    """(id_number, date) pairs that exercise every edge kind, decoys included: both spouses of
    dissolved marriages on the dissolution date and the day before, legal reps and shareholders
    around their dates, household members, and random persons on random dates."""
    rng = random.Random(seed)
    asked: list[tuple[str, dt.date]] = []
    for a, b, registered, dissolved in tables["marriage"].select(
            "person_a_id", "person_b_id", "registered_date", "dissolved_date").iter_rows():
        if dissolved is not None:
            asked += [(a, dissolved), (b, dissolved - dt.timedelta(days=1))]
        if registered is not None:
            asked += [(a, registered - dt.timedelta(days=1)), (b, registered)]
    for rep, established, deregistered in tables["company"].select(
            "legal_rep_id", "established_date", "deregistered_date").iter_rows():
        asked.append((rep, deregistered or established))
    for holder, kind, start, end in tables["shareholder"].select(
            "holder_id", "holder_type", "from_date", "to_date").iter_rows():
        if kind == "person":
            asked.append((holder, end or start))
    persons = tables["person"].get_column("id_number").to_list()
    first, span = dt.date(2024, 1, 1), 1000
    asked += [(rng.choice(persons), first + dt.timedelta(days=rng.randrange(span))) for _ in range(n)]
    asked = [q for q in asked if q[0] is not None and q[1] is not None]
    return rng.sample(asked, min(n, len(asked)))


def oracle_parties(tables: dict[str, pl.DataFrame], asked: list[tuple[str, dt.date]], key: str,
                   relatives_only: bool = False) -> set[tuple[int, str]]:
    """(question number, party ref) per party, persons by person_ref, companies by credit code."""
    relations = Relations(tables)
    companies = set(tables["company"].get_column("credit_code").to_list())
    companies |= set(tables["shareholder"].get_column("credit_code").to_list())
    out = set()
    for i, (p, d) in enumerate(asked):
        found = relations.close_relatives(p, d) if relatives_only else relations.related_parties(p, d, MIN_SHARE)
        out |= {(i, party if party in companies else person_ref(party, key=key)) for party in found}
    return out


def sql_parties(compiled_select: str, warehouse: Path, asked: list[tuple[str, dt.date]], key: str) -> set[tuple[int, str]]:
    """Run a compiled related_parties()/close_relatives() SELECT whose anchors CTE reads the
    DuckDB table `anchors` (question_no, anchor_ref, at_date), over the warehouse, read-only."""
    import duckdb

    anchors = pl.DataFrame({"question_no": list(range(len(asked))),
                            "anchor_ref": [person_ref(p, key=key) for p, _ in asked],
                            "at_date": [d for _, d in asked]})
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.register("anchors", anchors.to_arrow())
        rows = con.execute(f"select question_no, party_ref from ({compiled_select})").fetchall()
    return set(rows)

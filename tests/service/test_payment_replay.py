"""Every work-subsidy payment of the SF 0.01 world replayed through POST /checks/payment: each
answer equals the batch model's verdict (block exactly when the payment is an SM03 alert in the
world's truth, with the truth's branches).

The ineligible-payee index is the dbt model ``gold.ineligible_payees`` of the built world (the
table publication writes to ``published/ineligible_payees``), published here into the service's
lake the way publication does. Payee ids are sent in the spellings the sources use (lowercase x,
full-width digits, blanks, 15-digit legacy numbers), rotating over the payments.
"""
from __future__ import annotations

import asyncio

import httpx2
import polars as pl
import pytest

from orchestration.service import tables
from orchestration.service.access import create_token
from orchestration.service.api import Service, create_app
from orchestration.service.publication import PublishedLake
from orchestration.service.store import Store
from orchestration.warehouse import read_relation
from service_helpers import auth

pytestmark = pytest.mark.slow  # the built world: the SF 0.01 world ingested and built by dbt

FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def spelled(payee_id: str, i: int) -> str:
    """Payment i's payee id in one of the spellings the sources use."""
    kind = i % 5
    if kind == 1:
        return payee_id.lower()
    if kind == 2:
        return payee_id.translate(FULL_WIDTH)
    if kind == 3:
        return f" {payee_id[:6]} {payee_id[6:14]}\u3000{payee_id[14:]} "
    if kind == 4 and len(payee_id) == 18 and payee_id[6:8] == "19":
        return payee_id[:6] + payee_id[8:17]  # 15-digit legacy number
    return payee_id


def post_all(app, token: str, bodies: list[dict]) -> list[dict]:
    """POST every body to /checks/payment (in-process, 32 at a time); the answers in order."""
    async def run() -> list[dict]:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://replay", headers=auth(token)) as client:
            answers = []
            for start in range(0, len(bodies), 32):
                responses = await asyncio.gather(*(client.post("/checks/payment", json=b)
                                                   for b in bodies[start:start + 32]))
                for body, response in zip(bodies[start:start + 32], responses):
                    assert response.status_code == 200, (body, response.text)
                    answers.append(response.json())
            return answers
    return asyncio.run(run())


def payment_body(p: dict, payee_id: str) -> dict:
    return {"village_code": p["village_code"], "payee_id": payee_id, "category": p["category"],
            "amount": f"{p['amount']:.2f}", "pay_date": p["pay_date"].isoformat()}


@pytest.fixture(scope="module")
def world_service(built_world, tmp_path_factory):
    ours = [n for n in built_world.failed if "ineligible_payees" in n]
    assert not ours, f"dbt nodes of ineligible_payees failed in the built world: {ours}"
    index = read_relation(built_world.lake / "warehouse.duckdb", "gold.ineligible_payees")
    assert index.schema.names == tables.INELIGIBLE_PAYEES.names
    lake = tmp_path_factory.mktemp("replay_lake")
    tables.write_published(lake, "ineligible_payees", index.cast(tables.INELIGIBLE_PAYEES))
    store = Store(f"sqlite:///{lake / 'service.sqlite'}")
    token = create_token(store, name="replay", role="payment", region_code="330000").token
    yield create_app(Service(PublishedLake(lake, reload_seconds=0), store, pseudonym_key=built_world.key)), token
    store.close()


def test_every_work_subsidy_payment_agrees_with_the_batch_model(small_world, world_service):
    app, token = world_service
    payments = (pl.read_parquet(small_world / "truth" / "clean" / "village_payment.parquet")
                .filter(pl.col("category") == "work_subsidy")
                .with_columns(pl.concat_str("_system_id", pl.lit(":"), "payment_id").alias("key")).to_dicts())
    truth = pl.read_parquet(small_world / "truth" / "alerts.parquet").filter(pl.col("model_id") == "SM03")
    expected = dict(zip(truth["primary_key"], truth["rule_branch"]))
    assert len(payments) > 1000 and len(expected) >= 40

    answers = post_all(app, token, [payment_body(p, spelled(p["payee_id"], i)) for i, p in enumerate(payments)])
    disagreements = []
    for p, answer in zip(payments, answers):
        got = ",".join(answer["branches"]) if answer["decision"] == "block" else None
        if got != expected.get(p["key"]) or answer["decision"] == "review":
            disagreements.append((p["key"], p["payee_type"], answer["decision"], got, expected.get(p["key"])))
    assert not disagreements, f"{len(disagreements)} payment(s) disagree, e.g. {disagreements[:10]}"
    assert sum(a["decision"] == "block" for a in answers) == len(expected)


def test_other_categories_are_allowed(small_world, world_service):
    """A sample of the other categories' payments (every category, planted decoys included)."""
    app, token = world_service
    others = (pl.read_parquet(small_world / "truth" / "clean" / "village_payment.parquet")
              .filter(pl.col("category") != "work_subsidy").sample(400, seed=1).to_dicts())
    answers = post_all(app, token, [payment_body(p, p["payee_id"]) for p in others])
    assert {a["decision"] for a in answers} == {"allow"}

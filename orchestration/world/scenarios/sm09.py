"""SM09 collusive bidding: planted tenders whose bids share a fingerprint, and the truth oracle.

Rule (models.md): a tender_project with bids from >= 2 distinct bidders, when two different
bidders' bids (any status) share a value in client_ip (branch client_ip), client_mac (client_mac,
compared lowercase with colons), doc_hash (doc_hash) or contact_phone (contact_phone, digits
only), or the two bidders' companies share legal_rep_id (legal_rep) or phone (company_phone), or
the two bidders bid the identical price (same_price). Null, blank or placeholder values (0.0.0.0,
00:00:00:00:00:00, unknown, -) never match. Only bids of the same project are compared.
Key: the qualified project_id; severity red.

Readings taken where the text leaves room:
- Values are trimmed; placeholders are recognised case-insensitively, before and after
  normalisation (so ``00-00-00-00-00-00`` and ``UNKNOWN`` are placeholders too).
- MAC: lowercase with '-' turned into ':'. Phones (contact and company): a leading +86 / 0086
  country code is dropped (canonical.yaml: "normalise +86, dashes"), then digits only; an empty
  result is blank. client_ip, doc_hash and legal_rep_id are compared as trimmed text.
- A bid belongs to the project with its project_id in the same system (a project and its bids are
  delivered by one public_resource_trading system); bids without a known project are not judged.
- Prices are compared to the fen (2 dp).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import defaultdict
from collections.abc import Callable

import polars as pl

from orchestration.world.core import COUNTIES, WORLD_END, WORLD_START, KeySet, World
from orchestration.world.scenarios._common import (
    alerts_frame, company_row, money, new_org_code, new_tender_project, planting_count,
)
from orchestration.world.scenarios._frames import collect, lazy, matching, slices

MODEL_ID = "SM09"
PLACEHOLDERS = frozenset({"", "0.0.0.0", "00:00:00:00:00:00", "unknown", "-"})


# =========================================================================== truth oracle
def _text(value) -> str | None:
    """Trimmed text, or None when null, blank or a placeholder."""
    if value is None:
        return None
    text = str(value).strip()
    return None if text.lower() in PLACEHOLDERS else text


def normal_mac(value) -> str | None:
    text = _text(value)
    return _text(text.lower().replace("-", ":")) if text else None


def normal_phone(value) -> str | None:
    text = _text(value)
    if text is None:
        return None
    text = re.sub(r"^(\+|00)86", "", text.replace(" ", ""))
    return re.sub(r"\D", "", text) or None


BID_FINGERPRINTS: dict[str, tuple[str, Callable]] = {  # branch -> (bid column, normaliser)
    "client_ip": ("client_ip", _text), "client_mac": ("client_mac", normal_mac),
    "doc_hash": ("doc_hash", _text), "contact_phone": ("contact_phone", normal_phone),
}


def truth(tables: dict[str, pl.DataFrame | pl.LazyFrame], params: dict) -> pl.DataFrame:
    projects = collect(lazy(tables, "tender_project").select("_system_id", "project_id").unique(maintain_order=True))
    fired = []
    for group in slices(projects):  # projects in groups, with their bids and bidders
        bids = matching(tables, "bid", group.select("project_id", "_system_id"))
        bidders = bids.get_column("bidder_code").drop_nulls().unique().to_list()
        companies = {code: (_text(rep), normal_phone(phone)) for code, rep, phone in collect(
            lazy(tables, "company").filter(pl.col("credit_code").is_in(bidders))
            .select(["credit_code", "legal_rep_id", "phone"])).iter_rows()}
        bids_of: dict[tuple[str, str], list[dict]] = defaultdict(list)
        for bid in bids.iter_rows(named=True):
            if _text(bid["bidder_code"]):
                bids_of[(bid["_system_id"], bid["project_id"])].append(bid)
        for (system, project_id), found in bids_of.items():
            if len({b["bidder_code"] for b in found}) < 2:
                continue
            fired += [(f"{system}:{project_id}", branch, "red") for branch in shared_branches(found, companies)]
    return alerts_frame(MODEL_ID, fired)


def shared_branches(bids: list[dict], companies: dict[str, tuple[str | None, str | None]]) -> set[str]:
    """Branches whose normalised value is shared by two different bidders of one project's bids."""
    bidders_of: dict[tuple[str, object], set[str]] = defaultdict(set)
    for bid in bids:
        bidder = bid["bidder_code"]
        for branch, (column, normalise) in BID_FINGERPRINTS.items():
            bidders_of[(branch, normalise(bid[column]))].add(bidder)
        if bid["bid_price"] is not None:
            bidders_of[("same_price", round(float(bid["bid_price"]), 2))].add(bidder)
        legal_rep, phone = companies.get(bidder, (None, None))
        bidders_of[("legal_rep", legal_rep)].add(bidder)
        bidders_of[("company_phone", phone)].add(bidder)
    return {branch for (branch, value), bidders in bidders_of.items() if value is not None and len(bidders) >= 2}


# =========================================================================== planting
BRANCHES = ("client_ip", "client_mac", "doc_hash", "contact_phone", "legal_rep", "company_phone", "same_price")
# How two bids of different bidders spell a shared value (the truth must see through the spelling).
SHARED_SPELLINGS = {
    "client_mac": [lambda m: (m, m), lambda m: (m.upper().replace(":", "-"), m), lambda m: (m.upper(), m)],
    "contact_phone": [lambda p: (p, p), lambda p: (f"+86 {p[:3]}-{p[3:7]}-{p[7:]}", p),
                      lambda p: (f"{p[:3]} {p[3:7]} {p[7:]}", p)],
}
# Decoys per branch: values that must never match, or matches that must not count.
DECOYS = {
    "client_ip": ("two_projects", "placeholder", "same_bidder", "single_bidder"),
    "client_mac": ("two_projects", "placeholder", "same_bidder", "near_miss"),
    "doc_hash": ("two_projects", "placeholder", "same_bidder"),
    "contact_phone": ("two_projects", "placeholder", "same_bidder", "near_miss"),
    "legal_rep": ("two_projects", "placeholder"),
    "company_phone": ("two_projects", "placeholder"),
    "same_price": ("two_projects", "same_bidder", "near_miss"),
}
PLACEHOLDER_PAIRS = {"client_ip": ("0.0.0.0", "0.0.0.0"), "client_mac": ("00:00:00:00:00:00", "00-00-00-00-00-00"),
                     "doc_hash": ("unknown", "-"), "contact_phone": ("-", "-"), "company_phone": ("-", None),
                     "legal_rep": (None, None)}


def _key(value: object) -> int:
    """A fingerprint value as a 64-bit key (a deterministic digest: two values sharing one only
    make ``fresh`` draw again)."""
    return int.from_bytes(hashlib.blake2b(repr(value).encode(), digest_size=8).digest(), "little", signed=True)


class _Planter:
    def __init__(self, world: World) -> None:
        self.world = world
        self.owners: dict[str, str] = {}
        self.issued = KeySet()  # every fingerprint value handed out (``_key``), so fresh ones never collide

    # ------------------------------------------------------------------ fresh values
    def fresh(self, make: Callable[[], object]) -> object:
        while True:
            value = make()
            if self.issued.add(_key(value)):
                return value

    def ip(self) -> str:
        r = self.world.rng
        return self.fresh(lambda: f"{r.integers(1, 224)}.{r.integers(256)}.{r.integers(256)}.{r.integers(1, 255)}")

    def mac(self) -> str:
        r = self.world.rng
        return self.fresh(lambda: ":".join(f"{b:02x}" for b in [2 * int(r.integers(128)), *r.integers(256, size=5)]))

    def doc_hash(self) -> str:
        return self.fresh(lambda: self.world.rng.bytes(32).hex())

    def phone(self) -> str:
        return self.fresh(self.world.phone)

    def price(self, budget: float) -> object:
        return self.fresh(lambda: money(budget * self.world.rng.uniform(0.85, 0.99)))

    # ------------------------------------------------------------------ rows
    def bidder(self, region: str, *, legal_rep: str | None | bool = True, phone: str | None | bool = True) -> str:
        """A fresh bidding company; ``True`` = a fresh legal rep / phone, else the given value (None = null)."""
        w = self.world
        rep = w.new_person(region_code=region) if legal_rep is True else legal_rep
        code = w.new_company(region_code=region, legal_rep_id=rep, phone=self.phone() if phone is True else phone)
        if phone is None:
            company_row(w, code)["phone"] = None
        return code

    def tender(self, bidders: list[str], region: str) -> tuple[dict, list[dict]]:
        """A project and one unsent bid per bidder with fresh fingerprints; the lowest price wins."""
        w = self.world
        award = w.date(dt.date(2026, 9, 20), WORLD_END) if w.rng.random() < 0.35 else \
            w.date(WORLD_START + dt.timedelta(days=40), WORLD_END)
        budget = float(w.rng.integers(400, 8000)) * 1000
        owner = self.owners.setdefault(region, new_org_code(w, region))
        project = new_tender_project(w, owner_code=owner, region_code=region, publish=award - dt.timedelta(days=35),
                                     award=award, budget=budget)
        bids = [self.bid(project, bidder) for bidder in bidders]
        min(bids, key=lambda b: b["bid_price"])["status"] = "won"
        return project, bids

    def bid(self, project: dict, bidder: str) -> dict:
        w = self.world
        submitted = dt.datetime.combine(project["publish_date"] + dt.timedelta(days=int(w.rng.integers(1, 21))),
                                        dt.time(int(w.rng.integers(8, 18)), int(w.rng.integers(60))))
        return {"bid_id": w.next_id("bid", "TB"), "project_id": project["project_id"], "bidder_code": bidder,
                "bid_price": self.price(float(project["budget"])), "submitted_at": submitted,
                "contact_name": w.name(), "contact_phone": self.phone(), "client_ip": self.ip(),
                "client_mac": self.mac(), "doc_hash": self.doc_hash(), "status": "valid"}

    def submit(self, bids: list[dict]) -> None:
        for bid in bids:
            self.world.add("bid", **bid)

    def key(self, project: dict) -> str:
        return self.world.qualified(project, "project_id")

    # ------------------------------------------------------------------ positives
    def positive(self, branch: str, variant: int) -> None:
        w = self.world
        region = w.pick(COUNTIES)
        n_bidders = int(w.rng.integers(3, 6))
        if branch in ("legal_rep", "company_phone"):
            shared = w.new_person(region_code=region) if branch == "legal_rep" else self.phone()
            spellings = [shared, shared] if branch == "legal_rep" or variant % 2 == 0 else [f"+86-{shared}", shared]
            arg = "legal_rep" if branch == "legal_rep" else "phone"
            bidders = [self.bidder(region, **{arg: s}) for s in spellings]
            bidders += [self.bidder(region) for _ in range(n_bidders - 2)]
            project, bids = self.tender(bidders, region)
            note = f"companies share {arg} ({spellings[0]} / {spellings[1]})"
        else:
            project, bids = self.tender([self.bidder(region) for _ in range(n_bidders)], region)
            a, b = bids[0], bids[1 + variant % (n_bidders - 1)]
            column = "bid_price" if branch == "same_price" else branch
            value = a[column]
            spell = SHARED_SPELLINGS.get(branch, [lambda v: (v, v)])
            a[column], b[column] = spell[variant % len(spell)](value)
            note = f"bids share {column} ({a[column]} / {b[column]})"
        self.submit(bids)
        w.plant(MODEL_ID, branch, self.key(project), "red", note=note)

    # ------------------------------------------------------------------ decoys
    def decoy(self, branch: str, kind: str) -> int:
        """Plants one decoy situation of the kind; returns how many decoy projects it registered."""
        w = self.world
        region = w.pick(COUNTIES)
        fresh_bidders = lambda k: [self.bidder(region) for _ in range(k)]  # noqa: E731
        column = "bid_price" if branch == "same_price" else branch
        if kind == "two_projects":
            if branch in ("legal_rep", "company_phone"):
                arg = "legal_rep" if branch == "legal_rep" else "phone"
                shared = w.new_person(region_code=region) if branch == "legal_rep" else self.phone()
                tenders = [self.tender([self.bidder(region, **{arg: shared}), *fresh_bidders(2)], region)
                           for _ in range(2)]
            else:
                tenders = [self.tender(fresh_bidders(3), region) for _ in range(2)]
                tenders[1][1][0][column] = tenders[0][1][0][column]
            note = f"one {branch} value in two different projects"
        elif kind == "placeholder":
            a_value, b_value = PLACEHOLDER_PAIRS[branch]
            if branch in ("legal_rep", "company_phone"):
                arg = "legal_rep" if branch == "legal_rep" else "phone"
                bidders = [self.bidder(region, **{arg: a_value}), self.bidder(region, **{arg: b_value}),
                           *fresh_bidders(1)]
                tenders = [self.tender(bidders, region)]
            else:
                tenders = [self.tender(fresh_bidders(3), region)]
                bids = tenders[0][1]
                bids[0][column], bids[1][column] = a_value, b_value
                bids[2][column] = None
            note = f"placeholder values {a_value!r} / {b_value!r}"
        elif kind in ("same_bidder", "single_bidder"):
            bidders = fresh_bidders(1 if kind == "single_bidder" else 3)
            project, bids = self.tender(bidders, region)
            again = self.bid(project, bidders[0])
            again[column] = bids[0][column]
            bids.append(again)
            tenders = [(project, bids)]
            note = "one bidder submitting twice" + (" (the only bidder)" if kind == "single_bidder" else "")
        else:  # near_miss: values that differ in their last character
            project, bids = self.tender(fresh_bidders(3), region)
            value = bids[0][column]
            bids[1][column] = self.near(branch, value)
            tenders = [(project, bids)]
            note = f"near miss {value} / {bids[1][column]}"
        for project, bids in tenders:
            self.submit(bids)
            w.plant(MODEL_ID, branch, self.key(project), decoy=True, note=note)
        return len(tenders)

    def near(self, branch: str, value):
        """A fresh value one step from ``value``: a fen more, or another last character."""
        if branch == "same_price":
            candidates = [value + money(0.01 * k) for k in range(1, 100)]
        else:
            alphabet = "0123456789abcdef" if branch == "client_mac" else "0123456789"
            candidates = [value[:-1] + c for c in alphabet if c != value[-1]]
        return next(c for c in candidates if self.issued.add(_key(c)))


def plant(world: World) -> None:
    planter = _Planter(world)
    n = planting_count(world)
    for branch in BRANCHES:
        for i in range(n):
            planter.positive(branch, i)
        kinds, registered, i = DECOYS[branch], 0, 0
        while registered < n:
            registered += planter.decoy(branch, kinds[i % len(kinds)])
            i += 1

"""The real-time payment check: SM03 (ineligible work-subsidy payee) answered before payment.

SM03 (models.md): a village_payment of category work_subsidy whose payee, at pay_date, is
- a **salaried cadre of the same village** (branch ``cadre``): a village_cadre row of that village
  valid at pay_date (term_start <= pay_date and (term_end null or pay_date <= term_end)) whose
  salaried_from is not null and <= pay_date; or
- an **official in post** anywhere (branch ``official``): a public_official row valid at pay_date.

So each source row becomes one *ineligibility interval* of its person (the published table
``ineligible_payees``, built by the dbt model ``gold/village/ineligible_payees``):
- cadre row -> (person_ref, 'cadre', village_code, max(term_start, salaried_from), term_end);
  no interval when salaried_from is null (never salaried) or the term has no start, and none when
  salaried_from falls after term_end (never salaried within that term). Each row is judged alone:
  a pay start in an ended term does not make a later unsalaried term salaried.
- official row -> (person_ref, 'official', null, start_date, end_date); none without start_date.
Identity is the normalised, valid id_number, pseudonymised by person_ref; never the name.

The check (``check_payment``) answers, for one payment about to be made:
- **allow** when the category is not work_subsidy, or the payee id is a valid credit code (a
  company: a credit code never equals a person's id_number), or no interval of the payee holds;
- **block** (rule SM03, with the branches) when an interval of the payee holds at pay_date, the
  cadre branch only for the paying village;
- **review** when the payee id is neither a valid id_number nor a valid credit code (it fails its
  check character: the person cannot be identified), or when no index has been published.
The batch model and this check read the same intervals, so they agree on every payment.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache

import polars as pl

from orchestration import identity
from orchestration.pseudonym import person_ref
from orchestration.service import tables

RULE = "SM03"
WORK_SUBSIDY = "work_subsidy"
# canonical.yaml, village_payment.category
CATEGORIES = ("work_subsidy", "materials", "project", "lease", "welfare", "other")
OPEN_END = dt.date.max.toordinal()


@dataclass(frozen=True)
class Verdict:
    decision: str                 # allow | block | review
    reason_code: str              # machine-readable, stable
    reason: str                   # one sentence for the paying officer (Chinese)
    rule: str | None = None       # SM03 when the rule was applied to the payee
    branches: tuple[str, ...] = ()
    intervals: tuple[dict, ...] = field(default=(), repr=False)  # the holding intervals (block only)


# --------------------------------------------------------------------------- categories
@lru_cache(maxsize=1)
def category_aliases() -> dict[str, str]:
    """Native category labels of the village finance systems -> canonical category.

    The paying systems send their own codes (务工补贴, 01, ...); the registry knows each system's
    mapping. A label two systems map differently is left out (the caller must then send the
    canonical value), so no label is ever guessed."""
    from orchestration.contracts import registry

    seen: dict[str, set[str]] = {}
    for contract in registry().values():
        if contract.kind != "village_finance":
            continue
        for table in contract.tables.values():
            for mapping in table.mappings:
                for rule in mapping.columns.values():
                    if rule.column == "category" and rule.codes:
                        for native, canonical in rule.codes.items():
                            seen.setdefault(native.strip(), set()).add(canonical)
    aliases = {native: next(iter(values)) for native, values in seen.items() if len(values) == 1}
    aliases.update({c: c for c in CATEGORIES})
    return aliases


def canonical_category(raw: str) -> str | None:
    """The canonical category of a canonical value or a native label; None when unknown."""
    return category_aliases().get(raw.strip())


# --------------------------------------------------------------------------- the index in memory
class PayeeIndex:
    """The published intervals held in memory: person_ref -> (branch, village, from, to) ordinals.

    Built once per publication; a lookup is one dict access and a scan of that person's few rows."""

    def __init__(self, frame: pl.DataFrame, version: int | None = None):
        self.version = version
        self.rows = frame.height
        by_person: dict[str, list[tuple]] = {}
        for ref, branch, village, start, end in frame.select(tables.INELIGIBLE_PAYEES.names).iter_rows():
            if ref is None or start is None:
                continue
            by_person.setdefault(ref, []).append(
                (branch, village, start.toordinal(), end.toordinal() if end else OPEN_END, start, end))
        self._by_person = {ref: tuple(v) for ref, v in by_person.items()}

    def holding(self, ref: str, village_code: str, pay_date: dt.date) -> list[dict]:
        """The intervals of ``ref`` that make a work subsidy from ``village_code`` on ``pay_date`` ineligible."""
        day = pay_date.toordinal()
        return [{"branch": branch, "village_code": village, "valid_from": start, "valid_to": end}
                for branch, village, lo, hi, start, end in self._by_person.get(ref, ())
                if lo <= day <= hi and (branch == "official" or village == village_code)]


# --------------------------------------------------------------------------- the check
def check_payment(index: PayeeIndex | None, *, village_code: str, payee_id: str, category: str,
                  pay_date: dt.date, key: str | None = None) -> Verdict:
    """SM03's verdict on one payment (see the module docstring). ``category`` is canonical."""
    if category != WORK_SUBSIDY:
        return Verdict("allow", "not_work_subsidy", f"支付类别为{category}，非务工补贴，不适用{RULE}")
    normalised = identity.normalise_id_number(payee_id)
    if not identity.id_number_is_valid(normalised):
        if identity.credit_code_is_valid(identity.normalise_credit_code(payee_id)):
            return Verdict("allow", "company_payee", f"收款方为单位（统一社会信用代码），不适用{RULE}")
        return Verdict("review", "invalid_payee_id",
                       "收款人证件号码校验位不符（既非有效身份证号，也非有效统一社会信用代码），无法确认身份，请人工复核")
    if index is None:
        return Verdict("review", "index_unavailable", "不得领取务工补贴人员名单尚未发布，无法核验，请人工复核", rule=RULE)
    intervals = index.holding(person_ref(normalised, key=key), village_code.strip(), pay_date)
    if not intervals:
        return Verdict("allow", "eligible", "收款人在支付日既非本村领薪村干部，也非在职公职人员", rule=RULE)
    branches = tuple(sorted({i["branch"] for i in intervals}))
    reasons = {"cadre": "收款人在支付日为本村领薪村干部", "official": "收款人在支付日为在职公职人员"}
    return Verdict("block", ",".join(branches), "；".join(reasons[b] for b in branches) + "，不得领取务工补贴",
                   rule=RULE, branches=branches, intervals=tuple(intervals))

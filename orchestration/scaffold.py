"""``powertrace new-model SM11 --domain bidding``: the files of a new supervision model, ready to run.

It writes, under ``dbt_project/``:

- ``models/gold/<domain>/sm11_<name>.sql``: a runnable stub rule over the domain's main entity
  (records whose amount reaches ``example_min_amount``) that ends in ``alert_contract``, for the
  author to replace with the real rule;
- ``models/gold/<domain>/sm11_<name>.yml``: the model's meta (mode shadow unless ``--mode
  live``: built, scored, not published) and a dbt unit test with one positive and one decoy;
- the model's rows in ``seeds/model_thresholds.csv`` (province default of ``example_min_amount``
  and the ``enabled`` switch).

Nothing else needs editing: ``powertrace prepare`` lists the file for ``alerts`` and
``scorecard``, and ``powertrace evaluate`` reads the model ids from dbt's manifest.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import click

from orchestration.settings import DBT_PROJECT_DIR

MODEL_ID = re.compile(r"^SM\d{2,}$")
SLUG = re.compile(r"^[a-z][a-z0-9_]*$")
THRESHOLDS_SEED = Path("seeds/model_thresholds.csv")
PROVINCE = "330000"
EXAMPLE_PARAMETER = "example_min_amount"
EXAMPLE_THRESHOLD = 1000000


@dataclass(frozen=True)
class StubEntity:
    """The domain's main silver entity and how its records map onto the alert columns."""
    entity: str
    key: str
    region: str        # SQL over the entity's columns: the county the finding belongs to
    event_date: str
    amount: str
    subject: str
    fixture: dict      # columns of a unit-test row (key and amount filled in per row)


DOMAINS: dict[str, StubEntity] = {
    "village": StubEntity("village_payment", "payment_id", "left(village_code, 6)", "pay_date", "amount", "payee_ref",
                          {"village_code": "330102001001", "payee_ref": "ref_a", "pay_date": "2026-03-01"}),
    "bidding": StubEntity("tender_project", "project_id", "region_code", "award_date", "budget", "owner_code",
                          {"region_code": "330102", "owner_code": "113301020000000001", "award_date": "2026-03-01"}),
    "medical": StubEntity("drug_purchase", "order_id", "substr(hospital_code, 3, 6)", "order_date",
                          "quantity * unit_price", "hospital_code",
                          {"hospital_code": "12330102HOSP00001A", "quantity": 1, "order_date": "2026-03-01"}),
    "social_insurance": StubEntity("injury_claim", "claim_id", "substr(employer_code, 3, 6)", "accident_date", "payout",
                                   "injured_ref", {"employer_code": "91330102E1", "injured_ref": "ref_a",
                                                   "accident_date": "2026-03-01"}),
    "social_assistance": StubEntity("subsidy_payment", "subsidy_id", "region_code",
                                    "{{ month_first_day(month_number_of_label('pay_month')) }}", "amount",
                                    "recipient_ref", {"region_code": "330102", "recipient_ref": "ref_a",
                                                      "pay_month": "2026-03"}),
    "assets": StubEntity("asset_lease", "lease_id", "left(village_code, 6)", "start_date", "annual_rent", "lessee_ref",
                         {"village_code": "330102001001", "lessee_ref": "ref_a", "start_date": "2026-03-01"}),
}
AMOUNT_COLUMN = {"drug_purchase": "unit_price"}  # where the stub's amount is a product, the fixture sets this


@dataclass(frozen=True)
class Scaffold:
    model_id: str
    domain: str
    name: str
    mode: str
    author: str

    @property
    def model_name(self) -> str:
        return f"{self.model_id.lower()}_{self.name}"

    def paths(self, dbt_dir: Path) -> tuple[Path, Path]:
        folder = dbt_dir / "models" / "gold" / self.domain
        return folder / f"{self.model_name}.sql", folder / f"{self.model_name}.yml"


def _sql(s: Scaffold) -> str:
    e = DOMAINS[s.domain]
    return f"""{{#- {s.model_id} {s.name}: TODO state the rule as models.md would, its branches, and the readings
    taken where the wording leaves room (see the other models of this folder).

    The stub below is runnable: a {e.entity} whose amount reaches the parameter
    {EXAMPLE_PARAMETER} (seeds/model_thresholds.csv) fires branch `a`. Replace it with the rule;
    keep one findings row per fired branch and end with alert_contract. -#}}
with judged as (
    select
        {e.key},
        {e.region} as region_code,
        {e.event_date} as event_date,
        {e.amount} as amount,
        {e.subject} as subject_ref
    from {{{{ ref('{e.entity}') }}}}
),

fired as (
    select *, {{{{ threshold('{EXAMPLE_PARAMETER}', 'region_code') }}}} as {EXAMPLE_PARAMETER}
    from judged
    where amount >= {{{{ threshold('{EXAMPLE_PARAMETER}', 'region_code') }}}}
),

findings as (
    select
        {e.key} as primary_key,
        'a' as rule_branch,
        'yellow' as severity,
        region_code,
        subject_ref,
        event_date,
        amount,
        json_object(
            'branch', 'a',
            'records', json_array({{{{ evidence_record('{e.entity}', '{e.key}') }}}}),
            'relation', 'TODO: how the records are tied',
            'figures', json_object('amount', amount),
            'thresholds', json_object('{EXAMPLE_PARAMETER}', {EXAMPLE_PARAMETER})) as evidence
    from fired
)

{{{{ alert_contract('findings') }}}}
"""


def _fixture_row(e: StubEntity, key: str, amount: int) -> str:
    row = {e.key: key, **e.fixture, AMOUNT_COLUMN.get(e.entity, e.amount): amount}
    return "{" + ", ".join(f"{k}: {_yaml_scalar(v)}" for k, v in row.items()) + "}"


def _yaml_scalar(value) -> str:
    return f'"{value}"' if isinstance(value, str) and not re.match(r"^\d{4}-\d{2}-\d{2}$", value) else str(value)


def _yml(s: Scaffold) -> str:
    e = DOMAINS[s.domain]
    positive, decoy = f"test:{s.model_id}_POSITIVE", f"test:{s.model_id}_DECOY"
    return f"""version: 2

models:
  - name: {s.model_name}
    description: >
      {s.model_id} — TODO one paragraph: what the model finds, its branches, region, event date
      and amount as models.md's tables say.
    config:
      tags: [supervision_model]
      meta:
        model_id: {s.model_id}
        version: 0.1.0
        name_zh: TODO中文名称
        name_en: "TODO English name"
        domain: {s.domain}
        severity: yellow
        mode: {s.mode}
        owner_region: "{PROVINCE}"
        scope: ["{PROVINCE}"]
        legal_basis: TODO（法规依据）
        author: {s.author}

unit_tests:
  - name: {s.model_name}_branches_and_decoys
    description: >
      TODO one positive row per rule branch and each decoy that must not alert. The stub: an
      amount at the threshold alerts, one below it does not.
    model: {s.model_name}
    given:
      - input: ref('{e.entity}')
        rows:
          - {_fixture_row(e, positive, EXAMPLE_THRESHOLD)}
          - {_fixture_row(e, decoy, EXAMPLE_THRESHOLD - 1)}
      - input: ref('model_thresholds')
        rows:
          - {{model_id: {s.model_id}, parameter: enabled, region_code: "{PROVINCE}", value: 1}}
          - {{model_id: {s.model_id}, parameter: {EXAMPLE_PARAMETER}, region_code: "{PROVINCE}", value: {EXAMPLE_THRESHOLD}}}
    expect:
      rows:
        - {{primary_key: "{positive}", rule_branch: a, severity: yellow, region_code: "330102"}}
"""


def _seed_rows(s: Scaffold) -> list[str]:
    return [f"{s.model_id},enabled,{PROVINCE},1", f"{s.model_id},{EXAMPLE_PARAMETER},{PROVINCE},{EXAMPLE_THRESHOLD}"]


def scaffold(model_id: str, domain: str, name: str = "new_model", *, mode: str = "shadow",
             author: str = "TODO author", dbt_dir: Path = DBT_PROJECT_DIR) -> list[Path]:
    """Write the new model's SQL and YAML and its threshold rows; returns the files written.

    Refuses an invalid id, domain or name, and a model id that already exists.
    """
    model_id = model_id.upper()
    if not MODEL_ID.match(model_id):
        raise ValueError(f"model id {model_id!r}: expected SM followed by digits, e.g. SM11")
    if domain not in DOMAINS:
        raise ValueError(f"domain {domain!r}: expected one of {', '.join(sorted(DOMAINS))}")
    if not SLUG.match(name):
        raise ValueError(f"name {name!r}: lowercase letters, digits and '_' only, e.g. bid_rigging_ring")
    if mode not in ("shadow", "live"):
        raise ValueError(f"mode {mode!r}: shadow or live")
    dbt_dir = Path(dbt_dir)
    existing = sorted(p for p in (dbt_dir / "models" / "gold").glob(f"*/{model_id.lower()}_*.sql"))
    if existing:
        raise ValueError(f"{model_id} exists already: {existing[0].relative_to(dbt_dir)}")
    s = Scaffold(model_id, domain, name, mode, author)
    sql_path, yml_path = s.paths(dbt_dir)
    sql_path.parent.mkdir(parents=True, exist_ok=True)
    sql_path.write_text(_sql(s), encoding="utf-8")
    yml_path.write_text(_yml(s), encoding="utf-8")
    seed = dbt_dir / THRESHOLDS_SEED
    text = seed.read_text(encoding="utf-8")
    seed.write_text(text.rstrip("\n") + "\n" + "\n".join(_seed_rows(s)) + "\n", encoding="utf-8")
    return [sql_path, yml_path, seed]


@click.command("new-model")
@click.argument("model_id")
@click.option("--domain", required=True, type=click.Choice(sorted(DOMAINS)), help="Folder under models/gold/.")
@click.option("--name", default="new_model", show_default=True, help="File name after smNN_ (lowercase, '_').")
@click.option("--mode", type=click.Choice(["shadow", "live"]), default="shadow", show_default=True,
              help="shadow: built and scored, not published; live: feeds alerts.")
@click.option("--author", default="TODO author", help="meta.author of the new model.")
def new_model(model_id: str, domain: str, name: str, mode: str, author: str) -> None:
    """Scaffold supervision model MODEL_ID (e.g. SM11): SQL, YAML with a unit-test stub, threshold rows."""
    try:
        written = scaffold(model_id, domain, name, mode=mode, author=author)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    for path in written:
        click.echo(f"wrote {path.relative_to(DBT_PROJECT_DIR.parent)}")
    click.echo("next: edit the rule and its unit test, `powertrace prepare`, then "
               f"`dbt build -s {written[0].stem}+` (see dbt_project/README.md)")

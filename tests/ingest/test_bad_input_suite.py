"""The bad-input suite: over 30 malformed deliveries landed in ONE lake beside a good system.

Each case builds one bad delivery for one system and says how it must end: rows in bronze as
delivered (identifier noise, which silver normalises), rows quarantined under a rule, the whole
file rejected with a rule and a reason, a batch-level warning (a folder that is not a batch), or
a contract refused at load. One module-scoped run ingests them all together; the tests then
check every case, that the good system lands whole, that every file's records add up (or the file
is reported as rejected), and that nothing outside landing is opened or listed. A 100 MB single
line gets its own test (in a fresh process, to measure memory), as does the chunked line scan.

Single rules are tested in detail by test_ingest.py, test_readers.py, test_apply.py and
tests/registry/test_validation.py; this suite does not repeat those checks, it runs the
deliveries together. docs/ingestion.md ("Bad deliveries") lists the cases and their outcomes.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import os
import random
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from ingest_helpers import HEADER, contract_doc, csv_text, land, payment_table, write_contract

from orchestration.contracts import Contract, ContractError
from orchestration.ingest import SystemIngestResult, ingest_system, ledger_frame, quarantine_frame
from orchestration.ingest import readers
from orchestration.ingest.readers import MAX_LINE_BYTES_SETTING, PREVIEW_BYTES, bounded_lines, first_long_line

FIRST_DAY = dt.date(2026, 10, 1)
COLUMNS = HEADER.split(",")            # ZFBH,CBM,SKRZJHM,SKRMC,JE,ZFRQ,LB
SUITE_LINE_LIMIT = 64 * 1024           # POWERTRACE_MAX_LINE_BYTES during the suite: small, so the long line is cheap
SECRET = "OUTSIDE_LANDING_SECRET"      # in every file outside landing: must reach neither bronze nor quarantine

# One system per delivery format (all deliver village_payment, pattern zfmx*.<ext>), one whose
# folder is a symlink out of landing, one whose contract is broken, and the good system.
CSV, GBK, XLSX = "village_finance_330200", "village_finance_330210", "village_finance_330220"
JSONL, PARQUET = "village_finance_330230", "village_finance_330240"
LINKED, BROKEN = "village_finance_330250", "village_finance_330260"
GOOD = "village_finance_331100"
FORMATS = {CSV: ("csv", "utf-8"), GBK: ("csv", "gbk"), XLSX: ("xlsx", "utf-8"), JSONL: ("jsonl", "utf-8"),
           PARQUET: ("parquet", "utf-8"), LINKED: ("csv", "utf-8"), BROKEN: ("csv", "utf-8"), GOOD: ("csv", "utf-8")}
GOOD_ROWS = 25


# ------------------------------------------------------------------------------ deliveries

def record(pid: str = "P1", day: dt.date = FIRST_DAY, **change: str) -> list[str]:
    """One payment in the native columns; keyword arguments replace a column's value."""
    values = {"ZFBH": pid, "CBM": "330102001001", "SKRZJHM": "330102198001011234", "SKRMC": "张三",
              "JE": "12345", "ZFRQ": day.strftime("%Y%m%d"), "LB": "务工补贴"}
    return list({**values, **change}.values())


def csv_bytes(*records: list[str], header: list[str] = COLUMNS, encoding: str = "utf-8") -> bytes:
    return csv_text(*(",".join(r) for r in records), header=",".join(header)).encode(encoding)


def jsonl_bytes(*objects: object) -> bytes:
    return "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objects).encode()


def as_object(values: list[str]) -> dict:
    return dict(zip(COLUMNS, values))


def xlsx_bytes(*records: list, header: list[str] = COLUMNS, more_sheets: dict[str, list[list]] | None = None,
               merge: tuple[int, int, str] | None = None) -> bytes:
    """A workbook: header and records on its first sheet; ``merge``: (first, last column, text) of a merged header."""
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    sheet = book.add_worksheet("付款明细")
    if merge:   # the merged cells' own headers are gone, as when a person merges them in Excel
        first, last, text = merge
        header = [*header[:first], *[None] * (last - first + 1), *header[last + 1:]]
        sheet.merge_range(0, first, 0, last, text)
    sheet.write_row(0, 0, header)
    for r, values in enumerate(records, start=1):
        sheet.write_row(r, 0, values)
    for title, rows in (more_sheets or {}).items():
        extra = book.add_worksheet(title)
        for r, values in enumerate(rows):
            extra.write_row(r, 0, values)
    book.close()
    return buf.getvalue()


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.write_parquet(buf)
    return buf.getvalue()


def payments_frame(*records: list[str]) -> pl.DataFrame:
    return pl.DataFrame([as_object(r) for r in records], schema={c: pl.Utf8 for c in COLUMNS})


def garbage(size: int = 4096, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


def corrupt_sheet(workbook: bytes) -> bytes:
    """The workbook with its sheet XML cut in half: a valid zip whose rows cannot be parsed."""
    source, out = zipfile.ZipFile(io.BytesIO(workbook)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, data[:len(data) // 2] if item.filename == "xl/worksheets/sheet1.xml" else data)
    return out.getvalue()


@dataclass
class Site:
    """Where one case delivers: its system's folder in landing, its batch date, a folder outside the lake."""

    lake: Path
    system: str
    day: dt.date
    outside: Path

    @property
    def system_folder(self) -> Path:
        return self.lake / "landing" / self.system

    def put(self, name: str, data: bytes, folder: str | None = None) -> Path:
        path = self.system_folder / (folder or self.day.isoformat()) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    def secret_file(self, name: str) -> Path:
        """A delivery-shaped file outside landing that must never be read."""
        path = self.outside / self.system / self.day.isoformat() / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(csv_bytes(record(SECRET, self.day)))
        return path

    def link(self, name: str, target: Path) -> None:
        path = self.system_folder / self.day.isoformat() / name
        path.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, path)

    def link_batch_folder(self) -> None:
        """The batch folder itself a symlink to a folder outside landing."""
        self.system_folder.mkdir(parents=True, exist_ok=True)
        os.symlink(self.secret_file("zfmx.csv").parent, self.system_folder / self.day.isoformat())

    def link_system_folder(self) -> None:
        """The system folder itself a symlink to a folder outside landing."""
        self.secret_file("zfmx.csv")
        os.symlink(self.outside / self.system, self.system_folder)


# -------------------------------------------------------------------------------- outcomes

@dataclass(frozen=True)
class Outcome:
    """How a case must end. ``says``: words the message about it must hold."""

    kind: str                                   # bronze | rows | rejected | skipped | contract
    says: str = ""
    bronze: int = 0                             # rows of the case's file in bronze
    rows: dict[int, str] = field(default_factory=dict)   # quarantined source row -> rule
    rule: str | None = None                     # file-level rule of a rejection
    kept: str | None = None                     # a payee_id bronze must hold exactly as delivered
    counted: bool = True                        # False: a file not read (binary, or refused) cannot be counted


def bronze(n: int, kept: str | None = None, says: str = "") -> Outcome:
    return Outcome("bronze", says, bronze=n, kept=kept)


def rows(n_bronze: int, rule_by_row: dict[int, str], says: str) -> Outcome:
    return Outcome("rows", says, bronze=n_bronze, rows=rule_by_row)


def rejected(rule: str, says: str, counted: bool = True) -> Outcome:
    return Outcome("rejected", says, rule=rule, counted=counted)


def skipped(says: str) -> Outcome:
    return Outcome("skipped", says)


@dataclass(frozen=True)
class Case:
    name: str
    system: str
    deliver: Callable[[Site], None]
    expect: Outcome
    file: str = ""                  # the name the ledger records (default: zfmx.<format>)
    folder: str = ""                # batch folder name, for cases about folders
    day: dt.date | None = None      # a fixed batch date (default: one date per case)

    @property
    def file_name(self) -> str:
        return self.file or f"zfmx.{FORMATS[self.system][0]}"


def two(bad: dict[str, str]) -> Callable[[Site], None]:
    """A CSV delivery: one sound record, then one with ``bad`` native values."""
    return lambda s: s.put("zfmx.csv", csv_bytes(record("P1", s.day), record("P2", s.day, **bad)))


def then(line: bytes) -> Callable[[Site], None]:
    """A CSV delivery: one sound record, then ``line`` as it is."""
    return lambda s: s.put("zfmx.csv", csv_bytes(record("P1", s.day)) + line)


def under(header: list[str]) -> Callable[[Site], None]:
    """A CSV delivery of one sound record under another header."""
    return lambda s: s.put("zfmx.csv", csv_bytes(record("P1", s.day), header=header))


def sound_csv(name: str, encoding: str = "utf-8", folder: str | None = None) -> Callable[[Site], None]:
    return lambda s: s.put(name, csv_bytes(record("P1", s.day), encoding=encoding), folder)


def as_bytes(name: str, make: Callable[[dt.date], bytes]) -> Callable[[Site], None]:
    """A delivery whose bytes ``make`` builds from the batch date."""
    return lambda s: s.put(name, make(s.day))


def noise(name: str, value: str) -> Case:
    """Identifier noise (world.md): lands in bronze exactly as delivered, silver normalises it."""
    return Case(name, CSV, two({"SKRZJHM": value}), bronze(2, kept=value))


def future_dated(s: Site) -> None:
    two({"ZFRQ": (s.day + dt.timedelta(days=1)).strftime("%Y%m%d")})(s)


def xlsx_with(**kw) -> Callable[[Site], None]:
    return as_bytes("zfmx.xlsx", lambda day: xlsx_bytes(record("P1", day), **kw))


def jsonl_of(*change: dict) -> Callable[[Site], None]:
    """A jsonl delivery: one object per ``change`` (P1, P2, ...), native values replaced by it."""
    return as_bytes("zfmx.jsonl", lambda day: jsonl_bytes(
        *({**as_object(record(f"P{k}", day)), **c} for k, c in enumerate(change, start=1))))


BAD_LINE = 3 * SUITE_LINE_LIMIT          # bytes of the over-long line (plus "P2,")
ODD_NAME = "zfmx\u200b\u202e（２）e\u0301🙂.csv"   # zero-width space, right-to-left override, full-width, NFD, emoji
NOT_UTF8_NAME = os.fsdecode(b"zfmx-\xff\xfe.csv")   # bytes Linux allows in a name, not valid UTF-8
NO_VALUE = "is not an amount"

CASES: list[Case] = [
    # --- the defects of world.md (CSV; single rules are unit-tested in test_ingest.py and test_apply.py)
    Case("duplicate_rows", CSV, two({"ZFBH": "P1"}), bronze(2)),
    noise("bad_check_character", "330102198001011235"),
    noise("legacy_15_digit_id", "330102800101123"),
    noise("lowercase_x", "33010219800101123x"),
    noise("full_width_digits", "３３０１０２１９８００１０１１２３４"),
    noise("stray_spaces", " 330102198001011234 "),
    Case("null_required", CSV, two({"CBM": ""}),
         rows(1, {3: "missing_required"}, "village_code (CBM): required value")),
    Case("null_primary_key", CSV, two({"ZFBH": ""}),
         rows(1, {3: "missing_required"}, "payment_id (ZFBH): required value")),
    Case("impossible_date", CSV, two({"ZFRQ": "20260230"}),
         rows(1, {3: "unparsable_date"}, "'20260230' is not a valid compact date")),
    Case("future_date", CSV, future_dated, rows(1, {3: "future_date"}, "is after the batch date")),
    Case("negative_amount", CSV, two({"JE": "-100"}),
         rows(1, {3: "negative_amount"}, "amount (JE): '-100' is negative")),
    Case("unparsable_amount", CSV, two({"JE": "12元"}), rows(1, {3: "unparsable_number"}, f"'12元' {NO_VALUE} in fen")),
    Case("too_many_fields", CSV, two({"LB": "材料款,多余"}), rows(1, {3: "field_count"}, "8 fields, expected 7")),
    Case("too_few_fields", CSV, then(b"P2,330102001001,x,y,1,20261001\n"),
         rows(1, {3: "field_count"}, "6 fields, expected 7")),
    Case("truncated_last_line", CSV, then(b"P2,33010200"),
         rows(1, {3: "field_count"}, "truncated last line: 2 fields")),
    Case("unclosed_quote", CSV, then(b'P2,"330102001001,x\n'),
         rows(1, {3: "field_count"}, "quoted field is not closed")),
    Case("empty_file", CSV, as_bytes("zfmx.csv", lambda day: b""), bronze(0)),
    Case("header_only_file", CSV, as_bytes("zfmx.csv", lambda day: csv_bytes()), bronze(0)),
    Case("schema_drift_optional_header", CSV, under([*COLUMNS[:3], "SKRXM", *COLUMNS[4:]]),
         bronze(1, says="'SKRMC' (→ payee_name) is missing (renamed to 'SKRXM'?)")),
    Case("schema_drift_required_header", CSV, under([*COLUMNS[:4], "ZFJE", *COLUMNS[5:]]),
         rejected("missing_column", "'JE' (→ amount) is missing (renamed to 'ZFJE'?)")),
    # --- contents the contract cannot read
    Case("semicolon_delimiter", CSV, as_bytes("zfmx.csv", lambda day: csv_bytes(record("P1", day)).replace(b",", b";")),
         rejected("missing_column", "Header found: ['ZFBH;CBM;SKRZJHM;SKRMC;JE;ZFRQ;LB']")),
    Case("binary_garbage", CSV, as_bytes("zfmx.csv", lambda day: garbage()),
         rejected("undecodable", "UTF-16 or binary")),
    Case("gbk_text_in_utf8_contract", CSV, sound_csv("zfmx.csv", "gbk"),
         rejected("undecodable", "are not valid utf-8")),
    Case("utf16_text", CSV, sound_csv("zfmx.csv", "utf-16"), rejected("undecodable", "NUL bytes, so not utf-8 text")),
    Case("line_over_the_length_limit", CSV, then(b"P2," + b"9" * BAD_LINE + b"\n"),
         rejected("unreadable_file", f"line 3 is {BAD_LINE + 3:,} bytes, longer than the limit")),
    Case("batch_before_every_mapping", CSV, sound_csv("zfmx.csv"), rejected("unreadable_file", "no mapping version"),
         day=dt.date(2025, 10, 1)),
    Case("file_matching_no_table", CSV, sound_csv("ZFMX.CSV"), rejected("unreadable_file", "matches no table"),
         file="ZFMX.CSV"),
    # 张三 and 务工补贴 are 6 and 12 bytes in UTF-8: gbk would decode them, as mojibake
    Case("utf8_text_in_gbk_contract", GBK, sound_csv("zfmx.csv"), rejected("undecodable", "the file is UTF-8 text")),
    # --- file names
    Case("file_name_with_spaces", CSV, sound_csv("zfmx 付款 明细 2026.csv"), bronze(1),
         file="zfmx 付款 明细 2026.csv"),
    Case("file_name_odd_unicode", CSV, sound_csv(ODD_NAME), bronze(1), file=ODD_NAME),
    Case("file_name_not_utf8", CSV, sound_csv(NOT_UTF8_NAME), bronze(1), file="zfmx-\\xff\\xfe.csv"),
    # --- links and folders
    Case("symlink_out_of_landing", CSV, lambda s: s.link("zfmx.csv", s.secret_file("zfmx.csv")),
         rejected("unreadable_file", "outside the landing zone; not read", counted=False)),
    Case("symlink_loop", CSV, lambda s: s.link("zfmx.csv", s.system_folder / s.day.isoformat() / "zfmx.csv"),
         rejected("unreadable_file", "a symlink that cannot be resolved", counted=False)),
    Case("batch_folder_symlinked_out", CSV, Site.link_batch_folder, skipped("the batch folder is a symlink to"),
         folder="2026-12-01", day=dt.date(2026, 12, 1)),
    Case("system_folder_symlinked_out", LINKED, Site.link_system_folder, skipped("the system folder is a symlink to")),
    Case("batch_folder_invalid_date", CSV, sound_csv("zfmx.csv", folder="2026-13-45"),
         skipped("batch folder name is not a valid YYYY-MM-DD date"), folder="2026-13-45"),
    Case("batch_folder_iso_week_date", CSV, sound_csv("zfmx.csv", folder="2026-W40-4"),
         skipped("batch folder name is not a valid YYYY-MM-DD date"), folder="2026-W40-4"),
    Case("folder_inside_a_batch", CSV, sound_csv("zfmx.csv", folder="2026-12-02/more"),
         skipped("a folder inside a batch folder"), folder="2026-12-02/more", day=dt.date(2026, 12, 2)),
    Case("file_outside_a_batch_folder", CSV, sound_csv("zfmx.csv", folder="."),
         skipped("a file directly in the system folder"), folder="zfmx.csv"),
    # --- xlsx
    Case("zero_byte_xlsx", XLSX, as_bytes("zfmx.xlsx", lambda day: b""), bronze(0)),
    Case("binary_garbage_xlsx", XLSX, as_bytes("zfmx.xlsx", lambda day: garbage()),
         rejected("unreadable_file", "not a readable xlsx workbook", counted=False)),
    Case("csv_text_named_xlsx", XLSX, as_bytes("zfmx.xlsx", lambda day: csv_bytes(record("P1", day))),
         rejected("unreadable_file", "not a readable xlsx workbook (BadZipFile", counted=False)),
    Case("xlsx_several_sheets", XLSX, xlsx_with(more_sheets={"第二页": [COLUMNS, record("P2")], "Sheet3": []}),
         rejected("unreadable_file", "sheets ['第二页'] hold records too")),
    Case("xlsx_merged_header_cells", XLSX, xlsx_with(merge=(3, 4, "收款人")),     # SKRMC and JE under one cell
         rejected("missing_column", "'JE' (→ amount) is missing")),
    Case("xlsx_corrupt_sheet", XLSX, as_bytes("zfmx.xlsx", lambda day: corrupt_sheet(xlsx_bytes(record("P1", day)))),
         rejected("unreadable_file", "not a readable xlsx workbook (ParseError", counted=False)),
    Case("xlsx_formula_error", XLSX, as_bytes("zfmx.xlsx", lambda day: xlsx_bytes(record("P1", day),
                                                                                   record("P2", day, JE="#DIV/0!"))),
         rows(1, {3: "unparsable_number"}, f"amount (JE): '#DIV/0!' {NO_VALUE}")),
    # --- jsonl
    Case("nested_json_record", JSONL, as_bytes("zfmx.jsonl", lambda day: jsonl_bytes({"payment": as_object(record())})),
         rejected("missing_column", "(renamed to 'payment'?)")),
    Case("nested_json_value", JSONL, jsonl_of({}, {"JE": {"fen": 12345}}),
         rows(1, {2: "unparsable_number"}, f"""'{{"fen":12345}}' {NO_VALUE}""")),
    Case("json_array_not_lines", JSONL, as_bytes("zfmx.jsonl", lambda day: json.dumps([as_object(record())]).encode()),
         rows(0, {1: "field_count"}, "a JSON list, expected an object")),
    Case("json_nested_too_deep", JSONL, as_bytes("zfmx.jsonl", lambda day: jsonl_bytes(as_object(record("P1", day)))
                                                  + b"[" * 2000 + b"]" * 2000 + b"\n"),
         rows(1, {2: "field_count"}, "not valid JSON")),
    Case("json_number_beyond_float", JSONL, jsonl_of({"SKRZJHM": 622202123456789012345678}),
         bronze(1, kept="622202123456789012345678")),
    Case("gbk_jsonl", JSONL, as_bytes("zfmx.jsonl", lambda day: jsonl_bytes(as_object(record("P1", day))).decode()
                                      .encode("gbk")), rejected("undecodable", "are not valid utf-8")),
    # --- parquet
    Case("binary_garbage_parquet", PARQUET, as_bytes("zfmx.parquet", lambda day: garbage()),
         rejected("unreadable_file", "not a readable parquet file", counted=False)),
    Case("truncated_parquet", PARQUET,
         as_bytes("zfmx.parquet", lambda day: parquet_bytes(payments_frame(record()))[:300]),
         rejected("unreadable_file", "not a readable parquet file", counted=False)),
    Case("parquet_nested_column", PARQUET, as_bytes("zfmx.parquet", lambda day: parquet_bytes(
        payments_frame(record("P1", day), record("P2", day)).with_columns(JE=pl.struct(fen="JE")))),
         rows(0, {1: "unparsable_number", 2: "unparsable_number"}, f"""'{{"fen":"12345"}}' {NO_VALUE}""")),
    # --- the contract itself (tests/registry/test_validation.py tests every contract rule)
    Case("contract_pattern_escapes_batch", BROKEN, lambda s: None,
         Outcome("contract", "tables.village_payment.file_pattern: must be a file name glob inside the batch folder")),
]


# ---------------------------------------------------------------------------- the one run

def contract_for(root: Path, system: str) -> Contract:
    fmt, encoding = FORMATS[system]
    doc = contract_doc(format=fmt, encoding=encoding)
    doc["system_id"] = system
    payment_table(doc)["file_pattern"] = "../zfmx*.csv" if system == BROKEN else f"zfmx*.{fmt}"
    return write_contract(root, doc)


_WATCHED: list[str] | None = None       # paths opened or listed while the suite runs


def _audit(event: str, args: tuple) -> None:
    if _WATCHED is not None and event in ("open", "os.listdir", "os.scandir") and args \
            and isinstance(args[0], (str, bytes, os.PathLike)):
        _WATCHED.append(os.path.realpath(os.fsdecode(args[0])))


@dataclass
class SuiteRun:
    lake: Path
    outside: Path
    days: dict[str, dt.date]                          # case name -> batch date
    results: dict[str, SystemIngestResult]
    contract_errors: dict[str, str]
    opened: list[str]
    ledger: pl.DataFrame = field(init=False)
    quarantine: pl.DataFrame = field(init=False)

    def __post_init__(self) -> None:
        self.ledger = ledger_frame(self.lake)
        self.quarantine = quarantine_frame(self.lake)

    def bronze(self, system: str) -> pl.DataFrame:
        return pl.read_delta(str(self.lake / "bronze" / system / "village_payment"))


@pytest.fixture(scope="module")
def suite(tmp_path_factory) -> SuiteRun:
    global _WATCHED
    root = tmp_path_factory.mktemp("bad_input_suite")
    lake, outside = root / "lake", root / "outside"
    lake.mkdir()
    outside.mkdir()
    days = {}
    for k, case in enumerate(CASES):
        days[case.name] = case.day or FIRST_DAY + dt.timedelta(days=k)
        case.deliver(Site(lake, case.system, days[case.name], outside))
    for part in range(3):        # the good delivery: a batch split in three files
        land(lake, f"zfmx-{part}.csv", csv_bytes(*(record(f"G{k}") for k in range(GOOD_ROWS) if k % 3 == part)),
             system=GOOD)

    contracts, errors = {}, {}
    for system in FORMATS:
        try:
            contracts[system] = contract_for(root, system)
        except ContractError as err:
            errors[system] = str(err)
    results = {}
    sys.addaudithook(_audit)            # stays for the process; records only while _WATCHED is a list
    _WATCHED = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(MAX_LINE_BYTES_SETTING, str(SUITE_LINE_LIMIT))
        try:
            for system, contract in contracts.items():
                results[system] = ingest_system(contract, lake)
        finally:
            opened, _WATCHED = _WATCHED, None
    return SuiteRun(lake, outside, days, results, errors, opened)


def test_the_suite_holds_at_least_30_distinct_bad_deliveries():
    names = [c.name for c in CASES]
    malformed = [c for c in CASES if not (c.expect.kind == "bronze" and c.expect.kept)]   # noise is not malformed
    assert len(set(names)) == len(names) and len(malformed) >= 30


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_bad_delivery_ends_as_expected(suite, case):
    expect, day = case.expect, suite.days[case.name]
    if expect.kind == "contract":
        message = suite.contract_errors[case.system]
        assert f"{case.system}.yml" in message and expect.says in message, message
        return
    result = suite.results[case.system]
    if expect.kind == "skipped":
        where = f"landing/{case.system}" + (f"/{case.folder}" if case.folder else "")
        assert any(w.startswith(where) and expect.says in w for w in result.warnings), result.warnings
        assert suite.ledger.filter(pl.col("system_id") == case.system, pl.col("batch_date") == day).height == 0
        return

    ledger = suite.ledger.filter(pl.col("system_id") == case.system, pl.col("batch_date") == day)
    assert ledger["file_name"].to_list() == [case.file_name]
    entry = ledger.row(0, named=True)
    quarantined = suite.quarantine.filter(pl.col("system_id") == case.system, pl.col("batch_date") == day)
    in_bronze = suite.bronze(case.system).filter(pl.col("_batch_date") == day)
    assert set(in_bronze["_file_name"]) <= {case.file_name} and set(quarantined["file_name"]) <= {case.file_name}
    assert in_bronze.height == entry["rows_bronze"] == expect.bronze
    if expect.kind == "bronze":
        assert quarantined.height == 0 and entry["reconciled"] and not entry["message"]
        if expect.kept:
            assert expect.kept in in_bronze["payee_id"].to_list()
        if expect.says:
            assert any(case.file_name in w and expect.says in w for w in result.warnings), result.warnings
    elif expect.kind == "rows":   # file (checked above), row, rule and a reason naming column and value
        held = quarantined.select("source_row", "rule", "reason").rows()
        assert {row: rule for row, rule, _ in held} == expect.rows
        assert any(expect.says in reason for _, _, reason in held), held
        assert entry["reconciled"] and entry["rows_quarantined"] == len(expect.rows)
    else:   # rejected: the whole file to quarantine with one rule and a reason naming the file
        assert set(quarantined["rule"]) == {expect.rule}
        reason = quarantined["reason"][0]
        assert reason.startswith(f"{case.file_name}: ") and expect.says in reason, reason
        assert entry["message"].startswith(f"rejected: {reason}")
        assert entry["rows_quarantined"] == quarantined["source_row"].drop_nulls().len()
        if expect.counted:
            assert entry["reconciled"]
        else:   # not read: what it holds is unknown, so the ledger cannot balance it and says so
            assert entry["records_sent"] is None and not entry["reconciled"]
            assert quarantined["raw_line"].to_list() == [None]


def test_the_good_system_lands_whole_beside_the_bad_ones(suite):
    table = suite.bronze(GOOD)
    assert sorted(table["payment_id"]) == sorted(f"G{k}" for k in range(GOOD_ROWS))
    assert suite.results[GOOD].reconciled and not suite.results[GOOD].rejected
    assert suite.quarantine.filter(pl.col("system_id") == GOOD).height == 0


def test_every_file_adds_up_or_is_reported_rejected(suite):
    """records sent = rows in bronze + rows quarantined, counted in the tables themselves, per file;
    the only exceptions are files refused unread, which the ledger lists as rejected."""
    per_file = ["system_id", "batch_date", "file_name"]
    landed = pl.concat([suite.bronze(s).select(pl.col("_system_id").alias("system_id"),
                                               pl.col("_batch_date").alias("batch_date"),
                                               pl.col("_file_name").alias("file_name"))
                        for s in suite.results]).group_by(per_file).agg(pl.len().alias("in_bronze"))
    held = (suite.quarantine.filter(pl.col("source_row").is_not_null())
            .group_by(per_file).agg(pl.len().alias("in_quarantine")))
    files = (suite.ledger.join(landed, on=per_file, how="left").join(held, on=per_file, how="left")
             .with_columns(pl.col("in_bronze", "in_quarantine").fill_null(0)))
    assert files.height == sum(c.expect.kind not in ("skipped", "contract") for c in CASES) + 3
    assert (files["rows_bronze"] == files["in_bronze"]).all()
    assert (files["rows_quarantined"] == files["in_quarantine"]).all()
    balanced = files.filter(pl.col("records_sent") == pl.col("in_bronze") + pl.col("in_quarantine"))
    assert balanced["reconciled"].all()
    unbalanced = files.join(balanced, on=per_file, how="anti")
    assert unbalanced["records_sent"].is_null().all() and unbalanced["message"].str.starts_with("rejected: ").all()
    uncounted = {(c.system, suite.days[c.name]) for c in CASES if not c.expect.counted}
    assert set(unbalanced.select("system_id", "batch_date").rows()) == uncounted


def test_nothing_outside_landing_is_read(suite):
    outside = str(suite.outside.resolve())
    assert any(f"/landing/{CSV}/" in p for p in suite.opened)           # the watch did see the reads
    assert not [p for p in suite.opened if p.startswith(outside)]
    secret_files = [p for p in suite.outside.rglob("*") if p.is_file()]
    assert secret_files and all(SECRET in p.read_text() for p in secret_files)
    for system in suite.results:
        assert SECRET not in suite.bronze(system)["payment_id"].to_list()
    assert not suite.quarantine["raw_line"].drop_nulls().str.contains(SECRET).any()


# -------------------------------------------------------------------- a 100 MB single line

@pytest.mark.parametrize("seed", range(25))
def test_the_chunked_line_scan_agrees_with_splitting_the_file_whole(tmp_path, monkeypatch, seed):
    """Lines shorter than, equal to, just over and far over the limit, across chunk boundaries."""
    rng = random.Random(seed)
    limit = rng.randint(3, 12)
    monkeypatch.setattr(readers, "_CHUNK", rng.randint(1, 2 * limit))
    sizes = [rng.choice([0, 1, limit - 1, limit, limit + 1, 5 * limit]) for _ in range(rng.randint(1, 12))]
    data = b"\n".join(bytes([65 + k % 26]) * size for k, size in enumerate(sizes)) + rng.choice([b"", b"\n"])
    path = tmp_path / "lines.csv"
    path.write_bytes(data)
    lines = data.split(b"\n")[:-1] if data.endswith(b"\n") else data.split(b"\n")
    if data:
        assert list(bounded_lines(path, limit)) == [(n, line[:limit], len(line)) for n, line in enumerate(lines, 1)]
    too_long = [(n, len(line)) for n, line in enumerate(lines, 1) if len(line) > limit]
    assert first_long_line(path, limit) == (too_long[0] if too_long else None)


INGEST_IN_A_FRESH_PROCESS = """
import json, resource, sys
from pathlib import Path
from orchestration.contracts import load_contract
from orchestration.ingest import ingest_system
contract, lake, warm_day, big_day = load_contract(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
import datetime as dt
ingest_system(contract, lake, batch_dates=[dt.date.fromisoformat(warm_day)])   # imports, tables, a Delta write
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
result = ingest_system(contract, lake, batch_dates=[dt.date.fromisoformat(big_day)])
grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"grew_kib": grew, "rejected": [f.rejected_reason for f in result.rejected]}))
"""


def test_a_100_mb_single_line_is_rejected_without_loading_it(tmp_path):
    """The default line limit (1 MiB) rejects it after a streaming scan: memory grows by far less
    than the file (reading it whole took 1.4 GB), and the quarantine keeps a short preview."""
    contract_for(tmp_path, CSV)
    lake, warm_day, big_day = tmp_path / "lake", dt.date(2026, 10, 1), dt.date(2026, 10, 2)
    land(lake, "zfmx.csv", csv_bytes(record("P1", warm_day)), day=warm_day, system=CSV)
    big = lake / "landing" / CSV / big_day.isoformat() / "zfmx.csv"
    big.parent.mkdir(parents=True)
    with big.open("wb") as fh:
        fh.write(csv_bytes(record("P1", big_day)) + b"P2,")
        block = b"0123456789" * (1 << 16)
        for _ in range(160):                                  # 160 x 640 KiB = 100 MiB on one line
            fh.write(block)
    size = big.stat().st_size
    env = {**os.environ, MAX_LINE_BYTES_SETTING: ""}         # the default limit
    contract_path = next((tmp_path / "sources").rglob(f"{CSV}.yml"))
    out = subprocess.run([sys.executable, "-c", INGEST_IN_A_FRESH_PROCESS, str(contract_path), str(lake),
                          warm_day.isoformat(), big_day.isoformat()], capture_output=True, text=True, env=env,
                         check=True, cwd=Path(__file__).resolve().parents[2])
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["grew_kib"] * 1024 < size / 4, report
    assert report["rejected"] == [f"zfmx.csv: line 3 is {size - len(csv_bytes(record('P1', big_day))):,} bytes, "
                                  f"longer than the limit of 1,048,576 bytes ({MAX_LINE_BYTES_SETTING}); not read as "
                                  f"csv; the whole file is rejected"]
    held = quarantine_frame(lake, CSV).sort("source_row")
    assert held["source_row"].to_list() == [2, 3]          # the sound line 2 too: the file is rejected whole
    assert held["raw_line"].str.len_bytes().max() < PREVIEW_BYTES + 100
    entry = ledger_frame(lake, CSV).filter(pl.col("batch_date") == big_day).row(0, named=True)
    assert (entry["records_sent"], entry["rows_bronze"], entry["rows_quarantined"]) == (2, 0, 2) and entry["reconciled"]

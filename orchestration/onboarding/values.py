"""Value evidence: what a sampled column's values look like, and the parse rules they imply.

Each value gets one *shape* (``id_number``, ``credit_code``, ``village_code``, ``date_slash``,
``int``, ...). A column's shape counts tell the matcher whether a header's proposed canonical
column fits (an id column must hold id numbers), and tell the contract its date style, amount
unit and code map.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from orchestration.canonical import CREDIT_CODE_COLUMNS, ID_NUMBER_COLUMNS

from .vocabulary import Vocabulary, bracket_notes, header_key

DISTINCT_LIMIT = 200            # distinct values remembered per column (code maps need few)
MAX_CODE_VALUES = 40            # more distinct values than this is not a code column
SERIAL_RANGE = (10000, 80000)   # Excel serial days: 1927-05-18 .. 2119-01-10

_ID18 = re.compile(r"^\d{17}[\dX]$")
_ID15 = re.compile(r"^\d{15}$")
_USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
_PHONE = re.compile(r"^(\+?86[- ]?)?1[3-9]\d{9}$|^0\d{2,3}-?\d{7,8}$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_ISO_TS = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")
_SLASH_DATE = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")
_SLASH_TS = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2}) \d{1,2}:\d{2}(:\d{2})?$")
_MONTH = re.compile(r"^(\d{4})[-/](\d{1,2})$")
_IP = re.compile(r"^(\d{1,3}\.){3}\d{1,3}$")
_MAC = re.compile(r"^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$", re.I)
_HASH = re.compile(r"^[0-9a-f]{32,128}$", re.I)
_INT = re.compile(r"^[-+]?\d+$")
_DECIMAL = re.compile(r"^[-+]?(\d+|\d{1,3}(,\d{3})+)\.\d+$|^[-+]?\d{1,3}(,\d{3})+$")
_PERCENT = re.compile(r"^[-+]?\d+(\.\d+)?%$")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_PROVINCES = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
              50, 51, 52, 53, 54, 61, 62, 63, 64, 65}

DATE_SHAPES = {"date_iso": "iso", "date_slash": "slash", "date_compact": "compact"}
TIMESTAMP_SHAPES = {"ts_iso": "iso", "ts_slash": "slash", "ts_compact": "compact"}
# Shapes that say what a column is: a free-text canonical column holding them is a wrong match.
TELLING_SHAPES = {"id_number", "credit_code", "phone", "ip", "mac", *DATE_SHAPES, *TIMESTAMP_SHAPES}


def _valid_date(y: int, m: int, d: int) -> bool:
    try:
        dt.date(y, m, d)
    except ValueError:
        return False
    return 1900 <= y <= 2100


def _ymd(text: str) -> bool:
    return _valid_date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def normalise(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()


def shape(raw: str) -> str:
    """The one shape a value has (most specific first)."""
    v = normalise(raw)
    compact = v.replace(" ", "").upper()
    if _ID18.match(compact) and _ymd(compact[6:14]):
        return "id_number"
    if _ID15.match(compact) and _valid_date(1900 + int(compact[6:8]), int(compact[8:10]), int(compact[10:12])):
        return "id_number"
    if len(compact) == 18 and _USCC.match(compact):
        return "credit_code"
    if v.isdigit() and v.isascii():
        return _digits_shape(v)
    if _PHONE.match(v):
        return "phone"
    for pattern, name in ((_ISO_DATE, "date_iso"), (_SLASH_DATE, "date_slash")):
        if (m := pattern.match(v)) and _valid_date(*map(int, m.groups()[:3])):
            return name
    for pattern, name in ((_ISO_TS, "ts_iso"), (_SLASH_TS, "ts_slash")):
        if (m := pattern.match(v)) and _valid_date(*map(int, m.groups()[:3])):
            return name
    if (m := _MONTH.match(v)) and 1 <= int(m.group(2)) <= 12:
        return "month"
    if _IP.match(v):
        return "ip"
    if _MAC.match(v):
        return "mac"
    if _HASH.match(v):
        return "hash"
    if _INT.match(v):
        return "int"
    if _DECIMAL.match(v):
        return "decimal"
    if _PERCENT.match(v):
        return "percent"
    return "cjk" if _CJK.search(v) else "text"


def _digits_shape(v: str) -> str:
    n = len(v)
    if n == 12:
        return "village_code"
    if n == 14 and _ymd(v) and int(v[8:10]) < 24 and int(v[10:12]) < 60 and int(v[12:14]) < 60:
        return "ts_compact"
    if n == 8 and _ymd(v):
        return "date_compact"
    if n == 6:
        if 1990 <= int(v[:4]) <= 2100 and 1 <= int(v[4:]) <= 12:
            return "month"
        if int(v[:2]) in _PROVINCES:
            return "region_code"
    if n == 11 and _PHONE.match(v):
        return "phone"
    if n in (32, 40, 64):
        return "hash"
    return "int"


@dataclass
class Profile:
    """The sampled values of one native column."""
    count: int = 0
    shapes: Counter = field(default_factory=Counter)
    distinct: Counter = field(default_factory=Counter)
    integers: int = 0       # values that are whole numbers (whatever their shape: 150000 looks like a region)
    decimals: int = 0       # numbers with a decimal point
    serials: int = 0        # numbers in the Excel serial-date range
    round_hundreds: int = 0  # integers divisible by 100 (amounts in fen of round yuan)

    def share(self, *shapes: str) -> float:
        return sum(self.shapes[s] for s in shapes) / self.count if self.count else 0.0

    def dominant(self, threshold: float = 0.8) -> str | None:
        if not self.count:
            return None
        top, n = self.shapes.most_common(1)[0]
        return top if n / self.count >= threshold else None


def profile(values: list[str]) -> Profile:
    p = Profile()
    shapes: dict[str, str] = {}  # codes and dates repeat: classify each distinct value once
    for raw in values:
        s = shapes.get(raw) or shapes.setdefault(raw, shape(raw))
        p.count += 1
        p.shapes[s] += 1
        if len(p.distinct) < DISTINCT_LIMIT or raw in p.distinct:
            p.distinct[raw] += 1
        text = normalise(raw).replace(",", "")
        if _INT.match(text) or _DECIMAL.match(text):
            number = float(text)
            whole = _INT.match(text) is not None
            p.integers += whole
            p.decimals += not whole
            p.serials += SERIAL_RANGE[0] <= number <= SERIAL_RANGE[1]
            p.round_hundreds += whole and number % 100 == 0
    return p


# ----------------------------------------------------------------------------- fit to a column
def expected_shapes(entity: str, column: str, ctype: str, vocab: Vocabulary) -> set[str] | None:
    """The shapes a canonical column's values take; None for free text (anything goes)."""
    kind = vocab.value_kinds.get(column)
    if column in ID_NUMBER_COLUMNS:
        return {"id_number"}
    if column in CREDIT_CODE_COLUMNS:
        return {"credit_code"}
    by_kind = {"party": {"id_number", "credit_code"}, "owner_code": {"credit_code", "village_code"},
               "village_code": {"village_code"}, "region_code": {"region_code"}, "phone": {"phone"},
               "month": {"month", "date_iso", "date_slash"}, "ip": {"ip"}, "mac": {"mac"}, "hash": {"hash"}}
    if kind in by_kind:
        return by_kind[kind]
    return {"date": {*DATE_SHAPES, "serial"}, "timestamp": {*TIMESTAMP_SHAPES, *DATE_SHAPES, "serial"},
            "decimal": {"int", "decimal"}, "int": {"int"}, "float": {"int", "decimal", "percent"},
            "bool": None, "string": None}[ctype]


def fit(p: Profile, expected: set[str] | None) -> float:
    """Share of values that fit the expected shapes (serial dates count for date columns)."""
    if not p.count:
        return 1.0
    if expected is None:
        return 0.0 if p.share(*TELLING_SHAPES) >= 0.8 else 1.0
    fitting = p.share(*(expected - {"serial"}))
    if "serial" in expected:
        fitting += p.serials / p.count
    if "decimal" in expected:  # amounts and measures: any number fits, whatever it looks like
        fitting = max(fitting, (p.integers + p.decimals + p.shapes["percent"]) / p.count)
    elif "int" in expected:
        fitting = max(fitting, p.integers / p.count)
    return min(1.0, fitting)


def evidence(p: Profile, expected: set[str] | None) -> float:
    """Score adjustment of a header match by its values: a bonus if they fit, a penalty if not."""
    if not p.count:
        return 0.0
    f = fit(p, expected)
    if f >= 0.8:
        return 0.15 if expected is not None else 0.0
    if f < 0.3:
        return -0.6
    return -0.2


def _code_position(native: str) -> int | None:
    """0-based position a vendor code stands for: '1', '01' -> 0; 'A' -> 0; None if neither."""
    if native.isdigit() and int(native) >= 1:
        return int(native) - 1
    if len(native) == 1 and "A" <= native <= "Z":
        return ord(native) - ord("A")
    return None


def _code_at(position: int, like: str) -> str:
    """The vendor code for a position, spelled like ``like`` ('01' -> '03', 'A' -> 'C')."""
    if like.isdigit():
        return f"{position + 1:0{len(like)}d}"
    return chr(ord("A") + position)


# ----------------------------------------------------------------------------- parse rules
@dataclass
class Rule:
    """A parse rule with how sure it is and why."""
    value: object
    confidence: float
    note: str = ""


def date_style(p: Profile, ctype: str, delivery_format: str) -> Rule:
    shapes = TIMESTAMP_SHAPES | DATE_SHAPES
    votes: Counter = Counter()
    for s, style in shapes.items():
        votes[style] += p.shapes[s]
    if delivery_format in ("csv", "xlsx"):  # Excel serials only exist where Excel wrote the file
        votes["excel_serial"] = p.serials
    if not p.count or not sum(votes.values()):
        return Rule("iso", 0.3, "no date values sampled; style guessed")
    style, n = votes.most_common(1)[0]
    share = n / p.count
    note = "" if share >= 0.9 else f"only {share:.0%} of sampled values are {style} dates"
    return Rule(style, 1.0 if share >= 0.9 else 0.6, note)


def amount_unit(header: str, p: Profile, delivery_format: str) -> Rule:
    """yuan or fen: the header says so (金额(分), amount_fen), else the values do."""
    hints = " ".join(bracket_notes(header)) + " " + header_key(header)
    if "万元" in hints:
        return Rule("yuan", 0.3, "header says 万元 (ten thousand yuan): no unit rule converts it")
    if re.search(r"分|fen|cent", hints):
        return Rule("fen", 1.0)
    if re.search(r"元|yuan|rmb|cny", hints):
        return Rule("yuan", 1.0)
    numbers = p.integers + p.decimals
    if not numbers:
        return Rule("yuan", 0.4, "no amounts sampled; unit guessed")
    if p.decimals / numbers >= 0.02:
        return Rule("yuan", 0.9)
    if delivery_format == "xlsx" and p.round_hundreds / numbers < 0.5:
        # Excel shows whole yuan without decimals, so integers alone do not mean fen here.
        return Rule("yuan", 0.5, "whole numbers in a workbook: yuan or fen? check a known amount")
    return Rule("fen", 0.7, "all amounts are integers without a decimal point: read as fen")


def code_map(entity: str, column: str, p: Profile, vocab: Vocabulary) -> Rule | None:
    """native value -> canonical value for a coded column; None when the column has no codes."""
    spec = vocab.code_values(entity, column)
    if spec is None or not p.count:
        return None
    if len(p.distinct) > MAX_CODE_VALUES:
        return Rule(None, 0.3, f"{len(p.distinct)}+ distinct values: not a code column?")
    accepted = list(spec)
    spelled = {header_key(native): canon for canon, natives in spec.items() for native in natives}
    spelled.update({header_key(canon): canon for canon in accepted})
    codes: dict[str, str] = {}
    guessed, unknown = [], []
    for raw in sorted(p.distinct, key=lambda v: -p.distinct[v]):
        native = normalise(raw)
        canon = spelled.get(header_key(native))
        if canon is None and (position := _code_position(native)) is not None and position < len(accepted):
            canon = accepted[position]
            guessed.append(f"{native}->{canon}")
        if canon is None:
            unknown.append(native)
        elif native != canon:
            codes[native] = canon
    if guessed and not unknown:  # the positional reading covers codes the sample did not show
        sample_code = next(iter(c.split("->")[0] for c in guessed))
        for position, canon in enumerate(accepted):
            native = _code_at(position, sample_code)
            if canon not in codes.values() and native not in codes and canon not in p.distinct:
                codes[native] = canon
    notes = []
    if guessed:
        notes.append("vendor codes read in the order of the accepted values: " + ", ".join(guessed))
    if unknown:
        notes.append(f"values with no canonical meaning: {', '.join(unknown[:10])} (accepted: {', '.join(accepted)})")
    unseen = [c for c in accepted if c not in codes.values() and c not in p.distinct]
    if codes and unseen and not guessed:
        notes.append(f"not seen in the sample, add their native codes: {', '.join(unseen)}")
    ordered = dict(sorted(codes.items())) or None
    return Rule(ordered, 0.5 if notes else 1.0, "; ".join(notes))

"""Inferring a draft source contract from one sample delivery (``powertrace onboard``).

For each sample file: which canonical entity it holds (the one whose columns best cover its
headers), and for each native header the canonical column, by the names of ``vocabulary.yml``
(Chinese terms, their pinyin initials, English spellings) checked against the values (an id
column must hold id numbers, a date column dates). Then each mapped column's parse rule: date
style, amount unit, code map. Headers left unmapped become ``extra_columns``. Every choice below
full confidence carries a ``# REVIEW:`` comment in the drafted YAML.

The standard exchange format (canonical names, UTF-8 CSV, ``<entity>.csv``) needs no inference:
:func:`standard_contract` maps it one to one.
"""
from __future__ import annotations

import datetime as dt
import fnmatch
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from orchestration.canonical import VALIDITY_STARTS, entities

from .render import render_contract
from .sample import SAMPLE_ROWS, SampleError, SampleFile, read_sample, supported
from .values import Profile, Rule, amount_unit, code_map, date_style, evidence, expected_shapes, profile
from .vocabulary import Names, ascii_tokens, header_key, is_cjk, vocabulary

MIN_SCORE = 0.35        # a weaker header match is left as an extra column
REVIEW_BELOW = 0.8      # a choice less sure than this gets a "# REVIEW:" comment
VALUE_ONLY_SCORE = 0.4  # an unrecognised header matched by its values alone
MISSING_COLUMN_COST = 0.1   # entity score lost per canonical column the file does not carry
FILE_NAME_WEIGHT = 0.6      # entity score gained by a file name that names the entity
UNIT_SUFFIXES = ("元", "分", "yuan", "fen", "rmb")
_SPLIT_SUFFIX = re.compile(r"-\d+$")

STANDARD_DEFAULTS = {"kind": "standard_exchange", "department": "待定", "level": "province",
                     "region": "330000", "mode": "increment"}


class OnboardError(ValueError):
    """A sample that cannot be onboarded; the message names the file and the reason."""


# ----------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Match:
    column: str
    score: float
    how: str = ""   # empty for a match by name; else why a weak match was taken (a review note)


@dataclass
class ColumnGuess:
    header: str
    column: str | None            # canonical column, None = extra column
    confidence: float
    rule: dict = field(default_factory=dict)   # date_style / unit / codes
    notes: list[str] = field(default_factory=list)

    @property
    def needs_review(self) -> bool:
        return self.column is not None and (self.confidence < REVIEW_BELOW or bool(self.notes))


@dataclass
class TableGuess:
    sample: SampleFile
    entity: str
    score: float
    matches: dict[str, Match]                  # native header -> canonical column
    columns: list[ColumnGuess] = field(default_factory=list)  # with parse rules, for the chosen entity
    runner_up: tuple[str, float] | None = None

    @property
    def mapped(self) -> list[ColumnGuess]:
        return [c for c in self.columns if c.column]

    @property
    def extra(self) -> list[str]:
        return [c.header for c in self.columns if not c.column]


@dataclass
class Draft:
    """A drafted contract: the document, its review comments, and how it was inferred."""
    contract: dict
    comments: dict[tuple, str]
    tables: list[TableGuess] = field(default_factory=list)

    def to_yaml(self, title: str = "") -> str:
        return render_contract(self.contract, self.comments, title)


# ----------------------------------------------------------------------------- header names
def header_keys(header: str) -> list[str]:
    """A header's key, and the key without a trailing unit word (金额元 -> 金额, amountfen -> amount)."""
    key = header_key(header)
    keys = [key]
    for suffix in UNIT_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix) + 1:
            keys.append(key[: -len(suffix)])
    return keys


def names_score(key: str, names: Names, words: frozenset[str] = frozenset()) -> float:
    """How well one header (its key, and its English words) matches a column's names, 0..1."""
    if not key:
        return 0.0
    if key == names.canonical:
        return 1.0
    if key in names.keys:
        return 0.98
    if key.isascii() and key in names.abbreviations:
        return 0.9
    best = 0.0
    if len(words) >= 2:
        for term_words in names.word_sets:
            if term_words == words:                       # project_code ~ project_id
                return 0.85
            if term_words < words:                        # holder_cert_no ~ holder_id
                best = max(best, 0.55 + 0.25 * len(term_words) / len(words))
    terms = names.cjk_keys if is_cjk(key) else names.ascii_keys
    shortest = 2 if is_cjk(key) else 4
    for term in terms:
        if len(term) >= shortest and term in key:       # 收款人身份证号码 in 收款人身份证号码备注
            best = max(best, 0.5 + 0.35 * len(term) / len(key))
        elif len(key) >= shortest and key in term:      # 身份证号 in 收款人身份证号
            best = max(best, 0.4 + 0.35 * len(key) / len(term))
    return best


@lru_cache(maxsize=200_000)
def column_name_score(header: str, entity: str, column: str) -> float:
    names = vocabulary().names(entity, column)
    words = ascii_tokens(header)
    return max(names_score(k, names, words) for k in header_keys(header))


@lru_cache(maxsize=20_000)
def known_anywhere(header: str) -> bool:
    """Whether any canonical column of any entity has a name like this header."""
    return any(column_name_score(header, e, c) >= MIN_SCORE
               for e, ent in entities().items() for c in ent.columns)


def file_name_score(path: Path, entity: str) -> float:
    stem = _SPLIT_SUFFIX.sub("", path.stem)
    names = vocabulary().entity_names[entity]
    return max(names_score(k, names, ascii_tokens(stem)) for k in header_keys(stem))


# ----------------------------------------------------------------------------- one table
BY_VALUES = "header not in the vocabulary: matched by its values"


def fit_entity(sample: SampleFile, entity: str, profiles: dict[str, Profile]) -> TableGuess:
    """The best mapping of a sample's headers onto one entity, and its score."""
    vocab = vocabulary()
    columns = entities()[entity].columns
    expected = {c: expected_shapes(entity, c, t, vocab) for c, t in columns.items()}
    headers = [h for h in sample.headers if h]  # a nameless column cannot be mapped
    candidates = []
    for order, header in enumerate(headers):
        for column in columns:
            by_name = column_name_score(header, entity, column)
            if by_name <= 0:
                continue
            score = by_name + evidence(profiles[header], expected[column])
            if score >= MIN_SCORE:
                candidates.append((-score, order, column, header))
    chosen: dict[str, Match] = {}
    for neg, _, column, header in sorted(candidates):
        if header not in chosen and column not in {m.column for m in chosen.values()}:
            chosen[header] = Match(column, min(1.0, -neg))
    _match_by_values(headers, profiles, expected, chosen)
    _rescue_key(headers, entity, profiles, expected, chosen)

    total = (sum(m.score for m in chosen.values()) - MISSING_COLUMN_COST * (len(columns) - len(chosen))
             + FILE_NAME_WEIGHT * file_name_score(sample.path, entity))
    return TableGuess(sample, entity, total, chosen)


def _match_by_values(headers: list[str], profiles: dict[str, Profile], expected: dict,
                     chosen: dict[str, Match]) -> None:
    """Map a header no vocabulary knows (F7, 字段3) by its values, when they fit one column only."""
    for header in headers:
        if header in chosen or known_anywhere(header):
            continue
        dominant = profiles[header].dominant()
        if dominant is None or dominant in ("int", "decimal", "text", "cjk", "percent"):
            continue
        taken = {m.column for m in chosen.values()}
        fits = [c for c, shapes in expected.items() if c not in taken and shapes and dominant in shapes]
        if len(fits) == 1:
            chosen[header] = Match(fits[0], VALUE_ONLY_SCORE, BY_VALUES)


def _rescue_key(headers: list[str], entity: str, profiles: dict[str, Profile], expected: dict,
                chosen: dict[str, Match]) -> None:
    """A contract needs its key mapped: take the best remaining header for a key column, weak or
    not (flagged for review), rather than draft nothing."""
    for column in entities()[entity].key:
        if column in {m.column for m in chosen.values()}:
            continue
        options = []
        for order, header in enumerate(headers):
            if header not in chosen:
                score = column_name_score(header, entity, column) + evidence(profiles[header], expected[column])
                if score > 0:
                    options.append((-score, order, header))
        if options:
            neg, _, header = min(options)
            chosen[header] = Match(column, min(VALUE_ONLY_SCORE, -neg),
                                   f"weak match, taken because the key column {column} needs a header")


def _column_guess(sample: SampleFile, entity: str, header: str, match: Match | None,
                  p: Profile) -> ColumnGuess:
    if match is None:
        return ColumnGuess(header, None, 0.0)
    guess = ColumnGuess(header, match.column, match.score, notes=[match.how] if match.how else [])
    ctype = entities()[entity].columns[match.column]
    rules: list[tuple[str, Rule | None]] = []
    if ctype in ("date", "timestamp"):
        rules.append(("date_style", date_style(p, ctype, sample.format)))
    if ctype == "decimal":
        rules.append(("unit", amount_unit(header, p, sample.format)))
    rules.append(("codes", code_map(entity, match.column, p, vocabulary())))
    for name, rule in rules:
        if rule is None:
            continue
        if rule.value is not None:
            guess.rule[name] = rule.value
        guess.confidence = min(guess.confidence, rule.confidence)
        if rule.note:
            guess.notes.append(rule.note)
    return guess


def guess_tables(samples: list[SampleFile]) -> list[TableGuess]:
    """One entity per sample file, best fits first, no entity used twice."""
    fits, profiles = [], []
    for sample in samples:
        profiles.append({h: profile(sample.values.get(h, [])) for h in sample.headers if h})
        ranked = sorted((fit_entity(sample, e, profiles[-1]) for e in entities()), key=lambda g: -g.score)
        fits.append(ranked)
    pairs = sorted(((g.score, i, g) for i, ranked in enumerate(fits) for g in ranked),
                   key=lambda t: (-t[0], t[1], t[2].entity))
    chosen: dict[int, TableGuess] = {}
    used: set[str] = set()
    for _, i, g in pairs:
        if i not in chosen and g.entity not in used:
            others = [r for r in fits[i] if r.entity != g.entity]
            g.runner_up = (others[0].entity, others[0].score) if others else None
            g.columns = [_column_guess(g.sample, g.entity, h, g.matches.get(h), profiles[i][h])
                         for h in g.sample.headers if h]
            chosen[i] = g
            used.add(g.entity)
    return [chosen[i] for i in sorted(chosen)]


# ----------------------------------------------------------------------------- samples
def sample_files(path: Path) -> list[Path]:
    """The files to read: the sample itself, or all delivery files of a batch folder."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise OnboardError(f"{path}: no such file or folder")
    files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".") and supported(p))
    if not files:
        raise OnboardError(f"{path}: no delivery files (csv, tsv, txt, xlsx, jsonl, json, parquet) in the folder")
    return files


def read_samples(files: list[Path], max_rows: int) -> tuple[list[SampleFile], list[str]]:
    """One sample per table: the largest of its split files (``x.csv``, ``x-2.csv``). In a batch
    folder an unreadable or empty file (a delivery defect) is skipped if another file of the
    same table can be read."""
    groups: dict[tuple[str, str], list[Path]] = {}
    for p in files:
        groups.setdefault((_SPLIT_SUFFIX.sub("", p.stem), p.suffix.lower()), []).append(p)
    samples, skipped = [], []
    for group in groups.values():
        errors = []
        for p in sorted(group, key=lambda f: (-f.stat().st_size, f.name)):
            try:
                samples.append(read_sample(p, max_rows))
                break
            except SampleError as exc:
                errors.append(str(exc))
        else:
            if len(files) == 1:
                raise SampleError(errors[0])
            skipped.extend(errors)
    if not samples:
        raise OnboardError("no readable delivery file among: " + ", ".join(p.name for p in files))
    return samples, skipped


STANDARD_FROM_BATCH = dt.date(2000, 1, 1)


def batch_date_of(path: Path) -> dt.date | None:
    """The batch date a sample's folder is named by (``.../2026-09-30/zfmx.csv``)."""
    folder = path if path.is_dir() else path.parent
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return dt.datetime.strptime(folder.name, fmt).date()
        except ValueError:
            continue
    return None


def file_pattern(path: Path, others: list[Path]) -> str:
    """The glob for a table's files: ``zfmx*.csv`` (also matches split files ``zfmx-2.csv``)."""
    base, ext = _SPLIT_SUFFIX.sub("", path.stem), path.suffix
    pattern = f"{base}*{ext}"
    if any(_SPLIT_SUFFIX.sub("", o.stem) != base and fnmatch.fnmatchcase(o.name, pattern) for o in others):
        pattern = f"{base}[.-]*{ext.lstrip('.')}"  # zfmx[.-]*csv: zfmx.csv, zfmx-2.csv, not zfmxb.csv
    return pattern


# ----------------------------------------------------------------------------- system fields
@dataclass
class SystemFields:
    system_id: str
    name: str | None = None
    kind: str | None = None
    department: str | None = None
    level: str | None = None
    region: str | None = None
    mode: str | None = None


def _system_block(fields: SystemFields, comments: dict, *, review: bool) -> dict:
    """system_id .. region_code, with what was not given guessed from the system id."""
    sid = fields.system_id
    m = re.fullmatch(r"(.+?)_(\d{6})", sid)
    kind = fields.kind or (m.group(1) if m else re.sub(r"_\d+$", "", sid))
    region = fields.region or (m.group(2) if m else "330000")
    level = fields.level or ("hospital" if kind.startswith("hospital") else
                             "province" if region.endswith("0000") else "city")
    if review:
        if not fields.name:
            comments[("name",)] = "REVIEW: the system's official name (placeholder)"
        if not fields.department:
            comments[("department",)] = "REVIEW: the department that runs the system"
        if not fields.kind:
            comments[("kind",)] = "REVIEW: guessed from the system id"
        if not fields.level:
            comments[("level",)] = "REVIEW: guessed from the kind and region"
        if not fields.region:
            comments[("region_code",)] = ("REVIEW: taken from the system id" if m else
                                          "REVIEW: default; the region the system covers")
    return {"system_id": sid, "name": fields.name or sid, "kind": kind,
            "department": fields.department or STANDARD_DEFAULTS["department"],
            "level": level, "region_code": region}


def _delivery_block(samples: list[SampleFile], mode: str, comments: dict) -> dict:
    first = samples[0]
    # A file of ASCII bytes only reads the same in every encoding: the others tell which it is.
    telling = [s for s in samples if not s.ascii_only] or samples
    encoding = telling[0].encoding
    delivery: dict = {"format": first.format}
    if first.format == "csv":
        delivery.update(encoding=encoding, delimiter=first.delimiter)
    if first.format in ("csv", "xlsx"):
        delivery["header_row"] = first.header_row
    delivery.update(mode=mode, freshness_days=1)
    differing = [s.path.name for s in samples[1:]
                 if (s.format, s.delimiter, s.header_row) != (first.format, first.delimiter, first.header_row)
                 or (s.encoding != encoding and not s.ascii_only)]
    if differing:
        comments[("delivery", "format")] = (f"REVIEW: {', '.join(differing)} differ in format, encoding, "
                                            f"delimiter or header row from {first.path.name}")
    notes = [n for s in samples for n in s.notes]
    if notes:
        comments[("delivery", "encoding" if first.format == "csv" else "format")] = "REVIEW: " + "; ".join(notes)
    return delivery


def _guess_mode(tables: list[TableGuess], comments: dict) -> str:
    registries = [t.entity for t in tables if t.entity in vocabulary().registry_entities]
    if registries:
        comments[("delivery", "mode")] = ("REVIEW: guessed: a registry delivers a snapshot then change "
                                          "rows (monthly_snapshot if it resends everything monthly)")
        return "snapshot"
    comments[("delivery", "mode")] = "REVIEW: guessed: event records arrive as daily increments"
    return "increment"


# ----------------------------------------------------------------------------- tables
def _table_block(guess: TableGuess, pattern: str, from_batch: dt.date, comments: dict) -> dict:
    vocab = vocabulary()
    ent = entities()[guess.entity]
    mapped = {c.column for c in guess.mapped}
    where = ("tables", guess.entity)
    missing_key = [k for k in ent.key if k not in mapped]
    if missing_key:
        raise OnboardError(
            f"{guess.sample.path}: read as {guess.entity}, but no header maps to its key column(s) "
            f"{missing_key}; headers: {', '.join(guess.sample.headers)}")
    table = {
        "entity": guess.entity,
        "file_pattern": pattern,
        "primary_key": list(ent.key),
        "required": [c for c in ent.required if c in mapped],
        "personal_data": [c for c in ent.columns if vocab.is_personal(guess.entity, c)],
        "not_after_batch": [c for c in ent.columns if c in vocab.event_dates and c in mapped],
        "non_negative": [c for c, t in ent.columns.items() if t == "decimal" and c in mapped],
    }
    if guess.extra:
        table["extra_columns"] = guess.extra
        comments[where + ("extra_columns",)] = "REVIEW: native columns left unmapped; map any the platform needs"
    unmapped_starts = [c for c in ent.columns if c in VALIDITY_STARTS and c not in mapped]
    if unmapped_starts:
        comments[where + ("required",)] = f"REVIEW: validity start {unmapped_starts} not found in the sample"
    columns = {}
    for c in guess.mapped:
        columns[c.header] = {"column": c.column, **c.rule}
        if c.needs_review:
            reason = "; ".join(c.notes) or "weak header match"
            comments[where + ("mappings", 0, "columns", c.header)] = f"REVIEW: confidence {c.confidence:.2f}: {reason}"
    table["mappings"] = [{"from_batch": from_batch, "columns": columns}]
    runner = guess.runner_up
    summary = f"{guess.sample.path.name}: {len(guess.mapped)} of {len(guess.columns)} headers mapped"
    if runner and runner[1] > guess.score - 1.0:
        comments[where + ("entity",)] = f"REVIEW: {summary}; close runner-up {runner[0]}"
    else:
        comments[where + ("entity",)] = summary
    return table


def _drop_empty_lists(table: dict) -> dict:
    return {k: v for k, v in table.items() if v != [] or k == "primary_key"}


# ----------------------------------------------------------------------------- public API
def infer_contract(sample: str | Path, system_id: str, *, name: str | None = None,
                   kind: str | None = None, department: str | None = None,
                   level: str | None = None, region: str | None = None,
                   mode: str | None = None, batch_date: dt.date | None = None,
                   max_rows: int = SAMPLE_ROWS) -> Draft:
    """Draft a contract from a sample file or a batch folder (one file per table)."""
    path = Path(sample)
    files = sample_files(path)
    samples, skipped = read_samples(files, max_rows)
    guesses = guess_tables(samples)
    comments: dict[tuple, str] = {}
    contract = _system_block(SystemFields(system_id, name, kind, department, level, region, mode),
                             comments, review=True)
    chosen_mode = mode or _guess_mode(guesses, comments)
    contract["delivery"] = _delivery_block(samples, chosen_mode, comments)
    from_batch = batch_date or batch_date_of(path) or dt.date.today()
    tables = {}
    for guess in guesses:
        pattern = file_pattern(guess.sample.path, files)
        tables[guess.entity] = _drop_empty_lists(_table_block(guess, pattern, from_batch, comments))
    contract["tables"] = tables
    if skipped:
        comments[("tables",)] = "REVIEW: skipped unreadable files: " + "; ".join(skipped)
    return Draft(contract, comments, guesses)


def standard_contract(directory: str | Path, system_id: str, *, name: str | None = None,
                      kind: str | None = None, department: str | None = None,
                      level: str | None = None, region: str | None = None,
                      mode: str | None = None, batch_date: dt.date | None = None) -> Draft:
    """The contract of a delivery in the standard exchange format: one ``<entity>.csv`` per
    entity, UTF-8, canonical column names. Nothing is guessed, so nothing needs review."""
    folder = Path(directory)
    if not folder.is_dir():
        raise OnboardError(f"{folder}: --standard needs the batch folder holding <entity>.csv files")
    canon = entities()
    files = sorted(p for p in folder.glob("*.csv") if not p.name.startswith("."))
    if not files:
        raise OnboardError(f"{folder}: no <entity>.csv files")
    by_entity: dict[str, Path] = {}
    for p in files:
        entity = _SPLIT_SUFFIX.sub("", p.stem)
        if entity not in canon:
            raise OnboardError(f"{p}: {entity!r} is not a canonical entity; standard exchange files are "
                               f"named <entity>.csv, one of: {', '.join(sorted(canon))}")
        by_entity.setdefault(entity, p)
    fields = SystemFields(system_id, name, kind or STANDARD_DEFAULTS["kind"],
                          department or STANDARD_DEFAULTS["department"],
                          level or STANDARD_DEFAULTS["level"], region or STANDARD_DEFAULTS["region"],
                          mode or STANDARD_DEFAULTS["mode"])
    contract = _system_block(fields, {}, review=False)
    samples = {e: read_sample(p) for e, p in by_entity.items()}
    for entity, s in samples.items():
        if s.format != "csv" or s.encoding not in ("utf-8", "utf-8-sig") or s.delimiter != ",":
            raise OnboardError(f"{s.path}: not standard exchange CSV (read as {s.format}, "
                               f"encoding {s.encoding}, delimiter {s.delimiter!r}); need UTF-8 with ','")
    encodings = {s.encoding for s in samples.values()}
    contract["delivery"] = {"format": "csv", "encoding": "utf-8-sig" if encodings == {"utf-8-sig"} else "utf-8",
                            "delimiter": ",", "header_row": 1, "mode": fields.mode, "freshness_days": 1}
    vocab = vocabulary()
    # Canonical names never change, so the identity mapping applies to every batch ever delivered.
    from_batch = batch_date or STANDARD_FROM_BATCH
    tables = {}
    for entity, s in samples.items():
        ent = canon[entity]
        stray = [h for h in s.headers if h not in ent.columns]
        if stray:
            raise OnboardError(f"{s.path}: header(s) {stray} are not columns of {entity}; "
                               f"standard exchange headers are exactly the canonical column names")
        missing_key = [k for k in ent.key if k not in s.headers]
        if missing_key:
            raise OnboardError(f"{s.path}: key column(s) {missing_key} of {entity} missing from the header")
        present = set(s.headers)
        tables[entity] = _drop_empty_lists({
            "entity": entity,
            "file_pattern": f"{entity}*.csv",
            "primary_key": list(ent.key),
            "required": [c for c in ent.required if c in present],
            "personal_data": [c for c in ent.columns if vocab.is_personal(entity, c)],
            "not_after_batch": [c for c in ent.columns if c in vocab.event_dates and c in present],
            "non_negative": [c for c, t in ent.columns.items() if t == "decimal" and c in present],
            "mappings": [{"from_batch": from_batch, "columns": {h: {"column": h} for h in s.headers}}],
        })
    contract["tables"] = tables
    return Draft(contract, {})


def review_summary(draft: Draft) -> str:
    """Per native header: -> canonical column, confidence, parse rule (for the engineer's review)."""
    lines = []
    for t in draft.tables:
        runner = f"; runner-up {t.runner_up[0]} ({t.runner_up[1]:.1f})" if t.runner_up else ""
        lines.append(f"{t.sample.path.name} -> {t.entity} (score {t.score:.1f}{runner})")
        width = max((len(c.header) for c in t.columns), default=0)
        for c in t.columns:
            if c.column is None:
                lines.append(f"  {c.header:<{width}}  -> (extra column)")
                continue
            rule = ", ".join(f"{k}={v}" for k, v in c.rule.items())
            flag = "  REVIEW" if c.needs_review else ""
            notes = f"  ({'; '.join(c.notes)})" if c.notes else ""
            lines.append(f"  {c.header:<{width}}  -> {c.column:<24} {c.confidence:.2f}  {rule}{flag}{notes}")
    return "\n".join(lines)

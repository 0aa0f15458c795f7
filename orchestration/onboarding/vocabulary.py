"""The header vocabulary (``vocabulary.yml``): what names systems give each canonical column.

Matching works on *keys*: a header or a vocabulary term normalised by :func:`header_key`
(full-width to half-width, lowercase, bracketed text and separators dropped). Every Chinese
term also stands for its pinyin initials (身份证号码 -> ``sfzhm``), derived here rather than
listed, because vendors abbreviate systematically.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import product
from pathlib import Path

import yaml

from orchestration.canonical import entities

VOCABULARY_FILE = Path(__file__).with_name("vocabulary.yml")

# GB2312 level-1 characters are ordered by pinyin: the first code point of each initial letter.
# (Letters i, u and v start no syllable.)
_GB2312_INITIAL_STARTS = [
    (0xB0A1, "a"), (0xB0C5, "b"), (0xB2C1, "c"), (0xB4EE, "d"), (0xB6EA, "e"), (0xB7A2, "f"),
    (0xB8C1, "g"), (0xB9FE, "h"), (0xBBF7, "j"), (0xBFA6, "k"), (0xC0AC, "l"), (0xC2E8, "m"),
    (0xC4C3, "n"), (0xC5B6, "o"), (0xC5BE, "p"), (0xC6DA, "q"), (0xC8BB, "r"), (0xC8F6, "s"),
    (0xCBFA, "t"), (0xCDDA, "w"), (0xCEF4, "x"), (0xD1B9, "y"), (0xD4D1, "z"),
]
_GB2312_LEVEL1_END = 0xD7F9
_MAX_VARIANTS = 5000  # a template expanding to more is a vocabulary mistake

_BRACKETS = re.compile(r"[(\[{<【（][^)\]}>】）]*[)\]}>】）]")
_SEPARATORS = re.compile(r"[\s_\-./\\:：,，;；、·'\"*#]+")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def is_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def header_key(text: str) -> str:
    """The matching key of a header or term: 'Pay_Date ' -> 'paydate', '金额（元）' -> '金额'."""
    text = unicodedata.normalize("NFKC", str(text)).strip().lstrip("\ufeff").lower()
    text = _BRACKETS.sub("", text)
    return _SEPARATORS.sub("", text)


# English words that all just say "identifier" (project_code = project_no = project_id) or "when"
# (sign_date = signed_on, submit_time = submitted_at) in a header.
_ID_WORDS = {"id", "no", "num", "number", "code", "nbr", "sn", "key", "idno", "idcard", "uscc", "usci"}
_WHEN_WORDS = {"date", "dt", "on", "day", "time", "at", "ts", "datetime", "timestamp"}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _stem(word: str) -> str:
    """A crude English stem, the same on both sides of a match: signed, signing -> sign."""
    if len(word) > 5 and word.endswith("ing"):
        word = word[:-3]
    elif len(word) > 4 and word.endswith("ed"):
        word = word[:-2]
    elif len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2]:
        word = word[:-1]  # submitt(ed) -> submit
    return word


def ascii_tokens(text: str) -> frozenset[str]:
    """The words of an English header: 'holderCertNo' -> {holder, cert, <id>}; empty for Chinese."""
    text = unicodedata.normalize("NFKC", str(text)).strip().lstrip("\ufeff")
    text = _BRACKETS.sub("", text)
    if is_cjk(text):
        return frozenset()
    words = [w for w in _SEPARATORS.split(_CAMEL.sub("_", text).lower()) if w]
    return frozenset("<id>" if w in _ID_WORDS else "<when>" if w in _WHEN_WORDS else _stem(w) for w in words)


def bracket_notes(text: str) -> list[str]:
    """Text inside brackets of a header, lowercased: '金额（分）' -> ['分'] (unit and format hints)."""
    text = unicodedata.normalize("NFKC", str(text)).lower()
    return [m.group(0)[1:-1].strip() for m in _BRACKETS.finditer(text)]


# ----------------------------------------------------------------------------- pinyin initials
def _gb2312_initial(char: str) -> str | None:
    try:
        raw = char.encode("gb2312")
    except UnicodeEncodeError:
        return None
    if len(raw) != 2:
        return None
    code = raw[0] << 8 | raw[1]
    if not _GB2312_INITIAL_STARTS[0][0] <= code <= _GB2312_LEVEL1_END:
        return None  # level 2 (ordered by radical) or not a hanzi
    letter = None
    for start, initial in _GB2312_INITIAL_STARTS:
        if code >= start:
            letter = initial
    return letter


def initials(text: str, overrides: dict[str, list[str]] | None = None) -> set[str]:
    """Every pinyin-initial abbreviation of a term: '银行账号' -> {'yxzh', 'yhzh'}.

    ASCII letters and digits are kept as they are ('IP地址' -> 'ipdz'); a character with no
    known initial makes the term unabbreviable (empty set), so it never matches by accident.
    """
    overrides = overrides or {}
    choices: list[list[str]] = []
    for char in header_key(text):
        if char.isascii():
            choices.append([char])
        elif char in overrides:
            choices.append(overrides[char])
        elif (letter := _gb2312_initial(char)) is not None:
            choices.append([letter])
        else:
            return set()
    return {"".join(p) for p in product(*choices)}


# ----------------------------------------------------------------------------- templates
def _expand_group(text: str, pos: int) -> tuple[list[str], int]:
    """Expand a sequence up to an unmatched '|' or '>' (returns variants and the stop position)."""
    variants = [""]
    while pos < len(text) and text[pos] not in "|>":
        if text[pos] == "<":
            alternatives: list[str] = []
            pos += 1
            while True:
                part, pos = _expand_group(text, pos)
                alternatives.extend(part)
                if pos >= len(text):
                    raise ValueError(f"unclosed '<' in vocabulary term {text!r}")
                if text[pos] == ">":
                    pos += 1
                    break
                pos += 1  # past '|'
            variants = [v + a for v in variants for a in alternatives]
        else:
            variants = [v + text[pos] for v in variants]
            pos += 1
        if len(variants) > _MAX_VARIANTS:
            raise ValueError(f"vocabulary term {text!r} expands to more than {_MAX_VARIANTS} names")
    return variants, pos


def expand_term(term: str, groups: dict[str, str]) -> list[str]:
    """'收款<人|方>$ID' -> every name it stands for ($NAME from the ``terms:`` groups)."""
    def substitute(match: re.Match) -> str:
        name = match.group(1)
        if name not in groups:
            raise ValueError(f"vocabulary term {term!r}: unknown group ${name}")
        return groups[name]

    text = str(term)
    for _ in range(5):  # groups may use groups
        text = re.sub(r"\$([A-Z][A-Z0-9_]*)", substitute, text)
    variants, pos = _expand_group(text, 0)
    if pos != len(text):
        raise ValueError(f"vocabulary term {term!r}: unbalanced '|' or '>'")
    return [v for v in variants if v]


# ----------------------------------------------------------------------------- the vocabulary
@dataclass
class Names:
    """The names of one canonical column (or entity): keys, their initials, Chinese keys."""
    canonical: str = ""        # the canonical name's own key: it wins a tie with a synonym
    keys: set[str] = field(default_factory=set)
    abbreviations: set[str] = field(default_factory=set)
    cjk_keys: list[str] = field(default_factory=list)
    ascii_keys: list[str] = field(default_factory=list)
    word_sets: set[frozenset[str]] = field(default_factory=set)  # English names as sets of words

    def add(self, name: str, overrides: dict[str, list[str]]) -> None:
        key = header_key(name)
        if not key or key in self.keys:
            return
        self.keys.add(key)
        if is_cjk(key):
            self.cjk_keys.append(key)
            self.abbreviations |= initials(key, overrides)
        else:
            self.ascii_keys.append(key)
            words = ascii_tokens(name)
            if len(words) >= 2:
                self.word_sets.add(words)


@dataclass
class Vocabulary:
    column_names: dict[tuple[str, str], Names]        # (entity, column) -> names
    entity_names: dict[str, Names]                    # entity -> names of its files
    codes: dict[tuple[str, str], dict[str, list[str]]]  # (entity, column) -> canonical -> native spellings
    value_kinds: dict[str, str]                       # column -> kind of values it holds
    personal_columns: set[tuple[str | None, str]]     # (entity or None for any, column)
    event_dates: set[str]
    registry_entities: set[str]
    char_initials: dict[str, list[str]]

    def names(self, entity: str, column: str) -> Names:
        return self.column_names[(entity, column)]

    def code_values(self, entity: str, column: str) -> dict[str, list[str]] | None:
        return self.codes.get((entity, column)) or self.codes.get(("*", column))

    def is_personal(self, entity: str, column: str) -> bool:
        return (None, column) in self.personal_columns or (entity, column) in self.personal_columns


def _as_list(value) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _split_qualified(name: str) -> tuple[str | None, str]:
    entity, _, column = name.rpartition(".")
    return (entity or None), column


def load_vocabulary(path: Path = VOCABULARY_FILE) -> Vocabulary:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    canon = entities()
    groups = {k: str(v) for k, v in (doc.get("terms") or {}).items()}
    overrides = {str(c): _as_list(v) for c, v in (doc.get("char_initials") or {}).items()}
    global_columns = doc.get("columns") or {}
    per_entity = doc.get("entities") or {}
    unknown = sorted(set(per_entity) - set(canon))
    if unknown:
        raise ValueError(f"{path}: entities {unknown} are not canonical entities")

    column_names: dict[tuple[str, str], Names] = {}
    entity_names: dict[str, Names] = {}
    for ename, ent in canon.items():
        spec = per_entity.get(ename) or {}
        own = spec.get("columns") or {}
        stray = sorted(set(own) - set(ent.columns))
        if stray:
            raise ValueError(f"{path}: entities.{ename}.columns: {stray} are not columns of {ename}")
        for column in ent.columns:
            names = Names(canonical=header_key(column))
            for term in [column, *_as_list(global_columns.get(column)), *_as_list(own.get(column))]:
                for name in expand_term(term, groups):
                    names.add(name, overrides)
            column_names[(ename, column)] = names
        enames = Names(canonical=header_key(ename))
        for term in [ename, *_as_list(spec.get("names"))]:
            for name in expand_term(term, groups):
                enames.add(name, overrides)
        entity_names[ename] = enames

    codes: dict[tuple[str, str], dict[str, list[str]]] = {}
    for qualified, values in (doc.get("codes") or {}).items():
        entity, column = _split_qualified(qualified)
        codes[(entity or "*", column)] = {str(k): _as_list(v) for k, v in values.items()}

    value_kinds = {col: kind for kind, cols in (doc.get("value_kinds") or {}).items() for col in cols}
    return Vocabulary(
        column_names=column_names,
        entity_names=entity_names,
        codes=codes,
        value_kinds=value_kinds,
        personal_columns={_split_qualified(str(c)) for c in doc.get("personal_columns") or []},
        event_dates=set(doc.get("event_dates") or []),
        registry_entities=set(doc.get("registry_entities") or []),
        char_initials=overrides,
    )


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    return load_vocabulary()

"""Identifier normalisation in Python: the same rules as the dbt macros of
``dbt_project/macros/identity/`` (id_number.sql, credit_code.sql, phone.sql).

The alert service needs them where no SQL runs: the real-time payment check receives a payee id
"in any spelling the sources use" and must find the same person silver finds. The two
implementations are held together by one table of cases per identifier under ``tests/cases/``,
which both the Python tests and a DuckDB rendering of the macros read.

Rules (see the macros for the SQL):

- id_number (GB 11643): full-width digits and Ｘ/ｘ to half-width, every space (tab, newline,
  form feed, carriage return, blank and the ideographic U+3000) removed, upper case; blank is
  null. A 15-digit legacy number is widened by inserting the century "19" after the 6-digit birth
  place and appending the computed check character. Valid: 17 digits and the right ISO 7064
  MOD 11-2 check character. Birth place and date are not judged.
- credit_code (GB 32100): full-width digits and letters to half-width, spaces removed, upper case;
  blank is null. Valid: 18 characters of 0-9 A-H J-N P Q R T U W X Y with the right mod-31 check.
- phone: full-width digits to half-width, every non-digit removed, the +86 / 0086 country prefix
  dropped, and a number of 9 or more digits not starting with 0 or 1 (an area-code landline
  written without its trunk 0) given back its leading 0; blank is null.

Case mapping: DuckDB's ``upper`` maps one code point to one code point, Python's ``str.upper``
may expand one (ß -> SS); ``_upper`` keeps Python to one-for-one. Characters outside ASCII that
survive normalisation make an identifier invalid whatever their case, so the rare letters whose
single-code-point mapping differs between the two libraries cannot change a verdict.
"""
from __future__ import annotations

import re

ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_CHECK_CHARS = "10X98765432"
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

# RE2's \s (what the macros use) is [\t\n\f\r ]; the macros add the ideographic space U+3000.
# Python's \s is wider (it also takes U+00A0, U+2003, ...), so the class is spelled out.
_SPACES = re.compile("[\t\n\f\r \u3000]")
_NON_DIGITS = re.compile("[^0-9]")
_ID_FULL_WIDTH = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789XX")
# str.translate looks every character up in Python: on the gate's megabytes of alert evidence it
# cost more than the regex scan; most text has no full-width id character, so look first.
_HAS_ID_FULL_WIDTH = re.compile("[０-９Ｘｘ]")
_ALNUM_FULL_WIDTH = str.maketrans(
    "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ",
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_DIGITS_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
_LEGACY_ID = re.compile("[0-9]{15}")
_ID_SHAPE = re.compile("[0-9]{17}[0-9X]")
_CREDIT_CODE_SHAPE = re.compile("[0-9A-HJ-NPQRTUWXY]{18}")


def _upper(text: str) -> str:
    """Upper case one code point for one, as DuckDB's ``upper`` does."""
    if text.isascii():
        return text.upper()
    return "".join(u if len(u := c.upper()) == 1 else c for c in text)


# --------------------------------------------------------------------------- id_number
def id_check_char(body17: str) -> str:
    """Check character of a 17-digit body: ISO 7064 MOD 11-2, weights 2^(17-i) mod 11."""
    return ID_CHECK_CHARS[sum(int(d) * w for d, w in zip(body17, ID_WEIGHTS)) % 11]


def normalise_id_number(raw: str | None) -> str | None:
    """The 18-character form of an id_number as the sources spell it (None when blank).

    Anything that is not a 15-digit legacy number comes back cleaned but otherwise unchanged,
    for ``id_number_is_valid`` to judge.
    """
    if raw is None:
        return None
    cleaned = _upper(_SPACES.sub("", raw.translate(_ID_FULL_WIDTH))) or None
    if cleaned is not None and _LEGACY_ID.fullmatch(cleaned):
        body17 = cleaned[:6] + "19" + cleaned[6:]
        return body17 + id_check_char(body17)
    return cleaned


def id_number_is_valid(normalised: str | None) -> bool:
    """True when ``normalised`` is 17 digits plus the right check character."""
    return bool(normalised and _ID_SHAPE.fullmatch(normalised)
                and normalised[17] == id_check_char(normalised[:17]))


# --------------------------------------------------------------------------- credit_code
def credit_code_check_char(body17: str) -> str:
    """Check character of a 17-character body: alphabet[(31 - sum(index * weight) mod 31) mod 31]."""
    total = sum(CREDIT_CODE_ALPHABET.index(c) * w for c, w in zip(body17, CREDIT_CODE_WEIGHTS))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def normalise_credit_code(raw: str | None) -> str | None:
    """Full-width to half-width, spaces removed, upper case; None when blank."""
    if raw is None:
        return None
    return _upper(_SPACES.sub("", raw.translate(_ALNUM_FULL_WIDTH))) or None


def credit_code_is_valid(normalised: str | None) -> bool:
    """True when ``normalised`` is 18 characters of the alphabet with the right check character."""
    return bool(normalised and _CREDIT_CODE_SHAPE.fullmatch(normalised)
                and normalised[17] == credit_code_check_char(normalised[:17]))


# --------------------------------------------------------------------------- phone
def normalise_phone(raw: str | None) -> str | None:
    """Digits only, without the country prefix; a landline regains its trunk 0; None when blank."""
    if raw is None:
        return None
    digits = _NON_DIGITS.sub("", raw.translate(_DIGITS_FULL_WIDTH))
    if digits.startswith("0086"):
        national = digits[4:]
    elif digits.startswith("86") and len(digits) >= 12:
        national = digits[2:]
    else:
        national = digits
    if len(national) >= 9 and national[0] not in "01":
        national = "0" + national
    return national or None


# A run of 15 or 18 id characters not inside a longer alphanumeric token (person_refs are hex:
# their digit runs are bounded by letters) nor inside a decimal number (a ratio printed with 15
# decimals, 3.142139871223395, once passed every other test). Spaces are removed before matching.
_ID_SHAPED = re.compile(r"(?<![0-9A-Za-z])(?<!\d\.)(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])(?!\.\d)")

# The same shape in RE2 (DuckDB's regexp_matches), for text whose white space is already removed:
# a token of 15 characters, or of 18 with the last one a digit or x, that begins with a province
# digit (1-6, half or full width). Its bounds are _ID_SHAPED's, as they stand once full-width
# digits and x are translated: no ASCII digit or letter and no full-width digit or x beside it.
# Every text id_numbers_in finds an id in matches it (tests/gates/test_id_prefilter.py); what it
# lets through (organisation codes, hex refs that happen to start with 15 digits) the Python
# check rejects. Why not only "15 digits in a row": all-digit credit codes (91...) and the digit
# runs of hex person_refs in alert evidence passed that in two rows of three at SF 1, and the
# Python scan of them was most of the gate step's time.
ID_SHAPED_RE2 = (r"(^|[^0-9A-Za-z０-９Ｘｘ])[1-6１-６]\p{Nd}{14}(\p{Nd}{2}[\p{Nd}XxＸｘ])?"
                 r"([^0-9A-Za-z０-９Ｘｘ]|$)")


def id_shaped_sql(text: str) -> str:
    """The SQL condition "``text`` holds an id-shaped token once its white space (_SPACES) is
    removed": the no-raw-id gate's prefilter, evaluated by DuckDB before the Python scan."""
    return (rf"regexp_matches(regexp_replace({text}, '[\t\n\f\r \x{{3000}}]', '', 'g'), "
            f"'{ID_SHAPED_RE2}')")


def id_numbers_in(text: str) -> list[str]:
    """The id numbers written anywhere in ``text``, in any spelling (full-width, spaced, lowercase
    x, legacy 15 digits): id-shaped runs that normalise to a number with the right check
    character, a province code (11-65) and a real birth date of a living person's era (1850-2099).
    An all-digit credit code fails at least one of these; so does an organisation code such as
    113302050006012014, whose "birth date" would fall in the year 500 (an SF 1 run's gate once
    held back every alert on it). The no-raw-identity gate and its tests scan published tables with it."""
    import datetime as dt

    found = []
    if _HAS_ID_FULL_WIDTH.search(text):
        text = text.translate(_ID_FULL_WIDTH)
    for match in _ID_SHAPED.finditer(_SPACES.sub("", text)):
        ident = normalise_id_number(match.group(1))
        if not id_number_is_valid(ident) or not 11 <= int(ident[:2]) <= 65:
            continue
        try:
            born = dt.date(int(ident[6:10]), int(ident[10:12]), int(ident[12:14]))
        except ValueError:
            continue
        if not 1850 <= born.year <= 2099:
            continue
        found.append(match.group(1))
    return found

"""The no-raw-id gate's SQL prefilter (id_shaped_sql, ID_SHAPED_RE2) lets through every text in which the Python
scanner (id_numbers_in) finds an id, whatever the spelling and whatever surrounds it: the gate
would otherwise pass a leak the scanner never saw. And it keeps back what made the scan slow."""
from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestration.identity import id_check_char, id_numbers_in, id_shaped_sql

FULL_WIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")
# What may stand beside an id: digits and letters of both widths, the characters of JSON, dates,
# decimals and qualified keys, and every white space the gate removes.
# Digits of other scripts (Arabic-Indic, Devanagari) are digits to the scanner's regex but not to
# its bounds, which know ASCII and full-width only.
NEIGHBOURS = st.text(st.sampled_from(list("0123456789xXaZf.:|-_\"{},/ \t\n\u3000０９ＡＸｘ") + ["李", "٣", "५"]),
                     max_size=12)


@pytest.fixture(scope="module")
def duck():
    con = duckdb.connect()
    yield con
    con.close()


def passes_prefilter(duck, text: str) -> bool:
    """The gate's own SQL condition, on one text."""
    return duck.execute(f"select {id_shaped_sql('?')}", [text]).fetchone()[0]


@st.composite
def spelled_ids(draw) -> str:
    """A valid id number (the scanner's province and birth-year bounds) in one of its spellings."""
    province = draw(st.integers(11, 65))
    born = draw(st.dates(dt.date(1850, 1, 1), dt.date(2099, 12, 31)))
    body = f"{province}{draw(st.integers(0, 9999)):04d}{born:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    ident = body + id_check_char(body)
    if born.year // 100 == 19 and draw(st.booleans()):
        ident = ident[:6] + ident[8:17]                     # the legacy 15-digit form
    ident = ident.lower() if draw(st.booleans()) else ident
    if draw(st.booleans()):
        ident = "".join(c.translate(FULL_WIDTH) if draw(st.booleans()) else c for c in ident)
    if draw(st.booleans()):                                  # spaced out
        ident = "".join(c + draw(st.sampled_from(["", "", " ", "\u3000", "\t"])) for c in ident)
    return ident


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=NEIGHBOURS, ident=spelled_ids(), after=NEIGHBOURS)
def test_every_text_the_scanner_flags_passes_the_prefilter(duck, before, ident, after):
    text = before + ident + after
    if id_numbers_in(text):
        assert passes_prefilter(duck, text), text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(st.sampled_from(list("0123456789123456x ") + ["３", "Ｘ"]), min_size=15, max_size=40))
def test_digit_soup_the_scanner_flags_passes_the_prefilter(duck, text):
    if id_numbers_in(text):
        assert passes_prefilter(duck, text), text


def test_plain_spellings_pass_and_credit_codes_and_hex_refs_do_not(duck):
    ident = "33012019630404004X"
    for text in [ident, f'{{"key":"{ident.lower()}"}}', "３３０１ ２０１９ ６３０４ ０４００ ４ｘ", "x|330120630404004|y"]:
        assert passes_prefilter(duck, text), text
    # what filled the scan at SF 1: all-digit credit codes and the digit runs of hex person_refs
    for text in ['{"entity":"company","key":"913301080000459972"}', "9270a0a8de93625562a524510511534236f837265f7f",
                 "c74990bf22a8a023388e2fe829fd6cdaa0e6175313399329754b8981f0e23"]:
        assert not passes_prefilter(duck, text), text

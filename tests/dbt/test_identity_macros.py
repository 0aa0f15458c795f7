"""The identity macros (dbt_project/macros/identity/) against independent implementations:
python-stdnum's check characters, orchestration.pseudonym.person_ref, and hand-made cases."""
from __future__ import annotations

import hypothesis.strategies as st
from hypothesis import given, settings
from stdnum.cn import ric, uscc

from dbt_sql_eval import evaluate
from orchestration.dbt_session import session_statements
from orchestration.pseudonym import DEV_KEY, person_ref
from orchestration.world.core import to_legacy_15

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")

digits17 = st.text("0123456789", min_size=17, max_size=17)
check_chars = st.sampled_from("0123456789X")


def valid_id(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


def spell(ident: str, spelling: str) -> str:
    """One of the spellings sources use for a valid id_number."""
    if spelling == "lower":
        return ident.lower()
    if spelling == "full":
        return ident.translate(FULL_WIDTH)
    if spelling == "spaces":
        return f" {ident[:6]} {ident[6:14]}\u3000{ident[14:]} "
    if spelling == "legacy":
        return to_legacy_15(ident)
    return ident


def normalised_and_valid(duck, identity, values: list[str | None]) -> list[tuple[str | None, bool]]:
    return evaluate(duck, lambda v: f"struct_pack(n := {identity.normalise_id_number(v)}, "
                                    f"ok := {identity.id_number_is_valid(identity.normalise_id_number(v))})",
                    values)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(digits17, check_chars), min_size=1, max_size=40))
def test_id_check_character_agrees_with_stdnum(duck, identity, cases):
    values = [body + check for body, check in cases]
    got = [r["ok"] for r in normalised_and_valid(duck, identity, values)]
    assert got == [ric.calc_check_digit(body + "0") == check for body, check in cases]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(digits17, st.sampled_from(["lower", "full", "spaces", "legacy", "as_is"])),
                min_size=1, max_size=30))
def test_spellings_normalise_to_the_valid_18_character_form(duck, identity, cases):
    expected, spelled = [], []
    for body, spelling in cases:
        if spelling == "legacy":
            body = body[:6] + "19" + body[8:]  # legacy numbers are of 19xx births
        ident = valid_id(body)
        expected.append(ident)
        spelled.append(spell(ident, spelling))
    got = normalised_and_valid(duck, identity, spelled)
    assert [(r["n"], r["ok"]) for r in got] == [(e, True) for e in expected]


def test_id_case_table(duck, identity):
    cases = {
        "33012019630404004X": ("33012019630404004X", True),
        "33012019630404004x": ("33012019630404004X", True),
        "330120630404004": ("33012019630404004X", True),          # legacy 15 digits
        "330120196405050053": ("330120196405050053", False),      # bad check character
        "33012019650606006": ("33012019650606006", False),        # 17 digits
        "3301201965060600６X": ("33012019650606006X", False),     # 19 characters
        "33012019630404004Y": ("33012019630404004Y", False),
        "   ": (None, False),
        None: (None, False),
    }
    got = normalised_and_valid(duck, identity, list(cases))
    assert [(r["n"], r["ok"]) for r in got] == list(cases.values())


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.text(USCC_ALPHABET, min_size=17, max_size=17), st.sampled_from(USCC_ALPHABET)),
                min_size=1, max_size=40))
def test_credit_code_check_character_agrees_with_stdnum(duck, identity, cases):
    values = [body + check for body, check in cases]
    got = evaluate(duck, lambda v: identity.credit_code_is_valid(identity.normalise_credit_code(v)), values)
    assert got == [uscc.calc_check_digit(body) == check for body, check in cases]


@settings(max_examples=30, deadline=None)
@given(st.text(USCC_ALPHABET, min_size=17, max_size=17))
def test_credit_code_spellings_normalise(duck, identity, body):
    code = body + uscc.calc_check_digit(body)
    full = code.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789ABCDEFGHJKLMNPQRTUWXY"})
    spelled = [code.lower(), full, f" {code[:9]} {code[9:]} ", code]
    got = evaluate(duck, lambda v: f"struct_pack(n := {identity.normalise_credit_code(v)}, "
                                   f"ok := {identity.credit_code_is_valid(identity.normalise_credit_code(v))})",
                   spelled)
    assert [(r["n"], r["ok"]) for r in got] == [(code, True)] * len(spelled)


def test_credit_code_case_table(duck, identity):
    cases = {"91330102MA27XL4N06": True, "91330102MA27XL4N07": False, "91330102MA27XL4NO6": False,  # O is not in the alphabet
             "91330102MA27XL4N0": False, "": False, None: False}
    got = evaluate(duck, lambda v: identity.credit_code_is_valid(identity.normalise_credit_code(v)), list(cases))
    assert got == list(cases.values())


def test_phone_case_table(duck, identity):
    cases = {
        "13800138000": "13800138000",
        "138-0013-8000": "13800138000",
        "+86 138 0013 8000": "13800138000",
        "0086-13800138000": "13800138000",
        "１３８００１３８０００": "13800138000",
        "0571-8888 8888": "057188888888",
        "(0571) 88888888": "057188888888",
        "+86 571 8888 8888": "057188888888",
        "88888888": "88888888",
        " - ": None,
        None: None,
    }
    assert evaluate(duck, identity.normalise_phone, list(cases)) == list(cases.values())


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.builds(valid_id, digits17), st.text(max_size=40)), min_size=1, max_size=20))
def test_person_ref_equals_the_python_hmac(duck, identity, values):
    assert evaluate(duck, identity.person_ref, values) == [person_ref(v, key=DEV_KEY) for v in values]


def test_person_ref_under_other_keys(identity):
    # A key longer than the SHA-256 block is hashed first (RFC 2104); non-ASCII keys are UTF-8.
    import duckdb

    for key in ("k", "密钥-" * 30, "x" * 64, "y" * 65):
        con = duckdb.connect()
        for statement in session_statements(key):
            con.execute(statement)
        assert evaluate(con, identity.person_ref, ["33012019630404004X"]) == [person_ref("33012019630404004X", key=key)]
        con.close()


def test_person_ref_fails_loudly_without_the_session_key(identity):
    import duckdb
    import pytest

    with pytest.raises(duckdb.Error, match="powertrace_hmac"):
        evaluate(duckdb.connect(), identity.person_ref, ["33012019630404004X"])

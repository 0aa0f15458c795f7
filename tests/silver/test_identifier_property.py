"""Property test of the identifier macros (dbt_project/macros/identity/) against python-stdnum, on
thousands of generated values at once: random 17-digit bodies with every possible check
character (so about one in eleven is valid), their source spellings (lowercase x, full-width,
spaces, 15-digit legacy), and random credit codes with every check character of their alphabet.
The macros render plain SQL, evaluated here in one DuckDB query per batch."""
from __future__ import annotations

import random

import duckdb
import pytest
from stdnum.cn import ric, uscc

from orchestration.dbt_macros import render_macros

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
N = 4000


@pytest.fixture(scope="module")
def macros():
    return render_macros(["identity", "engine"])


def evaluate(expression: str, values: list[str]) -> list[tuple]:
    """(normalised, valid) of every value, in order, through one query."""
    con = duckdb.connect()
    con.execute("create table v (i integer, raw varchar)")
    con.executemany("insert into v values (?, ?)", list(enumerate(values)))
    return [tuple(r[1:]) for r in con.execute(f"select i, {expression} from v order by i").fetchall()]


def test_id_numbers_agree_with_stdnum(macros):
    rng = random.Random(20261127)
    bodies = ["33" + "".join(rng.choice("0123456789") for _ in range(15)) for _ in range(N)]
    values = [b + rng.choice("0123456789X") for b in bodies]
    norm = macros.normalise_id_number("raw")
    got = evaluate(f"{norm}, {macros.id_number_is_valid(norm)}", values)
    # stdnum's check character (the macros judge the check character, not birth place and date)
    expected = [(v, ric.calc_check_digit(v[:17] + "0") == v[17]) for v in values]
    assert sum(ok for _, ok in expected) > N // 20  # valid and invalid both well represented
    assert got == expected


def test_id_number_spellings_normalise_to_the_valid_form(macros):
    rng = random.Random(7)
    idents, spelled = [], []
    for k in range(N):
        body = "33" + "".join(rng.choice("0123456789") for _ in range(4)) + "19" + "".join(
            rng.choice("0123456789") for _ in range(9))
        ident = body + ric.calc_check_digit(body + "0")
        spelling = k % 5
        raw = [ident, ident.lower(), ident.translate(FULL_WIDTH), f" {ident[:6]} {ident[6:14]}\u3000{ident[14:]} ",
               ident[:6] + ident[8:17]][spelling]
        idents.append(ident)
        spelled.append(raw)
    norm = macros.normalise_id_number("raw")
    assert evaluate(f"{norm}, {macros.id_number_is_valid(norm)}", spelled) == [(i, True) for i in idents]


def test_credit_codes_agree_with_stdnum(macros):
    rng = random.Random(11)
    values = ["91" + "".join(rng.choice("0123456789") for _ in range(6)) + "".join(
        rng.choice(USCC_ALPHABET) for _ in range(9)) + rng.choice(USCC_ALPHABET) for _ in range(N)]
    norm = macros.normalise_credit_code("raw")
    got = evaluate(f"{norm}, {macros.credit_code_is_valid(norm)}", [v.lower() if i % 3 == 0 else v
                                                                    for i, v in enumerate(values)])
    expected = [(v, uscc.is_valid(v)) for v in values]
    assert sum(ok for _, ok in expected) > N // 40
    assert got == expected

"""The header vocabulary: templates, normalisation, pinyin initials, code values."""
from __future__ import annotations

import re

import pytest

from orchestration.canonical import CANONICAL_FILE, entities
from orchestration.onboarding.infer import column_name_score
from orchestration.onboarding.vocabulary import (
    ascii_tokens, bracket_notes, expand_term, header_key, initials, is_cjk, vocabulary,
)


def test_header_keys_ignore_width_case_brackets_and_separators():
    assert header_key("金额（元）") == "金额"
    assert header_key(" Pay_Date ") == "paydate"
    assert header_key("ＳＦＺＨＭ") == "sfzhm"
    assert header_key("\ufeffid-number") == "idnumber"
    assert bracket_notes("金额（分）") == ["分"]


def test_english_headers_compare_as_words():
    assert ascii_tokens("holderCertNo") == {"holder", "cert", "<id>"}
    assert ascii_tokens("project_code") == ascii_tokens("project_id")
    assert ascii_tokens("signed_on") == ascii_tokens("sign_date")
    assert ascii_tokens("submittedAt") == ascii_tokens("submit_time")
    assert ascii_tokens("姓名") == frozenset()


def test_templates_expand_alternatives_optional_parts_and_groups():
    groups = {"ID": "<身份证号码|证件号码>"}
    assert expand_term("收款<人|方>", groups) == ["收款人", "收款方"]
    assert expand_term("<投标|>状态", groups) == ["投标状态", "状态"]
    assert expand_term("<男方|女方>$ID", groups) == ["男方身份证号码", "男方证件号码", "女方身份证号码", "女方证件号码"]
    assert expand_term("<a|<b|c>d>", groups) == ["a", "bd", "cd"]
    with pytest.raises(ValueError, match="unknown group"):
        expand_term("$NOPE", groups)
    with pytest.raises(ValueError, match="unclosed"):
        expand_term("<a|b", groups)


def test_pinyin_initials_come_from_gb2312_order_and_the_character_table():
    overrides = vocabulary().char_initials
    assert initials("身份证号码", overrides) == {"sfzhm"}
    assert initials("支付日期", overrides) == {"zfrq"}
    assert "yhzh" in initials("银行账号", overrides)          # polyphone 行: hang here
    assert "xzqh" in initials("行政区划", overrides)          # and xing here
    assert initials("鑫", overrides) == {"x"}                # GB2312 level 2: from the table
    assert initials("IP地址", overrides) == {"ipdz"}
    assert initials("龘", overrides) == set()                 # unknown: never matches by accident


def test_every_chinese_name_in_the_vocabulary_has_initials():
    vocab = vocabulary()
    missing = sorted({key for names in [*vocab.column_names.values(), *vocab.entity_names.values()]
                      for key in names.cjk_keys if not initials(key, vocab.char_initials)})
    assert not missing, f"add these characters to char_initials in vocabulary.yml: {missing[:20]}"


def test_vocabulary_covers_every_canonical_column_and_entity():
    vocab = vocabulary()
    for name, ent in entities().items():
        assert vocab.entity_names[name].keys, name
        for column in ent.columns:
            assert header_key(column) in vocab.names(name, column).keys


def _accepted_values_in_canonical_comments() -> dict[tuple[str, str], set[str]]:
    """(entity, column) -> the values canonical.yaml's comment lists ('# M / F', '# a, b, c')."""
    out, entity = {}, None
    for line in CANONICAL_FILE.read_text(encoding="utf-8").splitlines():
        if m := re.match(r"^  (\w+):", line):
            entity = m.group(1)
        elif entity and (m := re.match(r"^      (\w+): \w+\s+#\s*(.+)$", line)):
            words = [w.strip() for w in re.split(r"[,/]", m.group(2))]
            if len(words) > 1 and all(re.fullmatch(r"[A-Za-z_]+", w) for w in words):
                out[(entity, m.group(1))] = set(words)
    return out


def test_code_values_are_the_accepted_values_of_canonical_yaml():
    accepted = _accepted_values_in_canonical_comments()
    vocab = vocabulary()
    for (entity, column), spellings in vocab.codes.items():
        targets = [e for e in entities() if column in entities()[e].columns] if entity == "*" else [entity]
        for e in targets:
            if (e, column) in accepted:
                assert set(spellings) == accepted[(e, column)], f"codes of {e}.{column}"
    assert ("person", "relation_to_head") in accepted  # the comment parser found the lists


def test_chinese_terms_are_recognised_as_such():
    assert is_cjk("金额(元)") and not is_cjk("JE")


@pytest.mark.parametrize("entity, header, column", [
    ("person", "SFZHM", "id_number"), ("person", "ZJHM", "id_number"), ("person", "XM", "name"),
    ("person", "身份证号码", "id_number"), ("person", "姓名", "name"), ("person", "id_card", "id_number"),
    ("person", "IDNO", "id_number"), ("village_payment", "JE", "amount"), ("village_payment", "金额(元)", "amount"),
    ("village_payment", "ZFRQ", "pay_date"), ("village_payment", "CBM", "village_code"),
    ("village_payment", "pay_date", "pay_date"), ("village_payment", "payment_no", "payment_id"),
    ("village_payment", "amount_fen", "amount"),
])
def test_the_usual_spellings_name_their_column_best(entity, header, column):
    scores = {c: column_name_score(header, entity, c) for c in entities()[entity].columns}
    assert max(scores, key=scores.get) == column and scores[column] >= 0.8

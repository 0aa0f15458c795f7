"""Inference on handcrafted samples: every format, encoding and header language."""
from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
import yaml

from orchestration.contracts import Contract
from orchestration.onboarding.infer import OnboardError, infer_contract
from orchestration.onboarding.sample import SampleError, detect_encoding, read_sample

from onboarding_samples import credit_codes, ids, write_csv, write_jsonl, write_parquet, write_xlsx

N = 60


def mapping(draft, entity: str) -> dict:
    return draft.contract["tables"][entity]["mappings"][0]["columns"]


def valid(draft) -> Contract:
    """The draft as the registry would load it (YAML text -> schema)."""
    return Contract.model_validate(yaml.safe_load(draft.to_yaml()))


def test_gbk_csv_with_chinese_headers(batch):
    payees = ids(N)
    rows = [[f"ZF{i:06d}", f"330102{1 + i % 9:03d}{1 + i % 5:03d}", payees[i], "张三", f"{100 + i * 7.25:.2f}",
             f"2026/9/{1 + i % 28}", ["务工补贴", "材料款", "工程款"][i % 3], "无"] for i in range(N)]
    path = write_csv(batch / "zfmx.csv", ["支付编号", "村编码", "收款人身份证号码", "收款人姓名", "金额(元)",
                                          "支付日期", "支出类别", "备注"], rows, encoding="gbk")
    draft = infer_contract(path, "village_finance_330100")
    contract = valid(draft)
    assert contract.delivery.encoding == "gbk" and contract.delivery.delimiter == ","
    table = contract.tables["village_payment"]
    assert table.file_pattern == "zfmx*.csv"
    assert table.mappings[0].from_batch == dt.date(2026, 9, 30)
    cols = {h: r.column for h, r in table.mappings[0].columns.items()}
    assert cols == {"支付编号": "payment_id", "村编码": "village_code", "收款人身份证号码": "payee_id",
                    "收款人姓名": "payee_name", "金额(元)": "amount", "支付日期": "pay_date", "支出类别": "category"}
    rules = table.mappings[0].columns
    assert rules["金额(元)"].unit == "yuan" and rules["支付日期"].date_style == "slash"
    assert rules["支出类别"].codes == {"务工补贴": "work_subsidy", "材料款": "materials", "工程款": "project"}
    assert table.extra_columns == ["备注"]
    assert table.primary_key == ["payment_id"] and table.required == ["payment_id"]
    assert set(table.personal_data) == {"payee_id", "payee_name"}
    assert table.not_after_batch == ["pay_date"] and table.non_negative == ["amount"]


def test_bom_csv_with_pinyin_initials_and_numeric_codes(batch):
    people = ids(N)
    rows = [[people[i], "李四", "1" if i % 2 else "2", f"19{60 + i % 30}0{1 + i % 9}15", f"330102H{i:08d}",
             ["户主", "配偶", "子"][i % 3], "330102", f"330102{1 + i % 9:03d}001"] for i in range(N)]
    path = write_csv(batch / "rkxx.csv", ["SFZHM", "XM", "XB", "CSRQ", "HH", "YHZGX", "XZQH", "CBM"], rows,
                     encoding="utf-8-sig")
    draft = infer_contract(path, "household_registry_330000")
    contract = valid(draft)
    assert contract.delivery.encoding == "utf-8-sig"
    assert contract.delivery.mode == "snapshot"
    rules = contract.tables["person"].mappings[0].columns
    assert {h: r.column for h, r in rules.items()} == {
        "SFZHM": "id_number", "XM": "name", "XB": "gender", "CSRQ": "birth_date", "HH": "household_id",
        "YHZGX": "relation_to_head", "XZQH": "region_code", "CBM": "village_code"}
    assert rules["XB"].codes == {"1": "M", "2": "F"}
    assert rules["YHZGX"].codes == {"户主": "head", "配偶": "spouse", "子": "child"}
    assert rules["CSRQ"].date_style == "compact"
    assert contract.level == "province" and contract.region_code == "330000"


def test_tsv_with_english_headers_amounts_in_fen_and_slash_timestamps(batch):
    bidders = credit_codes(N)
    rows = [[f"B{i:05d}", f"P{i % 7:04d}", bidders[i], 1_000_000 + i * 137, f"2026/9/{1 + i % 28} 9:{i % 60:02d}:05",
             "王五", f"138{i:08d}", f"10.0.{i % 9}.{i}", f"00:1a:2b:3c:4d:{i:02x}", f"{i:032x}",
             ["有效", "中标", "废标"][i % 3]] for i in range(N)]
    header = ["bid_no", "project_no", "bidder_uscc", "bid_price_fen", "submit_time", "contact", "contact_tel",
              "ip_addr", "mac_addr", "file_md5", "status"]
    path = write_csv(batch / "bids.tsv", header, rows, delimiter="\t")
    contract = valid(infer_contract(path, "public_resource_trading_330100"))
    assert contract.delivery.delimiter == "\t" and contract.delivery.format == "csv"
    rules = contract.tables["bid"].mappings[0].columns
    assert {h: r.column for h, r in rules.items()} == {
        "bid_no": "bid_id", "project_no": "project_id", "bidder_uscc": "bidder_code", "bid_price_fen": "bid_price",
        "submit_time": "submitted_at", "contact": "contact_name", "contact_tel": "contact_phone",
        "ip_addr": "client_ip", "mac_addr": "client_mac", "file_md5": "doc_hash", "status": "status"}
    assert rules["bid_price_fen"].unit == "fen" and rules["submit_time"].date_style == "slash"
    assert rules["status"].codes == {"中标": "won", "废标": "disqualified", "有效": "valid"}


def test_xlsx_below_a_title_row_with_excel_serial_dates(batch):
    owners = credit_codes(N)
    rows = [[f"ZB{i:05d}", f"某某工程{i}", owners[i], "330102", ["工程", "货物", "服务"][i % 3],
             ["公开招标", "邀请招标"][i % 2], 50000 + i * 1234.56, 46000 + i, 46020 + i, None if i % 4 else 46030 + i]
            for i in range(N)]
    header = ["项目编号", "项目名称", "招标人代码", "行政区划代码", "项目类型", "招标方式", "预算金额(元)",
              "发布日期", "投标截止日期", "中标日期"]
    path = write_xlsx(batch / "zbxm.xlsx", header, rows, title_lines=1)
    contract = valid(infer_contract(path, "public_resource_trading_330100"))
    assert contract.delivery.format == "xlsx" and contract.delivery.header_row == 2
    rules = contract.tables["tender_project"].mappings[0].columns
    assert {h: r.column for h, r in rules.items()} == {
        "项目编号": "project_id", "项目名称": "name", "招标人代码": "owner_code", "行政区划代码": "region_code",
        "项目类型": "category", "招标方式": "method", "预算金额(元)": "budget", "发布日期": "publish_date",
        "投标截止日期": "bid_deadline", "中标日期": "award_date"}
    assert {rules[h].date_style for h in ("发布日期", "投标截止日期", "中标日期")} == {"excel_serial"}
    assert rules["预算金额(元)"].unit == "yuan"
    assert rules["招标方式"].codes == {"公开招标": "open", "邀请招标": "invited"}


def test_jsonl_with_a_bare_id_header_means_the_records_subject(batch):
    people = ids(N)
    rows = [[f"YL{i:06d}", people[i], 2800.5 + i, f"2026-{1 + i % 9:02d}"] for i in range(N)]
    path = write_jsonl(batch / "yljff.jsonl", ["发放编号", "身份证号码", "发放金额", "发放月份"], rows)
    draft = infer_contract(path, "pension_330000")
    contract = valid(draft)
    assert contract.delivery.format == "jsonl"
    rules = contract.tables["pension_payment"].mappings[0].columns
    assert {h: r.column for h, r in rules.items()} == {
        "发放编号": "pension_id", "身份证号码": "recipient_id", "发放金额": "amount", "发放月份": "pay_month"}
    assert rules["发放金额"].unit == "yuan"


def test_parquet_with_typed_dates_reads_them_as_iso(batch):
    people = ids(N)
    hospital = credit_codes(1)[0]
    path = write_parquet(batch / "prescriptions.parquet", {
        "rx_no": [f"RX{i:06d}" for i in range(N)],
        "hospital_uscc": [hospital] * N,
        "doctor_idno": people[:5] * (N // 5),
        "patient_idno": people,
        "drug_code": [f"XA{i % 13:05d}" for i in range(N)],
        "qty": pa.array([1 + i % 5 for i in range(N)], pa.int64()),
        "rx_date": pa.array([dt.date(2026, 9, 1 + i % 28) for i in range(N)], pa.date32()),
    })
    contract = valid(infer_contract(path, "hospital_his_086"))
    assert contract.level == "hospital" and contract.kind == "hospital_his"
    rules = contract.tables["prescription"].mappings[0].columns
    assert {h: r.column for h, r in rules.items()} == {
        "rx_no": "rx_id", "hospital_uscc": "hospital_code", "doctor_idno": "doctor_id",
        "patient_idno": "patient_id", "drug_code": "drug_code", "qty": "quantity", "rx_date": "rx_date"}
    assert rules["rx_date"].date_style == "iso"
    assert contract.tables["prescription"].personal_data == ["doctor_id", "patient_id"]


def test_a_header_no_vocabulary_knows_is_matched_by_its_values_and_flagged(batch):
    people = ids(N)
    rows = [[people[i], "赵六", f"330102{1 + i % 9:03d}001", "书记", "2024-01-01", ""] for i in range(N)]
    path = write_csv(batch / "cadres.csv", ["身份证号码", "姓名", "F3", "职务", "任期开始日期", "任期结束日期"], rows)
    draft = infer_contract(path, "village_cadre_roster_330000")
    assert mapping(draft, "village_cadre")["F3"] == {"column": "village_code"}
    text = draft.to_yaml()
    line = next(line for line in text.splitlines() if line.strip().startswith("F3:"))
    assert "# REVIEW:" in line and "matched by its values" in line


def test_a_batch_folder_yields_one_table_per_file(batch):
    payees, suppliers = ids(N), credit_codes(N)
    village = [f"330102{1 + i % 9:03d}001" for i in range(N)]
    write_csv(batch / "xegc.csv", ["GCBH", "CDM", "GCMC", "CBFZJHM", "HTJE", "SPRQ"],
              [[f"GC{i:05d}", village[i], "道路硬化", payees[i], 120000 + i, f"202609{1 + i % 28:02d}"] for i in range(N)],
              encoding="gbk")
    write_csv(batch / "zfmx.csv", ["ZFBH", "CDM", "SKRZJHM", "SKRMC", "JE", "ZFRQ", "GLGCBH"],
              [[f"ZF{i:05d}", village[i], payees[i], "张三", 50000 + i, f"202609{1 + i % 28:02d}", f"GC{i:05d}"]
               for i in range(N)], encoding="gbk")
    write_csv(batch / "cgmx.csv", ["CGBH", "CDM", "GYSDM", "CGWP", "CGJE", "CGRQ"],
              [[f"CG{i:05d}", village[i], suppliers[i], "水泥", 9000 + i, f"202609{1 + i % 28:02d}"] for i in range(N)],
              encoding="gbk")
    contract = valid(infer_contract(batch, "village_finance_330100"))
    assert set(contract.tables) == {"village_project", "village_payment", "village_procurement"}
    assert {t.file_pattern for t in contract.tables.values()} == {"xegc*.csv", "zfmx*.csv", "cgmx*.csv"}
    assert contract.tables["village_payment"].mappings[0].columns["GLGCBH"].column == "vproject_id"
    assert contract.tables["village_procurement"].mappings[0].columns["CGWP"].column == "item"
    assert contract.tables["village_payment"].mappings[0].columns["JE"].unit == "fen"


def test_split_files_share_a_table_and_empty_defect_files_are_skipped(batch):
    people = ids(N)
    rows = [[f"SW{i:05d}", people[i], f"2026-09-{1 + i % 28:02d}"] for i in range(N)]
    write_csv(batch / "swxx.csv", ["证明编号", "身份证号码", "死亡日期"], rows)
    write_csv(batch / "swxx-2.csv", ["证明编号", "身份证号码", "死亡日期"], rows[:3])
    (batch / "empty.csv").write_bytes(b"")
    draft = infer_contract(batch, "death_registry_330000")
    contract = valid(draft)
    assert list(contract.tables) == ["death"] and contract.tables["death"].file_pattern == "swxx*.csv"
    assert "skipped unreadable files" in draft.to_yaml()


def test_review_comments_mark_guesses_and_the_yaml_reads_back(batch):
    people = ids(N)
    path = write_csv(batch / "data.csv", ["身份证号码", "死亡日期", "来源编号"],
                     [[people[i], f"2026-09-{1 + i % 28:02d}", f"R{i}"] for i in range(N)])
    text = infer_contract(path, "death_registry_330000").to_yaml()
    assert "name: death_registry_330000  # REVIEW:" in text
    assert "department: 待定  # REVIEW:" in text
    assert yaml.safe_load(text)["tables"]["death"]["primary_key"] == ["id_number"]


def test_a_file_without_the_entity_key_is_a_clear_error(batch):
    path = write_csv(batch / "x.csv", ["备注", "说明"], [["a", "b"]] * 5)
    with pytest.raises(OnboardError, match="key column"):
        infer_contract(path, "some_system_330000")


def test_json_arrays_and_unknown_extensions_are_refused(tmp_path):
    array = tmp_path / "a.json"
    array.write_text('[{"a": 1}]', encoding="utf-8")
    with pytest.raises(SampleError, match="JSON lines"):
        read_sample(array)
    odd = tmp_path / "a.doc"
    odd.write_text("x", encoding="utf-8")
    with pytest.raises(SampleError, match="unsupported file type"):
        read_sample(odd)


def test_one_corrupt_line_does_not_flip_a_gbk_file():
    text = "姓名,金额\n" + "张三,1.00\n" * 50
    data = text.encode("gbk") + b"\xff\xfe\xfd,2\n"
    assert detect_encoding(data)[0] == "gbk"
    assert detect_encoding(text.encode("utf-8"))[0] == "utf-8"
    assert detect_encoding(b"\xef\xbb\xbf" + text.encode("utf-8"))[0] == "utf-8-sig"

"""Readers: each format → header, raw string records with source rows, structural defects."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from orchestration.contracts import Delivery
from orchestration.ingest.readers import FileRejected, read_file


def delivery(fmt: str = "csv", **kw) -> Delivery:
    return Delivery(format=fmt, mode="increment", **kw)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def rows_of(read) -> list[tuple]:
    return read.records.select(["_source_row", *read.fields]).rows()


def test_csv_records_keep_their_line_numbers_and_raw_text(tmp_path):
    path = write(tmp_path, "a.csv", b"a,b,c\n1,2,3\n\n4, 5 ,6\n")
    read = read_file(path, delivery())
    assert read.header == ["a", "b", "c"]
    assert rows_of(read) == [(2, "1", "2", "3"), (4, "4", " 5 ", "6")]   # blank line 3 is not a record
    assert read.records_counted == 2
    assert read.raw_lines([4, 2]) == ["4, 5 ,6", "1,2,3"]


@pytest.mark.parametrize("encoding,bom", [("utf-8", b""), ("utf-8-sig", b"\xef\xbb\xbf"), ("gbk", b"")])
def test_csv_encodings(tmp_path, encoding, bom):
    text = "姓名,金额\r\n张三,12\r\n李四,13\r\n"
    data = bom + text.encode("gbk" if encoding == "gbk" else "utf-8")
    read = read_file(write(tmp_path, "a.csv", data), delivery(encoding=encoding))
    assert read.header == ["姓名", "金额"]
    assert rows_of(read) == [(2, "张三", "12"), (3, "李四", "13")]
    assert read.raw_lines([3]) == ["李四,13"]


def test_csv_delimiter_and_header_row_below_a_title(tmp_path):
    data = "某局数据导出\n\nx|y\n1|2\n".encode()
    read = read_file(write(tmp_path, "a.csv", data), delivery(delimiter="|", header_row=3))
    assert read.header == ["x", "y"]
    assert rows_of(read) == [(4, "1", "2")]


def test_csv_wrong_field_counts_and_truncated_last_line(tmp_path):
    data = b"a,b,c\n1,2,3\n1,2\n1,2,3,4\n7,8,9\n10,1"
    read = read_file(write(tmp_path, "a.csv", data), delivery())
    assert [r[0] for r in rows_of(read)] == [2, 5]
    assert read.defects.rows() == [
        (3, "1,2", "field_count", "2 fields, expected 3"),
        (4, "1,2,3,4", "field_count", "4 fields, expected 3"),
        (6, "10,1", "field_count", "truncated last line: 2 fields, expected 3"),
    ]
    assert read.records_counted == 5


def test_csv_quoted_fields_and_a_record_over_two_lines(tmp_path):
    data = b'a,b,c\n1,"x,y",3\n"two\nlines",5,6\n7,"say ""hi""",9\n"x",2\n1,2,"never closed\n'
    read = read_file(write(tmp_path, "a.csv", data), delivery())
    assert rows_of(read) == [(2, "1", "x,y", "3"), (3, "two\nlines", "5", "6"), (5, "7", 'say "hi"', "9")]
    assert read.raw_lines([3]) == ['"two\nlines",5,6']
    assert [(r, rule) for r, _, rule, _ in read.defects.rows()] == [(6, "field_count"), (7, "field_count")]
    assert "not closed" in read.defects["reason"][1]
    assert read.records_counted == 5


def test_csv_undecodable_file_is_rejected_with_every_raw_line(tmp_path):
    data = "a,b\n1,2\n".encode() + b"\xff\xfe,3\n" + "张,4\n".encode()
    with pytest.raises(FileRejected) as err:
        read_file(write(tmp_path, "bad.csv", data), delivery())
    rej = err.value
    assert rej.rule == "undecodable"
    assert "bad.csv" in rej.reason and "line 3" in rej.reason and "utf-8" in rej.reason
    assert rej.raw["_source_row"].to_list() == [2, 3, 4]
    assert rej.raw["raw_line"][1].endswith(",3") and "\ufffd" in rej.raw["raw_line"][1]
    assert rej.records_counted == 3


def test_gbk_contract_receiving_invalid_gbk_is_undecodable(tmp_path):
    data = "a,b\r\n".encode("gbk") + b"\x81\x20,1\r\n"
    with pytest.raises(FileRejected) as err:
        read_file(write(tmp_path, "bad.csv", data), delivery(encoding="gbk"))
    assert err.value.rule == "undecodable" and "gbk" in err.value.reason


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "jsonl", "parquet"])
def test_zero_byte_file_has_no_records(tmp_path, fmt):
    read = read_file(write(tmp_path, f"empty.{fmt}", b""), delivery(fmt))
    assert read.header == [] and read.records.height == 0 and read.records_counted == 0


def test_header_only_csv(tmp_path):
    read = read_file(write(tmp_path, "h.csv", b"a,b\n"), delivery())
    assert read.header == ["a", "b"] and read.records.height == 0 and read.records_counted == 0


def test_xlsx_typed_cells_become_text_with_sheet_row_numbers(tmp_path):
    path = tmp_path / "a.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    sheet.write_string(0, 0, "导出")                       # title above the header (header_row 3)
    sheet.write_row(2, 0, ["id", "amount", "day", "flag"])
    sheet.write_row(3, 0, ["001", 1234, 45356, True])
    sheet.write_row(5, 0, ["002", 12.5, "2024-03-05"])     # row 5 left blank
    sheet.write_row(6, 0, ["003", 1, "x", None, "beyond"])
    book.close()
    read = read_file(path, delivery("xlsx", header_row=3))
    assert read.header == ["id", "amount", "day", "flag"]
    assert rows_of(read) == [(4, "001", "1234", "45356", "true"), (6, "002", "12.5", "2024-03-05", None)]
    assert read.defects["_source_row"].to_list() == [7] and read.defects["rule"][0] == "field_count"
    assert json.loads(read.raw_lines([6])[0]) == {"id": "002", "amount": "12.5", "day": "2024-03-05", "flag": None}
    assert read.records_counted == 3


def test_unreadable_xlsx_is_rejected(tmp_path):
    with pytest.raises(FileRejected) as err:
        read_file(write(tmp_path, "a.xlsx", b"not a zip"), delivery("xlsx"))
    assert err.value.rule == "unreadable_file" and err.value.records_counted is None
    assert err.value.raw["_source_row"].to_list() == [None]


# 2 lines at a time: "extra" is first seen in the second part, the bad lines fall in later ones
@pytest.mark.parametrize("lines_at_once", [100_000, 2])
def test_jsonl_values_as_text_and_bad_lines(tmp_path, monkeypatch, lines_at_once):
    monkeypatch.setattr("orchestration.ingest.readers._JSONL_LINES_AT_ONCE", lines_at_once)
    lines = ['{"id": "a", "n": 12, "x": 1.5, "ok": true}', "", '{"id": "b", "extra": null}', "[1, 2]",
             '{"id": "c", "n":']
    read = read_file(write(tmp_path, "a.jsonl", "\n".join(lines).encode()), delivery("jsonl"))
    assert read.header == ["id", "n", "x", "ok", "extra"]
    assert rows_of(read) == [(1, "a", "12", "1.5", "true", None), (3, "b", None, None, None, None)]
    assert read.defects.select("_source_row", "rule").rows() == [(4, "field_count"), (5, "field_count")]
    assert "truncated last line" in read.defects["reason"][1]
    assert read.raw_lines([3]) == ['{"id": "b", "extra": null}']
    assert read.records_counted == 4


def test_parquet_typed_columns_become_text(tmp_path):
    path = tmp_path / "a.parquet"
    pl.DataFrame({"id": ["a", ""], "fen": [1234, None], "yuan": [12.5, 3.0],
                  "day": [dt.date(2024, 3, 5), None], "at": [dt.datetime(2024, 3, 5, 8, 1, 2), None]}).write_parquet(path)
    read = read_file(path, delivery("parquet"))
    assert rows_of(read) == [(1, "a", "1234", "12.5", "2024-03-05", "2024-03-05 08:01:02"),
                             (2, None, None, "3", None, None)]
    assert read.records_counted == 2
    assert json.loads(read.raw_lines([2])[0])["yuan"] == "3"


def test_csv_vendor_quoting_every_field(tmp_path):
    data = '"a","b"\n"1","x"\n"2","y,z"\n"3"\n"4","w"\n'.encode()
    read = read_file(write(tmp_path, "q.csv", data), delivery())
    assert rows_of(read) == [(2, "1", "x"), (3, "2", "y,z"), (5, "4", "w")]
    assert read.defects.select("_source_row", "raw_line", "rule").rows() == [(4, '"3"', "field_count")]

"""XLSX reading: python-calamine reads the cells, openpyxl the workbooks calamine would read otherwise."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import xlsxwriter

from orchestration.contracts import Delivery
from orchestration.ingest.readers import read_file

XLSX = Delivery(format="xlsx", mode="increment")


def workbook(path: Path, *cells: tuple[int, int, object]) -> Path:
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    for row, col, value in cells:
        sheet.write(row, col, value)
    book.close()
    return path


def with_sheet_xml(path: Path, old: bytes, new: bytes) -> Path:
    """The workbook with ``old`` replaced by ``new`` in its sheet XML, as another tool would write it."""
    source, out = zipfile.ZipFile(io.BytesIO(path.read_bytes())), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, data.replace(old, new) if item.filename == "xl/worksheets/sheet1.xml" else data)
    path.write_bytes(out.getvalue())
    return path


def rows_of(read) -> list[tuple]:
    return read.records.select(["_source_row", *read.fields]).rows()


def test_blank_rows_and_columns_before_the_header_keep_their_sheet_positions(tmp_path):
    # calamine's range starts at the first used cell (C3 here): rows and columns still count from A1.
    path = workbook(tmp_path / "a.xlsx", (2, 2, "id"), (2, 3, "amount"), (3, 2, "001"), (3, 3, 12),
                    (5, 2, "002"), (5, 4, "beyond"), (6, 1, "left"), (6, 2, "003"))
    read = read_file(path, Delivery(format="xlsx", mode="increment", header_row=3))
    assert read.header == ["column_1", "column_2", "id", "amount"] and len(read.warnings) == 2
    assert rows_of(read) == [(4, None, None, "001", "12"), (7, None, "left", "003", None)]
    assert read.defects.select("_source_row", "raw_line", "reason").rows() == [
        (6, '[null,null,"002",null,"beyond"]', "values beyond the last header column (in column 5), expected 4 fields")]
    assert read.records_counted == 3


def test_error_cells_keep_their_text(tmp_path):
    path = tmp_path / "a.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["id", "amount"])
    sheet.write_row(1, 0, ["001"])
    sheet.write_formula(1, 1, "=1/0", None, "#DIV/0!")    # an error cell: calamine reads it as empty
    book.close()
    assert rows_of(read_file(path, XLSX)) == [(2, "001", "#DIV/0!")]


def test_integers_past_2_53_keep_every_digit(tmp_path):
    path = workbook(tmp_path / "a.xlsx", (0, 0, "account"), (1, 0, 7))
    with_sheet_xml(path, b"<v>7</v>", b"<v>622202123456789012345</v>")    # calamine reads numbers as floats
    assert rows_of(read_file(path, XLSX)) == [(2, "622202123456789012345")]


def test_rows_beyond_a_stale_dimension_are_read(tmp_path):
    # A writer that declares the sheet as A1:A1: every cell is read all the same, as Excel does.
    path = workbook(tmp_path / "a.xlsx", (0, 0, "id"), (0, 1, "name"), (1, 0, "001"), (1, 1, "张三"), (3, 0, "002"))
    with_sheet_xml(path, b'<dimension ref="A1:B4"/>', b'<dimension ref="A1"/>')
    read = read_file(path, XLSX)
    assert read.header == ["id", "name"] and rows_of(read) == [(2, "001", "张三"), (4, "002", None)]

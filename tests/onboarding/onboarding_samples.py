"""Writers of handcrafted sample deliveries, in every format and encoding onboarding reads."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import xlsxwriter

from orchestration.world.core import make_credit_code, make_id_number


def ids(n: int, region: str = "330102") -> list[str]:
    return [make_id_number(region, dt.date(1960 + i % 40, 1 + i % 12, 1 + i % 28), i) for i in range(n)]


def credit_codes(n: int, region: str = "330102") -> list[str]:
    return [make_credit_code(region, 1000 + i) for i in range(n)]


def write_csv(path: Path, header: list[str], rows: list[list], *, encoding: str = "utf-8",
              delimiter: str = ",", title_lines: int = 0) -> Path:
    buf = io.StringIO()
    for _ in range(title_lines):
        buf.write("某某局数据导出\n")
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list], *, title_lines: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    if title_lines:
        sheet.write_string(0, 0, "某某平台导出")
    for c, h in enumerate(header):
        sheet.write_string(title_lines, c, h)
    for r, row in enumerate(rows, start=title_lines + 1):
        for c, v in enumerate(row):
            if isinstance(v, str):
                sheet.write_string(r, c, v)
            elif v is not None:
                sheet.write_number(r, c, v)
    book.close()
    return path


def write_jsonl(path: Path, header: list[str], rows: list[list]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(dict(zip(header, r)), ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def write_parquet(path: Path, columns: dict[str, list]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path)
    return path

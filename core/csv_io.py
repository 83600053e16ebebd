"""CSV: one file per table, named after it (``organizations.csv`` or ``组织.csv``)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from core.model import Catalogue
from core.problems import Problem
from core.tables import TABLES
from core.tabular import records_from_rows, table_for_name, table_rows
from core.validate import RawCatalogue


def decode_text(data: bytes) -> tuple[str, str]:
    """Text and encoding of a CSV as Excel saves it: UTF-8 (with or without BOM) or GBK/GB18030."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise UnicodeDecodeError("utf-8", data, 0, 1, "neither UTF-8 nor GB18030")


def read_csv(path: str | Path) -> RawCatalogue:
    """One table's records from a CSV file; the file name says which table."""
    path = Path(path)
    file = str(path)
    raw = RawCatalogue()
    table = table_for_name(path.stem)
    if table is None:
        names = ", ".join(f"{t.key}.csv / {t.sheet}.csv" for t in TABLES)
        raw.problems.append(Problem(file, f"无法从文件名判断是哪张表，请命名为 / cannot tell the table "
                                          f"from the file name; name it one of: {names}"))
        return raw
    data = path.read_bytes()
    if b"\x00" in data[:4096]:
        raw.problems.append(Problem(file, "不是文本 CSV 文件（含二进制内容） / not a text CSV file"))
        return raw
    try:
        text, _ = decode_text(data)
    except UnicodeDecodeError:
        raw.problems.append(Problem(file, "无法识别文件编码（应为 UTF-8 或 GBK） / unknown encoding "
                                          "(expected UTF-8 or GBK)"))
        return raw
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    if not rows:
        return raw
    numbered = ((i, row) for i, row in enumerate(rows[1:], start=2))
    raw.tables[table.key].extend(
        records_from_rows(file, table.sheet, table, list(rows[0]), numbered, raw.problems)
    )
    return raw


def write_csv_dir(folder: str | Path, catalogue: Catalogue) -> list[Path]:
    """One CSV per table in ``folder`` (UTF-8 with BOM, so Excel opens it right)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    rows = table_rows(catalogue)
    for table in TABLES:
        target = folder / f"{table.key}.csv"
        with open(target, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow([c.header for c in table.columns])
            writer.writerows(rows[table.key])
        written.append(target)
    return written

"""What Excel sheets and CSV files share: headers, rows to records, records to rows."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core.model import Catalogue
from core.problems import Problem, Where
from core.serialize import catalogue_to_dict
from core.tables import TABLE_BY_KEY, TABLES, Column, Kind, Table
from core.taxonomy import taxonomy
from core.validate import RawRecord

# Sheets that are part of the workbook but hold no table.
INSTRUCTIONS_SHEET = "说明"
LISTS_SHEET = "词表"


def table_for_name(name: str) -> Table | None:
    """The table a sheet or CSV file name stands for (Chinese sheet name or English key)."""
    clean = name.strip().lower()
    for table in TABLES:
        if clean in (table.key, table.sheet.lower()):
            return table
    return None


def column_for_header(table: Table, header: str) -> Column | None:
    """The column a header names: ``中文 (key)``, the Chinese name alone, or the key alone."""
    text = header.strip()
    for opening, closing in (("(", ")"), ("（", "）")):
        if text.endswith(closing) and opening in text:
            col = table.column(text[text.rindex(opening) + 1 : -1].strip())
            if col:
                return col
            text = text[: text.rindex(opening)].strip()
    for col in table.columns:
        if text in (col.zh, col.key):
            return col
    return None


def records_from_rows(
    file: str,
    sheet: str,
    table: Table,
    header: list[Any],
    rows: Iterable[tuple[int, list[Any]]],
    problems: list[Problem],
) -> list[RawRecord]:
    """Records of one sheet or CSV file; header problems go into ``problems``.

    ``rows`` yields (row number as the user sees it, cell values). Blank rows
    are skipped, so a sheet with thousands of empty formatted rows costs nothing.
    """
    sheet_where = Where(file, sheet, 1)
    positions: dict[int, Column] = {}
    labels: dict[str, str] = {}
    for index, cell in enumerate(header):
        if cell is None or (isinstance(cell, str) and not cell.strip()):
            continue
        text = str(cell)
        col = column_for_header(table, text)
        letter = _column_letter(index)
        if col is None:
            problems.append(Problem(file, f"未知列 “{text}”，已忽略 / unknown column, ignored",
                                    sheet, 1, f"{letter} {text}", warning=True))
            continue
        if col.key in labels:
            problems.append(Problem(file, f"列 “{text}” 重复 / duplicate column", sheet, 1,
                                    f"{letter} {text}"))
            continue
        positions[index] = col
        labels[col.key] = f"{letter} {text}"
    records: list[RawRecord] = []
    missing = [c for c in table.columns if c.required and c.key not in labels]
    for row_number, values in rows:
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        data = {col.key: values[i] for i, col in positions.items() if i < len(values)}
        records.append(RawRecord(data, Where(file, sheet, row_number, labels)))
    if missing and records:
        for col in missing:
            problems.append(Problem(
                file,
                f"缺少必填列 “{col.header}”（表头可能被改名） / required column missing "
                f"(was the header renamed?)",
                sheet_where.sheet, 1, col.header,
            ))
    return records


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell_text(col: Column, value: Any) -> Any:
    """A stored value as a spreadsheet cell: lists joined, levels as ``技能:4``, codes as labels."""
    if value is None or value == "" or value == [] or value == {}:
        return None
    kind = col.kind
    if kind is Kind.LIST:
        return "; ".join(value)
    if kind is Kind.LEVELS:
        return "; ".join(f"{k}:{v}" for k, v in value.items())
    if kind is Kind.CODE:
        return taxonomy().label(col.suggest, value)
    if kind is Kind.CODES:
        return "; ".join(taxonomy().label(col.suggest, v) for v in value)
    if kind is Kind.BOOL:
        return "是" if value else "否"
    return value


def _get(data: dict[str, Any], dotted: str) -> Any:
    value: Any = data
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def table_rows(catalogue: Catalogue) -> dict[str, list[list[Any]]]:
    """Every table of ``catalogue`` as spreadsheet rows (no header), in table order."""
    doc = catalogue_to_dict(catalogue)
    source: dict[str, list[dict[str, Any]]] = {k: list(doc.get(k, [])) for k in TABLE_BY_KEY}
    for org in doc["organizations"]:
        for key in ("products", "deployments"):
            source[key].extend({**item, "org": org["id"]} for item in org.get(key, []))
    out: dict[str, list[list[Any]]] = {}
    for table in TABLES:
        out[table.key] = [
            [cell_text(col, _get(item, col.key)) for col in table.columns]
            for item in source[table.key]
        ]
    return out

"""The Excel workbook: template, export and import (openpyxl)."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from core.model import Catalogue
from core.problems import Problem
from core.tables import TABLES, Column, Kind, Table
from core.tabular import (
    INSTRUCTIONS_SHEET,
    LISTS_SHEET,
    records_from_rows,
    table_for_name,
    table_rows,
)
from core.taxonomy import taxonomy
from core.validate import FormulaCell, RawCatalogue

REQUIRED_SHEETS = ("organizations", "scenes")
VALIDATION_ROWS = 5000
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
REQUIRED_FILL = PatternFill("solid", fgColor="FCE4D6")

_KIND_TEXT = {
    Kind.STR: "文本 text",
    Kind.TEXT: "长文本 long text",
    Kind.INT: "整数 whole number",
    Kind.FLOAT: "数字 number",
    Kind.RATE: "比例 0–1 或百分数 rate (0.95 or 95%)",
    Kind.LEVEL: "等级 1–5 level",
    Kind.BOOL: "是/否 yes/no",
    Kind.LIST: "多个值用 ; 分隔 list, separated by ;",
    Kind.LEVELS: "技能:等级; … skill:level; …",
    Kind.CODE: "从下拉列表选择 choose from the list",
    Kind.CODES: "一个或多个，用 ; 分隔 one or more, separated by ;",
    Kind.USCC: "18 位统一社会信用代码 18-character USCC",
    Kind.MONTH: "年-月，如 2026-03 YYYY-MM",
}


CODE_LISTS = {c.suggest for t in TABLES for c in t.columns if c.kind in (Kind.CODE, Kind.CODES)}


def _list_values(suggest: str) -> list[str]:
    # Codes are offered by their Chinese label (the reader maps labels back);
    # free-text lists by the value itself.
    terms = taxonomy().terms(suggest)
    return [t.zh if suggest in CODE_LISTS else t.value for t in terms]


def _write_lists_sheet(wb: Workbook) -> dict[str, str]:
    """A hidden sheet with one column per taxonomy list; returns list ranges by kind."""
    ws = wb.create_sheet(LISTS_SHEET)
    ranges: dict[str, str] = {}
    kinds = sorted({c.suggest for t in TABLES for c in t.columns if c.suggest})
    for index, kind in enumerate(kinds, start=1):
        values = _list_values(kind)
        letter = get_column_letter(index)
        ws.cell(row=1, column=index, value=kind)
        for row, value in enumerate(values, start=2):
            ws.cell(row=row, column=index, value=value)
        if values:
            ranges[kind] = f"'{LISTS_SHEET}'!${letter}$2:${letter}${len(values) + 1}"
    ws.sheet_state = "hidden"
    return ranges


def _write_instructions(wb: Workbook) -> None:
    ws = wb.active
    assert ws is not None
    ws.title = INSTRUCTIONS_SHEET
    lines: list[list[Any]] = [
        ["SceneMatch 实景实训目录模板 / catalogue template"],
        [],
        ["填写说明 How to fill in"],
        ["1. 每个工作表对应一张表；第 1 行是表头，请勿改名。Each sheet is one table; "
         "row 1 is the header — do not rename it."],
        ["2. 带 * 的列必填（橙色表头）。Columns marked * are required (orange header)."],
        ["3. 多个值用分号 ; 或 ； 分隔；技能写作 技能:等级，如 抓取放置:4; 搬运:3。"
         "Lists use ; — skills as skill:level."],
        ["4. 请填写数值，不要使用公式。Type values, not formulas."],
        ["5. 导入时全部检查：有任何错误则不写入，并列出每个错误的工作表、行和列。"
         "Import checks everything first: if anything is wrong nothing is written, and every "
         "problem is listed with its sheet, row and column."],
        ["6. 同一编号再次导入会更新原记录，不会重复。Re-importing an id updates it; nothing is "
         "duplicated."],
        [],
        ["工作表 Sheet", "列 Column", "必填 Required", "类型 Type", "说明 Notes"],
    ]
    for table in TABLES:
        lines.append([f"{table.sheet} ({table.key})", "", "", "", table.note])
        for col in table.columns:
            note = col.note
            if col.kind in (Kind.CODE, Kind.CODES):
                note = (note + " " if note else "") + "可选 values: " + ", ".join(
                    f"{t.zh}={t.value}" for t in taxonomy().terms(col.suggest)
                )
            lines.append(["", col.header, "是 yes" if col.required else "", _KIND_TEXT[col.kind],
                          note])
    for line in lines:
        ws.append(line)
    ws["A1"].font = Font(bold=True, size=14)
    ws["A3"].font = Font(bold=True)
    for cell in ws[11]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for letter, width in zip("ABCDE", (26, 34, 12, 30, 80), strict=True):
        ws.column_dimensions[letter].width = width


def _validation(col: Column, ranges: dict[str, str], letter: str) -> DataValidation | None:
    if col.kind is Kind.LEVEL:
        dv = DataValidation(type="whole", operator="between", formula1="1", formula2="5",
                            allow_blank=True)
        dv.error = "等级应为 1 到 5 的整数 / level must be 1..5"
    elif col.suggest and col.suggest in ranges:
        dv = DataValidation(type="list", formula1=ranges[col.suggest], allow_blank=True)
        # Only single codes are closed lists; everything else is free text with suggestions.
        dv.showErrorMessage = col.kind is Kind.CODE
        dv.error = "请从列表中选择 / choose a value from the list"
    else:
        return None
    dv.add(f"{letter}2:{letter}{VALIDATION_ROWS}")
    return dv


def append_rows(ws: Any, rows: Any) -> None:
    """Append rows of user data to a sheet, as data: control characters (pasted from Word,
    say; an .xlsx cannot hold them) are dropped, and a string starting with "=" stays a
    string — openpyxl would store it as a formula, which Excel evaluates (formula injection).
    """
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    first = ws.max_row + 1 if ws.max_row > 1 or ws.cell(1, 1).value is not None else 1
    for row in rows:
        ws.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
    for cells in ws.iter_rows(min_row=first):
        for cell in cells:
            if cell.data_type == "f":
                cell.data_type = "s"


def write_workbook(path: str | Path, catalogue: Catalogue | None = None) -> None:
    """Write the Excel workbook: the empty template, or ``catalogue`` filled in."""
    wb = Workbook()
    if catalogue is not None and catalogue.name:
        wb.properties.title = catalogue.name
    _write_instructions(wb)
    data = table_rows(catalogue) if catalogue is not None else {}
    sheets = []
    for table in TABLES:
        ws = wb.create_sheet(table.sheet)
        ws.append([("* " if c.required else "") + c.header for c in table.columns])
        append_rows(ws, data.get(table.key, []))
        sheets.append((table, ws))
    ranges = _write_lists_sheet(wb)
    for table, ws in sheets:
        ws.freeze_panes = "B2" if table.columns[0].key == "id" else "A2"
        for index, col in enumerate(table.columns, start=1):
            letter = get_column_letter(index)
            cell = ws.cell(row=1, column=index)
            cell.font = Font(bold=True)
            cell.fill = REQUIRED_FILL if col.required else HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            wide = col.kind in (Kind.TEXT, Kind.LEVELS) or col.key == "name"
            ws.column_dimensions[letter].width = 40 if wide else max(12, len(col.header) * 1.6)
            dv = _validation(col, ranges, letter)
            if dv is not None:
                ws.add_data_validation(dv)
    wb.save(str(path))


def read_workbook(path: str | Path) -> RawCatalogue:
    """Every table sheet of a workbook as raw records (checked later by ``validate``)."""
    path = Path(path)
    file = str(path)
    raw = RawCatalogue()
    try:
        wb = load_workbook(file, read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        head = path.read_bytes()[:8] if path.is_file() else b""
        hint = ""
        if head.lstrip().startswith((b"{", b"[")):
            hint = "（内容像是 JSON，请把扩展名改为 .json） / (it looks like JSON: rename it .json)"
        elif head.startswith(b"\xd0\xcf\x11\xe0"):
            hint = "（这是旧版 .xls 文件，请在 Excel 中另存为 .xlsx） / (an old .xls: save as .xlsx)"
        raw.problems.append(Problem(
            file, f"不是有效的 Excel (.xlsx) 工作簿 / not a valid .xlsx workbook{hint}: "
                  f"{type(exc).__name__}: {exc}"))
        return raw
    try:
        raw.name = wb.properties.title or ""
        found: set[str] = set()
        for ws in wb.worksheets:
            title = ws.title
            if title in (INSTRUCTIONS_SHEET, LISTS_SHEET):
                continue
            table = table_for_name(title)
            if table is None:
                raw.problems.append(Problem(file, "未知工作表，已忽略 / unknown sheet, ignored", title,
                                            warning=True))
                continue
            found.add(table.key)
            raw.tables[table.key].extend(_sheet_records(file, ws, table, raw.problems))
        for key in REQUIRED_SHEETS:
            if key not in found:
                sheet = next(t.sheet for t in TABLES if t.key == key)
                raw.problems.append(Problem(
                    file,
                    f"缺少工作表 “{sheet}” ({key})；请使用 scenematch template 生成的模板 / "
                    f"the workbook has no sheet “{sheet}” ({key}); start from the template",
                    sheet,
                ))
    finally:
        wb.close()
    return raw


def _sheet_records(file: str, ws: Any, table: Table, problems: list[Problem]) -> list:
    rows = ws.iter_rows()
    try:
        header_cells = next(rows)
    except StopIteration:
        return []
    header = [c.value for c in header_cells]
    header = [h[2:] if isinstance(h, str) and h.startswith("* ") else h for h in header]

    def values() -> Any:
        index = 1
        for cells in rows:
            # Read-only sheets may skip empty rows: take the number from the cells.
            index = next((c.row for c in cells if getattr(c, "row", None)), index + 1)
            out = []
            for c in cells:
                value = getattr(c, "value", None)
                if getattr(c, "data_type", None) == "f":
                    value = FormulaCell(str(value))
                out.append(value)
            yield index, out

    return records_from_rows(file, ws.title, table, header, values(), problems)

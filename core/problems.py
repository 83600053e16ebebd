"""Where bad input is, and what is wrong with it.

Every reader (JSON, Excel, CSV) tags the rows it produces with a
:class:`Where`; validation turns a bad value into a :class:`Problem` that names
the file, sheet, row and column, so the user can go straight to the cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Where:
    """The source of one record: file, sheet (or JSON table) and row."""

    file: str
    sheet: str = ""
    row: int | None = None
    columns: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    json: bool = False

    def column_label(self, key: str) -> str:
        """How the user sees column ``key`` in this source."""
        return self.columns.get(key, key)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as precisely as known.

    For JSON, ``sheet`` is the table key and ``row`` the 0-based item index,
    shown as a path (``scenes[4].robots``); for Excel/CSV, the sheet name and
    the 1-based row number as the spreadsheet shows them.
    """

    file: str
    message: str
    sheet: str = ""
    row: int | None = None
    column: str = ""
    warning: bool = False
    json: bool = False

    def location(self) -> str:
        """File, sheet, row and column as the user would look for them."""
        name = Path(self.file).name if self.file else "?"
        if self.json:
            path = self.sheet
            if self.row is not None:
                path += f"[{self.row}]"
            if self.column:
                path += f".{self.column}" if path else self.column
            return f"{name}: {path}" if path else name
        parts = [name]
        if self.sheet:
            parts.append(f"工作表 sheet “{self.sheet}”")
        if self.row is not None:
            parts.append(f"第 {self.row} 行 row {self.row}")
        if self.column:
            parts.append(f"列 column “{self.column}”")
        return ", ".join(parts)

    def __str__(self) -> str:
        level = "警告 warning" if self.warning else "错误 error"
        return f"{self.location()}: {level}: {self.message}"


def at(where: Where, key: str, message: str, *, warning: bool = False) -> Problem:
    """A problem in column ``key`` of the record at ``where``."""
    return Problem(
        file=where.file,
        sheet=where.sheet,
        row=where.row,
        column=where.column_label(key) if key else "",
        message=message,
        warning=warning,
        json=where.json,
    )


class InputError(Exception):
    """The input cannot be used; ``problems`` lists every error found (and warnings)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if not p.warning]
        super().__init__(f"{len(errors)} error(s) in the input")

    def report(self) -> str:
        """All problems, one per line, errors first."""
        ordered = sorted(self.problems, key=lambda p: p.warning)
        return "\n".join(str(p) for p in ordered)


class CatalogueError(Exception):
    """A catalogue file cannot be opened or used (not a catalogue, too new, corrupt …)."""

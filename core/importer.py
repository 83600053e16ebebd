"""Import files into a catalogue, all or nothing; export a catalogue to a file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from core.csv_io import read_csv, write_csv_dir
from core.json_io import read_json, write_json
from core.problems import InputError, Problem
from core.progress import CancelToken, ProgressCallback, no_progress
from core.store import CatalogueStore, WriteSummary
from core.validate import RawCatalogue, validate
from core.xlsx_io import read_workbook, write_workbook

MAX_FILE_BYTES = 200 * 1024 * 1024
READERS = {".json": read_json, ".xlsx": read_workbook, ".xlsm": read_workbook, ".csv": read_csv}


@dataclass(frozen=True)
class ImportReport:
    """What an import wrote and what it warned about."""

    summary: WriteSummary
    warnings: list[Problem]
    merged: dict[str, str]

    def text(self) -> str:
        """A short bilingual account for the user."""
        s = self.summary
        lines = []
        for table in s.added:
            a, c, u = s.added[table], s.changed[table], s.unchanged[table]
            if a or c or u:
                lines.append(f"{table}: 新增 added {a}, 更新 changed {c}, 未变 unchanged {u}")
        if not lines:
            lines.append("没有可导入的记录 / nothing to import")
        lines.extend(str(w) for w in self.warnings)
        return "\n".join(lines)


def read_file(path: str | Path) -> RawCatalogue:
    """Raw records of one file, by its extension (.json, .xlsx, .csv)."""
    path = Path(path)
    raw = RawCatalogue()
    reader = READERS.get(path.suffix.lower())
    if not path.is_file():
        raw.problems.append(Problem(str(path), "文件不存在 / no such file"))
    elif reader is None:
        known = ", ".join(READERS)
        raw.problems.append(Problem(str(path), f"不支持的文件类型 / unsupported file type; use {known}"))
    elif path.stat().st_size > MAX_FILE_BYTES:
        raw.problems.append(Problem(str(path), f"文件过大（超过 {MAX_FILE_BYTES // 2**20} MB） / file too "
                                               f"large (over {MAX_FILE_BYTES // 2**20} MB)"))
    else:
        raw = reader(path)
    return raw


def import_files(
    store: CatalogueStore,
    paths: Sequence[str | Path],
    on_progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> ImportReport:
    """Read, check and write ``paths`` into ``store`` in one transaction.

    Every file is read and every problem collected before anything is
    written; on any error :class:`InputError` is raised and the catalogue is
    left exactly as it was. Cancelling before the write leaves it untouched.
    """
    cancel = cancel or CancelToken()
    raw = RawCatalogue()
    for index, path in enumerate(paths):
        on_progress(index / (len(paths) + 2), f"读取 reading {Path(path).name}")
        raw.extend(read_file(path))
        cancel.raise_if_cancelled()
    if any(not p.warning for p in raw.problems):
        raise InputError(raw.problems)
    on_progress(len(paths) / (len(paths) + 2), "检查 checking")
    checked = validate(raw, store.load())
    cancel.raise_if_cancelled()
    on_progress((len(paths) + 1) / (len(paths) + 2), "写入 writing")
    summary = store.write(checked.catalogue)
    on_progress(1.0, "完成 done")
    return ImportReport(summary, checked.warnings, checked.merged)


def export_catalogue(store: CatalogueStore, target: str | Path) -> list[Path]:
    """Write the catalogue to ``target``: .json, .xlsx, or a folder of CSV files."""
    target = Path(target)
    catalogue = store.load()
    suffix = target.suffix.lower()
    if suffix == ".json":
        write_json(target, catalogue)
        return [target]
    if suffix == ".xlsx":
        write_workbook(target, catalogue)
        return [target]
    if suffix == "" or target.is_dir():
        return write_csv_dir(target, catalogue)
    raise InputError([Problem(str(target), "不支持的导出格式：请用 .json、.xlsx 或文件夹（CSV） / "
                                           "unsupported export type: use .json, .xlsx or a folder (CSV)")])

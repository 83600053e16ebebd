"""The catalogue as JSON (``scenematch.catalogue`` version 1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.filenames import write_atomically
from core.model import Catalogue
from core.problems import Problem, Where
from core.serialize import FORMAT, VERSION, catalogue_to_dict
from core.tables import TABLES
from core.validate import RawCatalogue, RawRecord

TOP_LEVEL = {"format", "version", "name"} | {t.key for t in TABLES if t.key not in
                                              ("products", "deployments")}


def parse_json(text_or_bytes: bytes | str, file: str) -> RawCatalogue:
    """Raw records of a catalogue document (checked later by ``validate``)."""
    raw = RawCatalogue()
    data = text_or_bytes
    if isinstance(data, bytes):
        if data[:2] == b"PK":
            raw.problems.append(Problem(file, "不是 JSON 文件（像是 zip/xlsx，请用 .xlsx 扩展名） / not "
                                              "JSON: it looks like a zip or .xlsx workbook"))
            return raw
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raw.problems.append(Problem(file, f"不是 UTF-8 编码的 JSON / not UTF-8 JSON: {exc}"))
            return raw
    try:
        doc = json.loads(data)
    except json.JSONDecodeError as exc:
        raw.problems.append(Problem(
            file, f"JSON 语法错误，第 {exc.lineno} 行第 {exc.colno} 列 / JSON syntax error at line "
                  f"{exc.lineno}, column {exc.colno}: {exc.msg}"))
        return raw
    except RecursionError:
        raw.problems.append(Problem(file, "JSON 嵌套过深 / JSON nested too deeply"))
        return raw
    if not isinstance(doc, dict):
        raw.problems.append(Problem(file, "JSON 顶层应为对象 / the top level must be an object"))
        return raw
    fmt = doc.get("format")
    if fmt != FORMAT:
        raw.problems.append(Problem(
            file, f"不是 SceneMatch 目录（format 应为 “{FORMAT}”，实为 {fmt!r}） / not a SceneMatch "
                  f"catalogue: format should be {FORMAT!r}, got {fmt!r}", json=True, column="format"))
        return raw
    version = doc.get("version")
    if version != VERSION:
        raw.problems.append(Problem(
            file, f"不支持的版本 {version!r}（本程序读取版本 {VERSION}） / unsupported version "
                  f"{version!r}; this SceneMatch reads version {VERSION}", json=True, column="version"))
        return raw
    name = doc.get("name", "")
    raw.name = name if isinstance(name, str) else ""
    for key in doc:
        if key not in TOP_LEVEL:
            raw.problems.append(Problem(file, "未知字段，已忽略 / unknown key, ignored", column=key,
                                        warning=True, json=True))
    for table in TABLES:
        if table.key in ("products", "deployments"):
            continue
        items: Any = doc.get(table.key, [])
        if items is None:
            continue
        if not isinstance(items, list):
            raw.problems.append(Problem(file, "应为列表 / expected a list", column=table.key, json=True))
            continue
        for index, item in enumerate(items):
            where = Where(file, table.key, index, json=True)
            if not isinstance(item, dict):
                raw.problems.append(Problem(file, "应为对象 / expected an object", table.key, index,
                                            json=True))
                continue
            raw.tables[table.key].append(RawRecord(item, where))
    return raw


def read_json(path: str | Path) -> RawCatalogue:
    """Raw records of a catalogue JSON file."""
    return parse_json(Path(path).read_bytes(), str(path))


def dumps(catalogue: Catalogue) -> str:
    """The catalogue as a JSON document (UTF-8 text, Chinese unescaped)."""
    return json.dumps(catalogue_to_dict(catalogue), ensure_ascii=False, indent=1)


def write_json(path: str | Path, catalogue: Catalogue) -> None:
    """Write the catalogue as JSON, atomically (temp file, then rename)."""
    write_text_atomic(Path(path), dumps(catalogue))


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a crash leaves the old file or the new one, never half."""
    write_atomically(path, lambda fh: fh.write(text.encode("utf-8")))

"""Submission packages (申报材料包): what a coordinator hands in, and how it is checked.

A package is one zip archive: the plan summary and the consortium proposals (PDF), the
plan's data (``data/catalogue.json`` — the coordinator's part of the catalogue in the
``scenematch.catalogue`` format —, ``data/result.json`` — the run's result restricted to
the coordinator —, and both as .xlsx) and ``manifest.json``, which lists every other file
with its SHA-256 and size. docs/package.md describes the layout and the checks.

:func:`build_package` writes one (atomically, with progress and cancel);
:func:`verify_package` reads one back without ever extracting it to disk, refusing anything
that is not exactly what a SceneMatch package looks like (damaged, altered, extended,
path tricks, links, archives that expand beyond sane sizes). :mod:`core.merge` merges
verified packages into the national catalogue.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from core.filenames import partial_beside, safe_filename_part
from core.json_io import dumps, parse_json
from core.model import Catalogue, MatchRun
from core.problems import CatalogueError, InputError, Problem
from core.progress import CancelToken, ProgressCallback, no_progress
from core.store import CatalogueStore
from core.validate import validate

PACKAGE_FORMAT = "scenematch.package"
PACKAGE_VERSION = 1
RESULT_FORMAT = "scenematch.result"
RESULT_VERSION = 1

MANIFEST = "manifest.json"
CATALOGUE_ENTRY = "data/catalogue.json"
RESULT_ENTRY = "data/result.json"
CATALOGUE_XLSX_ENTRY = "data/catalogue.xlsx"
RESULT_XLSX_ENTRY = "data/result.xlsx"
DATA_ENTRIES = (CATALOGUE_ENTRY, RESULT_ENTRY, CATALOGUE_XLSX_ENTRY, RESULT_XLSX_ENTRY)
REQUIRED_ENTRIES = (CATALOGUE_ENTRY, RESULT_ENTRY)
RESULT_STATUSES = ("optimal", "feasible", "infeasible", "timeout", "cancelled")

_MIB = 1024 * 1024
_CHUNK = 64 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Limits:
    """What a package may weigh. A real plan (a few dozen PDFs of a few hundred KB, JSON and
    xlsx of a few MB) stays far below every limit; a zip bomb crosses one of them before
    more than ``entry_bytes`` are ever decompressed."""

    package_bytes: int = 1024 * _MIB  # the zip file itself
    entries: int = 10_000
    entry_bytes: int = 256 * _MIB  # one file, uncompressed
    total_bytes: int = 1024 * _MIB  # all files, uncompressed
    ratio: float = 100.0  # uncompressed / compressed, for files over ratio_min_bytes
    ratio_min_bytes: int = 1 * _MIB
    manifest_bytes: int = 4 * _MIB
    name_chars: int = 400


@dataclass(frozen=True)
class Package:
    """A verified package: its manifest and its parsed, checked data."""

    path: Path
    manifest: dict[str, Any]
    digest: str  # SHA-256 of manifest.json: identifies this exact package
    catalogue: Catalogue
    result: dict[str, Any]
    warnings: tuple[Problem, ...] = ()

    @property
    def coordinator(self) -> str:
        """The coordinator (组织单位) whose plan this is."""
        return str(self.manifest["coordinator"])

    @property
    def run_id(self) -> int | None:
        """The id of the run in the coordinator's own catalogue."""
        value = self.manifest.get("run_id")
        return int(value) if isinstance(value, int) else None

    @property
    def files(self) -> list[str]:
        """Every file the manifest lists (manifest.json itself not included)."""
        return [f["path"] for f in self.manifest["files"]]


class _Refused(Exception):
    """One reason to refuse a package; verification turns it into a Problem."""

    def __init__(self, message: str, entry: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.entry = entry


def app_version() -> str:
    """The installed SceneMatch version ("0+unknown" when run from a source tree)."""
    try:
        return importlib.metadata.version("scenematch")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def safe_filename(text: str) -> str:
    """``text`` usable as one file name on Windows, macOS and Linux."""
    return safe_filename_part(text, 80) or "_"


def default_package_name(coordinator: str, date: dt.date | None = None) -> str:
    """The file name the GUI suggests: 申报材料包-<coordinator>-<yyyymmdd>.zip."""
    day = (date or dt.date.today()).strftime("%Y%m%d")
    return f"申报材料包-{safe_filename(coordinator)}-{day}.zip"


# -- the plan's data -----------------------------------------------------------------------

def result_org_ids(result: dict[str, Any]) -> set[str]:
    """Every organisation id a result document names: members and alternates."""
    ids: set[str] = set()
    for c in result.get("consortia", []):
        ids.update(str(m["org"]) for m in c.get("members", []) if "org" in m)
        for options in (c.get("alternates") or {}).values():
            ids.update(str(a["org"]) for a in options if isinstance(a, dict) and "org" in a)
    return ids


def plan_result(result: dict[str, Any], catalogue: Catalogue, coordinator: str,
                run: MatchRun | None = None) -> dict[str, Any]:
    """The part of a ``scenematch.result`` document that is ``coordinator``'s plan.

    Consortia, unmatched scenes and the ``plans`` entry are kept for the coordinator's
    scenes only; status, objective, bound, gap, seconds, params and the solver figures
    are the run's own (for a run of every coordinator they describe the whole run). The
    ``diff`` against an earlier run is dropped: that run is not in the package. Added:
    ``coordinator`` and ``run`` (the run's id, time and scope in the source catalogue).
    """
    own = {s.id for s in catalogue.scenes if s.coordinator == coordinator}
    doc = {k: v for k, v in result.items() if k not in ("consortia", "unmatched", "plans", "diff")}
    doc.setdefault("format", RESULT_FORMAT)
    doc.setdefault("version", RESULT_VERSION)
    doc["consortia"] = [c for c in result.get("consortia", []) if c.get("scene") in own]
    doc["unmatched"] = [u for u in result.get("unmatched", []) if u.get("scene") in own]
    doc["plans"] = [p for p in result.get("plans", []) if p.get("coordinator") == coordinator]
    doc["coordinator"] = coordinator
    if run is not None:
        doc["run"] = {"id": run.id, "created": run.created, "coordinator": run.coordinator}
    return doc


def remap_result(result: dict[str, Any], scenes: dict[str, str], orgs: dict[str, str]) -> dict[str, Any]:
    """``result`` with scene and organisation ids rewritten (unknown ids stay as they are).

    Reasons are free text and keep the ids the coordinator's catalogue used.
    """
    def org(value: str) -> str:
        return orgs.get(value, value)

    def scene(value: str) -> str:
        return scenes.get(value, value)

    doc = dict(result)
    doc["consortia"] = [
        {**c, "scene": scene(c["scene"]),
         "members": [{**m, "org": org(m["org"])} for m in c.get("members", [])],
         **({"alternates": {slot: [{**a, "org": org(a["org"])} if "org" in a else a
                                   for a in options]
                            for slot, options in c["alternates"].items()}}
            if c.get("alternates") else {})}
        for c in result.get("consortia", [])
    ]
    doc["unmatched"] = [{**u, "scene": scene(u["scene"])} for u in result.get("unmatched", [])]
    return doc


def plan_catalogue(catalogue: Catalogue, result: dict[str, Any], coordinator: str) -> Catalogue:
    """The part of ``catalogue`` a coordinator's package carries.

    Its scenes (every plan choice); every organisation they or the (already restricted)
    ``result`` name — owners, pinned organisations, consortium members and alternates, so
    every id in the package resolves inside the package; the partnerships and exclusions
    between those organisations; the pins of its scenes; and its plan rule.
    """
    scenes = tuple(s for s in catalogue.scenes if s.coordinator == coordinator)
    scene_ids = {s.id for s in scenes}
    pins = tuple(p for p in catalogue.pins if p.scene in scene_ids)
    wanted = {s.owner for s in scenes} | {p.org for p in pins} | result_org_ids(result)
    orgs = tuple(o for o in catalogue.organizations if o.id in wanted)
    kept = {o.id for o in orgs}
    return Catalogue(
        name=catalogue.name,
        organizations=orgs,
        scenes=scenes,
        partnerships=tuple(p for p in catalogue.partnerships if p.a in kept and p.b in kept),
        exclusions=tuple(e for e in catalogue.exclusions if e.a in kept and e.b in kept),
        pins=pins,
        plans=tuple(p for p in catalogue.plans if p.coordinator == coordinator),
    )


# -- building ------------------------------------------------------------------------------

def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _scaled(on_progress: ProgressCallback, lo: float, hi: float) -> ProgressCallback:
    def report(fraction: float, message: str) -> None:
        on_progress(lo + (hi - lo) * max(0.0, min(1.0, fraction)), message)

    return report


def _pick_run(store: CatalogueStore, coordinator: str, run_id: int | None) -> MatchRun:
    runs = store.runs()
    if run_id is not None:
        run = next((r for r in runs if r.id == run_id), None)
        if run is None:
            known = "、".join(str(r.id) for r in runs) or "—"
            raise CatalogueError(f"没有第 {run_id} 次运行 / no run {run_id} (stored runs: {known})")
        if run.coordinator not in (None, coordinator):
            raise CatalogueError(
                f"第 {run_id} 次运行属于 “{run.coordinator}”，不含 “{coordinator}” 的方案 / run "
                f"{run_id} is {run.coordinator!r}'s and does not cover {coordinator!r}")
        return run
    for r in runs:  # newest first
        if r.coordinator in (None, coordinator):
            return r
    raise CatalogueError(
        f"“{coordinator}” 尚无匹配运行，请先运行 scenematch match --coordinator “{coordinator}” / "
        f"no stored run covers {coordinator!r}: run `scenematch match` first")


def build_package(store: CatalogueStore, coordinator: str, out: str | Path, *,
                  run_id: int | None = None, on_progress: ProgressCallback = no_progress,
                  cancel: CancelToken | None = None) -> dict[str, Any]:
    """Write ``coordinator``'s submission package to ``out`` (a .zip); returns the manifest.

    The run is ``run_id`` or the newest stored run that covers the coordinator. The zip
    is written to a temporary file beside ``out`` and renamed into place, so ``out`` is
    either the old file or the complete new one. Raises :class:`CatalogueError` for an
    unknown coordinator or when no run covers it, and :class:`core.progress.Cancelled`
    when ``cancel`` is set; in both cases no file is left behind.
    """
    from core.reports.batch import write_plan_documents
    from core.reports.context import ReportContext
    from core.result_xlsx import write_result_workbook
    from core.xlsx_io import write_workbook

    cancel = cancel or CancelToken()
    out = Path(out)
    if out.is_dir():
        raise CatalogueError(f"{out} 是文件夹，请给出 .zip 文件名 / is a folder: give a .zip file name")
    catalogue = store.load()
    if coordinator not in catalogue.coordinators():
        known = "、".join(catalogue.coordinators()) or "—"
        raise CatalogueError(f"未知的组织单位 unknown coordinator {coordinator!r}; known: {known}")
    run = _pick_run(store, coordinator, run_id)
    result = plan_result(run.result, catalogue, coordinator, run)
    subset = plan_catalogue(catalogue, result, coordinator)
    created = dt.datetime.now(dt.UTC).replace(microsecond=0)
    ctx = ReportContext(catalogue=catalogue, result=run.result, run_id=run.id,
                        run_created=run.created,
                        catalogue_name=store.name or (store.path.stem if store.path else ""))

    with tempfile.TemporaryDirectory(prefix="scenematch-package-") as tmp:
        root = Path(tmp)
        on_progress(0.0, f"PDF 文件 {coordinator}")
        pdfs = write_plan_documents(ctx, coordinator, root, on_progress=_scaled(on_progress, 0, 0.8),
                                    cancel=cancel)
        cancel.raise_if_cancelled()
        on_progress(0.8, "数据文件 data files")
        data = root / "data"
        data.mkdir()
        (data / "catalogue.json").write_text(dumps(subset), encoding="utf-8")
        (data / "result.json").write_text(json.dumps(result, ensure_ascii=False, indent=1),
                                          encoding="utf-8")
        write_workbook(data / "catalogue.xlsx", subset)
        write_result_workbook(data / "result.xlsx", result, subset)
        cancel.raise_if_cancelled()

        files = [p.relative_to(root).as_posix() for p in pdfs] + list(DATA_ENTRIES)
        for name in files:
            problem = entry_name_problem(name, Limits())
            if problem:  # our own writer produced it: a bug, not bad input
                raise RuntimeError(f"package entry {name!r}: {problem}")
        on_progress(0.85, "校验和 checksums")
        manifest: dict[str, Any] = {
            "format": PACKAGE_FORMAT,
            "version": PACKAGE_VERSION,
            "coordinator": coordinator,
            "run_id": run.id,
            "run_created": run.created,
            "catalogue_name": ctx.catalogue_name,
            "app_version": app_version(),
            "schema_version": store.schema_version,
            "created": created.isoformat(),
            "counts": {"scenes": len(subset.scenes), "organizations": len(subset.organizations),
                       "consortia": len(result["consortia"]),
                       "unmatched": len(result["unmatched"])},
            "files": [{"path": name, "sha256": _sha256_file(root / name),
                       "size": (root / name).stat().st_size} for name in files],
        }
        cancel.raise_if_cancelled()
        on_progress(0.9, f"写入 writing {out.name}")
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp_zip = str(partial_beside(out))  # the package gets the usual permissions, not 0600
        try:
            stamp = created.astimezone().timetuple()[:6]
            with zipfile.ZipFile(tmp_zip, "w", zipfile.ZIP_DEFLATED) as zf:
                zf.writestr(_zip_info(MANIFEST, stamp),
                            json.dumps(manifest, ensure_ascii=False, indent=1))
                for index, name in enumerate(files):
                    cancel.raise_if_cancelled()
                    on_progress(0.9 + 0.1 * index / len(files), name)
                    with open(root / name, "rb") as src, zf.open(_zip_info(name, stamp), "w") as dst:
                        shutil.copyfileobj(src, dst, _CHUNK)
            # What the national level will check, checked here first: a package it would
            # refuse (say, the run names an organisation deleted since) is never written.
            try:
                verify_package(tmp_zip)
            except InputError as exc:
                raise CatalogueError(
                    "材料包未通过自检，未写出；请重新运行匹配后再打包 / the package fails its own "
                    "check and was not written; run the matching again, then package: "
                    + "; ".join(p.message for p in exc.problems[:3])) from None
            os.replace(tmp_zip, out)
        except BaseException:
            Path(tmp_zip).unlink(missing_ok=True)
            raise
    on_progress(1.0, "完成 done")
    return manifest


def _zip_info(name: str, stamp: tuple[int, ...]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp)  # type: ignore[arg-type]
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    return info


# -- verifying -----------------------------------------------------------------------------

def entry_name_problem(name: str, limits: Limits) -> str | None:
    """Why ``name`` cannot be a package entry (None when it can).

    The package is never extracted, but another tool may extract it: names that would
    write outside the target folder, or mean different things on Windows and Unix, are
    refused outright.
    """
    if not name:
        return "空的文件名 / empty file name"
    if len(name) > limits.name_chars:
        return "文件名过长 / file name too long"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "文件名含控制字符 / control character in the file name"
    if "\\" in name:
        return "文件名含反斜杠 \\（Windows 路径） / backslash in the file name (a Windows path)"
    if name.startswith("/"):
        return "绝对路径 / absolute path"
    if _DRIVE.match(name):
        return "含盘符的路径 / path with a drive letter"
    parts = name[:-1].split("/") if name.endswith("/") else name.split("/")
    if ".." in parts:
        return "路径越界（../） / path traversal (../)"
    if any(p in ("", ".") for p in parts):
        return "路径中有空的或 “.” 部分 / empty or '.' component in the path"
    return None


def _entry_problems(infos: list[zipfile.ZipInfo], limits: Limits) -> list[_Refused]:
    """Every structural reason to refuse the archive, read from its directory alone."""
    out: list[_Refused] = []
    if len(infos) > limits.entries:
        out.append(_Refused(f"条目过多（{len(infos)} 个，上限 {limits.entries}） / too many entries "
                            f"({len(infos)}, limit {limits.entries})"))
        return out
    counts = Counter(i.filename for i in infos)
    folded = Counter(i.filename.casefold() for i in infos)
    reported: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        if name in reported:
            continue
        if counts[name] > 1:
            reported.add(name)
            out.append(_Refused(f"重复条目（出现 {counts[name]} 次） / duplicate entry (appears "
                                f"{counts[name]} times)", name))
        elif folded[name.casefold()] > 1:
            out.append(_Refused("条目名仅大小写不同，Windows 上会互相覆盖 / entries differ only in "
                                "letter case and overwrite each other on Windows", name))
        problem = entry_name_problem(name, limits)
        if problem:
            out.append(_Refused(problem, name))
            continue
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            out.append(_Refused("符号链接，不允许 / symbolic link: not allowed", name))
            continue
        if mode and stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
            out.append(_Refused("特殊文件（设备、管道等），不允许 / special file: not allowed", name))
            continue
        if info.flag_bits & 0x1:
            out.append(_Refused("加密条目，不允许 / encrypted entry: not allowed", name))
            continue
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            out.append(_Refused(f"不支持的压缩方式 {info.compress_type} / unsupported compression "
                                f"method {info.compress_type}", name))
            continue
        if info.file_size > limits.entry_bytes:
            out.append(_Refused(f"解压后过大（声明 {info.file_size:,} 字节，上限 "
                                f"{limits.entry_bytes:,}） / expands beyond a sane size (declares "
                                f"{info.file_size:,} bytes, limit {limits.entry_bytes:,})", name))
            continue
        if (info.file_size > limits.ratio_min_bytes
                and info.file_size > limits.ratio * max(1, info.compress_size)):
            ratio = info.file_size / max(1, info.compress_size)
            out.append(_Refused(f"压缩比异常（{ratio:,.0f} 倍，上限 {limits.ratio:g}），疑似压缩炸弹 / "
                                f"compression ratio {ratio:,.0f}:1 exceeds {limits.ratio:g}:1 "
                                f"(a zip bomb?)", name))
            continue
        total += info.file_size
    if total > limits.total_bytes:
        out.append(_Refused(f"全部文件解压后过大（{total:,} 字节，上限 {limits.total_bytes:,}） / the "
                            f"files expand beyond a sane size ({total:,} bytes, limit "
                            f"{limits.total_bytes:,})"))
    return out


def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, keep: bool) -> tuple[bytes, str, int]:
    """Content (when ``keep``), SHA-256 and size of one entry, never reading more than ``cap``
    bytes whatever its header claims."""
    h = hashlib.sha256()
    chunks: list[bytes] = []
    size = 0
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(_CHUNK):
                size += len(chunk)
                if size > cap:
                    raise _Refused(f"解压后超过声明或允许的大小（{cap:,} 字节） / expands beyond its "
                                   f"declared or allowed size ({cap:,} bytes)", info.filename)
                h.update(chunk)
                if keep:
                    chunks.append(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError,
            NotImplementedError) as exc:
        raise _Refused(f"条目已损坏或被截断 / entry is damaged or truncated: {exc}",
                       info.filename) from None
    return b"".join(chunks), h.hexdigest(), size


def _manifest_files(manifest: dict[str, Any], limits: Limits) -> list[dict[str, Any]]:
    files = manifest.get("files")
    if not isinstance(files, list):
        raise _Refused("manifest.json 缺少文件清单 files / manifest.json has no 'files' list",
                       MANIFEST)
    seen: set[str] = set()
    out = []
    for index, item in enumerate(files):
        where = f"files[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            raise _Refused(f"{where} 应为含 path、sha256、size 的对象 / {where} must be an object "
                           f"with path, sha256 and size", MANIFEST)
        path = item["path"]
        sha, size = item.get("sha256"), item.get("size")
        if not isinstance(sha, str) or not _SHA256.match(sha):
            raise _Refused(f"{where}（{path}）的 sha256 无效 / invalid sha256 for {path!r}", MANIFEST)
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise _Refused(f"{where}（{path}）的 size 无效 / invalid size for {path!r}", MANIFEST)
        problem = entry_name_problem(path, limits) if path != MANIFEST else \
            "清单不能列出自身 / the manifest cannot list itself"
        if problem:
            raise _Refused(f"{where}（{path}）：{problem}", MANIFEST)
        if path.endswith("/"):
            raise _Refused(f"{where}（{path}）是文件夹 / is a folder, not a file", MANIFEST)
        if path in seen:
            raise _Refused(f"{where}：{path} 重复列出 / listed twice", MANIFEST)
        seen.add(path)
        out.append(item)
    return out


def _check_manifest(data: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise _Refused(f"manifest.json 无法解析 / manifest.json cannot be parsed: {exc}",
                       MANIFEST) from None
    if not isinstance(manifest, dict):
        raise _Refused("manifest.json 顶层应为对象 / the top level must be an object", MANIFEST)
    fmt = manifest.get("format")
    if fmt != PACKAGE_FORMAT:
        raise _Refused(f"不是 SceneMatch 申报材料包（format 应为 “{PACKAGE_FORMAT}”，实为 {fmt!r}） / "
                       f"not a SceneMatch submission package: format should be "
                       f"{PACKAGE_FORMAT!r}, got {fmt!r}", MANIFEST)
    version = manifest.get("version")
    if version != PACKAGE_VERSION:
        raise _Refused(f"不支持的材料包版本 {version!r}（本程序读取版本 {PACKAGE_VERSION}） / unsupported "
                       f"package version {version!r}; this SceneMatch reads version "
                       f"{PACKAGE_VERSION}", MANIFEST)
    coordinator = manifest.get("coordinator")
    if not isinstance(coordinator, str) or not coordinator.strip():
        raise _Refused("manifest.json 缺少组织单位 coordinator / manifest.json names no coordinator",
                       MANIFEST)
    run_id = manifest.get("run_id")
    if run_id is not None and (not isinstance(run_id, int) or isinstance(run_id, bool)):
        raise _Refused(f"run_id 应为整数 / run_id must be an integer, got {run_id!r}", MANIFEST)
    return manifest


def _check_result(doc: Any, catalogue: Catalogue, coordinator: str,
                  aliases: dict[str, str]) -> dict[str, Any]:
    """The result document, checked against the package's catalogue; ``aliases`` are the
    organisations the catalogue's own checks merged (same USCC or name), by their kept id."""
    entry = RESULT_ENTRY
    if not isinstance(doc, dict):
        raise _Refused("顶层应为对象 / the top level must be an object", entry)
    if doc.get("format") != RESULT_FORMAT or doc.get("version") != RESULT_VERSION:
        raise _Refused(f"不是 {RESULT_FORMAT} 版本 {RESULT_VERSION} 文档 / not a {RESULT_FORMAT} "
                       f"version {RESULT_VERSION} document (format {doc.get('format')!r}, version "
                       f"{doc.get('version')!r})", entry)
    if doc.get("coordinator") != coordinator:
        raise _Refused(f"组织单位 {doc.get('coordinator')!r} 与清单的 {coordinator!r} 不一致 / "
                       f"coordinator differs from the manifest's", entry)
    if doc.get("status") not in RESULT_STATUSES:
        raise _Refused(f"status {doc.get('status')!r} 无效 / invalid status", entry)
    for key in ("objective", "bound", "gap", "seconds"):
        value = doc.get(key)
        if value is not None and (not isinstance(value, int | float) or isinstance(value, bool)):
            raise _Refused(f"{key} 应为数字 / {key} must be a number, got {value!r}", entry)
    scenes = catalogue.scene_by_id()
    orgs = catalogue.org_by_id()
    seen: set[str] = set()
    for key in ("consortia", "unmatched", "plans"):
        if not isinstance(doc.get(key), list) or not all(isinstance(x, dict) for x in doc[key]):
            raise _Refused(f"{key} 应为对象列表 / {key} must be a list of objects", entry)
    for key in ("consortia", "unmatched"):
        for index, item in enumerate(doc[key]):
            scene = item.get("scene")
            if not isinstance(scene, str) or scene not in scenes:
                raise _Refused(f"{key}[{index}].scene：场景 {scene!r} 不在材料包目录中 / scene is not "
                               f"in the package's catalogue", entry)
            if scene in seen:
                raise _Refused(f"{key}[{index}].scene：场景 {scene!r} 出现多次 / scene appears twice",
                               entry)
            seen.add(scene)
    for index, c in enumerate(doc["consortia"]):
        members = c.get("members")
        if not isinstance(members, list) or not all(
                isinstance(m, dict) and isinstance(m.get("org"), str) and isinstance(m.get("role"), str)
                for m in members):
            raise _Refused(f"consortia[{index}].members 应为 {{org, role}} 列表 / must be a list of "
                           f"{{org, role}}", entry)
        alternates = c.get("alternates") or {}
        if not isinstance(alternates, dict) or not all(
                isinstance(v, list) and all(isinstance(a, dict) and isinstance(a.get("org"), str)
                                            for a in v)
                for v in alternates.values()):
            raise _Refused(f"consortia[{index}].alternates 格式无效 / invalid alternates", entry)
    missing = sorted({aliases.get(o, o) for o in result_org_ids(doc)} - set(orgs))
    if missing:
        raise _Refused(f"引用了材料包目录中没有的组织 / names organisations the package's catalogue "
                       f"lacks: {', '.join(missing[:10])}", entry)
    return remap_result(doc, {}, aliases) if aliases else doc


def _relocate(problem: Problem, path: Path, entry: str) -> Problem:
    """A problem found inside ``entry``, re-labelled so the user sees the zip and the entry."""
    sheet = f"{entry} › {problem.sheet}" if problem.sheet else entry
    return replace(problem, file=str(path), sheet=sheet, json=True)


def _problem(path: Path, refused: _Refused) -> Problem:
    return Problem(str(path), refused.message, sheet=refused.entry, json=bool(refused.entry))


def verify_package(path: str | Path, limits: Limits | None = None) -> Package:
    """Read and check the package at ``path``; returns its parsed contents.

    Raises :class:`InputError` whose problems name the zip and the entry when the file is
    not a zip or is truncated, has no (or an unreadable, foreign or newer) manifest, has a
    missing, extra, altered, duplicate, linked or oddly named entry, expands beyond
    ``limits``, or its data does not check out. Nothing is extracted to disk, and no entry
    is read beyond its declared size or ``limits.entry_bytes``.
    """
    path = Path(path)
    try:
        return _verify(path, limits or Limits())
    except _Refused as exc:
        raise InputError([_problem(path, exc)]) from None


def _verify(path: Path, limits: Limits) -> Package:
    if not path.is_file():
        raise _Refused("文件不存在 / no such file")
    if path.stat().st_size > limits.package_bytes:
        raise _Refused(f"文件过大（超过 {limits.package_bytes // _MIB} MB） / file too large (over "
                       f"{limits.package_bytes // _MIB} MB)")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise _Refused(f"不是 zip 文件，或文件不完整（被截断） / not a zip file, or truncated: "
                       f"{exc}") from None
    with zf:
        infos = zf.infolist()
        problems = _entry_problems(infos, limits)
        if problems:
            raise InputError([_problem(path, p) for p in problems])
        by_name = {i.filename: i for i in infos}
        if MANIFEST not in by_name:
            raise _Refused("不是 SceneMatch 申报材料包：缺少 manifest.json / not a SceneMatch "
                           "submission package: there is no manifest.json")
        info = by_name[MANIFEST]
        if info.file_size > limits.manifest_bytes:
            raise _Refused("manifest.json 过大 / manifest.json is too large", MANIFEST)
        raw, digest, _ = _read(zf, info, min(info.file_size, limits.manifest_bytes), keep=True)
        manifest = _check_manifest(raw)
        listed = _manifest_files(manifest, limits)
        listed_paths = {f["path"] for f in listed}
        folders = {"/".join(p.split("/")[:i]) + "/" for p in listed_paths
                   for i in range(1, p.count("/") + 1)}
        problems = []
        for name in sorted(set(by_name) - listed_paths - {MANIFEST}):
            if name.endswith("/") and name in folders and by_name[name].file_size == 0:
                continue  # a folder entry some zip tools add: harmless
            problems.append(_Refused("清单中未列出的多余文件 / extra file not listed in the manifest",
                                     name))
        for item in listed:
            if item["path"] not in by_name:
                problems.append(_Refused("清单列出的文件缺失 / file listed in the manifest is missing",
                                         item["path"]))
        for name in REQUIRED_ENTRIES:
            if name not in listed_paths:
                problems.append(_Refused("必需的数据文件未列入清单 / required data file is not in the "
                                         "manifest", name))
        if problems:
            raise InputError([_problem(path, p) for p in problems])

        contents: dict[str, bytes] = {}
        total = 0
        for item in listed:
            name = item["path"]
            info = by_name[name]
            cap = min(info.file_size, limits.entry_bytes, limits.total_bytes - total)
            try:
                data, sha, size = _read(zf, info, cap, keep=name in REQUIRED_ENTRIES)
            except _Refused as exc:
                problems.append(exc)
                continue
            total += size
            if size != item["size"]:
                problems.append(_Refused(
                    f"文件已被改动：大小与清单不符 / file was altered: its size does not match the "
                    f"manifest ({item['size']:,} bytes listed, {size:,} found)", name))
            elif sha != item["sha256"]:
                problems.append(_Refused(
                    f"文件已被改动：SHA-256 校验和与清单不符 / file was altered: its SHA-256 does not "
                    f"match the manifest (listed {item['sha256'][:16]}…, found {sha[:16]}…)", name))
            if name in REQUIRED_ENTRIES:
                contents[name] = data
        if problems:
            raise InputError([_problem(path, p) for p in problems])

    coordinator = manifest["coordinator"]
    raw_catalogue = parse_json(contents[CATALOGUE_ENTRY], CATALOGUE_ENTRY)
    try:
        checked = validate(raw_catalogue)
    except InputError as exc:
        raise InputError([_relocate(p, path, CATALOGUE_ENTRY) for p in exc.problems]) from None
    catalogue = checked.catalogue
    strangers = sorted({s.coordinator for s in catalogue.scenes} - {coordinator})
    if strangers:
        raise _Refused(f"含有其他组织单位的场景（{'、'.join(strangers)}），清单的组织单位是 “{coordinator}” / "
                       f"holds scenes of other coordinators", CATALOGUE_ENTRY)
    if any(p.coordinator != coordinator for p in catalogue.plans):
        raise _Refused("含有其他组织单位的方案规则 / holds another coordinator's plan rule",
                       CATALOGUE_ENTRY)
    try:
        result_doc = json.loads(contents[RESULT_ENTRY].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise _Refused(f"无法解析 / cannot be parsed: {exc}", RESULT_ENTRY) from None
    try:
        result = _check_result(result_doc, catalogue, coordinator, checked.merged)
    except _Refused:
        raise
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        # A shape the checks above did not foresee: still a refusal, never a crash.
        raise _Refused(f"内容格式无效 / malformed content: {type(exc).__name__}: {exc}",
                       RESULT_ENTRY) from None
    warnings = tuple(_relocate(p, path, CATALOGUE_ENTRY) for p in checked.warnings)
    return Package(path, manifest, digest, catalogue, result, warnings)

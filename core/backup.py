"""Backups of a catalogue: consistent copies with SQLite's backup API, the last N kept.

Where they live: ``<backup root>/<catalogue stem>-<hash>/`` where the hash is of the
catalogue's absolute path (two ``catalogue.scenematch.db`` files in different folders do
not share backups) and the backup root is

- ``$SCENEMATCH_BACKUP_DIR`` when set (tests, portable installs), else
- ``<user data dir>/backups`` — ``platformdirs.user_data_dir("SceneMatch")``:
  Windows ``%LOCALAPPDATA%\\SceneMatch\\backups``, macOS
  ``~/Library/Application Support/SceneMatch/backups``, Linux
  ``~/.local/share/SceneMatch/backups``.

Each folder holds a ``source.txt`` naming the catalogue, and files named
``<stem>.<YYYYmmdd-HHMMSS-fff>.<reason>.db`` (local time). Every backup is a complete,
self-contained SQLite file (rollback journal, no ``-wal``): copy it anywhere and open it.

Reasons: ``open`` (the GUI opened the catalogue), ``autosave`` (edits since the last
backup), ``close``, ``manual`` — these rotate, the newest ``keep`` are kept — and
``before-migration`` / ``before-restore``, which are never deleted automatically.
A rotating backup identical to the newest one is not stored twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core.problems import CatalogueError

if TYPE_CHECKING:
    from core.store import CatalogueStore

BACKUP_DIR_ENV = "SCENEMATCH_BACKUP_DIR"
DEFAULT_KEEP = 10
PINNED_REASONS = ("before-migration", "before-restore")
_NAME = re.compile(r"^(?P<stem>.*)\.(?P<stamp>\d{8}-\d{6}-\d{3})\.(?P<reason>[a-z0-9-]+)\.db$")
_STAMP = "%Y%m%d-%H%M%S"


@dataclass(frozen=True)
class Backup:
    """One backup file of a catalogue."""

    path: Path
    created: dt.datetime  # local time, from the file name
    reason: str
    size: int  # bytes

    @property
    def pinned(self) -> bool:
        """True for backups that rotation never deletes (before a migration or a restore)."""
        return self.reason in PINNED_REASONS


def backup_root() -> Path:
    """The folder that holds every catalogue's backup folder."""
    override = os.environ.get(BACKUP_DIR_ENV)
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir("SceneMatch", appauthor=False)) / "backups"


def _identity(catalogue: Path) -> str:
    resolved = os.path.normcase(str(catalogue.resolve()))
    return hashlib.sha256(resolved.encode("utf-8")).hexdigest()[:12]


def backup_dir(catalogue: str | Path, root: str | Path | None = None) -> Path:
    """The folder for ``catalogue``'s backups (not created here)."""
    catalogue = Path(catalogue)
    base = Path(root) if root is not None else backup_root()
    return base / f"{catalogue.stem}-{_identity(catalogue)}"


def list_backups(catalogue: str | Path, root: str | Path | None = None) -> list[Backup]:
    """``catalogue``'s backups, newest first."""
    folder = backup_dir(catalogue, root)
    found: list[Backup] = []
    if not folder.is_dir():
        return found
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if not match or not entry.is_file():
            continue
        try:
            created = dt.datetime.strptime(match["stamp"][:-4], _STAMP).replace(
                microsecond=int(match["stamp"][-3:]) * 1000)
            size = entry.stat().st_size
        except (ValueError, OSError):
            continue
        found.append(Backup(entry, created, match["reason"], size))
    found.sort(key=lambda b: (b.created, b.path.name), reverse=True)
    return found


def _fsync_dir(folder: Path) -> None:
    if sys.platform == "win32":
        return  # no directory handles; NTFS journals the rename
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_database(source: sqlite3.Connection, target: Path) -> None:
    """Copy the database of ``source`` (a consistent snapshot, WAL included) to ``target``
    as a self-contained file in rollback-journal mode."""
    dest = sqlite3.connect(str(target))
    try:
        source.backup(dest)
        dest.execute("PRAGMA journal_mode = DELETE")
        dest.commit()
    finally:
        dest.close()
    with open(target, "rb+") as fh:
        os.fsync(fh.fileno())


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _new_name(folder: Path, stem: str, reason: str) -> Path:
    now = dt.datetime.now()
    while True:
        name = f"{stem}.{now.strftime(_STAMP)}-{now.microsecond // 1000:03d}.{reason}.db"
        if not (folder / name).exists():
            return folder / name
        now += dt.timedelta(milliseconds=1)


def _prepare_folder(catalogue: Path, root: str | Path | None) -> Path:
    folder = backup_dir(catalogue, root)
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "source.txt"
    if not source.exists():
        source.write_text(f"{catalogue.resolve()}\n", encoding="utf-8")
    return folder


def backup_connection(
    conn: sqlite3.Connection,
    catalogue: str | Path,
    *,
    reason: str = "manual",
    keep: int = DEFAULT_KEEP,
    root: str | Path | None = None,
) -> Path:
    """Back up the open database ``conn`` of the file ``catalogue``; return the backup's path.

    The copy is written to a temporary name and renamed, so a crash never leaves a
    half-written file that looks like a backup. Rotating backups beyond ``keep`` are
    deleted; a rotating backup identical to the newest is not kept twice (the newest's
    path is returned).
    """
    if not re.fullmatch(r"[a-z0-9-]+", reason):
        raise ValueError(f"bad backup reason {reason!r}")
    catalogue = Path(catalogue)
    folder = _prepare_folder(catalogue, root)
    target = _new_name(folder, catalogue.stem, reason)
    tmp = target.with_name(target.name + ".part")
    try:
        _copy_database(conn, tmp)
        if reason not in PINNED_REASONS:
            newest = next((b for b in list_backups(catalogue, root) if not b.pinned), None)
            if newest is not None and newest.size == tmp.stat().st_size \
                    and _file_digest(newest.path) == _file_digest(tmp):
                tmp.unlink()
                return newest.path
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(folder)
    prune(catalogue, keep=keep, root=root)
    return target


def backup(
    store_or_path: CatalogueStore | str | Path,
    *,
    keep: int = DEFAULT_KEEP,
    reason: str = "manual",
    root: str | Path | None = None,
) -> Path:
    """Write a consistent copy of a catalogue into its backup folder; return its path.

    ``store_or_path`` is an open :class:`~core.store.CatalogueStore` (its connection is
    used, so a backup sees exactly what the store has committed) or the path of a
    catalogue file. Keeps the newest ``keep`` rotating backups.
    """
    if isinstance(store_or_path, str | Path):
        path = Path(store_or_path)
        if not path.is_file():
            raise CatalogueError(f"目录文件不存在 / no catalogue at {path}")
        conn = sqlite3.connect(str(path))
        try:
            return backup_connection(conn, path, reason=reason, keep=keep, root=root)
        except sqlite3.DatabaseError as exc:
            raise CatalogueError(
                f"{path.name} 无法备份（文件可能已损坏） / cannot be backed up, the file may "
                f"be corrupt: {exc}") from exc
        finally:
            conn.close()
    store = store_or_path
    if store.path is None:
        raise ValueError("an in-memory catalogue has no backups")
    return backup_connection(store.db.conn, store.path, reason=reason, keep=keep, root=root)


def prune(catalogue: str | Path, *, keep: int = DEFAULT_KEEP, root: str | Path | None = None) -> list[Path]:
    """Delete rotating backups of ``catalogue`` beyond the newest ``keep``; return those deleted."""
    rotating = [b for b in list_backups(catalogue, root) if not b.pinned]
    removed = []
    for old in rotating[max(keep, 1):]:
        try:
            old.path.unlink()
            removed.append(old.path)
        except OSError:
            pass  # in use (Windows) or already gone: next time
    return removed


def check_file(path: str | Path) -> list[str]:
    """``PRAGMA integrity_check`` of a catalogue file: an empty list when it is sound,
    else what SQLite reports (or why it cannot be read). Leaves the file as it was."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                return ["不是 SQLite 数据库 / not an SQLite database"]
    except OSError as exc:
        return [f"无法读取 / cannot read: {exc}"]
    conn = sqlite3.connect(str(path))
    try:
        rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall()]
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    finally:
        conn.close()
    return [] if rows == ["ok"] else rows


def _remove_sidecars(path: Path) -> None:
    for suffix in ("-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def _raw_copy(path: Path, folder: Path, reason: str) -> Path:
    """Copy a catalogue that SQLite cannot read byte for byte (with its -wal), as evidence."""
    target = _new_name(folder, path.stem, reason)
    tmp = target.with_name(target.name + ".part")
    with open(path, "rb") as src, open(tmp, "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    os.replace(tmp, target)
    wal = Path(str(path) + "-wal")
    if wal.exists():
        with open(wal, "rb") as src, open(str(target) + "-wal", "wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
    return target


def restore(
    source: Backup | str | Path,
    catalogue: str | Path,
    *,
    root: str | Path | None = None,
) -> Path | None:
    """Replace ``catalogue`` with the backup ``source``; return the backup taken of the
    file it replaced (None when there was no file).

    The catalogue must not be open (close the store first). The backup is checked with
    ``PRAGMA integrity_check`` first; the current file (with its ``-wal``) is backed up
    as ``before-restore`` — by SQLite when it can read it, byte for byte when not — then
    the backup is copied to a temporary file beside the catalogue, stale ``-wal``/``-shm``
    files are removed and the copy is renamed over the catalogue (atomic on one volume).
    """
    source_path = source.path if isinstance(source, Backup) else Path(source)
    catalogue = Path(catalogue)
    problems = check_file(source_path)
    if problems:
        raise CatalogueError(
            f"备份 {source_path.name} 已损坏，未恢复 / backup {source_path.name} is damaged; "
            f"nothing restored: {problems[0]}")
    saved: Path | None = None
    if catalogue.exists():
        try:
            saved = backup(catalogue, reason="before-restore", root=root)
        except CatalogueError:
            saved = _raw_copy(catalogue, _prepare_folder(catalogue, root), "before-restore")
    tmp = catalogue.with_name(f".{catalogue.name}.restore-part")
    src = sqlite3.connect(str(source_path))
    try:
        tmp.unlink(missing_ok=True)
        _copy_database(src, tmp)
    finally:
        src.close()
    # The old -wal belongs to the old file: left beside the restored one, SQLite would
    # replay it into it. Remove it before the rename (it is in the backup just taken).
    _remove_sidecars(catalogue)
    os.replace(tmp, catalogue)
    _fsync_dir(catalogue.parent)
    return saved

"""One app instance per catalogue, and crash detection, with a sidecar lock file.

Opening a catalogue for editing takes an OS-level lock on ``<catalogue>.lock``
(``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows) and writes who holds
it (process id, host, user, time) into that file. The operating system drops
the lock when the process ends, however it ends (SIGKILL, power loss of the
process, a crash), so:

- a lock held by someone else means another SceneMatch has the catalogue open:
  :class:`CatalogueLockedError` names that process;
- a sidecar that exists, holds a previous owner's details, but is not locked
  means the previous session did not close cleanly (it crashed or was killed):
  the new lock reports ``crashed`` and ``previous``;
- a clean :meth:`CatalogueLock.release` empties and deletes the sidecar.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import socket
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from core.problems import CatalogueError

LOCK_SUFFIX = ".lock"
# On Windows the locked byte lies far beyond the text, so another process can still
# read who holds the lock (Windows locks are mandatory: a locked byte cannot be read).
_WINDOWS_LOCK_OFFSET = 1 << 30


def lock_path(catalogue: str | Path) -> Path:
    """The sidecar lock file of ``catalogue`` (``<catalogue>.lock``, beside the real file:
    symlinks and relative spellings resolve to one sidecar)."""
    catalogue = Path(catalogue).resolve()
    return catalogue.with_name(catalogue.name + LOCK_SUFFIX)


@dataclass(frozen=True)
class LockInfo:
    """Who holds (or last held) a catalogue."""

    pid: int
    host: str
    user: str
    since: str  # ISO time, local, to the second

    def describe(self) -> str:
        """``process 123 on host "pc-7" (user li), since 2026-01-05 14:30:12`` — bilingual."""
        return (f"进程 {self.pid}，主机 {self.host}，用户 {self.user}，自 {self.since} 起 / "
                f"process {self.pid} on host {self.host} (user {self.user}) since {self.since}")

    @classmethod
    def current(cls) -> LockInfo:
        """This process."""
        try:
            user = getpass.getuser()
        except Exception:  # no login name (some services, containers)
            user = "?"
        now = dt.datetime.now().astimezone().replace(microsecond=0)
        return cls(os.getpid(), socket.gethostname(), user, now.isoformat(sep=" "))

    @classmethod
    def parse(cls, text: str) -> LockInfo | None:
        """The details written in a sidecar, or None when it holds none (empty, foreign)."""
        try:
            data = json.loads(text)
            return cls(int(data["pid"]), str(data["host"]), str(data["user"]), str(data["since"]))
        except (ValueError, KeyError, TypeError):
            return None


class CatalogueLockedError(CatalogueError):
    """Another process holds the catalogue's lock."""

    def __init__(self, catalogue: Path, holder: LockInfo | None) -> None:
        self.catalogue = catalogue
        self.holder = holder
        who = holder.describe() if holder else "另一个进程 / another process"
        super().__init__(
            f"{catalogue.name} 已在另一个 SceneMatch 中打开（{who}）。为避免互相覆盖修改，"
            f"请先在那里关闭它，或打开它的副本。 / {catalogue} is open in another SceneMatch "
            f"({who}). To avoid overwriting each other's changes, close it there first, or "
            f"open a copy.")


def read_lock_info(catalogue: str | Path) -> LockInfo | None:
    """The details in ``catalogue``'s sidecar, whether or not it is still locked."""
    try:
        text = lock_path(catalogue).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return LockInfo.parse(text)


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        except OSError:
            pass
    # On POSIX closing the descriptor drops the flock.


def _read_all(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
        if sum(map(len, chunks)) > 1 << 16:
            break
    return b"".join(chunks).decode("utf-8", "replace")


class CatalogueLock:
    """The lock this process holds on one catalogue. Take it with :meth:`acquire`."""

    def __init__(self, catalogue: Path, fd: int, previous: LockInfo | None) -> None:
        self.catalogue = catalogue
        self.sidecar = lock_path(catalogue)
        self.previous = previous
        self._fd: int | None = fd

    @property
    def crashed(self) -> bool:
        """True when the previous session on this catalogue ended without closing it."""
        return self.previous is not None

    @property
    def held(self) -> bool:
        """True until :meth:`release`."""
        return self._fd is not None

    @classmethod
    def acquire(cls, catalogue: str | Path) -> CatalogueLock:
        """Lock ``catalogue`` for this process, or raise :class:`CatalogueLockedError`.

        Raises :class:`CatalogueError` when the sidecar cannot be created (a read-only
        folder). Never blocks.
        """
        catalogue = Path(catalogue).resolve()
        sidecar = lock_path(catalogue)
        for _attempt in range(20):
            try:
                fd = os.open(sidecar, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
            except OSError as exc:
                raise CatalogueError(
                    f"无法创建锁文件 {sidecar}（文件夹只读？） / cannot create the lock file "
                    f"{sidecar} (is the folder read-only?): {exc.strerror or exc}") from exc
            if not _try_lock(fd):
                holder = LockInfo.parse(_read_all(fd))
                os.close(fd)
                raise CatalogueLockedError(catalogue, holder)
            # The previous holder may have deleted the sidecar between our open and our
            # lock: then we locked a file nobody else will ever see. Start again.
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(sidecar))
            except OSError:
                same = False
            if not same:
                _unlock(fd)
                os.close(fd)
                continue
            previous = LockInfo.parse(_read_all(fd))
            lock = cls(catalogue, fd, previous)
            lock._write(LockInfo.current())
            return lock
        raise CatalogueLockedError(catalogue, None)  # pragma: no cover - a storm of opens

    def _write(self, info: LockInfo) -> None:
        assert self._fd is not None
        data = json.dumps(asdict(info), ensure_ascii=False).encode("utf-8")
        os.lseek(self._fd, 0, os.SEEK_SET)
        os.ftruncate(self._fd, 0)
        os.write(self._fd, data)
        os.fsync(self._fd)

    def release(self) -> None:
        """Unlock and delete the sidecar (a clean close: no crash is reported next time)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        # Empty it first: should the delete fail (Windows, another process has it open),
        # an empty sidecar does not look like a crash.
        try:
            os.ftruncate(fd, 0)
        except OSError:
            pass
        if sys.platform != "win32":
            self.sidecar.unlink(missing_ok=True)  # while still locked: nobody can race us
            os.close(fd)
            return
        _unlock(fd)
        os.close(fd)
        try:
            self.sidecar.unlink(missing_ok=True)
        except OSError:
            pass

    def __enter__(self) -> CatalogueLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __del__(self) -> None:  # a forgotten lock must not outlive its object silently
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass

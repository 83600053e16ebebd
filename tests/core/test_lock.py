"""The sidecar lock: one instance per catalogue, crash detection, the OS drops it on SIGKILL."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from core.lock import CatalogueLock, CatalogueLockedError, LockInfo, lock_path, read_lock_info
from core.problems import CatalogueError

HOLDER = textwrap.dedent("""
    import sys, time
    from core.lock import CatalogueLock
    lock = CatalogueLock.acquire(sys.argv[1])
    print("locked", flush=True)
    time.sleep(120)
""")


def _holder(catalogue):
    """A process that takes the lock and sleeps; returns once it holds it."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(catalogue)], stdout=subprocess.PIPE,
                            text=True, cwd=os.getcwd())
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_a_clean_session_locks_writes_who_and_deletes_the_sidecar(tmp_path):
    catalogue = tmp_path / "c.scenematch.db"
    lock = CatalogueLock.acquire(catalogue)
    assert lock.held and not lock.crashed
    sidecar = lock_path(catalogue)
    assert sidecar == tmp_path / "c.scenematch.db.lock"
    info = read_lock_info(catalogue)
    assert info is not None and info.pid == os.getpid()
    lock.release()
    assert not sidecar.exists() and not lock.held
    lock.release()  # twice is harmless
    with CatalogueLock.acquire(catalogue) as again:
        assert not again.crashed  # a clean close is not a crash


def test_a_second_lock_is_refused_and_names_the_holder(tmp_path):
    catalogue = tmp_path / "c.db"
    with CatalogueLock.acquire(catalogue):
        with pytest.raises(CatalogueLockedError) as err:
            CatalogueLock.acquire(catalogue)
        assert err.value.holder is not None and err.value.holder.pid == os.getpid()
        message = str(err.value)
        assert "c.db" in message and str(os.getpid()) in message
        assert "已在另一个 SceneMatch 中打开" in message and "is open in another SceneMatch" in message
        assert isinstance(err.value, CatalogueError)


def test_another_process_holds_it_and_sigkill_releases_it_as_a_crash(tmp_path):
    catalogue = tmp_path / "c.db"
    proc = _holder(catalogue)
    try:
        with pytest.raises(CatalogueLockedError) as err:
            CatalogueLock.acquire(catalogue)
        assert err.value.holder is not None and err.value.holder.pid == proc.pid
    finally:
        proc.send_signal(signal.SIGKILL) if hasattr(signal, "SIGKILL") else proc.kill()
        proc.wait(10)
    assert lock_path(catalogue).exists()  # a killed process leaves its sidecar behind
    with CatalogueLock.acquire(catalogue) as lock:
        assert lock.crashed
        assert lock.previous is not None and lock.previous.pid == proc.pid
        assert read_lock_info(catalogue).pid == os.getpid()  # now ours


def test_an_empty_or_foreign_sidecar_is_not_a_crash(tmp_path):
    catalogue = tmp_path / "c.db"
    lock_path(catalogue).write_text("", encoding="utf-8")
    with CatalogueLock.acquire(catalogue) as lock:
        assert not lock.crashed
    lock_path(catalogue).write_text("not json", encoding="utf-8")
    with CatalogueLock.acquire(catalogue) as lock:
        assert not lock.crashed
    stale = LockInfo(12345, "pc-7", "li", "2026-01-05 14:30:12+08:00")
    lock_path(catalogue).write_text(json.dumps(stale.__dict__), encoding="utf-8")
    with CatalogueLock.acquire(catalogue) as lock:
        assert lock.crashed and lock.previous == stale
    assert "12345" in stale.describe() and "pc-7" in stale.describe()


def test_a_lock_file_that_cannot_be_created_is_a_clear_error(tmp_path):
    # What a read-only folder does for a normal user (root ignores permissions, so the
    # sidecar's place is taken by a folder instead: os.open fails the same way).
    catalogue = tmp_path / "c.db"
    lock_path(catalogue).mkdir()
    with pytest.raises(CatalogueError, match="cannot create the lock file"):
        CatalogueLock.acquire(catalogue)

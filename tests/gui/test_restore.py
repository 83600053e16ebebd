"""The restore dialog and the start-up's data guard: lock, crash detection, restore offer,
backups on opening and after edits, a second instance refused."""

import os
import signal
import sqlite3
import subprocess
import sys
from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QMessageBox

from core.backup import BACKUP_DIR_ENV, backup, list_backups
from core.demo import install_demo
from core.lock import CatalogueLock, CatalogueLockedError, lock_path
from core.problems import CatalogueError
from core.store import CatalogueStore
from gui.app import DataGuard, open_window
from gui.restore import RestoreDialog
from tests.conftest import dump

HOLD_AND_WAIT = """
import sys, time
from core.lock import CatalogueLock
lock = CatalogueLock.acquire(sys.argv[1])
print("locked", flush=True)
time.sleep(120)
"""


@pytest.fixture(autouse=True)
def backup_root(tmp_path, monkeypatch):
    root = tmp_path / "backups"
    monkeypatch.setenv(BACKUP_DIR_ENV, str(root))
    return root


@pytest.fixture
def catalogue_file(tmp_path):
    """A demo catalogue with two backups: the full one (older), then one scene fewer."""
    path = tmp_path / "plan.scenematch.db"
    with CatalogueStore.open(path) as store:
        install_demo(store)
        backup(store, reason="open")
        store.delete(scenes=[store.scenes()[0].id])
        backup(store, reason="autosave")
    return path


class Chooser:
    """A stand-in for the dialog: records what was offered, answers ``answer(backups)``."""

    def __init__(self, answer=lambda backups: None):
        self.answer = answer
        self.calls = []

    def __call__(self, catalogue, backups, message, parent):
        self.calls.append((catalogue, list(backups), message))
        return self.answer(backups)


def _crash(path):
    """A process takes the catalogue's lock and is killed with SIGKILL."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD_AND_WAIT, str(path)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    proc.send_signal(getattr(signal, "SIGKILL", signal.SIGTERM))
    proc.wait(10)
    assert lock_path(path).exists()
    return proc.pid


# -- the dialog ----------------------------------------------------------------------


def test_the_dialog_lists_backups_and_keeping_the_file_is_the_default(qtbot, catalogue_file):
    backups = list_backups(catalogue_file)
    dialog = RestoreDialog(catalogue_file, backups, "上次会话没有正常关闭")
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitExposed(dialog)
    assert dialog.list.topLevelItemCount() == 2
    first = dialog.list.topLevelItem(0)
    assert first.text(0) == backups[0].created.strftime("%Y-%m-%d %H:%M:%S")
    assert first.text(1).endswith("KB") and first.text(2) == "自动备份"
    assert dialog.list.topLevelItem(1).text(2) == "打开时"
    assert not dialog.restore_button.isEnabled()  # nothing chosen yet
    assert dialog.keep_button.isDefault()
    with qtbot.waitSignal(dialog.finished):
        qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert dialog.result() == QDialog.DialogCode.Rejected and dialog.chosen() is None


def test_escape_keeps_the_file_even_with_a_backup_selected(qtbot, catalogue_file):
    dialog = RestoreDialog(catalogue_file, list_backups(catalogue_file), "")
    qtbot.addWidget(dialog)
    dialog.open()
    dialog.list.setCurrentItem(dialog.list.topLevelItem(1))
    assert dialog.restore_button.isEnabled()
    with qtbot.waitSignal(dialog.finished):
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.chosen() is None


def test_choosing_a_backup_and_pressing_restore_returns_it(qtbot, catalogue_file):
    backups = list_backups(catalogue_file)
    dialog = RestoreDialog(catalogue_file, backups, "")
    qtbot.addWidget(dialog)
    dialog.open()
    dialog.list.setCurrentItem(dialog.list.topLevelItem(1))
    with qtbot.waitSignal(dialog.finished):
        qtbot.mouseClick(dialog.restore_button, Qt.MouseButton.LeftButton)
    assert dialog.chosen() == backups[1]


# -- the guard -------------------------------------------------------------------------


def test_opening_locks_backs_up_and_a_second_instance_is_refused(qapp, catalogue_file):
    first = DataGuard()
    store = first.open(catalogue_file)
    assert lock_path(catalogue_file).exists()
    assert [b.reason for b in list_backups(catalogue_file)][0] == "autosave"  # unchanged: reused
    second = DataGuard(warn=lambda *a: None)
    with pytest.raises(CatalogueLockedError, match=str(os.getpid())):
        second.open(catalogue_file)
    assert second.locks == {}
    first.close(store)
    assert not lock_path(catalogue_file).exists()
    third = DataGuard(choose_restore=Chooser())
    third.open(catalogue_file).close()  # a clean close is not reported as a crash
    assert third.notices == []
    third.close()


def test_after_a_crash_the_restore_is_offered_and_keeping_changes_nothing(qapp, catalogue_file):
    pid = _crash(catalogue_file)
    before = dump(catalogue_file)
    chooser = Chooser()
    guard = DataGuard(choose_restore=chooser)
    store = guard.open(catalogue_file)
    [(path, offered, message)] = chooser.calls
    assert path == catalogue_file and [b.reason for b in offered] == ["autosave", "open"]
    assert str(pid) in message and "完整性检查通过" in message
    assert dump(catalogue_file) == before
    guard.close(store)


def test_after_a_crash_a_chosen_backup_is_restored(qapp, catalogue_file):
    _crash(catalogue_file)
    full = 45
    guard = DataGuard(choose_restore=Chooser(lambda backups: backups[-1]))  # the oldest
    store = guard.open(catalogue_file)
    assert store.count("scenes") == full
    assert any("已从" in text and "恢复" in text for text in guard.notices)
    assert "before-restore" in {b.reason for b in list_backups(catalogue_file)}
    guard.close(store)


def test_a_damaged_file_offers_its_backups(qapp, catalogue_file):
    data = bytearray(catalogue_file.read_bytes())
    data[4096 * 3: 4096 * 5] = b"\x07" * 8192
    catalogue_file.write_bytes(bytes(data))
    kept = catalogue_file.read_bytes()
    chooser = Chooser()
    with pytest.raises(CatalogueError):
        DataGuard(choose_restore=chooser).open(catalogue_file)
    assert len(chooser.calls) == 1 and "无法打开" in chooser.calls[0][2]
    assert catalogue_file.read_bytes() == kept
    assert not lock_path(catalogue_file).exists()  # refused: the lock is not kept
    guard = DataGuard(choose_restore=Chooser(lambda backups: backups[0]))
    store = guard.open(catalogue_file)
    assert store.count("scenes") == 44
    guard.close(store)


def test_edits_are_backed_up_at_most_every_interval(qtbot, catalogue_file):
    from gui.session import Session

    guard = DataGuard(interval_ms=100)
    store = guard.open(catalogue_file)
    session = Session(store)
    guard.attach(session)
    count = len(list_backups(catalogue_file))
    org = session.catalogue.organizations[0]
    session.save_organization(replace(org, robot_capacity=org.robot_capacity + 1), org, "改")
    session.save_organization(replace(org, robot_capacity=org.robot_capacity + 2), org, "改")
    assert guard.timer.isActive()
    qtbot.waitUntil(lambda: len(list_backups(catalogue_file)) == count + 1, timeout=3000)
    newest = list_backups(catalogue_file)[0]
    assert newest.reason == "autosave"
    conn = sqlite3.connect(newest.path)
    capacity = conn.execute("SELECT robot_capacity FROM organizations WHERE id = ?",
                            [org.id]).fetchone()[0]
    conn.close()
    assert capacity == org.robot_capacity + 2  # both edits, one backup
    session.save_organization(replace(org, robot_capacity=0), org, "改")
    guard.close(store)  # unsaved-in-backups edits get a last backup on close
    assert list_backups(catalogue_file)[0].reason == "close"
    assert not lock_path(catalogue_file).exists()


def test_an_older_schema_is_announced_with_its_backup(qapp, tmp_path):
    from tests.core.test_backup import _schema_1

    path = tmp_path / "old.scenematch.db"
    _schema_1(path)
    guard = DataGuard()
    store = guard.open(path)
    assert store.migration_backup is not None
    assert any(str(store.migration_backup) in text for text in guard.notices)
    guard.close(store)


def test_the_window_moves_the_lock_and_refuses_a_file_open_elsewhere(qtbot, tmp_path,
                                                                      catalogue_file, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: shown.append(a[2]))
    guard = DataGuard(warn=lambda *a: shown.append(a[2]))
    window = open_window(catalogue_file, guard)
    assert window is not None
    qtbot.addWidget(window)
    other = tmp_path / "other.scenematch.db"
    CatalogueStore.open(other).close()
    assert window.open_path(other)
    assert set(guard.locks) == {other.resolve()}
    assert not lock_path(catalogue_file).exists()  # the first file's lock went with it
    elsewhere = tmp_path / "elsewhere.scenematch.db"
    CatalogueStore.open(elsewhere).close()
    with CatalogueLock.acquire(elsewhere):  # "another instance" has it open
        assert window.open_path(elsewhere) is False
    assert "已在另一个 SceneMatch 中打开" in shown[-1]
    assert window.session.path == other
    # A second window (instance) on the file the first has open is refused at start-up.
    assert open_window(other, DataGuard(warn=lambda *a: shown.append(a[2]))) is None
    assert "is open in another SceneMatch" in shown[-1]
    for view in window.views:
        view.shutdown()
    guard.close(window.session.store)
    assert not lock_path(other).exists()


def test_the_window_shows_the_upgrade_notice_once_it_is_up(qtbot, tmp_path):
    from tests.core.test_backup import _schema_1

    path = tmp_path / "old.scenematch.db"
    _schema_1(path)
    guard = DataGuard()
    window = open_window(path, guard)
    assert window is not None
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: "before-migration" in window.statusBar().currentMessage())
    assert not window.path_label.isVisible()  # the notice hides the status bar's labels
    guard.close(window.session.store)

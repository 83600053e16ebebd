"""The desktop application's start-up: font, language, main window — and the catalogue's
data safety while the window has it open (:class:`DataGuard`): one instance per
catalogue (a lock file), crash detection with an offer to restore, and backups on
opening and every few minutes while edits happen."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings, QTimer, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from core.backup import DEFAULT_KEEP, Backup, backup, check_file, list_backups, restore
from core.lock import CatalogueLock, CatalogueLockedError
from core.problems import CatalogueError
from core.store import CatalogueStore
from gui import i18n
from gui.fonts import install_cjk_font
from gui.i18n import tr

if TYPE_CHECKING:
    from gui.main_window import MainWindow
    from gui.session import Session

AUTOSAVE_INTERVAL_MS = 3 * 60 * 1000  # at most one automatic backup per three minutes

# (catalogue, its backups, why they are offered, parent) -> the backup to restore or None
ChooseRestore = Callable[[Path, Sequence[Backup], str, QWidget | None], Backup | None]
Warn = Callable[[QWidget | None, str, str], None]


def app_icon() -> QIcon:
    """The application's icon (resources/icons, read so a frozen build finds it too)."""
    from importlib import resources

    pixmap = QPixmap()
    pixmap.loadFromData(resources.files("resources.icons").joinpath("scenematch.png").read_bytes())
    return QIcon(pixmap)


def make_app() -> QApplication:
    """The QApplication with SceneMatch's names, the bundled CJK font and the saved language."""
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("SceneMatch")
    app.setOrganizationName("SceneMatch")
    install_cjk_font(app)
    app.setWindowIcon(app_icon())
    language = QSettings().value("language", "zh")
    i18n.set_language(language if language in i18n.LANGUAGES else "zh")
    return app


def _ask_restore(catalogue: Path, backups: Sequence[Backup], message: str,
                 parent: QWidget | None) -> Backup | None:
    from gui.restore import ask_restore

    return ask_restore(catalogue, backups, message, parent)


def _warn(parent: QWidget | None, title: str, text: str) -> None:
    QMessageBox.warning(parent, title, text)


def _key(path: str | Path) -> Path:
    return Path(path).resolve()


class DataGuard(QObject):
    """Locks, backups and crash recovery for the catalogue(s) a window opens.

    ``open()`` locks the file (another instance has it: :class:`CatalogueLockedError`),
    offers a restore when the last session crashed or the file is damaged, opens it and
    takes an ``open`` backup. Once attached to the window's session, every change
    schedules an ``autosave`` backup (at most one per ``interval_ms``); switching to
    another catalogue moves the lock; :meth:`close` takes a last backup if edits are
    unsaved in the backups, closes the store and releases the lock.
    """

    notice = Signal(str)  # something the user should read in the status bar

    def __init__(self, parent: QObject | None = None, *,
                 choose_restore: ChooseRestore = _ask_restore, warn: Warn = _warn,
                 interval_ms: int = AUTOSAVE_INTERVAL_MS, keep: int = DEFAULT_KEEP) -> None:
        super().__init__(parent)
        self.choose_restore = choose_restore
        self.warn = warn
        self.keep = keep
        self.notices: list[str] = []
        self.locks: dict[Path, CatalogueLock] = {}
        self.session: Session | None = None
        self.dirty = False
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.autosave)

    # -- opening -----------------------------------------------------------------

    def open(self, path: str | Path, *, create: bool = False,
             parent: QWidget | None = None) -> CatalogueStore:
        """Lock and open ``path`` (see the class); raises :class:`CatalogueError` with a
        message for the user when it cannot (locked elsewhere, damaged and not restored,
        not a catalogue, …); the lock is then not kept."""
        path = Path(path)
        key = _key(path)
        if self.session is not None and self.dirty:
            self._backup(self.session.store, "close")  # before leaving the current one
        fresh = None
        if key not in self.locks:
            fresh = CatalogueLock.acquire(key)
            self.locks[key] = fresh
        try:
            if fresh is not None and fresh.crashed and path.exists():
                self._after_crash(path, fresh, parent)
            store = self._open_store(path, create, parent)
        except BaseException:
            if fresh is not None:
                fresh.release()
                self.locks.pop(key, None)
            raise
        if store.migration_backup is not None:
            self._notice(tr(
                f"目录已从结构版本 {store.migrated_from} 升级；升级前的备份：{store.migration_backup}",
                f"The catalogue was upgraded from schema {store.migrated_from}; the backup taken "
                f"before the upgrade: {store.migration_backup}"))
        self._backup(store, "open")
        self.dirty = False
        return store

    def _after_crash(self, path: Path, lock: CatalogueLock, parent: QWidget | None) -> None:
        problems = check_file(path)
        who = lock.previous.describe() if lock.previous else ""
        if problems:
            check = tr(f"完整性检查发现问题：{problems[0]}",
                       f"The integrity check found problems: {problems[0]}")
        else:
            check = tr("完整性检查通过，文件本身完好。", "The integrity check passed: the file is sound.")
        backups = list_backups(path)
        message = tr(
            f"上次打开此目录的会话（{who}）没有正常关闭（程序崩溃或被强制结束）。{check}"
            f"已保存的修改都在文件中；如需回到更早的状态，可以从备份恢复。",
            f"The last session on this catalogue ({who}) did not close normally (a crash or a "
            f"forced quit). {check} Every saved edit is in the file; to go back to an earlier "
            f"state, restore a backup.")
        if not backups:
            self._notice(tr("上次会话没有正常关闭；", "The last session did not close normally; ")
                         + check)
            return
        self._offer(path, backups, message, parent)

    def _offer(self, path: Path, backups: Sequence[Backup], message: str,
               parent: QWidget | None) -> bool:
        chosen = self.choose_restore(path, backups, message, parent)
        if chosen is None:
            return False
        saved = restore(chosen, path)
        self._notice(tr(
            f"已从 {chosen.created:%Y-%m-%d %H:%M:%S} 的备份恢复；恢复前的文件另存为 {saved}",
            f"Restored the backup of {chosen.created:%Y-%m-%d %H:%M:%S}; the file it replaced "
            f"is kept as {saved}"))
        return True

    def _open_store(self, path: Path, create: bool, parent: QWidget | None) -> CatalogueStore:
        try:
            return CatalogueStore.open(path, create=create)
        except CatalogueError as exc:
            # A damaged file with backups: offer them (a file that is not a catalogue, or
            # from a newer SceneMatch, is not damaged: the message says what to do).
            backups = list_backups(path) if path.is_file() else []
            if not backups or not check_file(path):
                raise
            message = tr(f"无法打开此目录：{exc}\n可以从备份恢复。",
                         f"This catalogue cannot be opened: {exc}\nYou can restore a backup.")
            if not self._offer(path, backups, message, parent):
                raise
        return CatalogueStore.open(path, create=False)

    # -- the open session ----------------------------------------------------------

    def attach(self, session: Session) -> None:
        """Follow ``session``: back up after edits, move the lock when it switches files."""
        self.session = session
        session.changed.connect(self._changed)
        session.opened.connect(self._opened)

    def _changed(self) -> None:
        self.dirty = True
        if not self.timer.isActive():
            self.timer.start()

    def _opened(self) -> None:
        """Another file is open: keep only its lock (taking it when the window made a new
        catalogue without :meth:`open`)."""
        assert self.session is not None
        path = self.session.path
        key = _key(path) if path is not None else None
        if key is not None and key not in self.locks:
            try:
                self.locks[key] = CatalogueLock.acquire(key)
            except CatalogueError as exc:
                self._notice(str(exc))
        for other in [k for k in self.locks if k != key]:
            self.locks.pop(other).release()
        self.dirty = False

    def autosave(self) -> Path | None:
        """Back up the open catalogue if it changed since the last backup."""
        if self.session is None or not self.dirty:
            return None
        self.dirty = False
        return self._backup(self.session.store, "autosave")

    def _backup(self, store: CatalogueStore, reason: str) -> Path | None:
        if store.path is None:
            return None
        try:
            return backup(store, reason=reason, keep=self.keep)
        except (OSError, sqlite3.Error, CatalogueError) as exc:
            self._notice(tr(f"备份失败：{exc}", f"Backup failed: {exc}"))
            return None

    def _notice(self, text: str) -> None:
        self.notices.append(text)
        self.notice.emit(text)

    def close(self, store: CatalogueStore | None = None) -> None:
        """A clean end: a last backup if needed, close ``store``, release every lock."""
        self.timer.stop()
        store = store or (self.session.store if self.session is not None else None)
        if store is not None:
            if self.dirty:
                self._backup(store, "close")
            store.close()
        self.dirty = False
        for lock in self.locks.values():
            lock.release()
        self.locks.clear()


def open_window(path: Path, guard: DataGuard) -> MainWindow | None:
    """The main window on ``path`` under ``guard``, or None (the user was told why)."""
    from gui.main_window import MainWindow

    try:
        store = guard.open(path, create=True)
    except CatalogueError as exc:
        title = (tr("目录已被占用", "Catalogue in use") if isinstance(exc, CatalogueLockedError)
                 else tr("无法打开", "Cannot open"))
        guard.warn(None, title, str(exc))
        return None
    window = MainWindow(store)
    window.data_guard = guard  # type: ignore[attr-defined]  # MainWindow.open_path uses it
    guard.attach(window.session)
    guard.notice.connect(lambda text: window.statusBar().showMessage(text, 30_000))
    if guard.notices:
        # After the window is shown: a temporary message set before that is drawn over the
        # status bar's own labels (seen under X11) instead of hiding them.
        text = "  ".join(guard.notices)
        QTimer.singleShot(0, lambda: window.statusBar().showMessage(text, 30_000))
    return window


def run_gui(path: Path) -> int:
    """Open the catalogue at ``path`` in the main window and run the event loop."""
    app = make_app()
    guard = DataGuard(app)
    window = open_window(path, guard)
    if window is None:
        guard.close()
        return 1
    window.show()
    try:
        return int(app.exec())
    finally:
        guard.close(window.session.store)

"""The main window: sidebar of views, menus, toolbar, status bar, settings.

Window geometry and state, the last view, recent files and the language persist in
QSettings. ortools is never imported here: the matching view loads the engine only when a
run starts, so start-up stays fast.
"""

from __future__ import annotations

import importlib
import importlib.util
import shutil
import sqlite3
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Slot
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from core.problems import CatalogueError, InputError
from core.store import CatalogueStore
from gui import i18n
from gui.exports import Exporter
from gui.i18n import tr
from gui.session import Session
from gui.views import VIEWS
from gui.views.base import View
from gui.worker import Task, TaskPanel

MAX_RECENT = 8
CATALOGUE_FILTER = "SceneMatch (*.scenematch.db *.db *.sqlite);;* (*)"
IMPORT_FILTER = "JSON / Excel / CSV (*.json *.xlsx *.csv)"


def settings() -> QSettings:
    """The application's settings (organisation and application names set at start-up)."""
    return QSettings()


class MainWindow(QMainWindow):
    """SceneMatch's main window on one open catalogue."""

    def __init__(self, store: CatalogueStore) -> None:
        super().__init__()
        self.setObjectName("MainWindow")
        self.session = Session(store, self)
        self.views: list[View] = []
        self.sidebar = QListWidget(self)
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setMaximumWidth(200)
        self.stack = QStackedWidget(self)
        for key, module_name, class_name in VIEWS:
            if importlib.util.find_spec(module_name) is None:
                continue  # not built yet
            cls = getattr(importlib.import_module(module_name), class_name)
            view: View = cls(self.session, self.stack)
            view.setObjectName(f"view_{key}")
            self.views.append(view)
            self.stack.addWidget(view)
            self.sidebar.addItem(QListWidgetItem(view.title()))
        self.sidebar.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.tasks = TaskPanel(self)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 4)
        splitter = QSplitter(Qt.Orientation.Horizontal, central)
        splitter.addWidget(self.sidebar)
        splitter.addWidget(self.stack)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([150, 10_000])  # the sidebar as narrow as its labels
        layout.addWidget(splitter, 1)
        layout.addWidget(self.tasks)
        self.setCentralWidget(central)
        self.path_label = QLabel(self)
        self.compliance_label = QLabel(self)
        self.statusBar().addWidget(self.path_label, 1)
        self.statusBar().addPermanentWidget(self.compliance_label)
        self._build_actions()
        self._build_menus()
        self.session.changed.connect(self._update_status)
        self.session.opened.connect(self._update_title)
        self.session.undo_stack.cleanChanged.connect(self._update_title)
        self.import_task: Task | None = None
        self.exporter = Exporter(self.session, self.tasks, self)
        self._restore()
        self.retranslate()

    # -- actions and menus -----------------------------------------------------

    def _action(self, name: str, slot: object, shortcut: QKeySequence | str | None = None) -> QAction:
        action = QAction(self)
        action.setObjectName(name)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        std = QKeySequence.StandardKey
        self.act_new = self._action("new", self.new_catalogue, QKeySequence(std.New))
        self.act_open = self._action("open", self.open_dialog, QKeySequence(std.Open))
        self.act_save_as = self._action("save_as", self.save_as_dialog, "Ctrl+Shift+S")
        self.act_import = self._action("import", self.import_dialog, "Ctrl+I")
        self.act_export = self._action("export", self.export_dialog, "Ctrl+E")
        self.act_reports = self._action("export_reports", self.reports_dialog, "Ctrl+P")
        self.act_package = self._action("export_package", self.package_dialog)
        self.act_merge = self._action("merge_packages", self.merge_dialog)
        self.act_quit = self._action("quit", self.close, QKeySequence(std.Quit))
        stack = self.session.undo_stack
        self.act_undo = self._action("undo", stack.undo, QKeySequence(std.Undo))
        self.act_redo = self._action("redo", stack.redo, QKeySequence(std.Redo))
        self.act_redo.setShortcuts([QKeySequence(std.Redo), QKeySequence("Ctrl+Y")])
        stack.canUndoChanged.connect(self.act_undo.setEnabled)
        stack.canRedoChanged.connect(self.act_redo.setEnabled)
        stack.indexChanged.connect(self._undo_texts)
        self.act_undo.setEnabled(False)
        self.act_redo.setEnabled(False)
        self.act_find = self._action("find", self.find_in_view, QKeySequence(std.Find))
        self.act_prefs = self._action("preferences", self.preferences, "Ctrl+,")
        self.act_about = self._action("about", self.about)
        self.lang_group = QActionGroup(self)
        self.act_lang: dict[str, QAction] = {}
        for code, label in (("zh", "中文"), ("en", "English")):
            act = QAction(label, self)
            act.setObjectName(f"lang_{code}")
            act.setCheckable(True)
            act.setChecked(code == i18n.language())
            act.triggered.connect(lambda _=False, c=code: self.set_language(c))
            self.lang_group.addAction(act)
            self.act_lang[code] = act
        self.view_actions: list[QAction] = []
        for n, _view in enumerate(self.views):
            act = self._action(f"show_{_view.key}", lambda _=False, i=n: self.show_view(i),
                               f"Ctrl+{n + 1}" if n < 9 else None)
            self.view_actions.append(act)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.menu_file = bar.addMenu("")
        self.menu_recent = self.menu_file.addMenu("")
        for act in (self.act_new, self.act_open, self.act_save_as):
            self.menu_file.insertAction(self.menu_recent.menuAction(), act)
        self.menu_file.addSeparator()
        self.menu_file.addActions([self.act_import, self.act_export])
        self.menu_file.addSeparator()
        self.menu_reports = self.menu_file.addMenu("")
        self.menu_reports.setObjectName("menu_reports")
        self.menu_reports.addActions([self.act_reports, self.act_package])
        self.menu_reports.addSeparator()
        self.menu_reports.addAction(self.act_merge)
        self.menu_file.addSeparator()
        self.menu_file.addAction(self.act_quit)
        self.menu_edit = bar.addMenu("")
        self.menu_edit.addActions([self.act_undo, self.act_redo])
        self.menu_edit.addSeparator()
        self.menu_edit.addActions([self.act_find, self.act_prefs])
        self.menu_view = bar.addMenu("")
        self.menu_view.addActions(self.view_actions)
        self.menu_lang = bar.addMenu("Language 语言")
        self.menu_lang.addActions(list(self.act_lang.values()))
        self.menu_help = bar.addMenu("")
        self.menu_help.addAction(self.act_about)
        self.toolbar = self.addToolBar("")
        self.toolbar.setObjectName("toolbar")
        self.toolbar.addActions([self.act_open, self.act_import, self.act_export])
        self.toolbar.addSeparator()
        self.toolbar.addActions([self.act_undo, self.act_redo])
        self._fill_recent()

    def retranslate(self) -> None:
        """Every text of the window and its views, in the current language."""
        for act, zh, en in (
            (self.act_new, "新建目录…", "New catalogue…"),
            (self.act_open, "打开目录…", "Open catalogue…"),
            (self.act_save_as, "目录另存为…", "Save catalogue as…"),
            (self.act_import, "导入…", "Import…"),
            (self.act_export, "导出…", "Export…"),
            (self.act_reports, "导出 PDF 报告（建设方案与组建方案）…",
             "Export PDF reports (plan summary and proposals)…"),
            (self.act_package, "导出申报包…", "Export submission package…"),
            (self.act_merge, "合并申报包（国家级汇总）…", "Merge submission packages (national)…"),
            (self.act_quit, "退出", "Quit"),
            (self.act_find, "查找", "Find"),
            (self.act_prefs, "首选项…", "Preferences…"),
            (self.act_about, "关于 SceneMatch", "About SceneMatch"),
        ):
            act.setText(tr(zh, en))
        self._undo_texts()
        self.menu_file.setTitle(tr("文件(&F)", "&File"))
        self.menu_recent.setTitle(tr("最近打开", "Open recent"))
        self.menu_reports.setTitle(tr("报告与申报包", "Reports and packages"))
        self.menu_edit.setTitle(tr("编辑(&E)", "&Edit"))
        self.menu_view.setTitle(tr("视图(&V)", "&View"))
        self.menu_help.setTitle(tr("帮助(&H)", "&Help"))
        self.toolbar.setWindowTitle(tr("工具栏", "Toolbar"))
        for n, view in enumerate(self.views):
            view.retranslate()
            self.sidebar.item(n).setText(view.title())
            self.view_actions[n].setText(view.title())
        self.tasks.retranslate()
        self._update_title()
        self._update_status()

    def _undo_texts(self) -> None:
        stack = self.session.undo_stack
        self.act_undo.setText(" ".join(filter(None, (tr("撤销", "Undo"), stack.undoText()))))
        self.act_redo.setText(" ".join(filter(None, (tr("重做", "Redo"), stack.redoText()))))

    # -- language, settings ----------------------------------------------------

    def set_language(self, code: str) -> None:
        i18n.set_language(code)
        settings().setValue("language", code)
        self.act_lang[code].setChecked(True)
        self.retranslate()

    def _restore(self) -> None:
        s = settings()
        geometry = s.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        state = s.value("window/state")
        if state is not None:
            self.restoreState(state)
        last = int(str(s.value("window/view", 0) or 0))
        self.show_view(last if 0 <= last < len(self.views) else 0)
        self._remember_recent(self.session.path)

    def closeEvent(self, event: object) -> None:  # noqa: N802 - Qt's name
        s = settings()
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/view", self.stack.currentIndex())
        for view in self.views:
            view.shutdown()
        if self.import_task is not None and self.import_task.running:
            self.import_task.cancel()
            self.import_task.wait()
        self.exporter.shutdown()
        super().closeEvent(event)  # type: ignore[arg-type]

    def recent_files(self) -> list[str]:
        value = settings().value("recent", [])
        if isinstance(value, str):
            return [value]
        return [str(v) for v in value] if isinstance(value, list) else []

    def _remember_recent(self, path: Path | None) -> None:
        if path is None:
            return
        items = [str(path)] + [p for p in self.recent_files() if p != str(path)]
        settings().setValue("recent", items[:MAX_RECENT])
        self._fill_recent()

    def _fill_recent(self) -> None:
        if not hasattr(self, "menu_recent"):
            return
        self.menu_recent.clear()
        for path in self.recent_files():
            act = self.menu_recent.addAction(path)
            act.triggered.connect(lambda _=False, p=path: self.open_path(Path(p)))
        self.menu_recent.setEnabled(bool(self.recent_files()))

    # -- views -----------------------------------------------------------------

    def show_view(self, index: int) -> None:
        if 0 <= index < len(self.views):
            self.sidebar.setCurrentRow(index)

    def view(self, key: str) -> View:
        return next(v for v in self.views if v.key == key)

    @Slot()
    def find_in_view(self) -> None:
        view = self.stack.currentWidget()
        if isinstance(view, View) and not view.focus_search():
            for n, other in enumerate(self.views):
                if other.key == "scenes":
                    self.show_view(n)
                    other.focus_search()

    # -- status ----------------------------------------------------------------

    def _update_title(self) -> None:
        store = self.session.store
        name = store.name or (store.path.name if store.path else tr("内存目录", "in-memory catalogue"))
        self.setWindowTitle(f"{name} — SceneMatch {tr('实景实训匹配', 'real-scene matching')}")
        self.path_label.setText(str(store.path) if store.path else tr("内存目录", "in-memory catalogue"))

    def _update_status(self) -> None:
        from core.plan_rules import plan_statuses

        plans = plan_statuses(self.session.catalogue)
        bad = [p for p in plans if not p.compliant]
        if not plans:
            text = tr("无计划", "no plans")
            colour = "gray"
        elif bad:
            text = tr(f"计划合规 {len(plans) - len(bad)}/{len(plans)}",
                      f"plans compliant {len(plans) - len(bad)}/{len(plans)}")
            colour = "#b00020"
        else:
            text = tr(f"全部 {len(plans)} 个计划合规", f"all {len(plans)} plans compliant")
            colour = "#1b7f3b"
        self.compliance_label.setText(f"<span style='color:{colour}'>● </span>{text}")
        self.compliance_label.setToolTip("\n".join(
            f"{p.rule.coordinator}: {'; '.join(p.shortfalls(i18n.language()))}" for p in bad))

    # -- file operations ---------------------------------------------------------

    def open_path(self, path: Path) -> bool:
        """Open another catalogue file; a bad file is reported and the current one stays."""
        # Under gui.app's DataGuard (the app, not bare tests): lock, crash check, backups.
        guard = getattr(self, "data_guard", None)
        try:
            store = (guard.open(path, parent=self) if guard is not None
                     else CatalogueStore.open(path, create=False))
        except CatalogueError as exc:
            QMessageBox.warning(self, tr("无法打开", "Cannot open"), str(exc))
            return False
        self.session.open_store(store)
        self._remember_recent(path)
        return True

    @Slot()
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("打开目录", "Open catalogue"), "",
                                              CATALOGUE_FILTER)
        if path:
            self.open_path(Path(path))

    @Slot()
    def new_catalogue(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, tr("新建目录", "New catalogue"),
                                              "catalogue.scenematch.db", CATALOGUE_FILTER)
        if not path:
            return
        target = Path(path)
        if target.exists():
            QMessageBox.warning(self, tr("文件已存在", "File exists"),
                                tr(f"{target} 已存在，请换一个名字", f"{target} exists; choose another name"))
            return
        self.session.open_store(CatalogueStore.open(target))
        self._remember_recent(target)

    @Slot()
    def save_as_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, tr("目录另存为", "Save catalogue as"),
                                              "copy.scenematch.db", CATALOGUE_FILTER)
        if path:
            self.save_as(Path(path))

    def save_as(self, target: Path) -> None:
        """Copy the open catalogue to ``target`` (SQLite's online backup) and open the copy."""
        if self.session.path is not None and target.resolve() == self.session.path.resolve():
            return
        tmp = target.with_name(target.name + ".part")
        dest = sqlite3.connect(str(tmp))
        try:
            self.session.store.db.conn.backup(dest)
        finally:
            dest.close()
        shutil.move(str(tmp), str(target))
        self.open_path(target)

    @Slot()
    def import_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, tr("导入数据", "Import data"), "", IMPORT_FILTER)
        if paths:
            self.import_paths([Path(p) for p in paths])

    def import_paths(self, paths: list[Path]) -> Task:
        """Import files off the GUI thread (all-or-nothing); report the outcome."""
        from core.importer import import_files

        # Imports write through their own connection: the GUI's stays free for reading.
        db_path = self.session.path

        def work(progress: object, cancel: object) -> object:
            if db_path is None:
                return import_files(self.session.store, paths, progress, cancel)  # type: ignore[arg-type]
            with CatalogueStore.open(db_path, create=False) as store:
                return import_files(store, paths, progress, cancel)  # type: ignore[arg-type]

        task = Task(work, self)
        task.succeeded.connect(self._imported)
        task.failed.connect(self._import_failed)
        task.cancelled.connect(lambda _p: self.statusBar().showMessage(
            tr("导入已取消，目录未改变", "Import cancelled; the catalogue is unchanged"), 8000))
        self.import_task = task
        self.tasks.run(task)
        return task

    def _imported(self, report: object) -> None:
        self.session.undo_stack.clear()  # an import is not undoable step by step
        self.session.reload()
        summary = getattr(report, "summary", None)
        added = sum(summary.added.values()) if summary else 0
        changed = sum(summary.changed.values()) if summary else 0
        self.statusBar().showMessage(tr(f"导入完成：新增 {added}，更新 {changed}",
                                        f"Imported: {added} added, {changed} updated"), 8000)

    def _import_failed(self, message: str, trace: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, tr("导入失败，目录未改变", "Import failed; the catalogue is unchanged"),
                          message, parent=self)
        box.setDetailedText(trace)
        box.setObjectName("import_error")
        box.open()

    @Slot()
    def export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, tr("导出目录", "Export catalogue"), "catalogue.json",
            "JSON (*.json);;Excel (*.xlsx);;CSV folder (*)")
        if path:
            self.export_to(Path(path))

    def export_to(self, target: Path) -> Task | None:
        """Export the catalogue to ``target`` (.json, .xlsx or a CSV folder) in the background."""
        return self.exporter.catalogue(target)

    # -- reports and packages -----------------------------------------------------

    ALL_COORDINATORS = ("全部组织单位", "All coordinators")

    def _choose_coordinator(self, title: str, allow_all: bool) -> tuple[bool, str | None]:
        coordinators = self.session.catalogue.coordinators()
        if not coordinators:
            QMessageBox.information(self, title, tr("目录中没有场景。", "The catalogue has no scenes."))
            return False, None
        items = ([tr(*self.ALL_COORDINATORS)] if allow_all else []) + coordinators
        choice, ok = QInputDialog.getItem(self, title, tr("组织单位：", "Coordinator:"), items, 0, False)
        if not ok:
            return False, None
        return True, None if allow_all and choice == items[0] else choice

    @Slot()
    def reports_dialog(self) -> None:
        title = tr("导出 PDF 报告", "Export PDF reports")
        ok, coordinator = self._choose_coordinator(title, allow_all=True)
        if not ok:
            return
        folder = QFileDialog.getExistingDirectory(self, title)
        if folder:
            self.exporter.reports(Path(folder), coordinator)

    @Slot()
    def package_dialog(self) -> None:
        title = tr("导出申报包", "Export submission package")
        ok, coordinator = self._choose_coordinator(title, allow_all=False)
        if not ok or coordinator is None:
            return
        from core.package import default_package_name

        path, _ = QFileDialog.getSaveFileName(self, title, default_package_name(coordinator),
                                              "ZIP (*.zip)")
        if path:
            self.exporter.package(coordinator, Path(path))

    @Slot()
    def merge_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, tr("合并申报包", "Merge submission packages"), "", "ZIP (*.zip)")
        if paths:
            self.exporter.merge([Path(p) for p in paths])

    # -- dialogs -----------------------------------------------------------------

    @Slot()
    def preferences(self) -> None:
        from gui.preferences import PreferencesDialog

        PreferencesDialog(self).exec()

    @Slot()
    def about(self) -> None:
        QMessageBox.about(self, tr("关于 SceneMatch", "About SceneMatch"), tr(
            "SceneMatch 实景实训匹配\n为人形与四足机器人规划实景训练场，组建创新联合体。",
            "SceneMatch\nPlans real-scene training spaces for humanoid and quadruped robots "
            "and assembles the consortia that train and deploy them."))


__all__ = ["MainWindow", "InputError", "settings"]

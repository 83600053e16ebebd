"""Reports, submission packages and the national merge, run off the GUI thread.

Each action is a :class:`gui.worker.Task` over a pure function of core/ (or matching/ for the
opportunity ranking) that opens its own connection to the catalogue file, so the window
keeps reading through its own. The outcome lands in the status bar; a failure opens a
message box listing every problem (a refused package changes nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from core.progress import CancelToken, ProgressCallback
from core.store import CatalogueStore
from gui.i18n import tr
from gui.session import Session
from gui.worker import Task, TaskPanel


class Exporter(QObject):
    """Starts export and merge tasks for one session, showing them on one TaskPanel."""

    done = Signal(str)  # the message shown when a task succeeded
    error = Signal(str)  # the message shown when a task failed

    def __init__(self, session: Session, panel: TaskPanel, parent: QWidget) -> None:
        super().__init__(parent)
        self.session = session
        self.panel = panel
        self.window = parent
        self.task: Task | None = None
        self.last_box: QMessageBox | None = None

    @property
    def busy(self) -> bool:
        """True while a task of this exporter runs."""
        return self.task is not None and self.task.running

    def _with_store(self, fn: Callable[[CatalogueStore], Any]) -> Any:
        path = self.session.path
        if path is None:
            return fn(self.session.store)
        with CatalogueStore.open(path, create=False) as store:
            return fn(store)

    def _run(self, work: Callable[[ProgressCallback, CancelToken], Any],
             ok: Callable[[Any], str], failed_title: str,
             after: Callable[[Any], None] | None = None) -> Task | None:
        if self.busy:
            # One at a time: the panel shows one task, and closing the window waits for it.
            self._status(tr("请等当前任务完成（或取消）后再试", "Wait for the running task to finish "
                                                 "(or cancel it), then try again"))
            return None
        task = Task(work, self)

        def succeeded(result: Any) -> None:
            if after is not None:
                after(result)
            message = ok(result)
            self._status(message)
            self.done.emit(message)

        def failed(message: str, trace: str) -> None:
            box = QMessageBox(QMessageBox.Icon.Warning, failed_title, message, parent=self.window)
            box.setObjectName("export_error")
            box.setDetailedText(trace)
            box.open()
            self.last_box = box
            self.error.emit(message)

        task.succeeded.connect(succeeded)
        task.failed.connect(failed)
        task.cancelled.connect(lambda _p: self._status(tr("已取消", "Cancelled")))
        self.task = task
        self.panel.run(task)
        return task

    def _status(self, message: str) -> None:
        bar = getattr(self.window, "statusBar", None)
        if callable(bar):
            bar().showMessage(message, 10_000)

    # -- the catalogue -------------------------------------------------------------

    def catalogue(self, target: Path) -> Task | None:
        """Export the catalogue to ``target``: .json, .xlsx, or a folder of CSV files."""
        from core.importer import export_catalogue

        def work(progress: ProgressCallback, cancel: CancelToken) -> list[Path]:
            progress(0.1, tr(f"正在导出到 {target}…", f"Exporting to {target}…"))
            return self._with_store(lambda s: export_catalogue(s, target))

        return self._run(work, lambda files: tr(f"已导出 {len(files)} 个文件到 {target}",
                                                f"Exported {len(files)} file(s) to {target}"),
                         tr("导出失败", "Export failed"))

    # -- reports -----------------------------------------------------------------

    def reports(self, out_dir: Path, coordinator: str | None = None) -> Task | None:
        """Plan summary + proposals of ``coordinator`` (every coordinator when None)."""
        from core.reports.batch import write_all_documents, write_plan_documents
        from core.reports.context import context_from_store

        run_id = self.session.run_id

        def work(progress: ProgressCallback, cancel: CancelToken) -> list[Path]:
            ctx = self._with_store(lambda s: context_from_store(s, run_id, coordinator))
            if coordinator is None:
                return write_all_documents(ctx, out_dir, on_progress=progress, cancel=cancel)
            return write_plan_documents(ctx, coordinator, out_dir, on_progress=progress,
                                        cancel=cancel)

        return self._run(work, lambda files: tr(f"已写出 {len(files)} 份报告到 {out_dir}",
                                                f"Wrote {len(files)} report(s) to {out_dir}"),
                         tr("报告导出失败", "Reports could not be written"))

    def org_sheet(self, org_id: str, out_dir: Path) -> Task | None:
        """The opportunity sheet (PDF + xlsx) of ``org_id``."""
        from core.reports.batch import write_org_documents
        from core.reports.context import context_from_store

        run_id = self.session.run_id

        def work(progress: ProgressCallback, cancel: CancelToken) -> list[Path]:
            from matching.fit import Weights
            from matching.opportunities import opportunities

            ctx = self._with_store(lambda s: context_from_store(s, run_id))
            weights = Weights.from_dict((ctx.result or {}).get("params", {}).get("weights") or {})
            progress(0.05, tr("正在排序机会…", "Ranking opportunities…"))
            ranking = opportunities(ctx.catalogue, org_id, weights)
            return write_org_documents(ctx, org_id, ranking, out_dir, on_progress=progress,
                                       cancel=cancel)

        return self._run(work, lambda files: tr(f"机会清单已写出：{files[0]}",
                                                f"Opportunity sheet written: {files[0]}"),
                         tr("机会清单导出失败", "The opportunity sheet could not be written"))

    # -- packages ----------------------------------------------------------------

    def package(self, coordinator: str, target: Path) -> Task | None:
        """The submission package of ``coordinator`` as ``target`` (.zip)."""
        from core.package import build_package

        run_id = self.session.run_id

        def work(progress: ProgressCallback, cancel: CancelToken) -> Any:
            def build(store: CatalogueStore) -> Any:
                from core.reports.context import pick_run

                # The run on screen when it covers the coordinator, else the newest that does.
                run = pick_run(store.runs(), None, coordinator)
                chosen = run_id if run_id is not None and any(
                    r.id == run_id and r.coordinator in (None, coordinator) for r in store.runs()
                ) else (run.id if run else None)
                return build_package(store, coordinator, target, run_id=chosen,
                                     on_progress=progress, cancel=cancel)

            return self._with_store(build)

        return self._run(work, lambda _m: tr(f"申报包已写出：{target}",
                                             f"Submission package written: {target}"),
                         tr("申报包导出失败", "The submission package could not be written"))

    def merge(self, paths: list[Path]) -> Task | None:
        """Merge submission packages into the open catalogue (all or nothing)."""
        from core.merge import merge_packages

        def work(progress: ProgressCallback, cancel: CancelToken) -> Any:
            return self._with_store(lambda s: merge_packages(s, paths, on_progress=progress,
                                                             cancel=cancel))

        def after(_summary: Any) -> None:
            self.session.undo_stack.clear()  # a merge is not undoable step by step
            self.session.reload()
            self.session.show_latest_run()

        task = self._run(work, lambda _s: tr(f"已合并 {len(paths)} 个申报包",
                                             f"Merged {len(paths)} package(s)"),
                         tr("合并失败，目录未改变", "Merge refused; the catalogue is unchanged"),
                         after)
        # The merge holds the catalogue's write lock while it writes: edits made meanwhile
        # would wait on it and could time out, so the views are frozen until it is done.
        views = getattr(self.window, "stack", None)
        if task is not None and isinstance(views, QWidget):
            views.setEnabled(False)
            task.finished.connect(lambda: views.setEnabled(True))
        return task

    def shutdown(self) -> None:
        """Stop a running task and wait for it (the window is closing)."""
        if self.task is not None and self.task.running:
            self.task.cancel()
            # Cancelling is checked between documents; a large batch may need a moment.
            while not self.task.wait(10_000):
                pass

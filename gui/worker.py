"""Long work (solving, importing, exporting) off the GUI thread, with progress and Cancel.

``Task`` runs a plain function ``fn(on_progress, cancel)`` (the convention of
``core.progress``) in a ``QThread`` and reports back through queued signals, so the
window stays responsive. ``TaskPanel`` is the progress bar + Cancel button that views
embed; ``run_task`` wires the two.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from core.progress import Cancelled, CancelToken
from gui.i18n import tr

Work = Callable[[Callable[[float, str], None], CancelToken], Any]


class _Runner(QObject):
    progress = Signal(float, str)
    succeeded = Signal(object)
    cancelled = Signal(object)
    failed = Signal(str, str)

    def __init__(self, work: Work, token: CancelToken) -> None:
        super().__init__()
        self.work = work
        self.token = token

    @Slot()
    def run(self) -> None:
        try:
            result = self.work(lambda f, m: self.progress.emit(float(f), str(m)), self.token)
        except Cancelled as exc:
            self.cancelled.emit(exc.partial)
        except Exception as exc:  # noqa: BLE001 - reported to the user, with the trace
            report = getattr(exc, "report", None)  # InputError lists every problem
            self.failed.emit(report() if callable(report) else str(exc), traceback.format_exc())
        else:
            if self.token.cancelled:
                self.cancelled.emit(result)
            else:
                self.succeeded.emit(result)


class Task(QObject):
    """One run of ``work`` in its own thread. Signals arrive in the GUI thread:
    ``progress(fraction, message)``, then exactly one of ``succeeded(result)``,
    ``cancelled(partial)`` or ``failed(message, trace)``, then ``finished()``."""

    progress = Signal(float, str)
    succeeded = Signal(object)
    cancelled = Signal(object)
    failed = Signal(str, str)
    finished = Signal()

    def __init__(self, work: Work, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.token = CancelToken()
        self._thread = QThread()
        self._runner = _Runner(work, self.token)
        self._runner.moveToThread(self._thread)
        self._thread.started.connect(self._runner.run)
        self._runner.progress.connect(self.progress)
        for signal, mine in ((self._runner.succeeded, self.succeeded),
                             (self._runner.cancelled, self.cancelled),
                             (self._runner.failed, self.failed)):
            signal.connect(mine)
            signal.connect(self._thread.quit)
        self._thread.finished.connect(self._done)
        self.running = False

    def start(self) -> None:
        """Start the work."""
        self.running = True
        self._thread.start()

    def cancel(self) -> None:
        """Ask the work to stop; it returns its best partial result through ``cancelled``."""
        self.token.cancel()

    def wait(self, ms: int = 10_000) -> bool:
        """Block until the thread ends (tests, closing the window)."""
        return bool(self._thread.wait(ms))

    @Slot()
    def _done(self) -> None:
        self.running = False
        self.finished.emit()


class TaskPanel(QWidget):
    """A progress bar, a message and a Cancel button for one task at a time."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1000)
        self.message = QLabel(self)
        self.cancel_button = QPushButton(self)
        layout.addWidget(self.bar, 2)
        layout.addWidget(self.message, 3)
        layout.addWidget(self.cancel_button)
        self.task: Task | None = None
        self.cancel_button.clicked.connect(self._cancel)
        self.retranslate()
        self.setVisible(False)

    def retranslate(self) -> None:
        self.cancel_button.setText(tr("取消", "Cancel"))

    def run(self, task: Task) -> Task:
        """Show progress for ``task`` and start it."""
        self.task = task
        self.bar.setValue(0)
        self.message.setText("")
        self.cancel_button.setEnabled(True)
        self.setVisible(True)
        task.progress.connect(self._progress)
        task.finished.connect(self._finished)
        task.start()
        return task

    @Slot(float, str)
    def _progress(self, fraction: float, message: str) -> None:
        self.bar.setValue(int(max(0.0, min(1.0, fraction)) * 1000))
        self.message.setText(message)

    @Slot()
    def _cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.cancel_button.setEnabled(False)
            self.message.setText(tr("正在取消…", "Cancelling…"))

    @Slot()
    def _finished(self) -> None:
        self.setVisible(False)
        self.task = None

"""The desktop application: start-up and the main window.

A placeholder window for now (the workbench is a later issue): it opens a
catalogue and shows its name, counts and plan-rule status in Chinese.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from core.stats import catalogue_stats, format_stats
from core.store import CatalogueStore
from gui.fonts import install_cjk_font


class MainWindow(QMainWindow):
    """The main window: title, catalogue path in the status bar, a summary of the catalogue."""

    def __init__(self, store: CatalogueStore) -> None:
        super().__init__()
        self.store = store
        self.setWindowTitle(self.tr("SceneMatch 实景实训匹配") + f" — {store.name or store.path}")
        central = QWidget(self)
        layout = QVBoxLayout(central)
        self.title = QLabel(store.name or self.tr("（未命名目录）"), central)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.title.font()
        font.setPointSize(font.pointSize() + 4)
        font.setBold(True)
        self.title.setFont(font)
        self.summary = QPlainTextEdit(central)
        self.summary.setReadOnly(True)
        self.summary.setPlainText(format_stats(catalogue_stats(store.load()), "zh"))
        layout.addWidget(self.title)
        layout.addWidget(self.summary)
        self.setCentralWidget(central)
        self.statusBar().showMessage(str(store.path or self.tr("内存目录")))
        self.resize(1000, 700)


def run_gui(path: Path) -> int:
    """Open the catalogue at ``path`` in the main window and run the event loop."""
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("SceneMatch")
    app.setOrganizationName("SceneMatch")
    install_cjk_font(app)
    store = CatalogueStore.open(path)
    window = MainWindow(store)
    window.show()
    try:
        return int(app.exec())
    finally:
        store.close()

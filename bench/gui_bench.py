"""GUI timings on the national-scale catalogue (issue 4): start-up to first paint,
opening the Organisations view, one filter keystroke, one sort."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def national_db(path: Path) -> Path:
    """The generated 2,000-scene, 3,000-organisation catalogue in a file."""
    from core.generate import GenerateSpec, generate
    from core.store import CatalogueStore

    with CatalogueStore.open(path) as store:
        store.write(generate(GenerateSpec(2000, 3000, seed=1)))
    return path


def first_paint(db: Path, demo: bool = False) -> float:
    """Seconds from launching a fresh Python process to the main window's first paint."""
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    started = time.time()
    out = subprocess.run([sys.executable, "-m", "bench.gui_bench", "paint", str(db)], cwd=ROOT,
                         env=env, capture_output=True, text=True, check=True).stdout
    return float(out.strip().splitlines()[-1]) - started


def _paint_child(db: str) -> None:
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication

    from core.store import CatalogueStore
    from gui.app import make_app
    from gui.main_window import MainWindow

    app = make_app()
    window = MainWindow(CatalogueStore.open(db, create=False))
    painted: list[float] = []

    class Watch(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
            if event.type() == QEvent.Type.Paint and not painted:
                painted.append(time.time())
            return False

    watch = Watch()
    window.installEventFilter(watch)
    window.show()
    while not painted:
        QApplication.processEvents()
    print(painted[0])
    if "ortools" in sys.modules:
        print("ortools imported at start-up", file=sys.stderr)
    window.close()
    del app


def in_process(db: Path) -> dict[str, Any]:
    """Open the Organisations view, type one character into its search box, sort a column."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from core.store import CatalogueStore
    from gui.app import make_app
    from gui.main_window import MainWindow

    app = make_app()
    window = MainWindow(CatalogueStore.open(db, create=False))
    window.show()
    QApplication.processEvents()
    index = next(i for i, v in enumerate(window.views) if v.key == "organizations")
    view = window.views[index]
    started = time.perf_counter()
    window.show_view(index)
    QApplication.processEvents()
    open_s = time.perf_counter() - started
    page = getattr(view, "page", view)
    search = page.search
    started = time.perf_counter()
    search.setText("华")
    page.apply_search()
    QApplication.processEvents()
    key_s = time.perf_counter() - started
    rows = page.proxy.rowCount()
    search.setText("")
    page.apply_search()
    QApplication.processEvents()
    started = time.perf_counter()
    page.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    QApplication.processEvents()
    sort_s = time.perf_counter() - started
    window.close()
    del app
    return {"open": open_s, "keystroke": key_s, "rows": rows, "sort": sort_s}


if __name__ == "__main__" and sys.argv[1:2] == ["paint"]:
    _paint_child(sys.argv[2])

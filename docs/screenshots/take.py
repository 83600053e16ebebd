"""Take the README's screenshots: the main window on the demo catalogue, one per view.

Run under a real X server (``xvfb-run -a .venv/bin/python docs/screenshots/take.py``) so
the window is drawn by the platform's own code path; every system CJK font may be
absent (the bundled one is used). Matching runs once so the result views have content.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main() -> int:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from core.demo import install_demo
    from core.store import CatalogueStore
    from gui import i18n
    from gui.app import make_app
    from gui.main_window import MainWindow
    from matching.engine import MatchParams, match

    out = Path(__file__).resolve().parent
    with tempfile.TemporaryDirectory() as tmp:
        QSettings.setDefaultFormat(QSettings.Format.IniFormat)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tmp)
        app = make_app()
        lang = sys.argv[1] if len(sys.argv) > 1 else "zh"
        i18n.set_language(lang)
        store = CatalogueStore.open(Path(tmp) / "demo.scenematch.db")
        install_demo(store)
        window = MainWindow(store)
        window.resize(1400, 860)
        window.show()
        doc = match(window.session.catalogue, MatchParams(time_limit=20)).to_dict()
        run_id = store.save_run(coordinator=None, status=doc["status"], objective=doc["objective"],
                                bound=doc["bound"], gap=doc["gap"], seconds=doc["seconds"],
                                params=doc.get("params", {}), result=doc)
        window.session.set_result(doc, run_id)
        suffix = "" if lang == "zh" else f"-{lang}"
        lead = next(m["org"] for m in doc["consortia"][0]["members"] if m["role"] == "maker")
        for n, view in enumerate(window.views):
            if view.key == "opportunities":
                window.session.org_selected.emit(lead)  # an enterprise looking at itself
            window.show_view(n)
            for _ in range(20):
                QApplication.processEvents()
            window.grab().save(str(out / f"{view.key}{suffix}.png"))
        window.show_view(0)
        QApplication.processEvents()
        window.grab().save(str(out / f"main-window{suffix}.png"))
        window.close()
        store.close()
        del app
    return 0


if __name__ == "__main__":
    sys.exit(main())

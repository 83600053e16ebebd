"""The desktop application's start-up: font, language, main window."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from core.store import CatalogueStore
from gui import i18n
from gui.fonts import install_cjk_font


def make_app() -> QApplication:
    """The QApplication with SceneMatch's names, the bundled CJK font and the saved language."""
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("SceneMatch")
    app.setOrganizationName("SceneMatch")
    install_cjk_font(app)
    language = QSettings().value("language", "zh")
    i18n.set_language(language if language in i18n.LANGUAGES else "zh")
    return app


def run_gui(path: Path) -> int:
    """Open the catalogue at ``path`` in the main window and run the event loop."""
    from gui.main_window import MainWindow

    app = make_app()
    window = MainWindow(CatalogueStore.open(path))
    window.show()
    try:
        return int(app.exec())
    finally:
        window.session.store.close()

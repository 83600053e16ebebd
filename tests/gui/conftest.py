"""GUI fixtures: settings isolated per test, the demo catalogue in a session or window."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from core.demo import install_demo
from core.store import CatalogueStore
from gui import i18n


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, qapp):
    """Every test gets empty settings (in tmp_path) and starts in Chinese."""
    qapp.setOrganizationName("SceneMatchTest")
    qapp.setApplicationName("SceneMatchTest")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    i18n.set_language("zh")
    yield
    i18n.set_language("zh")


@pytest.fixture
def demo_store(tmp_path):
    """The demo catalogue in a file of its own."""
    store = CatalogueStore.open(tmp_path / "demo.scenematch.db")
    install_demo(store)
    yield store
    store.close()


@pytest.fixture
def session(demo_store, qapp):
    from gui.session import Session

    return Session(demo_store)


@pytest.fixture
def window(demo_store, qtbot):
    """The main window on the demo catalogue, shown."""
    from gui.fonts import install_cjk_font
    from gui.main_window import MainWindow

    install_cjk_font(qtbot_app := __import__("PySide6.QtWidgets").QtWidgets.QApplication.instance())
    assert qtbot_app is not None
    win = MainWindow(demo_store)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    for view in win.views:
        view.shutdown()

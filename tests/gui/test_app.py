"""The placeholder main window opens a catalogue and shows it in Chinese."""

import json

from PySide6.QtGui import QFontDatabase

from core.json_io import parse_json
from core.store import CatalogueStore
from core.validate import validate
from gui.app import MainWindow
from gui.fonts import install_cjk_font
from tests.conftest import small_doc


def test_main_window_shows_the_catalogue(qtbot, qapp, tmp_path):
    family = install_cjk_font(qapp)
    assert family in QFontDatabase.families()
    assert family in qapp.font().families()
    path = tmp_path / "c.db"
    with CatalogueStore.open(path) as store:
        store.write(validate(parse_json(json.dumps(small_doc()), "s.json")).catalogue)
        window = MainWindow(store)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        assert "测试目录" in window.windowTitle()
        assert window.title.text() == "测试目录"
        text = window.summary.toPlainText()
        assert "场景: 2" in text and "还差 18 个场景" in text
        assert str(path) in window.statusBar().currentMessage()

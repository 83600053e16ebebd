"""The main window: the bundled font, menus and shortcuts, language, settings, files."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtGui import QFontDatabase

from core.store import CatalogueStore
from gui.fonts import install_cjk_font
from gui.main_window import MainWindow


def test_bundled_font_is_registered(qapp):
    family = install_cjk_font(qapp)
    assert family in QFontDatabase.families()
    assert family in qapp.font().families()


def test_window_shows_the_catalogue_path_and_compliance(window, demo_store):
    assert "演示目录" in window.windowTitle()
    assert window.path_label.text() == str(demo_store.path)
    assert "计划合规" in window.compliance_label.text()
    titles = [window.sidebar.item(i).text() for i in range(window.sidebar.count())]
    assert len(titles) == len(window.views) >= 1


def test_language_switch_retranslates_and_persists(window, qtbot):
    assert window.menu_file.title() == "文件(&F)"
    window.act_lang["en"].trigger()
    assert window.menu_file.title() == "&File"
    assert window.act_open.text() == "Open catalogue…"
    assert QSettings().value("language") == "en"
    assert all(window.sidebar.item(i).text() == v.title() for i, v in enumerate(window.views))
    window.act_lang["zh"].trigger()
    assert window.act_open.text() == "打开目录…"


def test_geometry_view_and_recent_files_are_restored(window, demo_store, qtbot):
    window.resize(700, 500)
    window.show_view(len(window.views) - 1)
    window.close()
    again = MainWindow(demo_store)
    qtbot.addWidget(again)
    assert again.size().width() == 700
    assert again.stack.currentIndex() == len(window.views) - 1
    assert again.recent_files()[0] == str(demo_store.path)


def test_save_as_copies_and_opens_the_copy(window, tmp_path):
    target = tmp_path / "copy.scenematch.db"
    window.save_as(target)
    assert window.session.path == target
    with CatalogueStore.open(target, create=False) as copy:
        assert copy.count("scenes") == 45
    assert window.recent_files()[0] == str(target)


def test_a_bad_file_is_refused_and_the_open_catalogue_stays(window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: shown.append(a[2]))
    bad = tmp_path / "not.db"
    bad.write_text("hello")
    before = window.session.path
    assert window.open_path(bad) is False
    assert window.session.path == before
    assert "不是 SceneMatch 目录文件" in shown[0]


def test_import_runs_off_the_gui_thread_and_is_all_or_nothing(window, qtbot, tmp_path):
    import json

    from tests.conftest import small_doc

    good = tmp_path / "more.json"
    doc = small_doc()
    good.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    before = len(window.session.catalogue.scenes)
    task = window.import_paths([good])
    with qtbot.waitSignal(task.finished, timeout=20_000):
        pass
    assert len(window.session.catalogue.scenes) == before + len(doc["scenes"])
    bad = tmp_path / "bad.json"
    doc["scenes"][0]["robots"] = -1
    bad.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    task = window.import_paths([bad])
    with qtbot.waitSignal(task.failed, timeout=20_000) as failed:
        pass
    assert "robots" in failed.args[0]
    assert len(window.session.catalogue.scenes) == before + len(doc["scenes"])


def test_undo_and_redo_actions_follow_the_stack(window):
    from dataclasses import replace

    scene = window.session.catalogue.scenes[0]
    window.session.save_scene(replace(scene, name="改名后的场景"), scene, "rename scene")
    assert window.act_undo.isEnabled() and "rename scene" in window.act_undo.text()
    window.act_undo.trigger()
    assert window.session.scene(scene.id).name == scene.name
    window.act_redo.trigger()
    assert window.session.scene(scene.id).name == "改名后的场景"


def test_qt_calls_keep_none_alive(qapp):
    """PySide6 6.12.0 on Python 3.11 drops a reference to None on every call of a Qt
    method returning nothing, and the process aborts after a few thousand; pyproject
    excludes it, and this catches a release with the same fault."""
    import sys

    from PySide6.QtWidgets import QLabel

    label = QLabel()
    before = sys.getrefcount(None)
    for _ in range(200):
        label.hide()
        label.setText("x")
    assert sys.getrefcount(None) >= before - 50

"""Reports, packages and the merge from the GUI: the menu actions and the Opportunities
export button, run in a worker with the task panel, files read back."""

from __future__ import annotations

from pathlib import Path

import pypdf
import pytest
from PySide6.QtWidgets import QMessageBox

from core.store import CatalogueStore
from tests.conftest import dump


@pytest.fixture
def matched_window(window, demo_result):
    """The main window on the demo catalogue with one stored run (the session shows it)."""
    run_id = window.session.store.save_run(
        coordinator=None, status=demo_result["status"], objective=demo_result["objective"],
        bound=demo_result["bound"], gap=demo_result["gap"], seconds=demo_result["seconds"],
        params=demo_result["params"], result=demo_result)
    window.session.set_result(demo_result, run_id)
    yield window
    window.exporter.shutdown()


def _finish(qtbot, task) -> None:
    with qtbot.waitSignal(task.finished, timeout=120_000):
        pass


def _text(path: Path) -> str:
    return "".join(page.extract_text() for page in pypdf.PdfReader(path).pages)


def test_report_menu_lists_the_export_actions(matched_window):
    menu = matched_window.menu_reports
    names = [a.objectName() for a in menu.actions() if not a.isSeparator()]
    assert names == ["export_reports", "export_package", "merge_packages"]
    assert all(a.text() for a in menu.actions() if not a.isSeparator())


def test_plan_reports_are_written_in_a_worker(matched_window, qtbot, tmp_path):
    win = matched_window
    coordinator = "浙江省"
    out = tmp_path / "reports"
    task = win.exporter.reports(out, coordinator)
    assert win.tasks.isVisible()  # progress bar and Cancel while it runs
    _finish(qtbot, task)
    summaries = list(out.glob("*.pdf"))
    proposals = list((out / "联合体组建方案").glob("*.pdf"))
    catalogue = win.session.catalogue
    expected = {c["scene"] for c in win.session.result["consortia"]
                if catalogue.scene_by_id()[c["scene"]].coordinator == coordinator}
    assert len(summaries) == 1 and len(proposals) == len(expected) > 0
    text = _text(summaries[0])
    assert coordinator in text
    some_scene = catalogue.scene_by_id()[sorted(expected)[0]]
    assert some_scene.name in text.replace("\n", "")
    assert "已写出" in win.statusBar().currentMessage()


def test_cancel_stops_an_export_and_one_task_runs_at_a_time(matched_window, qtbot, tmp_path):
    win = matched_window
    out = tmp_path / "all"
    task = win.exporter.reports(out, None)
    assert task is not None
    # Progress arrives through the event loop, so this runs at the first report.
    task.progress.connect(lambda _f, _m: win.tasks.cancel_button.click())
    assert win.exporter.package("浙江省", tmp_path / "x.zip") is None  # busy: refused
    assert "当前任务" in win.statusBar().currentMessage()
    with qtbot.waitSignal(task.cancelled, timeout=120_000):
        pass
    if task.running:
        _finish(qtbot, task)
    assert win.statusBar().currentMessage() == "已取消"
    written = list(out.rglob("*.pdf"))
    assert len(written) < len(win.session.result["consortia"])  # stopped early
    assert not list(out.rglob("*.part"))  # nothing half-written left
    assert not (tmp_path / "x.zip").exists()


def test_package_then_merge_into_another_catalogue(matched_window, qtbot, tmp_path):
    from gui.main_window import MainWindow

    win = matched_window
    target = tmp_path / "浙江省.zip"
    _finish(qtbot, win.exporter.package("浙江省", target))
    assert target.exists(), win.statusBar().currentMessage()

    national = CatalogueStore.open(tmp_path / "national.scenematch.db")
    other = MainWindow(national)
    qtbot.addWidget(other)
    try:
        task = other.exporter.merge([target])
        assert task is not None and not other.stack.isEnabled()  # no edits while it writes
        _finish(qtbot, task)
        assert other.stack.isEnabled()
        scenes = other.session.catalogue.scenes
        assert scenes and {s.coordinator for s in scenes} == {"浙江省"}
        assert other.session.result is not None  # the package's run came along
    finally:
        other.exporter.shutdown()
        national.close()


def test_a_refused_package_shows_why_and_changes_nothing(matched_window, qtbot, tmp_path):
    win = matched_window
    bogus = tmp_path / "not-a-package.zip"
    bogus.write_bytes(b"PK\x03\x04 this is not really a zip")
    before = dump(win.session.path)
    _finish(qtbot, win.exporter.merge([bogus]))
    box = win.exporter.last_box
    assert isinstance(box, QMessageBox) and box.objectName() == "export_error"
    assert "not-a-package.zip" in box.text()
    box.close()
    assert dump(win.session.path) == before


def test_opportunities_view_exports_the_sheet(matched_window, qtbot, tmp_path):
    win = matched_window
    view = win.view("opportunities")
    lead = next(m["org"] for m in win.session.result["consortia"][0]["members"]
                if m["role"] == "maker")
    view.set_org(lead)
    assert view.export_button.isEnabled()
    view.export_sheet(tmp_path)
    _finish(qtbot, view.exporter.task)
    pdfs = list(tmp_path.glob("*.pdf"))
    xlsxs = list(tmp_path.glob("*.xlsx"))
    assert len(pdfs) == 1 and len(xlsxs) == 1
    org = win.session.organization(lead)
    assert org is not None and org.name in _text(pdfs[0]).replace("\n", "")


def test_file_export_runs_in_the_background(matched_window, qtbot, tmp_path):
    import json

    win = matched_window
    target = tmp_path / "catalogue.json"
    _finish(qtbot, win.export_to(target))
    doc = json.loads(target.read_text(encoding="utf-8"))
    assert len(doc["scenes"]) == len(win.session.catalogue.scenes)
    assert "已导出" in win.statusBar().currentMessage()
    _finish(qtbot, win.export_to(tmp_path / "bad.txt"))  # unsupported: told why, nothing written
    assert win.exporter.last_box is not None and ".json" in win.exporter.last_box.text()
    win.exporter.last_box.close()
    assert not (tmp_path / "bad.txt").exists()

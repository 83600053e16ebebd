"""The scenes and organisations views: lazy models, search, facets, sorting, the edit form."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from core.model import Role
from gui import i18n
from gui.forms import next_id, parse_levels, split_list
from gui.models import ID_ROLE
from gui.views.organizations import OrganizationsView
from gui.views.scenes import ScenesView


@pytest.fixture
def scenes(session, qtbot):
    view = ScenesView(session)
    qtbot.addWidget(view)
    view.resize(1200, 700)
    view.show()
    return view


@pytest.fixture
def orgs(session, qtbot):
    view = OrganizationsView(session)
    qtbot.addWidget(view)
    view.resize(1200, 700)
    view.show()
    return view


def type_chinese(widget, text: str) -> None:
    """Type ``text`` as an input method commits it, one character at a time (QTest's key
    clicks only know ASCII)."""
    widget.setFocus()
    for char in text:
        event = QInputMethodEvent()
        event.setCommitString(char)
        QApplication.sendEvent(widget, event)


def shown_ids(view) -> list[str]:
    proxy = view.proxy
    return [proxy.index(r, 0).data(ID_ROLE) for r in range(proxy.rowCount())]


def column(view, key: str) -> int:
    return [c.key for c in view.model.columns].index(key)


def cell(view, record_id: str, key: str) -> str:
    index = view.proxy_index(record_id)
    return index.siblingAtColumn(column(view, key)).data()


def test_models_and_proxies_pass_the_model_tester(scenes, orgs, qtmodeltester):
    for view in (scenes, orgs):
        qtmodeltester.check(view.model)
        qtmodeltester.check(view.proxy)


def test_views_are_in_the_main_window_and_find_focuses_search(window, qtbot):
    view = window.view("scenes")
    assert isinstance(view, ScenesView)
    assert isinstance(window.view("organizations"), OrganizationsView)
    window.show_view(window.views.index(view))
    assert view.focus_search() is True
    qtbot.waitUntil(view.search.hasFocus)


def test_chinese_search_narrows_the_rows(scenes, session, qtbot):
    total = scenes.proxy.rowCount()
    assert total == len(session.catalogue.scenes) == 45
    type_chinese(scenes.search, "巡检")
    assert scenes.search.text() == "巡检"
    scenes.apply_search()  # without waiting for the debounce timer
    expected = session.store.search("scenes", "巡检")
    assert 0 < scenes.proxy.rowCount() == len(expected) < total
    assert set(shown_ids(scenes)) == set(expected)
    assert str(len(expected)) in scenes.count_label.text()
    scenes.search.clear()
    qtbot.waitUntil(lambda: scenes.proxy.rowCount() == total)  # the debounced path


def test_organisation_search(orgs, session, qtbot):
    type_chinese(orgs.search, "科技")
    qtbot.waitUntil(lambda: orgs.proxy.rowCount() == len(session.store.search("organizations", "科技")))
    assert orgs.proxy.rowCount() < len(session.catalogue.organizations)


def test_facets_filter_rows(scenes, orgs, session):
    combo = scenes.facet_combos["field"]
    assert combo.itemText(0) == "领域：全部"
    scenes.set_facet("field", "service")
    assert set(shown_ids(scenes)) == {s.id for s in session.catalogue.scenes
                                      if s.field.value == "service"}
    province = session.catalogue.scenes[0].province
    scenes.set_facet("province", province)
    assert set(shown_ids(scenes)) == {s.id for s in session.catalogue.scenes
                                      if s.field.value == "service" and s.province == province}
    scenes.set_facet("field", None)
    scenes.set_facet("province", None)
    assert scenes.proxy.rowCount() == len(session.catalogue.scenes)

    orgs.set_facet("role", "user_unit")
    assert set(shown_ids(orgs)) == {o.id for o in session.catalogue.organizations
                                    if Role.USER_UNIT in o.roles}
    orgs.set_facet("role", None)
    cert = next(c for o in session.catalogue.organizations for c in o.certifications)
    orgs.set_facet("certification", cert)
    assert set(shown_ids(orgs)) == {o.id for o in session.catalogue.organizations
                                    if cert in o.certifications}


def test_numeric_columns_sort_as_numbers(scenes, orgs, session):
    col = column(scenes, "robots")
    scenes.table.sortByColumn(col, Qt.SortOrder.DescendingOrder)
    robots = [session.scene(i).robots for i in shown_ids(scenes)]
    assert robots == sorted(robots, reverse=True)
    assert robots[0] >= 10  # "9" > "12" as text; not as numbers
    scenes.table.sortByColumn(column(scenes, "priority"), Qt.SortOrder.AscendingOrder)
    priorities = [session.scene(i).priority for i in shown_ids(scenes)]
    assert priorities == sorted(priorities)
    orgs.table.horizontalHeader().setSortIndicator(column(orgs, "max_consortia"),
                                                    Qt.SortOrder.DescendingOrder)
    values = [session.organization(i).max_consortia for i in shown_ids(orgs)]
    assert values == sorted(values, reverse=True)


def test_edit_a_scene_save_and_undo(scenes, session, qtbot):
    old = session.catalogue.scenes[2]
    assert scenes.select(old.id)
    form = scenes.scene_form
    assert form.name.text() == old.name
    assert not scenes.btn_save.isEnabled()
    form.name.clear()
    type_chinese(form.name, "新的场景名称")
    assert form.dirty and scenes.btn_save.isEnabled()
    qtbot.mouseClick(scenes.btn_save, Qt.MouseButton.LeftButton)
    assert session.scene(old.id).name == "新的场景名称"
    assert session.store.search("scenes", "新的场景名称") == [old.id]
    assert cell(scenes, old.id, "name") == "新的场景名称"
    assert scenes.current_id() == old.id  # the selection survives the refresh
    assert session.scene(old.id) == type(old)(**{**old.__dict__, "name": "新的场景名称"})
    session.undo_stack.undo()
    assert cell(scenes, old.id, "name") == old.name
    assert form.name.text() == old.name
    session.undo_stack.redo()
    assert cell(scenes, old.id, "name") == "新的场景名称"


def test_revert_discards_edits(scenes, session, qtbot):
    old = session.catalogue.scenes[0]
    scenes.select(old.id)
    qtbot.keyClicks(scenes.scene_form.name, "X")
    scenes.revert()
    assert scenes.scene_form.name.text() == old.name
    assert not scenes.scene_form.dirty
    assert session.undo_stack.count() == 0


def test_invalid_scene_fields_are_explained_and_not_saved(scenes, session, qtbot):
    old = session.catalogue.scenes[0]
    scenes.select(old.id)
    form = scenes.scene_form
    form.name.clear()
    form.robots.setValue(0)
    form.priority.setValue(0)
    maker = next(o for o in session.catalogue.organizations if Role.USER_UNIT not in o.roles)
    form.owner.setCurrentIndex(form.owner.findData(maker.id))
    assert scenes.save() is False
    assert "名称不能为空" in form.error_text("name")
    assert "至少为 1" in form.error_text("robots")
    assert "大于 0" in form.error_text("priority")
    assert "不是用户单位" in form.error_text("owner")
    assert form.errors["robots"].isVisibleTo(form)
    assert session.scene(old.id) == old
    assert session.undo_stack.count() == 0
    i18n.set_language("en")
    scenes.retranslate()
    assert "at least 1 robot" in form.error_text("robots")
    scenes.revert()
    assert form.error_text("robots") == ""


def test_invalid_uscc_and_max_consortia(orgs, session, qtbot):
    old = session.catalogue.organizations[0]
    orgs.select(old.id)
    form = orgs.org_form
    assert old.uscc
    bad = old.uscc[:17] + ("0" if old.uscc[17] != "0" else "1")
    form.uscc.setText(bad)
    form.max_consortia.setValue(-1)
    assert orgs.save() is False
    assert "校验位" in form.error_text("uscc")
    assert "负数" in form.error_text("max_consortia")
    assert session.organization(old.id) == old
    form.uscc.setText(old.uscc)
    form.max_consortia.setValue(3)
    assert orgs.save() is True
    assert session.organization(old.id).max_consortia == 3
    assert cell(orgs, old.id, "max_consortia") == "3"
    session.undo_stack.undo()
    assert session.organization(old.id) == old


def test_add_duplicate_delete_and_undo(scenes, session):
    n = len(session.catalogue.scenes)
    source = session.catalogue.scenes[4]
    scenes.select(source.id)
    assert scenes.duplicate()
    copy_id = next_id([s.id for s in session.catalogue.scenes if s.id != scenes.current_id()], "S")
    assert scenes.current_id() == copy_id
    copy = session.scene(copy_id)
    assert copy.name == source.name + "（副本）"
    assert copy.robots == source.robots and copy.skills == source.skills
    assert len(session.catalogue.scenes) == n + 1
    assert scenes.proxy.rowCount() == n + 1

    assert scenes.add()
    added = scenes.current_id()
    assert added not in (copy_id, source.id) and session.scene(added).name == "新场景"
    assert len(session.catalogue.scenes) == n + 2

    scenes.select(copy_id)
    assert scenes.delete_selected()
    assert session.scene(copy_id) is None
    assert scenes.proxy.rowCount() == n + 1

    session.undo_stack.undo()  # the delete
    assert session.scene(copy_id) is not None
    session.undo_stack.undo()  # the add
    assert session.scene(added) is None
    session.undo_stack.undo()  # the duplicate
    assert len(session.catalogue.scenes) == n
    assert scenes.proxy.rowCount() == n


def test_deleting_an_organisation_that_owns_scenes_is_refused(orgs, session, monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2]))
    owner = session.catalogue.scenes[0].owner
    orgs.select(owner)
    assert orgs.delete_selected() is False
    assert shown and "仍拥有场景" in shown[0]
    assert session.organization(owner) is not None
    assert session.undo_stack.count() == 0
    # an organisation without scenes goes, and comes back on undo
    owners = {s.owner for s in session.catalogue.scenes}
    free = next(o for o in session.catalogue.organizations if o.id not in owners)
    orgs.select(free.id)
    assert orgs.delete_selected()
    assert session.organization(free.id) is None
    session.undo_stack.undo()
    assert session.organization(free.id) == free


def test_add_and_duplicate_organisation(orgs, session):
    n = len(session.catalogue.organizations)
    orgs.select(session.catalogue.organizations[0].id)
    assert orgs.add()
    new = session.organization(orgs.current_id())
    assert new.name == "新单位" and new.id.startswith("O")
    assert orgs.duplicate()
    assert session.organization(orgs.current_id()).name == "新单位（副本）"
    assert len(session.catalogue.organizations) == n + 2
    session.undo_stack.undo()
    session.undo_stack.undo()
    assert len(session.catalogue.organizations) == n


def test_org_selected_signal_both_ways(orgs, session, qtbot):
    target = session.catalogue.organizations[7].id
    orgs.search.setText("不可能出现的词")
    orgs.apply_search()
    assert orgs.proxy.rowCount() == 0
    session.org_selected.emit(target)  # another view asks
    assert orgs.current_id() == target
    assert orgs.org_form.original.id == target
    other = session.catalogue.organizations[3].id
    with qtbot.waitSignal(session.org_selected) as blocker:
        orgs.table.setCurrentIndex(orgs.proxy_index(other))
    assert blocker.args == [other]
    assert orgs.org_form.original.id == other


def test_headers_and_texts_follow_the_language(scenes, orgs, qtbot):
    name_col = column(scenes, "name")
    assert scenes.proxy.headerData(name_col, Qt.Orientation.Horizontal) == "名称"
    i18n.set_language("en")
    with qtbot.waitSignal(scenes.model.headerDataChanged):
        scenes.retranslate()
    orgs.retranslate()
    assert scenes.proxy.headerData(name_col, Qt.Orientation.Horizontal) == "Name"
    assert scenes.facet_combos["field"].itemText(0) == "Field: all"
    assert scenes.btn_save.text() == "Save"
    assert scenes.title() == "Scenes" and orgs.title() == "Organisations"
    field_col = column(scenes, "field")
    assert {scenes.proxy.index(r, field_col).data() for r in range(scenes.proxy.rowCount())} <= {
        "Industrial", "Service", "Special"}


def test_helpers():
    assert next_id(["S001", "S009", "X5"], "S") == "S010"
    assert next_id([], "O") == "O001"
    assert next_id(["S00001"], "S") == "S00002"
    assert split_list("a、b, c，a") == ("a", "b", "c")
    assert parse_levels("移动导航:3、抓取放置：4") == ({"移动导航": 3, "抓取放置": 4}, None)
    assert parse_levels("移动导航:7")[1] is not None
    assert parse_levels("移动导航")[1] is not None

"""The plan view: coordinator, rule, live compliance, per-scene plan choice, undo."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QComboBox

from core.model import PlanChoice
from gui import i18n
from gui.views.plan import PLAN_COLUMN, PlanView

ZJ = "浙江省"  # 30 demo scenes, rule ≥ 20 scenes in ≥ 2 fields


@pytest.fixture
def view(session, qtbot):
    v = PlanView(session)
    qtbot.addWidget(v)
    v.show()
    qtbot.waitExposed(v)
    v.coordinator.setCurrentText(ZJ)
    return v


def select_rows(view: PlanView, rows: range) -> None:
    model = view.table.selectionModel()
    model.clearSelection()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for row in rows:
        model.select(view.model.index(row, 0), flags)


def plans(session) -> dict[str, PlanChoice]:
    return {s.id: s.plan for s in session.catalogue.scenes if s.coordinator == ZJ}


def test_model_passes_the_model_tester(view, session, qtmodeltester):
    assert view.current_coordinator() == ZJ
    assert view.model.rowCount() == 30 and view.model.columnCount() == 7
    qtmodeltester.check(view.model)
    scenes = view.model.scenes
    session.set_result({"consortia": [{"scene": scenes[0].id}],
                        "unmatched": [{"scene": scenes[1].id, "reason": "没有符合条件的 lead"}]}, None)
    assert view.model.columnCount() == 8
    qtmodeltester.check(view.model)


def test_coordinators_and_columns(view, session):
    names = [view.coordinator.itemText(i) for i in range(view.coordinator.count())]
    assert names == session.catalogue.coordinators()
    headers = [view.model.headerData(c, Qt.Orientation.Horizontal) for c in range(7)]
    assert headers == ["编号", "场景名称", "领域", "场景类别", "部署台数", "优先级", "计划选择"]
    first = view.model.scenes[0]
    assert view.model.index(0, PLAN_COLUMN).data() == "纳入"
    assert view.model.index(0, 1).data() == first.name
    assert view.title() == "计划"
    other = next(n for n in names if n != ZJ)
    view.coordinator.setCurrentText(other)
    assert {s.coordinator for s in view.model.scenes} == {other}


def test_exclude_goes_red_with_what_is_missing_and_undo_makes_it_green(view, session, qtbot):
    assert view.compliance.text().startswith("✓ 合规")
    assert "#1b7f3b" in view.compliance.styleSheet()
    assert not view.buttons[PlanChoice.EXCLUDE].isEnabled()  # nothing selected
    select_rows(view, range(11))
    assert view.buttons[PlanChoice.EXCLUDE].isEnabled()
    steps = session.undo_stack.count()
    qtbot.mouseClick(view.buttons[PlanChoice.EXCLUDE], Qt.MouseButton.LeftButton)
    assert session.undo_stack.count() == steps + 1  # one step for eleven rows
    assert sum(p is PlanChoice.EXCLUDE for p in plans(session).values()) == 11
    assert "还差 1 个场景（19/20）" in view.compliance.text()
    assert view.compliance.text().startswith("✗ 不合规")
    assert "#b00020" in view.compliance.styleSheet()
    assert "排除 11 个" in view.counts.text()
    assert view.model.index(0, PLAN_COLUMN).data() == "排除"
    assert len(view.selected_scenes()) == 11  # the selection survives the refresh

    session.undo_stack.undo()
    assert all(p is PlanChoice.INCLUDE for p in plans(session).values())
    assert view.compliance.text().startswith("✓ 合规")
    assert "#1b7f3b" in view.compliance.styleSheet()
    session.undo_stack.redo()
    assert "19/20" in view.compliance.text()


def test_require_and_include_buttons(view, session, qtbot):
    select_rows(view, range(2, 4))
    qtbot.mouseClick(view.buttons[PlanChoice.REQUIRE], Qt.MouseButton.LeftButton)
    ids = [s.id for s in view.model.scenes[2:4]]
    assert [plans(session)[i] for i in ids] == [PlanChoice.REQUIRE] * 2
    assert "必选 2" in view.counts.text()
    steps = session.undo_stack.count()
    select_rows(view, range(3, 4))
    qtbot.mouseClick(view.buttons[PlanChoice.INCLUDE], Qt.MouseButton.LeftButton)
    assert plans(session)[ids[1]] is PlanChoice.INCLUDE
    assert session.undo_stack.count() == steps + 1
    # Clicking a choice the rows already have changes nothing and adds no undo step.
    qtbot.mouseClick(view.buttons[PlanChoice.INCLUDE], Qt.MouseButton.LeftButton)
    assert session.undo_stack.count() == steps + 1


def test_combo_delegate_changes_the_plan_choice(view, session, qtbot):
    index = view.model.index(5, PLAN_COLUMN)
    scene_id = view.model.scenes[5].id
    view.table.setCurrentIndex(index)
    view.table.edit(index)
    combo = view.table.findChild(QComboBox, "plan_choice_editor")
    assert combo is not None and combo.currentData() == "include"
    steps = session.undo_stack.count()
    combo.setCurrentIndex(combo.findData("exclude"))
    combo.activated.emit(combo.currentIndex())
    assert plans(session)[scene_id] is PlanChoice.EXCLUDE
    assert session.undo_stack.count() == steps + 1
    assert view.model.index(5, PLAN_COLUMN).data() == "排除"
    # setData on the model takes the same route.
    assert view.model.setData(index, "require")
    assert plans(session)[scene_id] is PlanChoice.REQUIRE
    assert not view.model.setData(index, "nonsense")
    assert not view.model.setData(view.model.index(5, 0), "require")
    session.undo_stack.undo()
    session.undo_stack.undo()
    assert plans(session)[scene_id] is PlanChoice.INCLUDE


def test_rule_spin_boxes_save_the_rule_undoably(view, session):
    assert (view.min_scenes.value(), view.min_fields.value()) == (20, 2)
    view.min_scenes.setValue(31)
    rule = next(p for p in session.catalogue.plans if p.coordinator == ZJ)
    assert rule.min_scenes == 31 and rule.min_fields == 2
    assert "还差 1 个场景（30/31）" in view.compliance.text()
    view.min_fields.setValue(3)  # the demo plan covers all three fields
    rule = next(p for p in session.catalogue.plans if p.coordinator == ZJ)
    assert (rule.min_scenes, rule.min_fields) == (31, 3)
    assert view.compliance.text() == "✗ 不合规：还差 1 个场景（30/31）"
    session.undo_stack.undo()
    session.undo_stack.undo()
    rule = next(p for p in session.catalogue.plans if p.coordinator == ZJ)
    assert (rule.min_scenes, rule.min_fields) == (20, 2)
    assert (view.min_scenes.value(), view.min_fields.value()) == (20, 2)
    assert view.compliance.text().startswith("✓ 合规")


def test_result_column_and_english(view, session):
    scenes = view.model.scenes
    session.set_result({"consortia": [{"scene": scenes[0].id}],
                        "unmatched": [{"scene": scenes[1].id, "reason": "没有符合条件的 lead"}]}, None)
    assert view.model.index(0, 7).data() == "已组建联合体"
    assert view.model.index(1, 7).data() == "未匹配"
    assert view.model.index(1, 7).data(Qt.ItemDataRole.ToolTipRole) == "没有符合条件的 lead"
    assert view.model.index(2, 7).data() == "—"
    assert "上次匹配：1/30" in view.counts.text()
    i18n.set_language("en")
    view.retranslate()
    assert view.title() == "Plan"
    assert view.buttons[PlanChoice.EXCLUDE].text() == "Exclude"
    assert view.model.headerData(PLAN_COLUMN, Qt.Orientation.Horizontal) == "Plan choice"
    assert view.model.index(0, PLAN_COLUMN).data() == "Include"
    assert view.compliance.text() == "✓ Compliant"
    select_rows(view, range(11))
    view.set_choice(PlanChoice.EXCLUDE)
    assert "1 more scenes needed (19/20)" in view.compliance.text()


def test_the_main_window_shows_the_plan_view(window):
    view = window.view("plan")
    assert isinstance(view, PlanView)
    titles = [window.sidebar.item(i).text() for i in range(window.sidebar.count())]
    assert "计划" in titles

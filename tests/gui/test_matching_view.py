"""The Matching and Consortia views on the demo catalogue: run, cancel, pin and re-match,
the consortium detail with its breakdown and why-not."""

from __future__ import annotations

import sys
import time

import pytest
from PySide6.QtCore import Qt

from gui import i18n
from gui.views.consortia import ConsortiaView
from gui.views.matching import PENALTY_LINES, MatchingView

RUN_TIMEOUT = 60_000


@pytest.fixture
def matching(session, qtbot):
    view = MatchingView(session)
    qtbot.addWidget(view)
    view.time_limit.setValue(20)
    yield view
    view.shutdown()


def run_and_wait(view, qtbot, rematch=False):
    button = view.rematch_button if rematch else view.run_button
    with qtbot.waitSignal(view.run_finished, timeout=RUN_TIMEOUT):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert view.last_error == ""
    return view.session.result


@pytest.fixture
def solved(session):
    """A session whose result is a stored run (solved directly by the engine)."""
    from matching.engine import MatchParams, match

    params = MatchParams(time_limit=20)
    doc = match(session.catalogue, params).to_dict()
    run_id = session.store.save_run(coordinator=None, status=doc["status"], objective=doc["objective"],
                                    bound=doc["bound"], gap=doc["gap"], seconds=doc["seconds"],
                                    params=params.as_dict(), result=doc)
    session.set_result(doc, run_id)
    return session


def test_the_view_starts_without_the_solver(session, qtbot):
    sys.modules.pop("ortools.sat.python.cp_model", None)
    view = MatchingView(session)
    qtbot.addWidget(view)
    assert "ortools.sat.python.cp_model" not in sys.modules
    assert view.title() == "匹配"
    assert "尚无匹配结果" in view.status_label.text()
    assert not view.rematch_button.isEnabled()
    assert set(view.weight_spins) >= {"capability", "experience", "change_penalty"}
    assert view.weight_labels["capability"].text() == "能力裕度"
    assert view.coordinator.itemData(0) is None
    assert view.coordinator.count() == 1 + len(session.catalogue.coordinators())


def test_run_to_completion_fills_the_results_from_the_stored_run(matching, session, qtbot,
                                                                 qtmodeltester):
    progress = []
    doc = None
    with qtbot.waitSignal(matching.run_finished, timeout=RUN_TIMEOUT):
        qtbot.mouseClick(matching.run_button, Qt.MouseButton.LeftButton)
        assert matching.running()
        assert not matching.run_button.isEnabled()
        matching.task.progress.connect(lambda f, m: progress.append((f, m)))
    doc = session.result
    runs = session.store.runs()
    assert len(runs) == 1 and session.run_id == runs[0].id
    stored = runs[0].result
    assert stored == doc
    assert runs[0].status == doc["status"] in ("optimal", "feasible")
    assert runs[0].params["time_limit"] == 20
    assert sorted(matching.results_model.scene_ids()) == sorted(c["scene"] for c in stored["consortia"])
    assert matching.results_model.rowCount() == len(stored["consortia"]) > 0
    assert matching.unmatched_model.rowCount() == len(stored["unmatched"])
    text = matching.status_label.text()
    assert "最优" in text or "可行" in text
    assert f"{len(stored['consortia'])}/" in text and "差距" in text
    assert matching.rematch_button.isEnabled() and matching.run_button.isEnabled()
    assert not matching.task_panel.isVisible()
    qtmodeltester.check(matching.results_model)
    qtmodeltester.check(matching.unmatched_model)
    # members by role: the owner column has the owner's name
    first = stored["consortia"][0]
    owner = session.organization(first["members"][0]["org"])
    row = matching.results_model.scene_ids().index(first["scene"])
    assert matching.results_model.index(row, 1).data() == owner.name
    # clicking a member cell selects the organisation
    with qtbot.waitSignal(session.org_selected) as blocker:
        matching._clicked(matching.results_model.index(row, 1))
    assert blocker.args == [owner.id]


def test_cancel_right_after_start_ends_quickly(matching, session, qtbot):
    matching.time_limit.setValue(300)
    started = time.perf_counter()
    with qtbot.waitSignal(matching.run_finished, timeout=15_000):
        matching.run()
        matching.cancel()
        assert not matching.task_panel.cancel_button.isEnabled()
    assert time.perf_counter() - started < 10
    doc = session.result
    assert doc is not None
    assert doc["status"] in ("cancelled", "optimal", "feasible")
    assert session.store.runs()[0].result == doc
    if doc["status"] == "cancelled":
        assert "已取消" in matching.status_label.text()


def test_pin_from_context_menu_then_rematch_shows_the_diff(matching, session, qtbot, qtmodeltester):
    first = run_and_wait(matching, qtbot)
    row = 0
    consortium = matching.results_model.payload(row)
    lead = next(m for m in consortium["members"] if m["role"] in ("maker", "service_provider"))
    menu = matching.context_menu(row, 2)  # the lead column
    actions = {a.objectName(): a for a in menu.actions() if a.objectName()}
    assert {"pin", "exclude", "alternates", "show_org", "rematch"} <= set(actions)
    actions["pin"].trigger()
    pins = [p for p in session.catalogue.pins if p.scene == consortium["scene"]]
    assert [(p.org, p.role.value) for p in pins] == [(lead["org"], lead["role"])]
    assert session.undo_stack.canUndo()

    # alternates for the slot come from the result
    actions["alternates"].trigger()
    assert matching.tabs.currentIndex() == 2
    assert matching.alternates_model.rowCount() == len(consortium["alternates"]["lead"])
    qtmodeltester.check(matching.alternates_model)

    second = run_and_wait(matching, qtbot, rematch=True)
    assert second is not first
    assert second["params"]["rematch"] is True
    new = next(c for c in second["consortia"] if c["scene"] == consortium["scene"])
    assert any(m["org"] == lead["org"] and m["role"] == lead["role"] for m in new["members"])
    diff = second["diff"]
    assert diff["kept"] > 0
    assert matching.tabs.currentIndex() == 3
    assert f"保留成员 {diff['kept']} 个" in matching.diff_label.text()
    assert matching.diff_model.rowCount() == len(diff["changes"])
    qtmodeltester.check(matching.diff_model)
    assert len(session.store.runs()) == 2


def test_exclude_a_member_with_a_reason(solved, qtbot):
    view = MatchingView(solved)
    qtbot.addWidget(view)
    consortium = solved.result["consortia"][0]
    member = consortium["members"][1]
    owner = consortium["members"][0]["org"]
    menu = view.member_menu(consortium["scene"], solved.result["consortia"][0]["members"][0])
    assert not next(a for a in menu.actions() if a.objectName() == "pin").isEnabled()  # the owner
    assert view.exclude_member(consortium["scene"], member["org"], reason="测试")
    assert any({e.a, e.b} == {owner, member["org"]} and e.reason == "测试"
               for e in solved.catalogue.exclusions)


def test_loaded_result_and_english(solved, qtbot):
    view = MatchingView(solved)
    qtbot.addWidget(view)
    assert view.results_model.rowCount() == len(solved.result["consortia"])
    i18n.set_language("en")
    view.retranslate()
    assert view.run_button.text() == "Run matching"
    assert view.results_model.headerData(0, Qt.Orientation.Horizontal) == "Scene"
    assert "matched" in view.status_label.text()
    assert view.status_label.text().startswith("Status: ")  # no full-width colon in English


def test_consortia_view_empty_state(session, qtbot):
    view = ConsortiaView(session)
    qtbot.addWidget(view)
    assert view.title() == "联合体"
    assert view.stack.currentWidget() is view.empty
    assert "尚无匹配结果" in view.empty.text()


def test_consortia_view_breakdown_alternates_and_why_not(solved, qtbot, qtmodeltester):
    view = ConsortiaView(solved)
    qtbot.addWidget(view)
    doc = solved.result
    assert view.stack.currentWidget() is view.splitter
    assert view.list_model.rowCount() == len(doc["consortia"])
    for model in (view.list_model, view.members_model, view.alternates_model):
        qtmodeltester.check(model)
    view.select(1)
    consortium = doc["consortia"][1]
    assert view.current is consortium
    assert view.members_model.rowCount() == len(consortium["members"])
    owner = solved.organization(consortium["members"][0]["org"])
    assert view.members_model.index(0, 2).data() == owner.name
    assert view.members_model.index(0, 0).data() == "用户单位"
    assert len(view.chart.bars) == len(consortium["breakdown"])
    assert ("能力裕度", consortium["breakdown"]["capability"]) in view.chart.bars
    assert view.chart.grab().width() > 0  # paints without warnings
    assert view.alternates_model.rowCount() == sum(len(o) for o in consortium["alternates"].values())

    with qtbot.waitSignal(solved.org_selected) as blocker:
        view._member_clicked(view.members_model.index(0, 0))
    assert blocker.args == [owner.id]

    # an organisation with a lead role that is not in this consortium
    members = {m["org"] for m in consortium["members"]}
    other = next(o for o in solved.catalogue.organizations
                 if o.id not in members and {r.value for r in o.roles} & {"maker", "service_provider"})
    view.why_org.setEditText(f"{other.name} ({other.id})")
    qtbot.mouseClick(view.why_button, Qt.MouseButton.LeftButton)
    text = view.why_text.toPlainText()
    assert other.name in text and "lead" in text
    # by id, typed
    view.why_org.setEditText(other.id)
    view.ask_why_not()
    assert other.name in view.why_text.toPlainText()
    view.why_org.setEditText("没有这个组织")
    view.ask_why_not()
    assert "找不到组织" in view.why_text.toPlainText()


def test_consortia_view_follows_a_new_result(solved, qtbot):
    view = ConsortiaView(solved)
    qtbot.addWidget(view)
    doc = dict(solved.result)
    doc["consortia"] = doc["consortia"][:2]
    solved.set_result(doc, None)
    assert view.list_model.rowCount() == 2
    solved.set_result({**doc, "consortia": []}, None)
    assert view.stack.currentWidget() is view.empty


def test_window_run_updates_the_consortia_view(window, qtbot):
    matching = window.view("matching")
    consortia = window.view("consortia")
    assert isinstance(matching, MatchingView) and isinstance(consortia, ConsortiaView)
    assert consortia.stack.currentWidget() is consortia.empty
    matching.time_limit.setValue(20)
    run_and_wait(matching, qtbot)
    assert consortia.list_model.rowCount() == len(window.session.result["consortia"]) > 0
    assert consortia.current is not None and consortia.chart.bars


def test_a_run_that_breaks_a_soft_goal_says_so_beside_the_objective(matching, session, qtbot):
    # A 5 % share: organisations in two consortia of one plan break it. The summary says
    # what the objective subtracts; its tooltip names each organisation and plan.
    matching.weight_spins["concentration_share"].setValue(0.05)
    doc = run_and_wait(matching, qtbot)
    assert doc["penalties"]
    text = matching.status_label.text()
    assert f"含软目标扣分 {doc['objective_parts']['penalties']:.1f}" in text
    tip = matching.status_label.toolTip().splitlines()
    listed = min(len(doc["penalties"]), PENALTY_LINES)
    assert len(tip) == listed + (len(doc["penalties"]) > PENALTY_LINES)
    first = doc["penalties"][0]
    assert session.organization(first["org"]).name in tip[0] and first["coordinator"] in tip[0]


def test_the_soft_goal_tooltip_lists_the_first_few_and_says_how_many(qtbot):
    # 40 goals broken: the tooltip names the first ones and counts them all.
    penalties = [{"goal": "concentration", "coordinator": "上海市", "org": f"O{i}",
                  "consortia": 3, "of": 5, "share": 0.3, "points": 30.0} for i in range(40)]
    tip = MatchingView.penalty_lines({"penalties": penalties}, {"O0": "甲公司"}).splitlines()
    assert len(tip) == PENALTY_LINES + 1
    assert tip[0].startswith("集中度惩罚：甲公司 占 上海市 3/5 个联合体") and "扣 30.0 分" in tip[0]
    assert "40" in tip[-1]

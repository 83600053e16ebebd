"""Dashboard, Network and Opportunities views on the demo catalogue."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, Qt

from core.demo import demo_catalogue
from core.model import Role
from gui import i18n
from gui.views.dashboard import DashboardView
from gui.views.network import NetworkView, concentration_risks
from gui.views.opportunities import OpportunitiesView


@pytest.fixture(scope="module")
def result():
    """One matching run on the demo catalogue, as a result document."""
    from matching.engine import MatchParams, match

    return match(demo_catalogue(), MatchParams(time_limit=10)).to_dict()


def _texts(model, column):
    return [model.data(model.index(r, column)) for r in range(model.rowCount())]


def test_dashboard_shows_the_demo_counts(session, qtbot):
    view = DashboardView(session)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    cat = session.catalogue
    assert view.count_labels["scenes"].text() == str(len(cat.scenes)) == "45"
    assert view.count_labels["organizations"].text() == "141"
    planned = sum(s.robots for s in cat.scenes)
    assert view.count_labels["robots_planned"].text() == f"{planned:,} / 10,000"
    assert view.count_labels["robots_deployed"].text() == f"{sum(s.robots_deployed for s in cat.scenes):,}"
    assert sum(b.value for b in view.charts["field"].bars) == 45
    assert sum(b.value for b in view.charts["category"].bars) == 45
    assert sum(b.value for b in view.charts["status"].bars) == 45
    assert view.charts["matched"].bars == []
    assert view.charts["matched"].empty_text == "尚未匹配"
    compliance = view.charts["compliance"].bars
    assert {b.label for b in compliance} == set(cat.coordinators())
    for bar in compliance:
        assert bar.note.startswith("✓") == (bar.colour == "#3a9d5d")
    view.grab()  # paints every chart


def test_dashboard_follows_the_result_and_the_language(session, qtbot, result):
    view = DashboardView(session)
    qtbot.addWidget(view)
    session.set_result(result, None)
    matched, unmatched = view.charts["matched"].bars
    assert matched.value == len(result["consortia"]) > 0
    assert unmatched.value == len(result["unmatched"])
    i18n.set_language("en")
    view.retranslate()
    assert view.title() == "Dashboard"
    assert view.boxes["field"].title() == "Scenes by field"
    assert matched.label == "已匹配" and view.charts["matched"].bars[0].label == "Matched"


def test_network_draws_partnerships_before_matching(session, qtbot):
    view = NetworkView(session)
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    qtbot.waitExposed(view)
    partners = {o for p in session.catalogue.partnerships for o in (p.a, p.b)}
    assert set(view.nodes) == partners
    assert "尚未匹配" in view.notice.text()
    assert view.risk_list.count() == 0


def test_network_shows_consortia_and_a_click_selects(session, qtbot, result):
    view = NetworkView(session)
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    qtbot.waitExposed(view)
    session.set_result(result, None)
    members = {m["org"] for c in result["consortia"] for m in c["members"]}
    assert members <= set(view.nodes)
    # sized by consortia: a member of several is larger than one of none
    in_many = max(members, key=lambda o: sum(o in {m["org"] for m in c["members"]}
                                               for c in result["consortia"]))
    assert view.nodes[in_many].rect().width() > 12
    # concentration risks: ringed red and listed
    risks = concentration_risks(session.catalogue, result)
    assert set(risks) == set(view.risks)
    assert view.risk_list.count() == len(risks)
    for org in risks:
        assert view.nodes[org].pen().color().name() == "#e02020"

    view.canvas.zoom(4.0)
    view.canvas.centerOn(view.nodes[sorted(members)[0]])
    pos = view.node_position(sorted(members)[0])
    target = view.canvas.node_at(pos)  # the topmost node there (nodes may overlap)
    assert target in members
    with qtbot.waitSignal(session.org_selected) as blocker:
        qtbot.mouseClick(view.canvas.viewport(), Qt.MouseButton.LeftButton,
                         pos=pos.toPoint())
    assert blocker.args == [target]
    assert view.selected == target
    assert session.organization(target).name in view.info.text()

    with qtbot.waitSignal(session.org_selected) as blocker:
        view.select(sorted(members)[1])
    assert blocker.args == [sorted(members)[1]]


def test_network_zooms_with_buttons(session, qtbot):
    view = NetworkView(session)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    before = view.canvas.transform().m11()
    view.zoom_in.click()
    assert view.canvas.transform().m11() == pytest.approx(before * 1.25)
    view.zoom_out.click()
    assert view.canvas.transform().m11() == pytest.approx(before)
    assert view.canvas.node_at(QPointF(-5, -5)) is None


def test_network_limits_large_graphs(session, qtbot, monkeypatch):
    import gui.views.network as network

    monkeypatch.setattr(network, "NODE_LIMIT", 20)
    view = NetworkView(session)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    assert len(view.nodes) == 20
    assert "只显示" in view.notice.text()
    hub = max(view.nodes, key=lambda o: sum(o in (p.a, p.b) for p in session.catalogue.partnerships))
    view.select(hub)
    neighbours = {p.a if p.b == hub else p.b for p in session.catalogue.partnerships
                  if hub in (p.a, p.b)}
    view.refresh()
    assert hub in view.nodes and set(view.nodes) <= neighbours | {hub}


def test_opportunities_rank_scenes_for_a_maker(session, qtbot, qtmodeltester, result):
    view = OpportunitiesView(session)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    assert view.model.rowCount() == 0
    assert not view.export_button.isEnabled()  # nothing to export before an organisation
    assert "机会清单" in view.export_button.toolTip()

    maker = "O043"
    session.org_selected.emit(maker)
    assert view.org_id == maker
    assert view.combo.currentData() == maker
    model = view.model
    assert model.rowCount() > 0
    eligible = [model.rows[r].eligible for r in range(model.rowCount())]
    assert eligible == sorted(eligible, reverse=True) and any(eligible) and not all(eligible)
    n = sum(eligible)
    points = [model.rows[r].points for r in range(n)]
    assert points == sorted(points, reverse=True)
    blocked = _texts(model, 7)[n:]
    assert any("缺少认证" in text for text in blocked)
    qtmodeltester.check(model)

    assert view.no_result.isVisible()  # not matched yet
    assert view.consortia_model.rowCount() == 0
    session.set_result(result, None)
    assert view.no_result.isHidden()
    proposed = [c["scene"] for c in result["consortia"]
                if any(m["org"] == maker for m in c["members"])]
    if not proposed:  # pick an organisation the result proposes
        maker = next(m["org"] for c in result["consortia"] for m in c["members"]
                     if m["role"] == Role.MAKER.value)
        view.set_org(maker)
        proposed = [c["scene"] for c in result["consortia"]
                    if any(m["org"] == maker for m in c["members"])]
    assert sorted(_texts(view.consortia_model, 0)) == sorted(proposed)
    assert view.partners_model.rowCount() > 0
    qtmodeltester.check(view.consortia_model)
    qtmodeltester.check(view.partners_model)

    i18n.set_language("en")
    view.retranslate()
    assert model.headerData(0, Qt.Orientation.Horizontal) == "Scene"
    assert view.export_button.toolTip() == "This organisation's opportunity sheet: PDF and Excel"
    assert view.export_button.isEnabled()


def test_opportunities_picker_completes_names(session, qtbot):
    view = OpportunitiesView(session)
    qtbot.addWidget(view)
    org = session.organization("O043")
    assert view.combo.count() == len(session.catalogue.organizations)
    view.combo.setCurrentIndex(view.combo.findData("O043"))
    assert view.org_id == "O043"
    completer = view.combo.completer()
    completer.setCompletionPrefix(org.name[1:4])
    assert completer.completionCount() >= 1
    assert view.no_result.isVisibleTo(view)


def test_views_load_in_the_main_window(window):
    for key in ("dashboard", "network", "opportunities"):
        assert window.view(key).key == key


def test_dashboard_national_overview_counts_stored_runs(session, qtbot, result):
    view = DashboardView(session)
    qtbot.addWidget(view)
    assert view.count_labels["consortia"].text() == "0"
    run_id = session.store.save_run(coordinator=None, status=result["status"],
                                    objective=result["objective"], bound=result["bound"],
                                    gap=result["gap"], seconds=result["seconds"],
                                    params=result["params"], result=result)
    session.set_result(result, run_id)
    assert view.count_labels["consortia"].text() == f"{len(result['consortia']):,}"
    scenes = session.catalogue.scene_by_id()
    robots = sum(scenes[c["scene"]].robots for c in result["consortia"])
    assert view.count_labels["robots_matched"].text().startswith(f"{robots:,} (")
    bars = {b.label: b for b in view.charts["national"].bars}
    assert set(bars) == set(session.catalogue.coordinators())
    for coordinator, bar in bars.items():
        formed = [c for c in result["consortia"] if scenes[c["scene"]].coordinator == coordinator]
        assert bar.value == len(formed)
        assert bar.target == sum(1 for s in scenes.values()
                                 if s.coordinator == coordinator and s.in_plan)

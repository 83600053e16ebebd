"""Opportunities for one organisation, on the demo catalogue."""

from __future__ import annotations

import pytest

from core.demo import demo_catalogue
from core.model import Role
from matching.adapter import LEAD, build_problem, hard_rule_problems
from matching.fit import SCALE, Weights
from matching.opportunities import opportunities, partners, proposals


@pytest.fixture(scope="module")
def catalogue():
    return demo_catalogue()


@pytest.fixture(scope="module")
def index(catalogue):
    return build_problem(catalogue)[1]


def test_a_maker_sees_eligible_scenes_by_descending_fit(catalogue, index):
    ops = opportunities(catalogue, "O043")
    assert ops, "a maker has opportunities"
    eligible = [o for o in ops if o.eligible]
    blocked = [o for o in ops if not o.eligible]
    assert eligible and blocked
    # eligible first, by descending points
    assert ops[: len(eligible)] == eligible
    points = [o.points for o in eligible]
    assert points == sorted(points, reverse=True)
    for o in ops:
        assert o.slot == LEAD and Role.MAKER in o.roles
        # the same points as the matcher's own index for this pair
        assert o.points == pytest.approx(index.points(o.scene, o.slot, "O043"))
        assert sum(o.terms.values()) == pytest.approx(o.points, abs=1e-3)
    # eligible ones are exactly the matcher's candidates for the slot, with the same score
    for o in eligible:
        scores = {c.agent: c.score for c in index.candidates[(o.scene, o.slot)]}
        assert scores["O043"] == round(o.points * SCALE)


def test_a_scene_whose_certification_the_maker_lacks_is_blocked_with_that_reason(catalogue, index):
    org = catalogue.org_by_id()["O043"]
    scenes = catalogue.scene_by_id()
    lacking = [s for s in catalogue.scenes if set(s.certifications) - set(org.certifications)]
    assert lacking
    ops = {(o.scene, o.slot): o for o in opportunities(catalogue, "O043")}
    for scene in lacking:
        o = ops[(scene.id, LEAD)]
        assert not o.eligible
        missing = sorted(set(scene.certifications) - set(org.certifications))
        assert any("缺少认证" in p and all(m in p for m in missing) for p in o.problems)
        assert list(o.problems) == hard_rule_problems(scenes[scene.id], org, LEAD, index)
        assert "O043" not in {c.agent for c in index.candidates[(scene.id, LEAD)]}


def test_weights_change_the_points(catalogue):
    base = {(o.scene, o.slot): o.points for o in opportunities(catalogue, "O043")}
    heavy = {(o.scene, o.slot): o.points
             for o in opportunities(catalogue, "O043", Weights(capability=80.0))}
    assert any(heavy[k] > base[k] for k in base)


def test_a_component_supplier_gets_one_opportunity_per_component_slot(catalogue):
    supplier = next(o for o in catalogue.organizations if o.roles == (Role.COMPONENT,))
    ops = opportunities(catalogue, supplier.id)
    assert ops and all(o.slot.startswith("component:") for o in ops)
    for o in ops:
        category = o.slot.split(":", 1)[1]
        assert o.eligible == (category in supplier.component_categories)


def test_unknown_organisation_raises(catalogue):
    with pytest.raises(KeyError):
        opportunities(catalogue, "nope")


def test_proposals_and_partners_from_a_result_document():
    result = {"consortia": [
        {"scene": "S1", "fit": 80.0, "members": [
            {"org": "U", "role": "user_unit"}, {"org": "M", "role": "maker"},
            {"org": "C", "role": "component", "category": "减速器"}]},
        {"scene": "S2", "fit": 70.0, "members": [
            {"org": "U2", "role": "user_unit"}, {"org": "M", "role": "maker"},
            {"org": "C", "role": "component", "category": "关节"}]},
        {"scene": "S3", "fit": 60.0, "members": [{"org": "U", "role": "user_unit"}]},
    ]}
    mine = proposals(result, "M")
    assert [(p.scene, p.role) for p in mine] == [("S1", "maker"), ("S2", "maker")]
    assert ("C", "component") in mine[0].partners and all(o != "M" for o, _ in mine[0].partners)
    assert partners(result, "M") == [("C", 2), ("U", 1), ("U2", 1)]
    assert proposals(None, "M") == [] and partners(None, "M") == []

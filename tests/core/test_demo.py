"""The embedded demo catalogue: valid, realistic in shape, and interesting to match."""

from collections import Counter
from itertools import product

import pytest

from core.demo import demo_catalogue
from core.json_io import parse_json
from core.model import LEAD_ROLES, Role
from core.plan_rules import plan_statuses
from core.uscc import uscc_problem
from core.validate import validate


@pytest.fixture(scope="module")
def demo():
    return demo_catalogue()


def test_demo_imports_without_warnings():
    from importlib import resources

    data = resources.files("resources").joinpath("demo_catalogue.json").read_bytes()
    assert validate(parse_json(data, "demo_catalogue.json")).warnings == []


def test_demo_has_one_province_and_one_soe_meeting_their_rules(demo):
    kinds = {p.coordinator: p.kind.value for p in demo.plans}
    assert sorted(kinds.values()) == ["central_soe", "province"]
    assert all(s.compliant for s in plan_statuses(demo))
    assert 40 <= len(demo.scenes) <= 50
    assert len({s.field for s in demo.scenes}) == 3
    assert len({s.category for s in demo.scenes}) >= 9


def test_demo_organisations_cover_all_roles_with_valid_usccs(demo):
    assert 130 <= len(demo.organizations) <= 170
    roles = Counter(r for o in demo.organizations for r in o.roles)
    assert set(roles) == set(Role)
    assert all(uscc_problem(o.uscc) is None for o in demo.organizations if o.uscc)
    assert len({o.uscc for o in demo.organizations}) == len(demo.organizations)


def test_demo_certified_makers_are_scarce(demo):
    leads = [o for o in demo.organizations if LEAD_ROLES & set(o.roles)]
    mine_scenes = [s for s in demo.scenes if "MA" in s.certifications]
    ma_leads = [o for o in leads if "MA" in o.certifications]
    assert len(mine_scenes) == 3 and len(ma_leads) == 2
    # Capacity binds: no assignment of mine scenes to MA makers within their
    # max_consortia and robot_capacity serves all three (checked exhaustively).
    def served(assignment):
        for lead in ma_leads:
            mine = [s for s, o in zip(mine_scenes, assignment, strict=True) if o is lead]
            if len(mine) > lead.max_consortia or sum(s.robots for s in mine) > lead.robot_capacity:
                return -1
        return sum(o is not None for o in assignment)

    best = max(served(a) for a in product([None, *ma_leads], repeat=len(mine_scenes)))
    assert best == 2
    assert any("Ex" in s.certifications for s in demo.scenes)


def test_every_demo_scene_has_an_eligible_lead_and_suppliers(demo):
    orgs = demo.organizations
    for scene in demo.scenes:
        leads = [o for o in orgs if LEAD_ROLES & set(o.roles)
                 and set(o.form_factors) & set(scene.form_factors)
                 and set(scene.certifications) <= set(o.certifications)]
        assert leads, scene.id
        for category in scene.components:
            assert any(category in o.component_categories for o in orgs), (scene.id, category)


def test_demo_descriptions_state_quantified_goals(demo):
    assert all(len(s.description) >= 60 for s in demo.scenes)
    assert all(s.goals.success_rate for s in demo.scenes)
    assert all(s.readiness.as_dict() for s in demo.scenes)

"""Tests of the test oracle itself: hand-built catalogues, hand-written results."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from core.model import (
    Catalogue,
    Exclusion,
    Field,
    Organization,
    Pin,
    PlanKind,
    PlanRule,
    Role,
    Scene,
)
from tests.matching.oracle import brute_force_best, check_result

U, M, A, C, INST = Role.USER_UNIT, Role.MAKER, Role.ALGORITHM, Role.COMPONENT, Role.INSTITUTE
BIPED, QUAD = "双足人形", "四足"


def org(oid: str, *roles: Role, **extra: Any) -> Organization:
    return Organization(id=oid, name=f"组织{oid}", roles=tuple(roles), province="测试省", **extra)


def scene(sid: str, owner: str, **extra: Any) -> Scene:
    base: dict[str, Any] = dict(
        id=sid, name=f"场景{sid}", owner=owner, coordinator="测试省", field=Field.INDUSTRIAL,
        category="生产制造", province="测试省", form_factors=(BIPED,), robots=4,
    )
    return Scene(**{**base, **extra})


def base_catalogue() -> Catalogue:
    return Catalogue(
        name="oracle",
        organizations=(
            org("U1", U),
            org("U2", U),
            org("M1", M, form_factors=(BIPED,), skills={"搬运": 3}, certifications=("IP65",),
                robot_capacity=10, max_consortia=2),
            org("M2", M, form_factors=(QUAD,), robot_capacity=10, max_consortia=2),
            org("A1", A, skills={"搬运": 5}, max_consortia=2),
            org("C1", C, component_categories=("减速器",), max_consortia=2),
            org("C2", C, component_categories=("灵巧手",), max_consortia=2),
            org("I1", INST, max_consortia=2),
        ),
        scenes=(
            scene("S1", "U1", skills={"搬运": 4}, certifications=("IP65",), components=("减速器",),
                  needs_institute=True),
            scene("S2", "U2", field=Field.SERVICE),
        ),
        plans=(PlanRule("测试省", PlanKind.PROVINCE, 2, 2),),
    )


def mem(oid: str, role: str, category: str | None = None) -> dict[str, Any]:
    m: dict[str, Any] = {"org": oid, "role": role}
    if category:
        m["category"] = category
    return m


def base_result() -> dict[str, Any]:
    return {
        "format": "scenematch.result",
        "version": 1,
        "status": "optimal",
        "objective": 3.2,
        "bound": 3.2,
        "gap": 0.0,
        "seconds": 0.1,
        "consortia": [
            {"scene": "S1", "fit": 1.7, "breakdown": {"coverage": 1.2, "partnership": 0.5},
             "members": [mem("U1", "user_unit"), mem("M1", "maker"), mem("A1", "algorithm"),
                         mem("C1", "component", "减速器"), mem("I1", "institute")]},
            {"scene": "S2", "fit": 1.5, "breakdown": {"coverage": 1.5},
             "members": [mem("U2", "user_unit"), mem("M1", "maker"), mem("A1", "algorithm")]},
        ],
        "unmatched": [],
        "plans": [{"coordinator": "测试省", "scenes": 2, "fields": ["industrial", "service"],
                   "compliant": True}],
    }


def with_org(cat: Catalogue, oid: str, **changes: Any) -> Catalogue:
    orgs = tuple(dataclasses.replace(o, **changes) if o.id == oid else o for o in cat.organizations)
    return dataclasses.replace(cat, organizations=orgs)


def with_scene(cat: Catalogue, sid: str, **changes: Any) -> Catalogue:
    scenes = tuple(dataclasses.replace(s, **changes) if s.id == sid else s for s in cat.scenes)
    return dataclasses.replace(cat, scenes=scenes)


def members_of(doc: dict[str, Any], sid: str) -> list[dict[str, Any]]:
    return next(c for c in doc["consortia"] if c["scene"] == sid)["members"]


def unmatch(doc: dict[str, Any], sid: str) -> None:
    doc["consortia"] = [c for c in doc["consortia"] if c["scene"] != sid]
    doc["unmatched"].append({"scene": sid, "reason": "无合适整机企业"})


def assert_violation(violations: list[str], *words: str) -> None:
    assert violations, "expected a violation, got none"
    hits = [v for v in violations if all(w in v for w in words)]
    assert hits, f"no violation mentions {words}: {violations}"


# --------------------------------------------------------------------------- valid documents


def test_valid_result_passes():
    assert check_result(base_catalogue(), base_result()) == []


def test_unmatched_scene_and_plan_counts_pass():
    doc = base_result()
    unmatch(doc, "S2")
    doc["plans"] = [{"coordinator": "测试省", "scenes": 1, "fields": ["industrial"],
                     "compliant": False}]
    assert check_result(base_catalogue(), doc) == []


def test_plan_without_rule_skips_compliance():
    cat = dataclasses.replace(base_catalogue(), plans=())
    doc = base_result()
    doc["plans"][0]["compliant"] = False
    assert check_result(cat, doc) == []


# --------------------------------------------------------------------------- document shape


def test_format_and_version():
    doc = base_result()
    doc["format"] = "scenematch.catalogue"
    doc["version"] = 2
    del doc["bound"]
    v = check_result(base_catalogue(), doc)
    assert_violation(v, "format")
    assert_violation(v, "version")
    assert_violation(v, "bound", "missing")


def test_fit_must_be_finite_and_gap_non_negative():
    doc = base_result()
    doc["consortia"][0]["fit"] = float("nan")
    doc["consortia"][1]["breakdown"]["coverage"] = float("inf")
    doc["gap"] = -0.1
    v = check_result(base_catalogue(), doc)
    assert_violation(v, "S1", "fit")
    assert_violation(v, "S2", "breakdown")
    assert_violation(v, "gap")


def test_scene_listed_twice():
    doc = base_result()
    doc["consortia"].append(copy.deepcopy(doc["consortia"][1]))
    assert_violation(check_result(base_catalogue(), doc), "S2", "twice")


def test_scene_missing():
    doc = base_result()
    doc["consortia"] = doc["consortia"][:1]
    assert_violation(check_result(base_catalogue(), doc), "S2", "missing")


def test_scene_both_matched_and_unmatched_and_unknown_scene():
    doc = base_result()
    doc["unmatched"] = [{"scene": "S2", "reason": "x"}, {"scene": "S9", "reason": "x"}]
    v = check_result(base_catalogue(), doc)
    assert_violation(v, "S2", "both")
    assert_violation(v, "S9", "unknown")


def test_plan_entries_must_match_consortia():
    doc = base_result()
    doc["plans"] = [{"coordinator": "测试省", "scenes": 3, "fields": ["industrial"],
                     "compliant": False}]
    v = check_result(base_catalogue(), doc)
    assert_violation(v, "测试省", "scenes")
    assert_violation(v, "测试省", "fields")
    assert_violation(v, "测试省", "compliant")


# --------------------------------------------------------------------------- one rule each


def test_owner_missing():
    doc = base_result()
    members_of(doc, "S2")[0] = mem("U1", "user_unit")
    v = check_result(base_catalogue(), doc)
    assert_violation(v, "S2", "owner U2")


def test_exactly_one_lead():
    doc = base_result()
    members_of(doc, "S2").append(mem("M2", "maker"))
    assert_violation(check_result(base_catalogue(), doc), "S2", "lead")
    doc = base_result()
    members_of(doc, "S2").pop(1)
    assert_violation(check_result(base_catalogue(), doc), "S2", "lead")


def test_member_must_have_listed_role():
    doc = base_result()
    members_of(doc, "S2")[2] = mem("C2", "algorithm")
    assert_violation(check_result(base_catalogue(), doc), "S2", "C2", "does not have that role")


def test_wrong_lead_form_factor():
    cat = with_org(base_catalogue(), "M1", form_factors=(QUAD,))
    assert_violation(check_result(cat, base_result()), "form factor")


def test_missing_certification():
    cat = with_org(base_catalogue(), "M1", certifications=())
    v = check_result(cat, base_result())
    assert_violation(v, "S1", "certification", "IP65")
    assert not any("S2" in x for x in v)  # S2 requires none


def test_skill_reached_by_algorithm_passes_but_not_when_neither_reaches():
    # Base: lead 搬运 3, algorithm 5, scene needs 4 -> valid (checked in the valid test).
    cat = with_org(base_catalogue(), "A1", skills={"搬运": 3})
    assert_violation(check_result(cat, base_result()), "S1", "skill", "搬运")


def test_skill_without_algorithm_counts_lead_only():
    cat = with_scene(base_catalogue(), "S2", skills={"搬运": 4}, needs_algorithm=False)
    doc = base_result()
    members_of(doc, "S2").pop()  # no algorithm supplier: lead's 3 < 4
    assert_violation(check_result(cat, doc), "S2", "skill")
    cat = with_scene(cat, "S2", skills={"搬运": 3})
    assert check_result(cat, doc) == []


def test_algorithm_required_unless_needs_algorithm_false():
    doc = base_result()
    members_of(doc, "S2").pop()
    assert_violation(check_result(base_catalogue(), doc), "S2", "algorithm")
    cat = with_scene(base_catalogue(), "S2", needs_algorithm=False)
    assert check_result(cat, doc) == []
    assert check_result(cat, base_result()) == []  # optional supplier allowed


def test_robot_capacity_exceeded_over_two_consortia():
    cat = with_org(base_catalogue(), "M1", robot_capacity=7)  # 4 + 4 > 7, each alone fits
    assert_violation(check_result(cat, base_result()), "robot_capacity", "M1")
    doc = base_result()
    unmatch(doc, "S2")
    doc["plans"] = []
    assert check_result(cat, doc) == []


def test_max_consortia_exceeded():
    cat = with_org(base_catalogue(), "A1", max_consortia=1)
    assert_violation(check_result(cat, base_result()), "max_consortia", "A1")


def test_max_consortia_counted_once_per_consortium():
    cat = base_catalogue()
    cat = dataclasses.replace(
        cat, organizations=(*cat.organizations, org("X", A, INST, skills={"搬运": 5}, max_consortia=1))
    )
    doc = base_result()
    s1 = members_of(doc, "S1")
    s1[2] = mem("X", "algorithm")
    s1[4] = mem("X", "institute")
    assert check_result(cat, doc) == []  # two slots, one consortium
    members_of(doc, "S2")[2] = mem("X", "algorithm")
    assert_violation(check_result(cat, doc), "max_consortia", "X")


def test_own_scenes_do_not_count_against_max_consortia():
    cat = with_org(base_catalogue(), "U2", roles=(U, M), form_factors=(BIPED,), robot_capacity=4,
                   max_consortia=0)
    doc = base_result()
    members_of(doc, "S2")[1] = mem("U2", "maker")
    assert check_result(cat, doc) == []
    cat = with_org(cat, "U2", robot_capacity=3)  # but leading its own scene uses capacity
    assert_violation(check_result(cat, doc), "robot_capacity", "U2")


def test_several_slots_need_each_role():
    doc = base_result()
    members_of(doc, "S1")[4] = mem("A1", "institute")
    assert_violation(check_result(base_catalogue(), doc), "A1", "institute")


def test_exclusion_including_owner():
    cat = dataclasses.replace(base_catalogue(), exclusions=(Exclusion("U1", "C1", "诉讼"),))
    v = check_result(cat, base_result())
    assert_violation(v, "S1", "exclusion", "U1", "C1")
    assert not any("S2" in x for x in v)


def test_exclusion_between_members():
    cat = dataclasses.replace(base_catalogue(), exclusions=(Exclusion("A1", "M1"),))
    v = check_result(cat, base_result())
    assert_violation(v, "S1", "exclusion")
    assert_violation(v, "S2", "exclusion")


def test_pin_violated():
    cat = dataclasses.replace(base_catalogue(), pins=(Pin("S2", "M2", Role.MAKER),))
    assert_violation(check_result(cat, base_result()), "S2", "pin", "M2")


def test_pin_on_unmatched_scene_is_not_a_violation():
    cat = dataclasses.replace(base_catalogue(), pins=(Pin("S2", "M2", Role.MAKER),))
    doc = base_result()
    unmatch(doc, "S2")
    doc["plans"] = []
    assert check_result(cat, doc) == []


def test_pin_role_and_category_must_match():
    ok = dataclasses.replace(base_catalogue(), pins=(Pin("S1", "C1", Role.COMPONENT, "减速器"),))
    assert check_result(ok, base_result()) == []
    bad = dataclasses.replace(base_catalogue(), pins=(Pin("S1", "C1", Role.COMPONENT, "灵巧手"),))
    assert_violation(check_result(bad, base_result()), "S1", "pin")
    role = dataclasses.replace(base_catalogue(), pins=(Pin("S2", "M1", Role.SERVICE_PROVIDER),))
    assert_violation(check_result(role, base_result()), "S2", "pin")


def test_missing_component_category():
    doc = base_result()
    members_of(doc, "S1").pop(3)
    assert_violation(check_result(base_catalogue(), doc), "S1", "component", "减速器")


def test_component_supplier_must_offer_category_and_no_extra_categories():
    doc = base_result()
    members_of(doc, "S1")[3] = mem("C2", "component", "减速器")
    assert_violation(check_result(base_catalogue(), doc), "C2", "does not supply")
    doc = base_result()
    members_of(doc, "S2").append(mem("C2", "component", "灵巧手"))
    assert_violation(check_result(base_catalogue(), doc), "S2", "灵巧手", "not required")
    doc = base_result()
    members_of(doc, "S1").append(mem("C1", "component"))
    assert_violation(check_result(base_catalogue(), doc), "S1", "no category")


def test_institute_missing():
    doc = base_result()
    members_of(doc, "S1").pop(4)
    assert_violation(check_result(base_catalogue(), doc), "S1", "institute")


def test_institute_not_needed():
    doc = base_result()
    members_of(doc, "S2").append(mem("I1", "institute"))
    assert_violation(check_result(base_catalogue(), doc), "S2", "institute")


def test_unknown_member_org():
    doc = base_result()
    members_of(doc, "S2").append(mem("ZZ", "component", "灵巧手"))
    assert_violation(check_result(base_catalogue(), doc), "ZZ")


# --------------------------------------------------------------------------- brute force


def simple(*orgs: Organization, scenes: tuple[Scene, ...], **extra: Any) -> Catalogue:
    return Catalogue(name="bf", organizations=orgs, scenes=scenes, **extra)


def test_brute_force_two_scenes_compete_for_one_maker():
    cat = simple(
        org("U1", U), org("U2", U),
        org("M1", M, form_factors=(BIPED,), robot_capacity=20, max_consortia=1),
        scenes=(scene("S1", "U1", needs_algorithm=False, priority=1.0),
                scene("S2", "U2", needs_algorithm=False, priority=2.0)),
    )
    assert brute_force_best(cat) == pytest.approx(2.0)
    # With room for both, both are matched.
    assert brute_force_best(with_org(cat, "M1", max_consortia=2)) == pytest.approx(3.0)


def test_brute_force_robot_capacity_prefers_two_small_scenes():
    cat = simple(
        org("U1", U),
        org("M1", M, form_factors=(BIPED,), robot_capacity=10, max_consortia=3),
        scenes=(scene("S1", "U1", robots=6, needs_algorithm=False, priority=1.5),
                scene("S2", "U1", robots=5, needs_algorithm=False, priority=1.0),
                scene("S3", "U1", robots=5, needs_algorithm=False, priority=1.0)),
    )
    assert brute_force_best(cat) == pytest.approx(2.0)  # S2 + S3 (10 robots) beat S1 alone


def test_brute_force_exclusion_pin_and_shared_algorithm():
    cat = simple(
        org("U1", U), org("U2", U),
        org("M1", M, form_factors=(BIPED,), robot_capacity=20, max_consortia=2),
        org("M2", M, form_factors=(BIPED,), robot_capacity=20, max_consortia=2),
        org("A1", A, skills={"分拣": 4}, max_consortia=1),
        scenes=(scene("S1", "U1", skills={"分拣": 4}, priority=1.5),
                scene("S2", "U2", skills={"分拣": 4}, priority=1.0),
                scene("S3", "U2", needs_algorithm=False, priority=2.0)),
        # S3 pinned to M1, but M1 can never meet U2: S3 cannot be matched.
        exclusions=(Exclusion("M1", "U2"),),
        pins=(Pin("S3", "M1", Role.MAKER),),
    )
    # A1 (one consortium) is the only way to reach 分拣 4: S1 or S2, not both; S3 impossible.
    assert brute_force_best(cat) == pytest.approx(1.5)
    # Without the pin S3 goes to M2 (no algorithm needed): 1.5 + 2.
    assert brute_force_best(dataclasses.replace(cat, pins=())) == pytest.approx(3.5)


def test_brute_force_owner_leading_own_scenes():
    cat = simple(
        org("U1", U, M, form_factors=(BIPED,), robot_capacity=8, max_consortia=0),
        scenes=(scene("S1", "U1", needs_algorithm=False, robots=4),
                scene("S2", "U1", needs_algorithm=False, robots=4, priority=1.5),
                scene("S3", "U1", needs_algorithm=False, robots=4, priority=2.0)),
    )
    # Own scenes do not use max_consortia; capacity 8 takes two of three scenes.
    assert brute_force_best(cat) == pytest.approx(3.5)


def test_brute_force_nothing_matchable():
    cat = simple(
        org("U1", U), org("M1", M, form_factors=(QUAD,), robot_capacity=20),
        scenes=(scene("S1", "U1", needs_algorithm=False),),
    )
    assert brute_force_best(cat) == 0.0

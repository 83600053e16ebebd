"""Every rule of the catalogue format gives a located, readable problem."""

import json

import pytest

from core.json_io import parse_json
from core.model import Pin, Role
from core.problems import InputError
from core.store import CatalogueStore
from core.uscc import make_uscc
from core.validate import validate
from tests.conftest import org, scene, small_doc


def check(doc, existing=None):
    return validate(parse_json(json.dumps(doc, ensure_ascii=False), "plan.json"), existing)


def problems_of(doc, existing=None):
    with pytest.raises(InputError) as info:
        check(doc, existing)
    return [str(p) for p in info.value.problems if not p.warning]


def test_small_doc_is_valid():
    result = check(small_doc())
    assert len(result.catalogue.organizations) == 5
    assert result.catalogue.org_by_id()["M1"].products[0].name == "星衡 H1"
    assert result.warnings == []


@pytest.mark.parametrize(
    ("mutate", "where", "says"),
    [
        (lambda d: d["organizations"][0].update(uscc="91330100MA2B3C4D5X"), "organizations[0].uscc",
         "校验位"),
        (lambda d: d["scenes"][0].update(owner="NOPE"), "scenes[0].owner", "不存在"),
        (lambda d: d["scenes"][0].update(owner="M1"), "scenes[0].owner", "user_unit"),
        (lambda d: d["scenes"][1].update(id="S1"), "scenes[1].id", "重复"),
        (lambda d: d["scenes"][0].update(skills={"精细装配": 6}), "scenes[0].skills", "1 到 5"),
        (lambda d: d["scenes"][0].update(name=""), "scenes[0].name", "必填"),
        (lambda d: d["scenes"][0].update(robots="ten"), "scenes[0].robots", "expected a number"),
        (lambda d: d["scenes"][0].update(robots=0), "scenes[0].robots", "≥ 1"),
        (lambda d: d["scenes"][0].update(field="farming"), "scenes[0].field", "unknown value"),
        (lambda d: d["scenes"][0].update(form_factors="双足人形"), "scenes[0].form_factors",
         "expected a list"),
        (lambda d: d["scenes"][0]["goals"].update(success_rate=95), "scenes[0].goals.success_rate",
         "0..1"),
        (lambda d: d["scenes"][0].update(priority=0), "scenes[0].priority", "> 0"),
        (lambda d: d["scenes"][0].update(start="2026-13"), "scenes[0].start", "YYYY-MM"),
        (lambda d: d["organizations"][1].update(max_consortia=-1), "organizations[1].max_consortia",
         "≥ 0"),
        (lambda d: d["organizations"][1].update(roles=["boss"]), "organizations[1].roles",
         "unknown value"),
        (lambda d: d["partnerships"][0].update(strength=1.5), "partnerships[0].strength", "0..1"),
        (lambda d: d["partnerships"][0].update(b="M1", a="M1"), "partnerships[0].b", "same"),
        (lambda d: d["exclusions"][0].update(b="ZZ"), "exclusions[0].b", "unknown organisation"),
        (lambda d: d["pins"][0].update(role="algorithm"), "pins[0].role", "does not have this role"),
        (lambda d: d["pins"][0].update(scene="S404"), "pins[0].scene", "unknown scene"),
        (lambda d: d["plans"][0].update(kind="city"), "plans[0].kind", "unknown value"),
        (lambda d: d["organizations"][1]["products"][0].update(payload_kg="heavy"),
         "organizations[1].products[0].payload_kg", "expected a number"),
    ],
)
def test_rule_breaks_are_located(mutate, where, says):
    doc = small_doc()
    mutate(doc)
    problems = problems_of(doc)
    assert any(where in p and says in p for p in problems), problems


def test_every_problem_is_listed_not_only_the_first():
    doc = small_doc()
    doc["scenes"][0]["robots"] = -1
    doc["scenes"][1]["field"] = "x"
    doc["organizations"][0]["uscc"] = "123"
    problems = problems_of(doc)
    assert len(problems) == 3


def test_unknown_keys_are_warnings_not_errors():
    doc = small_doc()
    doc["colour"] = "blue"
    doc["scenes"][0]["mood"] = "calm"
    doc["scenes"][0]["goals"]["speed"] = 3
    result = check(doc)
    found = [str(w) for w in result.warnings]
    assert any("plan.json: colour" in w for w in found)
    assert any("scenes[0].mood" in w for w in found)
    assert any("scenes[0].goals.speed" in w for w in found)


def test_owner_may_already_be_in_the_catalogue():
    store = CatalogueStore.memory()
    store.write(check(small_doc()).catalogue)
    doc = {"format": "scenematch.catalogue", "version": 1,
           "scenes": [scene("S3", "U1", name="喷涂车间巡检")]}
    result = check(doc, store.load())
    assert [s.id for s in result.catalogue.scenes] == ["S3"]


def test_organisations_merge_by_uscc_then_by_name():
    store = CatalogueStore.memory()
    store.write(check(small_doc()).catalogue)
    u1 = small_doc()["organizations"][0]
    doc = {
        "format": "scenematch.catalogue", "version": 1,
        "organizations": [
            {**u1, "id": "X-U1", "name": "另一个名字", "roles": ["user_unit", "institute"]},
            org("X-A1", ["algorithm"], name="澜拓智能科技有限公司"),
            org("X-NEW", ["maker"], name="全新机器人公司", uscc=make_uscc("91330100MA2YYYYY1")),
        ],
        "scenes": [scene("S5", "X-U1")],
        "partnerships": [{"a": "X-A1", "b": "X-NEW"}],
    }
    result = check(doc, store.load())
    assert result.merged == {"X-U1": "U1", "X-A1": "A1"}
    orgs = result.catalogue.org_by_id()
    assert set(orgs) == {"U1", "A1", "X-NEW"}
    assert orgs["U1"].roles == (Role.USER_UNIT, Role.INSTITUTE)  # roles are united
    assert result.catalogue.scenes[0].owner == "U1"
    assert result.catalogue.partnerships[0].a == "A1"
    assert sum("merged into" in str(w) for w in result.warnings) == 2


def test_not_a_catalogue_document():
    for text, says in (
        ('{"format": "scenematch.result", "version": 1}', "not a SceneMatch catalogue"),
        ('{"format": "scenematch.catalogue", "version": 7}', "unsupported version"),
        ('[1, 2]', "top level"),
        ('{"format": "scenematch.catalogue", "version": 1, "scenes": {', "line 1"),
    ):
        with pytest.raises(InputError) as info:
            validate(parse_json(text, "x.json"))
        assert says in info.value.report()


def test_full_width_letters_fold_but_chinese_punctuation_is_kept():
    doc = small_doc()
    doc["organizations"][1]["certifications"] = ["ＩＰ５４"]
    doc["organizations"][1]["name"] = "星衡机器人（杭州）有限公司　"
    result = check(doc)
    maker = result.catalogue.org_by_id()["M1"]
    assert maker.certifications == ("IP54",)
    assert maker.name == "星衡机器人（杭州）有限公司"


def test_a_component_pin_without_category_supplies_one_of_the_scenes_categories():
    # FORMATS.md: a pin's ``category`` is optional. Without one the component supplier is
    # pinned to whichever of the scene's categories it supplies; it survives storage.
    from matching.engine import MatchParams, match

    doc = small_doc()
    doc["exclusions"] = []
    doc["pins"].append({"scene": "S1", "org": "C1", "role": "component"})
    catalogue = check(doc).catalogue
    assert [(p.org, p.role, p.category) for p in catalogue.pins if p.org == "C1"] == [
        ("C1", Role.COMPONENT, None)]
    store = CatalogueStore.memory()
    store.write(catalogue)
    assert set(store.load().pins) == set(catalogue.pins)
    result = match(store.load(), MatchParams(time_limit=5)).to_dict()
    s1 = next(c for c in result["consortia"] if c["scene"] == "S1")
    assert {"org": "C1", "role": "component", "category": "减速器"} in [
        {k: m[k] for k in ("org", "role", "category") if k in m} for m in s1["members"]]


def test_two_pins_for_one_slot_are_refused():
    # Two component pins without a category (or two makers) would fill one stored slot:
    # the second would silently replace the first.
    doc = small_doc()
    doc["exclusions"] = []
    doc["organizations"].append(org("C2", ["component"], component_categories=["减速器"]))
    doc["pins"] += [{"scene": "S1", "org": "C1", "role": "component"},
                    {"scene": "S1", "org": "C2", "role": "component"}]
    problems = problems_of(doc)
    assert any("pins[2].category" in p and "already pinned to C1" in p for p in problems), problems
    doc = small_doc()
    doc["pins"].append({"scene": "S1", "org": "M1", "role": "maker"})  # the same pin again
    assert check(doc).catalogue.pins == (Pin("S1", "M1", Role.MAKER, None),)

"""A scene's plan choice (include / exclude / require): model, storage and its migration,
JSON / Excel / CSV, validation, plan compliance, matching and the command line."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace

import pytest
import sqlite_utils
from openpyxl import load_workbook

from core.csv_io import read_csv, write_csv_dir
from core.json_io import dumps, parse_json
from core.model import Catalogue, PlanChoice
from core.plan_rules import plan_status, plan_statuses
from core.problems import InputError
from core.serialize import catalogue_to_dict
from core.stats import catalogue_stats, format_stats
from core.store import SCHEMA_VERSION, CatalogueStore, migrations
from core.validate import RawCatalogue, validate
from core.xlsx_io import read_workbook, write_workbook
from matching.adapter import EXCLUDED_REASON
from matching.engine import MatchParams, match
from tests.conftest import org, scene, small_doc


def _doc(**plans: str) -> dict:
    doc = small_doc()
    for s in doc["scenes"]:
        if s["id"] in plans:
            s["plan"] = plans[s["id"]]
    return doc


def _validate(doc: dict) -> Catalogue:
    return validate(parse_json(json.dumps(doc, ensure_ascii=False), "t.json")).catalogue


def _plans(cat: Catalogue) -> dict[str, PlanChoice]:
    return {s.id: s.plan for s in cat.scenes}


# -- model, JSON, validation --------------------------------------------------


def test_default_is_include_and_json_round_trips():
    cat = _validate(small_doc())
    assert _plans(cat) == {"S1": PlanChoice.INCLUDE, "S2": PlanChoice.INCLUDE}
    # Without plan choices the export is what it always was: no "plan" key.
    assert all("plan" not in s for s in catalogue_to_dict(cat)["scenes"])
    cat = _validate(_doc(S1="exclude", S2="require"))
    assert _plans(cat) == {"S1": PlanChoice.EXCLUDE, "S2": PlanChoice.REQUIRE}
    assert [s.get("plan") for s in json.loads(dumps(cat))["scenes"]] == ["exclude", "require"]
    assert _plans(_validate(json.loads(dumps(cat)))) == _plans(cat)
    assert _plans(_validate(_doc(S1="include"))) == {"S1": "include", "S2": "include"}


def test_bad_plan_value_is_a_located_problem():
    with pytest.raises(InputError) as err:
        _validate(_doc(S2="maybe"))
    [problem] = err.value.problems
    assert (problem.sheet, problem.row, problem.column) == ("scenes", 1, "plan")
    assert "maybe" in problem.message and "exclude, include, require" in problem.message
    with pytest.raises(InputError) as err:
        _validate(_doc(S1=3))  # type: ignore[arg-type]
    assert err.value.problems[0].column == "plan"


# -- storage and migration ----------------------------------------------------


def test_store_round_trips_the_plan_choice(tmp_path):
    cat = _validate(_doc(S1="exclude", S2="require"))
    with CatalogueStore.open(tmp_path / "c.db") as store:
        store.write(cat)
        assert _plans(store.load()) == _plans(cat)
        changed = replace(store.load().scene_by_id()["S1"], plan=PlanChoice.INCLUDE)
        summary = store.write(Catalogue(scenes=(changed,)))
        assert summary.changed["scenes"] == 1
        assert store.write(Catalogue(scenes=(changed,))).total_changes() == 0
        assert _plans(store.load())["S1"] is PlanChoice.INCLUDE


def test_a_version_1_file_opens_and_is_migrated(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    migrations.apply(db, stop_before="m002_plan_choice")  # the schema as version 1 wrote it
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO organizations (id, name, roles, province) VALUES "
               "('U1', '用户', '[\"user_unit\"]', '浙江省')")
    db.execute("INSERT INTO scenes (id, name, owner, coordinator, field, category, province, "
               "form_factors, robots) VALUES ('S1', '旧场景', 'U1', '浙江省', 'industrial', "
               "'生产制造', '浙江省', '[\"双足人形\"]', 2)")
    db.conn.commit()
    assert "plan" not in db["scenes"].columns_dict
    db.close()

    with CatalogueStore.open(path, create=False) as store:
        assert store.schema_version == SCHEMA_VERSION == 2
        [old] = store.scenes()
        assert (old.name, old.plan) == ("旧场景", PlanChoice.INCLUDE)
        store.write(Catalogue(scenes=(replace(old, plan=PlanChoice.REQUIRE),)))
    with CatalogueStore.open(path, create=False) as store:  # migrating twice is a no-op
        assert store.schema_version == 2
        assert store.scenes()[0].plan is PlanChoice.REQUIRE
    conn = sqlite3.connect(path)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY rowid")]
    finally:
        conn.close()
    assert names == ["m001_initial", "m002_plan_choice"]


# -- Excel and CSV ------------------------------------------------------------


def test_excel_template_export_and_import(tmp_path):
    template = tmp_path / "template.xlsx"
    write_workbook(template)
    wb = load_workbook(template)
    ws = wb["场景"]
    headers = [c.value for c in ws[1]]
    assert "计划选择 (plan)" in headers
    letter = ws.cell(row=1, column=headers.index("计划选择 (plan)") + 1).column_letter
    lists = [dv for dv in ws.data_validations.dataValidation if f"{letter}2" in str(dv.sqref)]
    assert lists and lists[0].type == "list"
    instructions = "\n".join(str(c.value) for row in wb["说明"].iter_rows() for c in row if c.value)
    assert "纳入=include" in instructions and "必选=require" in instructions

    cat = _validate(_doc(S1="exclude", S2="require"))
    path = tmp_path / "cat.xlsx"
    write_workbook(path, cat)
    ws = load_workbook(path)["场景"]
    col = [c.value for c in ws[1]].index("计划选择 (plan)") + 1
    assert [ws.cell(row=r, column=col).value for r in (2, 3)] == ["排除", "必选"]
    assert _plans(validate(read_workbook(path)).catalogue) == _plans(cat)


def test_excel_bad_plan_cell_names_sheet_row_and_column(tmp_path):
    path = tmp_path / "cat.xlsx"
    write_workbook(path, _validate(small_doc()))
    wb = load_workbook(path)
    ws = wb["场景"]
    col = [c.value for c in ws[1]].index("计划选择 (plan)") + 1
    ws.cell(row=3, column=col, value="也许")
    ws.cell(row=2, column=col, value="Exclude")  # the English label is accepted too
    wb.save(path)
    with pytest.raises(InputError) as err:
        validate(read_workbook(path))
    [problem] = err.value.problems
    assert (problem.sheet, problem.row) == ("场景", 3)
    assert "计划选择 (plan)" in problem.column and "也许" in problem.message


def test_csv_round_trip_and_chinese_labels(tmp_path):
    cat = _validate(_doc(S2="exclude"))
    files = write_csv_dir(tmp_path / "csv", cat)
    raw = RawCatalogue()
    for f in files:
        raw.extend(read_csv(f))
    assert _plans(validate(raw).catalogue) == {"S1": "include", "S2": "exclude"}
    scenes_csv = tmp_path / "csv" / "scenes.csv"
    text = scenes_csv.read_text(encoding="utf-8-sig")
    assert "计划选择 (plan)" in text and "排除" in text
    scenes_csv.write_text(text.replace("排除", "必选"), encoding="utf-8-sig")
    raw = RawCatalogue()
    for f in files:
        raw.extend(read_csv(f))
    assert _plans(validate(raw).catalogue)["S2"] is PlanChoice.REQUIRE


# -- plan compliance ----------------------------------------------------------


def _plan_catalogue() -> Catalogue:
    doc = _doc()
    doc["scenes"].append(scene("S3", "U1", field="service", category="商业服务"))
    doc["plans"] = [{"coordinator": "浙江省", "kind": "province", "min_scenes": 3, "min_fields": 2}]
    return _validate(doc)


def test_plan_statuses_count_only_scenes_in_the_plan():
    cat = _plan_catalogue()
    [status] = plan_statuses(cat)
    assert status.compliant and (status.scenes, status.excluded) == (3, 0)
    plans = {"S3": PlanChoice.EXCLUDE, "S2": PlanChoice.REQUIRE}
    cat = replace(cat, scenes=tuple(replace(s, plan=plans.get(s.id, s.plan)) for s in cat.scenes))
    [status] = plan_statuses(cat)
    assert (status.scenes, status.fields, status.required, status.excluded) == (
        2, ("industrial",), 1, 1)
    assert status.robots == 4
    assert status.shortfalls("en") == ["1 more scenes needed (2/3)",
                                       "1 more fields to cover (have: Industrial)"]
    # The old signature: counting a given subset still skips excluded scenes.
    assert plan_statuses(cat, cat.scenes[2:])[0].scenes == 0
    assert plan_status(cat, "浙江省") == status
    stats = catalogue_stats(cat)
    assert stats["by_plan"] == {"include": 1, "require": 1, "exclude": 1}
    assert stats["plans"][0]["excluded"] == 1 and not stats["plans"][0]["compliant"]
    assert "另有 1 个已排除" in format_stats(stats)


# -- matching -----------------------------------------------------------------

USER = org("U", ["user_unit"])
ALG = org("A", ["algorithm"], skills={"搬运": 5}, max_consortia=5)
ONE_MAKER = org("M", ["maker"], form_factors=["双足人形"], robot_capacity=50, max_consortia=1,
                skills={"搬运": 3})


def _match_doc(scenes: list[dict], orgs: list[dict] | None = None) -> dict:
    doc = {"format": "scenematch.catalogue", "version": 1,
           "organizations": orgs or [USER, ALG, ONE_MAKER], "scenes": scenes,
           "plans": [{"coordinator": "浙江省", "kind": "province", "min_scenes": 1,
                      "min_fields": 1}]}
    return doc


def _run(doc: dict) -> dict:
    return match(_validate(doc), MatchParams(time_limit=10)).to_dict()


def _matched(result: dict) -> list[str]:
    return sorted(c["scene"] for c in result["consortia"])


def test_excluded_scene_is_never_matched():
    # One maker for two scenes: the high-priority one wins, unless it is excluded.
    scenes = [scene("S1", "U", priority=5), scene("S2", "U", priority=1)]
    assert _matched(_run(_match_doc(scenes))) == ["S1"]
    scenes[0]["plan"] = "exclude"
    result = _run(_match_doc(scenes))
    assert _matched(result) == ["S2"]
    assert result["unmatched"] == [{"scene": "S1", "reason": EXCLUDED_REASON}]
    [plan] = result["plans"]
    assert plan["scenes"] == 1 and plan["compliant"]
    # Excluded even when it is the only scene and the maker is free.
    alone = _run(_match_doc([scene("S1", "U", plan="exclude")]))
    assert alone["consortia"] == [] and alone["status"] in ("optimal", "feasible")
    assert alone["plans"][0]["scenes"] == 0 and not alone["plans"][0]["compliant"]


def test_required_scene_is_matched_even_when_not_the_best_choice():
    scenes = [scene("S1", "U", priority=5), scene("S2", "U", priority=1, plan="require")]
    result = _run(_match_doc(scenes))
    assert result["status"] in ("optimal", "feasible")
    assert _matched(result) == ["S2"]
    assert [u["scene"] for u in result["unmatched"]] == ["S1"]


def test_required_scene_that_cannot_be_matched_makes_the_run_infeasible():
    scenes = [scene("S1", "U", plan="require", form_factors=["四足"])]
    result = _run(_match_doc(scenes))
    assert result["status"] == "infeasible" and result["consortia"] == []


# -- the command line ---------------------------------------------------------


def test_cli_match_honours_plan_choices(tmp_path, run_cli):
    scenes = [scene("S1", "U", priority=5, plan="exclude"), scene("S2", "U", priority=3),
              scene("S3", "U", priority=1, plan="require")]
    two_makers = [USER, ALG, ONE_MAKER, {**ONE_MAKER, "id": "M2", "name": "组织M2"}]
    source = tmp_path / "plan.json"
    source.write_text(json.dumps(_match_doc(scenes, two_makers), ensure_ascii=False),
                      encoding="utf-8")
    db = tmp_path / "c.db"
    run_cli("import", "--db", db, source, check=True)
    out = tmp_path / "result.json"
    proc = run_cli("match", "--db", db, "--time-limit", "10", "--json", out, check=True)
    result = json.loads(out.read_text(encoding="utf-8"))
    assert _matched(result) == ["S2", "S3"]
    assert result["unmatched"] == [{"scene": "S1", "reason": EXCLUDED_REASON}]
    assert "excluded from the plan" in proc.stdout
    stats = json.loads(run_cli("stats", "--db", db, "--json", check=True).stdout)
    assert stats["plans"][0]["scenes"] == 2 and stats["plans"][0]["excluded"] == 1


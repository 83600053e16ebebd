"""The command line, run as a user runs it: a subprocess on files on disk."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from core.json_io import parse_json
from core.validate import validate
from core.xlsx_io import write_workbook
from tests.conftest import dump, small_doc

COMMANDS = ["gui", "demo", "generate", "import", "export", "template", "stats"]


def test_help_on_every_command(run_cli):
    top = run_cli("--help", check=True)
    for command in COMMANDS:
        assert command in top.stdout
        proc = run_cli(command, "--help", check=True)
        assert "usage: scenematch " + command in proc.stdout


def test_unknown_command_is_bad_input(run_cli):
    assert run_cli("frobnicate").returncode == 2


@pytest.fixture
def loaded_db(tmp_path, run_cli, small_json) -> Path:
    db = tmp_path / "plan.db"
    run_cli("import", "--db", db, small_json, check=True)
    return db


def test_import_then_reimport_changes_nothing(tmp_path, run_cli, small_json, loaded_db):
    before = dump(loaded_db)
    proc = run_cli("import", "--db", loaded_db, small_json, check=True)
    assert "organizations: 新增 added 0, 更新 changed 0, 未变 unchanged 5" in proc.stdout
    assert dump(loaded_db) == before


def _export_json(run_cli, db: Path, target: Path) -> dict:
    run_cli("export", "--db", db, target, check=True)
    return json.loads(target.read_text(encoding="utf-8"))


@pytest.mark.parametrize("via", ["x.xlsx", "csvdir"])
def test_round_trip_through_excel_and_csv(tmp_path, run_cli, loaded_db, via):
    original = _export_json(run_cli, loaded_db, tmp_path / "a.json")
    target = tmp_path / via
    run_cli("export", "--db", loaded_db, target, check=True)
    files = sorted(target.glob("*.csv")) if target.is_dir() else [target]
    copy = tmp_path / "copy.db"
    run_cli("import", "--db", copy, *files, check=True)
    again = _export_json(run_cli, copy, tmp_path / "b.json")
    if via == "csvdir":
        again["name"] = original["name"]  # CSV files carry no catalogue title
    assert again == original


def test_template_has_every_sheet_instructions_and_dropdowns(tmp_path, run_cli):
    target = tmp_path / "模板.xlsx"
    proc = run_cli("template", target, check=True)
    assert "模板" in proc.stdout
    wb = load_workbook(target)
    assert wb.sheetnames[0] == "说明"
    for sheet in ("组织", "产品", "应用案例", "场景", "合作关系", "排斥关系", "固定选择", "方案规则"):
        assert sheet in wb.sheetnames
    assert wb["词表"].sheet_state == "hidden"
    scenes = wb["场景"]
    headers = [c.value for c in scenes[1]]
    assert "* 场景名称 (name)" in headers and "场景描述 (description)" in headers
    lists = [dv.formula1 for dv in scenes.data_validations.dataValidation]
    assert any("词表" in f for f in lists)
    instructions = " ".join(str(c.value) for row in wb["说明"].iter_rows() for c in row if c.value)
    assert "统一社会信用代码" in instructions and "全部检查" in instructions


def test_filled_template_imports(tmp_path, run_cli):
    target = tmp_path / "filled.xlsx"
    write_workbook(target)
    wb = load_workbook(target)
    orgs, scenes = wb["组织"], wb["场景"]
    head = {c.value.split("(")[-1].rstrip(")"): c.column for c in orgs[1]}
    for row, values in enumerate(
        [{"id": "U1", "name": "示例医院", "roles": "用户单位", "province": "浙江省"},
         {"id": "M1", "name": "示例机器人公司", "roles": "整机企业; 模型算法企业", "province": "浙江省",
          "skills": "护理辅助：4；人机交互:3", "form_factors": "轮式人形、双足人形",
          "max_consortia": 3, "robot_capacity": 40}], start=2):
        for key, value in values.items():
            orgs.cell(row=row, column=head[key], value=value)
    head = {c.value.split("(")[-1].rstrip(")"): c.column for c in scenes[1]}
    values = {"id": "S1", "name": "病区物资配送", "owner": "U1", "coordinator": "浙江省",
              "field": "服务", "category": "医疗康养", "province": "浙江省", "form_factors": "轮式人形",
              "robots": 6, "needs_institute": "是", "goals.success_rate": "95%", "start": "2026年3月",
              "readiness.demand": 5, "environment.setting": "室内"}
    for key, value in values.items():
        scenes.cell(row=2, column=head[key], value=value)
    wb.save(target)
    db = tmp_path / "t.db"
    run_cli("import", "--db", db, target, check=True)
    doc = _export_json(run_cli, db, tmp_path / "out.json")
    m1 = next(o for o in doc["organizations"] if o["id"] == "M1")
    assert m1["roles"] == ["maker", "algorithm"]
    assert m1["skills"] == {"护理辅助": 4, "人机交互": 3}
    s1 = doc["scenes"][0]
    assert (s1["field"], s1["needs_institute"], s1["goals"]["success_rate"], s1["start"]) == (
        "service", True, 0.95, "2026-03")
    assert s1["environment"]["setting"] == "indoor"


def test_stats_json_counts_and_plan_status(run_cli, loaded_db):
    proc = run_cli("stats", "--db", loaded_db, "--json", check=True)
    stats = json.loads(proc.stdout)
    assert stats["scenes"] == 2 and stats["organizations"] == 5
    assert stats["by_role"]["algorithm"] == 2
    assert stats["by_category"] == {"生产制造": 1, "仓储物流": 1}
    plan = stats["plans"][0]
    assert plan["coordinator"] == "浙江省" and not plan["compliant"]
    assert plan["shortfalls"] == ["18 more scenes needed (2/20)",
                                  "1 more fields to cover (have: Industrial)"]
    text = run_cli("stats", "--db", loaded_db, check=True).stdout
    assert "还差 18 个场景" in text and "✗ 浙江省" in text


def test_stats_on_missing_catalogue_is_bad_input(tmp_path, run_cli):
    proc = run_cli("stats", "--db", tmp_path / "nope.db")
    assert proc.returncode == 2 and "不存在" in proc.stderr
    assert not (tmp_path / "nope.db").exists()


def test_generate_is_reproducible(tmp_path, run_cli):
    docs = []
    for name in ("a", "b"):
        db = tmp_path / f"{name}.db"
        run_cli("generate", "--db", db, "--scenes", "120", "--orgs", "300", "--seed", "7", check=True)
        docs.append(_export_json(run_cli, db, tmp_path / f"{name}.json"))
    assert docs[0] == docs[1]
    assert len(docs[0]["scenes"]) == 120 and len(docs[0]["organizations"]) == 300
    # Everything generated passes the same checks as a user's file.
    validate(parse_json(json.dumps(docs[0]), "gen.json"))


def test_gbk_csv_imports(tmp_path, run_cli, loaded_db):
    path = tmp_path / "组织.csv"
    with open(path, "w", encoding="gbk", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["编号", "名称", "角色", "省份", "技能及等级"])
        writer.writerow(["G1", "嘉兴市第二人民医院", "用户单位", "浙江省", ""])
        writer.writerow(["G2", "湖州锐峰智能科技有限公司", "模型算法企业", "浙江省", "人机交互：4"])
    assert path.read_bytes().decode("gbk")  # really GBK, not UTF-8
    run_cli("import", "--db", loaded_db, path, check=True)
    doc = _export_json(run_cli, loaded_db, tmp_path / "out.json")
    names = {o["id"]: o["name"] for o in doc["organizations"]}
    assert names["G1"] == "嘉兴市第二人民医院"
    g2 = next(o for o in doc["organizations"] if o["id"] == "G2")
    assert g2["skills"] == {"人机交互": 4}


# --- the corpus of bad inputs --------------------------------------------------


def _small_workbook(path: Path) -> None:
    catalogue = validate(parse_json(json.dumps(small_doc()), "s.json")).catalogue
    write_workbook(path, catalogue)


def _truncated(tmp: Path) -> Path:
    p = tmp / "truncated.json"
    text = json.dumps(small_doc(), ensure_ascii=False)
    p.write_text(text[: len(text) // 2], encoding="utf-8")
    return p


def _wrong_types(tmp: Path) -> Path:
    doc = small_doc()
    doc["scenes"][0]["robots"] = "ten"
    doc["organizations"][1]["roles"] = "maker"
    p = tmp / "types.json"
    p.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return p


def _missing_sheet(tmp: Path) -> Path:
    p = tmp / "missing.xlsx"
    _small_workbook(p)
    wb = load_workbook(p)
    del wb["场景"]
    wb.save(p)
    return p


def _renamed_header(tmp: Path) -> Path:
    p = tmp / "renamed.xlsx"
    _small_workbook(p)
    wb = load_workbook(p)
    wb["组织"]["B1"] = "单位全称"
    wb.save(p)
    return p


def _blank_rows_then_error(tmp: Path) -> Path:
    p = tmp / "blank.xlsx"
    _small_workbook(p)
    wb = load_workbook(p)
    ws = wb["组织"]
    last = ws.max_row
    for row in range(last + 1, last + 10_001):
        ws.cell(row=row, column=1, value=" ")
    bad = last + 10_001
    for col, value in enumerate(["Z9", "坏代码公司", "91330100MA2B3C4D5X", "整机企业", "浙江省"], start=1):
        ws.cell(row=bad, column=col, value=value)
    wb.save(p)
    return p


def _formula(tmp: Path) -> Path:
    p = tmp / "formula.xlsx"
    _small_workbook(p)
    wb = load_workbook(p)
    ws = wb["场景"]
    col = next(c.column for c in ws[1] if c.value and "(robots)" in c.value)
    ws.cell(row=2, column=col, value="=1+1")
    wb.save(p)
    return p


def _huge_string(tmp: Path) -> Path:
    doc = small_doc()
    doc["scenes"][0]["description"] = "长" * 20_000_000
    p = tmp / "huge.json"
    p.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return p


def _json_named_xlsx(tmp: Path) -> Path:
    p = tmp / "really-json.xlsx"
    p.write_text(json.dumps(small_doc(), ensure_ascii=False), encoding="utf-8")
    return p


def _xlsx_named_json(tmp: Path) -> Path:
    p = tmp / "really-xlsx.json"
    _small_workbook(p)
    return p


def _bad_csv(tmp: Path) -> Path:
    p = tmp / "organizations.csv"
    p.write_text("编号,名称,统一社会信用代码,角色,省份\nQ1,某公司,91330100MA2B3C4D5X,整机企业,浙江省\n"
                 "Q2,,,整机企业,浙江省\n", encoding="utf-8-sig")
    return p


def _unknown_type(tmp: Path) -> Path:
    p = tmp / "notes.txt"
    p.write_text("hello", encoding="utf-8")
    return p


BAD = {
    "truncated JSON": (_truncated, ["truncated.json", "JSON 语法错误", "line 1"]),
    "wrong types": (_wrong_types, ["scenes[0].robots", "expected a number",
                                   "organizations[1].roles", "expected a list"]),
    "missing sheet": (_missing_sheet, ["missing.xlsx", "缺少工作表 “场景”"]),
    "renamed header": (_renamed_header, ["工作表 sheet “组织”", "缺少必填列 “名称 (name)”",
                                         "未知列 “单位全称”"]),
    "10 000 blank rows": (_blank_rows_then_error, ["第 10007 行", "统一社会信用代码校验位错误",
                                                   "列 column “C "]),
    "formula cell": (_formula, ["工作表 sheet “场景”", "第 2 行", "(robots)", "公式"]),
    "20 MB string": (_huge_string, ["scenes[0].description", "文本过长"]),
    "JSON named .xlsx": (_json_named_xlsx, ["really-json.xlsx", "looks like JSON"]),
    "xlsx named .json": (_xlsx_named_json, ["really-xlsx.json", "looks like a zip"]),
    "CSV with bad cells": (_bad_csv, ["organizations.csv", "第 2 行", "校验位", "第 3 行",
                                      "“B 名称”", "必填"]),
    "unknown file type": (_unknown_type, ["notes.txt", "unsupported file type"]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_refused_and_changes_nothing(tmp_path, run_cli, loaded_db, case):
    make, expected = BAD[case]
    bad = make(tmp_path)
    before = dump(loaded_db)
    proc = run_cli("import", "--db", loaded_db, bad)
    assert proc.returncode == 2, proc.stderr
    for text in expected:
        assert text in proc.stderr, f"{text!r} not in:\n{proc.stderr[:3000]}"
    assert "nothing was written" in proc.stderr or "未写入" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert dump(loaded_db) == before


def test_failed_import_into_a_new_catalogue_leaves_no_file(tmp_path, run_cli):
    db = tmp_path / "new.db"
    proc = run_cli("import", "--db", db, _truncated(tmp_path))
    assert proc.returncode == 2
    assert not db.exists()


def test_good_and_bad_files_together_write_nothing(tmp_path, run_cli, small_json):
    db = tmp_path / "two.db"
    run_cli("generate", "--db", db, "--scenes", "5", "--orgs", "20", check=True)
    before = dump(db)
    proc = run_cli("import", "--db", db, small_json, _wrong_types(tmp_path))
    assert proc.returncode == 2
    assert dump(db) == before


def test_a_reader_gone_or_no_console_is_not_an_error(tmp_path, monkeypatch, capsys):
    # `scenematch demo --db new.db | head`: the catalogue is written before the report, so
    # a closed pipe keeps it and exits 0; the windowed build has no stdout at all.
    import sys

    from cli.main import main

    class Gone:
        def write(self, text):
            raise BrokenPipeError

        def flush(self):
            raise BrokenPipeError

    db = tmp_path / "new.db"
    monkeypatch.setattr(sys, "stdout", Gone())
    assert main(["demo", "--db", str(db)]) == 0
    monkeypatch.setattr(sys, "stdout", None)
    assert main(["runs", "--db", str(db)]) == 0
    monkeypatch.undo()
    assert db.stat().st_size > 0 and main(["stats", "--db", str(db)]) == 0
    assert "45" in capsys.readouterr().out

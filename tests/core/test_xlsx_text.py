"""User text that looks like an Excel formula stays text in every workbook we write."""

from __future__ import annotations

import dataclasses

import openpyxl

from core.demo import demo_catalogue
from core.result_xlsx import write_result_workbook
from core.validate import validate
from core.xlsx_io import read_workbook, write_workbook

FORMULA = '=HYPERLINK("http://example.invalid","点我")'


def test_catalogue_workbook_keeps_formula_like_text(tmp_path):
    catalogue = demo_catalogue()
    org = dataclasses.replace(catalogue.organizations[0], name=FORMULA)
    catalogue = dataclasses.replace(catalogue, organizations=[org, *catalogue.organizations[1:]])
    path = tmp_path / "c.xlsx"
    write_workbook(path, catalogue)
    cells = [c for ws in openpyxl.load_workbook(path).worksheets for row in ws.iter_rows()
             for c in row if c.value == FORMULA]
    assert cells and all(c.data_type == "s" for c in cells)
    back = validate(read_workbook(path)).catalogue
    assert back.org_by_id()[org.id].name == FORMULA


def test_result_workbook_keeps_formula_like_text(tmp_path, demo_result):
    catalogue = demo_catalogue()
    first = demo_result["consortia"][0]["scene"]
    scene = dataclasses.replace(catalogue.scene_by_id()[first], name=FORMULA)
    catalogue = dataclasses.replace(
        catalogue, scenes=[scene if s.id == first else s for s in catalogue.scenes])
    path = tmp_path / "r.xlsx"
    write_result_workbook(path, demo_result, catalogue)
    cells = [c for ws in openpyxl.load_workbook(path).worksheets for row in ws.iter_rows()
             for c in row if c.value == FORMULA]
    assert cells and all(c.data_type == "s" for c in cells)


def test_control_characters_pasted_from_word_do_not_break_workbooks(tmp_path, demo_result):
    catalogue = demo_catalogue()
    org = dataclasses.replace(catalogue.organizations[0], name="杭州\x0b钱塘\x01公司",
                              description="第一行\x0c第二行")
    catalogue = dataclasses.replace(catalogue, organizations=[org, *catalogue.organizations[1:]])
    write_workbook(tmp_path / "c.xlsx", catalogue)
    write_result_workbook(tmp_path / "r.xlsx", demo_result, catalogue)
    back = validate(read_workbook(tmp_path / "c.xlsx")).catalogue
    assert back.org_by_id()[org.id].name == "杭州钱塘公司"

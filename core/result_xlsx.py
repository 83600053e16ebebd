"""A match result as an Excel workbook (the ``data/result.xlsx`` of a submission package).

The machine-readable result is the JSON document; this workbook is the same content laid
out for people who live in Excel: a summary, one row per consortium member, the score
breakdown per consortium, the unmatched scenes with their reasons, and the plan entries.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from core.model import Catalogue
from core.taxonomy import taxonomy
from core.xlsx_io import append_rows

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")



def _sheet(ws: Worksheet, header: list[str], rows: list[list[Any]], widths: list[int]) -> None:
    ws.append(header)
    append_rows(ws, rows)
    for index, cell in enumerate(ws[1], start=1):
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        ws.column_dimensions[get_column_letter(index)].width = (
            widths[index - 1] if index <= len(widths) else 14)
    ws.freeze_panes = "A2"


def write_result_workbook(path: str | Path, result: dict[str, Any], catalogue: Catalogue) -> None:
    """Write ``result`` (a ``scenematch.result`` document) as an .xlsx workbook; names of
    scenes and organisations come from ``catalogue`` (ids stay when one is missing)."""
    tax = taxonomy()
    scenes = catalogue.scene_by_id()
    orgs = catalogue.org_by_id()

    def scene_name(scene_id: str) -> str:
        s = scenes.get(scene_id)
        return s.name if s else ""

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "概要 Summary"
    run = result.get("run") or {}
    consortia = result.get("consortia", [])
    unmatched = result.get("unmatched", [])
    summary: list[list[Any]] = [
        ["组织单位 coordinator", result.get("coordinator", "全部 all")],
        ["运行编号 run", run.get("id")],
        ["运行时间 run time", run.get("created", "")],
        ["状态 status", result.get("status", "")],
        ["适配度 objective", result.get("objective")],
        ["上界 bound", result.get("bound")],
        ["差距 gap", result.get("gap")],
        ["用时（秒） seconds", result.get("seconds")],
        ["联合体 consortia", len(consortia)],
        ["未匹配场景 unmatched scenes", len(unmatched)],
        ["计划部署机器人 robots in consortia",
         sum(scenes[c["scene"]].robots for c in consortia if c["scene"] in scenes)],
    ]
    _sheet(ws, ["项目 item", "值 value"], [[k, v] for k, v in summary], [34, 40])

    member_rows: list[list[Any]] = []
    for c in consortia:
        scene = scenes.get(c["scene"])
        for m in c.get("members", []):
            org = orgs.get(m["org"])
            member_rows.append([
                c["scene"], scene_name(c["scene"]),
                tax.label("fields", scene.field.value) if scene else "",
                scene.category if scene else "", c.get("fit"),
                tax.label("roles", m["role"]), m.get("category", ""), m["org"],
                org.name if org else "", org.uscc if org and org.uscc else "",
            ])
    _sheet(wb.create_sheet("联合体 Consortia"),
           ["场景编号 scene", "场景名称 scene name", "领域 field", "场景类别 category", "适配度 fit",
            "角色 role", "零部件类别 component", "组织编号 org", "组织名称 organisation",
            "统一社会信用代码 USCC"],
           member_rows, [14, 36, 10, 14, 10, 16, 16, 14, 36, 22])

    terms: list[str] = []
    for c in consortia:
        for term in c.get("breakdown", {}):
            if term not in terms:
                terms.append(term)
    _sheet(wb.create_sheet("得分构成 Breakdown"),
           ["场景编号 scene", "场景名称 scene name", "适配度 fit",
            *[f"{tax.label('fit_terms', t)} {t}" for t in terms]],
           [[c["scene"], scene_name(c["scene"]), c.get("fit"),
             *[c.get("breakdown", {}).get(t) for t in terms]] for c in consortia],
           [14, 36, 10, *[16] * len(terms)])

    _sheet(wb.create_sheet("未匹配 Unmatched"),
           ["场景编号 scene", "场景名称 scene name", "原因 reason"],
           [[u["scene"], scene_name(u["scene"]), u.get("reason", "")] for u in unmatched],
           [14, 36, 100])

    _sheet(wb.create_sheet("方案 Plans"),
           ["组织单位 coordinator", "场景数 scenes", "领域 fields", "计划部署 robots", "合规 compliant"],
           [[p.get("coordinator", ""), p.get("scenes"),
             "、".join(tax.label("fields", f) for f in p.get("fields", [])), p.get("robots"),
             "是 yes" if p.get("compliant") else "否 no"] for p in result.get("plans", [])],
           [24, 10, 24, 12, 10])
    wb.save(str(path))

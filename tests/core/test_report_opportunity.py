"""An organisation's opportunity sheet, PDF and xlsx, read back as its reader sees it."""

from __future__ import annotations

import dataclasses
import io
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from core.demo import demo_catalogue
from core.model import Catalogue
from core.reports.context import ReportContext, slot_label
from core.reports.opportunity_sheet import (
    OpportunityLike,
    memberships,
    opportunity_sheet_filename,
    problem_kind,
    problem_text,
    write_opportunity_sheet,
    write_opportunity_xlsx,
)
from matching.opportunities import Opportunity, opportunities
from tests.pdf_text import squash, text_of

MAKER = "O042"  # a demo maker that is also an algorithm supplier, in several consortia




@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return demo_catalogue()


@pytest.fixture
def ctx(catalogue: Catalogue, demo_result: dict[str, Any]) -> ReportContext:
    return ReportContext(catalogue, demo_result, run_id=3, catalogue_name="演示目录")


@pytest.fixture(scope="module")
def ranking(catalogue: Catalogue) -> list[Opportunity]:
    return opportunities(catalogue, MAKER)


def test_the_matcher_opportunity_satisfies_the_protocol(ranking: list[Opportunity]) -> None:
    o: OpportunityLike = ranking[0]  # mypy checks the structural match; this checks the values
    assert o.scene and o.slot and isinstance(o.points, float)


def test_pdf_shows_the_organisation_its_consortia_its_ranking_and_what_blocks_the_rest(
        ctx: ReportContext, ranking: list[Opportunity], demo_result: dict[str, Any],
        tmp_path: Path) -> None:
    path = tmp_path / f"{opportunity_sheet_filename(ctx, MAKER)}.pdf"
    write_opportunity_sheet(ctx, MAKER, ranking, path)
    reader = PdfReader(path)
    eligible = [o for o in ranking if o.eligible]
    blocked = [o for o in ranking if not o.eligible]
    assert eligible and blocked
    assert 2 <= len(reader.pages) <= 1 + (len(ranking) + 10) // 10
    text = squash(text_of(path))
    org = ctx.orgs[MAKER]
    assert "机会清单" in text
    assert squash(org.name) in text
    assert org.uscc and org.uscc in text
    # the summary counts at the top
    mine = [c for c in demo_result["consortia"] if any(m["org"] == MAKER for m in c["members"])]
    assert mine
    head = squash(text_of(path).split("一、组织概况")[0])
    assert f"{len(mine)}已入选联合体" in head
    assert f"{len(eligible)}可参与机会（{len({o.scene for o in eligible})}个场景）" in head
    assert f"{len(blocked)}受阻机会" in head
    # its consortia with their partners
    for c in mine:
        assert squash(ctx.scenes[c["scene"]].name) in text
        for m in c["members"]:
            assert squash(ctx.org_name(m["org"])) in text
    # the ranking, best first, with slot labels
    best = eligible[0]
    assert squash(ctx.scenes[best.scene].name) in text
    assert squash(slot_label(best.slot)) in text
    ranking_part = text.split("三、机会排名")[1].split("四、受阻机会")[0]
    first_scenes = list(dict.fromkeys(o.scene for o in eligible))[:5]
    positions = [ranking_part.find(squash(f"{sid}{ctx.scenes[sid].name}")) for sid in first_scenes]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)
    # what blocks the rest, in Chinese
    blocked_part = text.split("四、受阻机会")[1]
    for o in blocked:
        assert squash(ctx.scenes[o.scene].name) in blocked_part
        for p in o.problems:
            assert squash(problem_text(p)) in blocked_part
    assert problem_kind(blocked[0].problems[0]) in blocked_part


def test_pdf_fonts_are_embedded(ctx: ReportContext, ranking: list[Opportunity],
                                tmp_path: Path) -> None:
    if shutil.which("pdffonts") is None:
        pytest.skip("pdffonts (poppler-utils) is not installed")
    path = tmp_path / "sheet.pdf"
    write_opportunity_sheet(ctx, MAKER, ranking, path)
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                         check=True).stdout
    rows = out.splitlines()[2:]
    assert rows
    assert all(r.split()[-5] == "yes" and "Helvetica" not in r for r in rows), out


def test_xlsx_has_the_three_sheets_with_every_row(ctx: ReportContext, ranking: list[Opportunity],
                                                  tmp_path: Path) -> None:
    path = tmp_path / f"{opportunity_sheet_filename(ctx, MAKER)}.xlsx"
    write_opportunity_xlsx(ctx, MAKER, ranking, path)
    wb = load_workbook(path)
    assert wb.sheetnames == ["匹配联合体", "机会排名", "受阻机会"]

    ws = wb["匹配联合体"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:3] == ("场景编号", "场景名称", "组织单位")
    mine = memberships(ctx, MAKER)
    assert [r[0] for r in rows[1:]] == [m.scene for m in mine]
    assert ws.freeze_panes == "C2"
    first = mine[0]
    row = rows[1]
    assert row[1] == ctx.scenes[first.scene].name
    assert row[7] == pytest.approx(first.fit)
    for partner, _role in first.partners:
        assert ctx.org_name(partner) in row[8]

    ws = wb["机会排名"]
    rows = list(ws.iter_rows(values_only=True))
    header = rows[0]
    assert header[:3] == ("排名", "场景编号", "场景名称")
    assert {"得分", "岗位", "能力裕度", "已入选"} <= set(header)
    eligible = [o for o in ranking if o.eligible]
    assert len(rows) - 1 == len(eligible)
    assert [r[0] for r in rows[1:]] == list(range(1, len(eligible) + 1))
    assert [(r[1], r[header.index("岗位")]) for r in rows[1:]] == [
        (o.scene, slot_label(o.slot)) for o in eligible]
    assert rows[1][header.index("得分")] == pytest.approx(eligible[0].points, abs=0.01)
    chosen = [r for r in rows[1:] if r[header.index("已入选")] == "是"]
    assert chosen, "the consortia it is in show up as chosen opportunities"
    assert ws.freeze_panes == "D2"
    assert ws.column_dimensions["C"].width >= 30

    ws = wb["受阻机会"]
    rows = list(ws.iter_rows(values_only=True))
    blocked = [o for o in ranking if not o.eligible]
    assert len(rows) - 1 == len(blocked)
    assert rows[0][-1] == "受阻原因"
    for r, o in zip(rows[1:], blocked, strict=True):
        assert r[0] == o.scene
        assert r[-1] == "\n".join(o.problems)
        assert r[-2] == len(o.problems)


def test_user_text_is_data_in_both_files(catalogue: Catalogue, demo_result: dict[str, Any],
                                         tmp_path: Path) -> None:
    opps = opportunities(catalogue, MAKER)
    sid = next(o.scene for o in opps if o.eligible)
    scenes = tuple(dataclasses.replace(s, name="=HYPERLINK(\"x\") <b>&</b> </para> 🤖\x07")
                   if s.id == sid else s for s in catalogue.scenes)
    orgs = tuple(dataclasses.replace(o, name="踏云 <b>&</b> </para>", description="=1+1")
                 if o.id == MAKER else o for o in catalogue.organizations)
    ctx = ReportContext(dataclasses.replace(catalogue, scenes=scenes, organizations=orgs),
                        demo_result)
    buf = io.BytesIO()
    write_opportunity_sheet(ctx, MAKER, opps, buf)
    text = text_of(buf.getvalue())
    assert "<b>&</b>" in text and "</para>" in text
    assert "踏云<b>&</b></para>" in squash(text)
    xlsx = io.BytesIO()
    write_opportunity_xlsx(ctx, MAKER, opps, xlsx)
    xlsx.seek(0)
    ws = load_workbook(xlsx)["机会排名"]
    cells = [c for row in ws.iter_rows(min_row=2) for c in row if c.value and
             str(c.value).startswith("=HYPERLINK")]
    assert cells, "the scene name is in the sheet"
    assert all(c.data_type == "s" for c in cells)  # text, never a formula
    assert all("\x07" not in str(c.value) for c in cells)
    stem = opportunity_sheet_filename(ctx, MAKER)
    assert stem.startswith(f"{MAKER}_") and not set('/\\:*?"<>|') & set(stem)


def test_without_a_run_the_sheet_still_ranks_opportunities(catalogue: Catalogue,
                                                           ranking: list[Opportunity]) -> None:
    ctx = ReportContext(catalogue)
    buf = io.BytesIO()
    write_opportunity_sheet(ctx, MAKER, ranking, buf)
    text = squash(text_of(buf.getvalue()))
    assert "尚无匹配结果" in text
    assert squash(ctx.scenes[ranking[0].scene].name) in text
    xlsx = io.BytesIO()
    write_opportunity_xlsx(ctx, MAKER, ranking, xlsx)
    xlsx.seek(0)
    wb = load_workbook(xlsx)
    assert wb["匹配联合体"].max_row == 1  # the header only


def test_any_object_with_the_attributes_will_do(ctx: ReportContext) -> None:
    @dataclasses.dataclass(frozen=True)
    class Plain:
        scene: str
        slot: str
        roles: tuple[str, ...]
        eligible: bool
        points: float
        terms: dict[str, float]
        owner_partnership: float
        problems: tuple[str, ...]

    sid = ctx.catalogue.scenes[0].id
    items = [Plain(sid, "institute", ("institute",), True, 12.5, {"locality": 12.5}, 0.0, ()),
             Plain(sid, "algorithm", ("algorithm",), False, 3.0, {}, 0.0,
                   ("技能不足：抓取放置 2<3 / skills below the requirement",))]
    buf = io.BytesIO()
    write_opportunity_sheet(ctx, "O130", items, buf)
    text = squash(text_of(buf.getvalue()))
    assert "技能不足：抓取放置2<3" in text
    assert "skillsbelow" not in text  # the PDF shows the Chinese half
    assert problem_kind(items[1].problems[0]) == "技能不足"


def test_unknown_organisation_is_refused(ctx: ReportContext) -> None:
    with pytest.raises(KeyError, match="NOPE"):
        write_opportunity_sheet(ctx, "NOPE", [], io.BytesIO())
    with pytest.raises(KeyError, match="NOPE"):
        write_opportunity_xlsx(ctx, "NOPE", [], io.BytesIO())


def test_core_does_not_import_matching() -> None:
    code = ("import sys, core.reports.opportunity_sheet, core.reports.proposal; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('matching', 'gui', 'PySide6')]; "
            "print(bad); raise SystemExit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == 0, proc.stdout + proc.stderr

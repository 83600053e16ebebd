"""联合体组建方案: the PDFs as a reader sees them (text read back with pypdf, fonts with
pdffonts, file names, progress and cancel)."""

from __future__ import annotations

import dataclasses
import io
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from core.demo import demo_catalogue
from core.model import Catalogue, Scene
from core.progress import Cancelled, CancelToken
from core.reports import pdf
from core.reports.context import ReportContext, term_label
from core.reports.proposal import (
    member_network,
    proposal_filename,
    run_index,
    short_name,
    write_proposal,
    write_proposals,
)
from tests.pdf_text import squash, text_of

HOSTILE = "<b>粗体</b> & 工位 </para> 🤖"




@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return demo_catalogue()


@pytest.fixture
def ctx(catalogue: Catalogue, demo_result: dict[str, Any]) -> ReportContext:
    return ReportContext(catalogue, demo_result, run_id=7, run_created="2026-01-05T10:20:00",
                         catalogue_name="演示目录")


@pytest.fixture(scope="module")
def all_proposals(tmp_path_factory: pytest.TempPathFactory,
                  demo_result: dict[str, Any]) -> tuple[list[Path], float]:
    """Every proposal of the demo run, written once, with the seconds it took."""
    ctx = ReportContext(demo_catalogue(), demo_result, run_id=7, catalogue_name="演示目录")
    out = tmp_path_factory.mktemp("proposals")
    started = time.perf_counter()
    files = write_proposals(ctx, out)
    return files, time.perf_counter() - started


def test_every_consortium_gets_a_proposal_naming_its_scene_owner_and_members(
        all_proposals: tuple[list[Path], float], ctx: ReportContext,
        demo_result: dict[str, Any]) -> None:
    files, _ = all_proposals
    consortia = demo_result["consortia"]
    assert len(files) == len(consortia) > 0
    assert not list(files[0].parent.glob("*.part")), "temporary files left behind"
    for path, consortium in zip(files, consortia, strict=True):
        scene = ctx.scenes[consortium["scene"]]
        assert path.name == proposal_filename(scene)
        assert path.name.startswith(f"{scene.id}_")
        reader = PdfReader(path)
        assert 2 <= len(reader.pages) <= 8, (path.name, len(reader.pages))
        text = squash(text_of(path))
        assert "联合体组建方案" in text
        assert squash(scene.name) in text
        assert squash(ctx.org_name(scene.owner)) in text
        for member in consortium["members"]:
            assert squash(ctx.org_name(member["org"])) in text, (scene.id, member)


def test_proposal_explains_fit_alternates_coverage_and_capacity(
        ctx: ReportContext, demo_result: dict[str, Any]) -> None:
    consortium = demo_result["consortia"][0]
    scene = ctx.scenes[consortium["scene"]]
    buf = io.BytesIO()
    write_proposal(ctx, scene.id, buf)
    text = squash(text_of(buf.getvalue()))
    for heading in ("场景概况", "联合体成员", "适配度构成", "备选单位", "技能覆盖", "零部件覆盖",
                    "产能占用", "成员关系图"):
        assert heading in text
    for term in consortium["breakdown"]:
        assert squash(term_label(term)) in text
    assert f"{consortium['fit']:.2f}" in text
    for options in consortium["alternates"].values():
        for option in options:
            assert squash(option["name"]) in text
    for skill in scene.skills:
        assert skill in text
    for category in scene.components:
        assert category in text
    assert "第7次匹配运行" in text
    # the lead's robots in this run against its capacity
    lead = ctx.lead_of(consortium)
    assert lead is not None
    org = ctx.orgs[lead]
    assert f"/{org.robot_capacity}台" in text


def test_prior_partnerships_between_members_are_listed(ctx: ReportContext,
                                                       demo_result: dict[str, Any]) -> None:
    index = run_index(ctx)
    for consortium in demo_result["consortia"]:
        ids = sorted({m["org"] for m in consortium["members"]})
        pairs = [index.partnership(a, b) for i, a in enumerate(ids) for b in ids[i + 1:]]
        noted = [p for p in pairs if p is not None and p.note]
        if noted:
            break
    else:
        pytest.skip("no consortium of the demo run has members with a noted partnership")
    buf = io.BytesIO()
    write_proposal(ctx, consortium["scene"], buf)
    text = squash(text_of(buf.getvalue()))
    for p in noted:
        assert squash(p.note) in text


def test_every_font_is_embedded_and_none_is_helvetica(
        all_proposals: tuple[list[Path], float]) -> None:
    if shutil.which("pdffonts") is None:
        pytest.skip("pdffonts (poppler-utils) is not installed")
    files, _ = all_proposals
    out = subprocess.run(["pdffonts", str(files[0])], capture_output=True, text=True,
                         check=True).stdout
    rows = out.splitlines()[2:]
    assert rows, out
    for row in rows:
        assert "Helvetica" not in row, out
        # columns: name type encoding emb sub uni object ID (type may hold a space)
        assert row.split()[-5] == "yes", out


def test_no_line_of_any_proposal_starts_with_closing_punctuation(
        all_proposals: tuple[list[Path], float]) -> None:
    files, _ = all_proposals
    bad = [(path.name, line) for path in files for page in PdfReader(path).pages
           for line in (page.extract_text() or "").splitlines()
           if line[:1] in pdf.NO_LINE_START]
    assert not bad, bad[:5]


def test_a_large_batch_is_written_by_worker_processes_with_the_same_content(
        ctx: ReportContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.reports import proposal

    serial = write_proposals(ctx, tmp_path / "serial", workers=1)
    monkeypatch.setattr(proposal, "PARALLEL_MIN", 8)
    messages: list[str] = []
    files = write_proposals(ctx, tmp_path / "par", workers=2,
                            on_progress=lambda f, m: messages.append(m))
    assert [f.name for f in files] == [f.name for f in serial]
    assert any("2 个进程" in m for m in messages)
    for a, b in zip(serial[:5], files[:5], strict=True):
        assert squash(text_of(a)) == squash(text_of(b))


def test_cancelling_a_parallel_batch_keeps_only_whole_files(
        ctx: ReportContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.reports import proposal

    monkeypatch.setattr(proposal, "PARALLEL_MIN", 8)
    monkeypatch.setattr(proposal, "CHUNK", 2)
    token = CancelToken()

    def progress(fraction: float, message: str) -> None:
        if fraction > 0:
            token.cancel()

    with pytest.raises(Cancelled) as caught:
        write_proposals(ctx, tmp_path / "c", workers=2, on_progress=progress, cancel=token)
    partial = caught.value.partial
    assert isinstance(partial, list) and 0 < len(partial) < len(ctx.consortia())
    on_disk = sorted(p.name for p in (tmp_path / "c").iterdir())
    assert all(p.exists() for p in partial)
    assert all(name.endswith(".pdf") for name in on_disk)  # no temp files left
    for path in partial:
        assert path.read_bytes().startswith(b"%PDF")


def hostile_context(catalogue: Catalogue,
                    demo_result: dict[str, Any]) -> tuple[ReportContext, Scene]:
    """The demo with markup, an ampersand and an emoji in a scene's and an organisation's text."""
    consortium = demo_result["consortia"][0]
    scenes = list(catalogue.scenes)
    i = next(i for i, s in enumerate(scenes) if s.id == consortium["scene"])
    scene = dataclasses.replace(
        scenes[i], name=HOSTILE, description=f"说明 {HOSTILE}\n第二行 a<b & c>d",
        sector="A&B <i>", requirements=dataclasses.replace(scenes[i].requirements,
                                                           perception=HOSTILE))
    scenes[i] = scene
    orgs = list(catalogue.organizations)
    j = next(j for j, o in enumerate(orgs) if o.id == scene.owner)
    orgs[j] = dataclasses.replace(orgs[j], name="用户&单位 <b>甲</b> </para>")
    changed = dataclasses.replace(catalogue, scenes=tuple(scenes), organizations=tuple(orgs))
    return ReportContext(changed, demo_result, catalogue_name="目录 <b>&</b>"), scene


def test_user_text_with_markup_ampersand_and_emoji_reads_back_literally(
        catalogue: Catalogue, demo_result: dict[str, Any], tmp_path: Path) -> None:
    ctx, scene = hostile_context(catalogue, demo_result)
    files = write_proposals(ctx, tmp_path, [scene.id])
    assert len(files) == 1
    name = files[0].name
    assert not set('/\\:*?"<>|') & set(name)
    text = text_of(files[0])
    assert "<b>粗体</b>" in text
    assert "</para>" in text
    assert "&" in text
    assert "用户&单位<b>甲</b></para>" in squash(text)
    assert "a<b&c>d" in squash(text)
    assert "🤖" not in text  # no glyph: shown as a box, never as an invisible gap
    assert "□" in text


def test_file_names_are_safe_and_bounded() -> None:
    def scene(sid: str, name: str) -> Any:
        return dataclasses.make_dataclass("S", ["id", "name"])(sid, name)

    assert proposal_filename(scene("S001", "总装车间 工位")) == "S001_总装车间 工位.pdf"
    nasty = proposal_filename(scene("S/2", 'a/b\\c:d*e?f"g<h>i|j\x00k\x1f\u202el. '))
    assert nasty.endswith(".pdf")
    assert not set('/\\:*?"<>|') & set(nasty)
    assert not any(ord(c) < 32 for c in nasty)
    assert "\u202e" not in nasty
    long = proposal_filename(scene("S003", "很长的场景名称" * 80))
    assert long.startswith("S003_") and long.endswith(".pdf")
    assert len(long.encode("utf-8")) <= 200
    assert proposal_filename(scene("S004", "")) == "S004.pdf"
    assert proposal_filename(scene("CON", "")) == "_CON.pdf"


def test_write_proposals_reports_progress_and_stops_when_cancelled(
        ctx: ReportContext, demo_result: dict[str, Any], tmp_path: Path) -> None:
    ids = [c["scene"] for c in demo_result["consortia"]][:5]
    token = CancelToken()
    calls: list[tuple[float, str]] = []

    def progress(fraction: float, message: str) -> None:
        calls.append((fraction, message))
        if len(calls) == 3:  # the third document is about to start
            token.cancel()

    with pytest.raises(Cancelled) as caught:
        write_proposals(ctx, tmp_path, ids, on_progress=progress, cancel=token)
    written = caught.value.partial
    assert isinstance(written, list)
    assert [p.name for p in written] == [proposal_filename(ctx.scenes[s]) for s in ids[:3]]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)
    assert [f for f, _ in calls] == sorted(f for f, _ in calls)
    assert all(0.0 <= f <= 1.0 for f, _ in calls)
    assert ctx.scenes[ids[0]].name in calls[0][1]


def test_write_proposals_progress_reaches_one(ctx: ReportContext, demo_result: dict[str, Any],
                                              tmp_path: Path) -> None:
    ids = [c["scene"] for c in demo_result["consortia"]][:2]
    calls: list[float] = []
    files = write_proposals(ctx, tmp_path / "new" / "dir", ids,
                            on_progress=lambda f, _m: calls.append(f))
    assert [p.exists() for p in files] == [True, True]
    assert calls[0] == 0.0 and calls[-1] == 1.0


def test_a_scene_without_consortium_is_refused_clearly(ctx: ReportContext,
                                                       demo_result: dict[str, Any],
                                                       tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="NOPE"):
        write_proposal(ctx, "NOPE", io.BytesIO())
    if demo_result["unmatched"]:
        sid = demo_result["unmatched"][0]["scene"]
        with pytest.raises(KeyError, match=sid):
            write_proposal(ctx, sid, io.BytesIO())
        with pytest.raises(KeyError, match=sid):
            write_proposals(ctx, tmp_path, [sid])
        assert list(tmp_path.iterdir()) == []
    no_run = ReportContext(ctx.catalogue)
    with pytest.raises(ValueError, match="匹配"):
        write_proposal(no_run, ctx.catalogue.scenes[0].id, io.BytesIO())


def test_network_diagram_labels_every_member_with_its_short_name(
        ctx: ReportContext, demo_result: dict[str, Any]) -> None:
    from reportlab.graphics.shapes import String

    consortium = demo_result["consortia"][0]
    scene = ctx.scenes[consortium["scene"]]
    drawing = member_network(ctx, scene, consortium["members"])
    texts = [s.text for s in drawing.contents if isinstance(s, String)]
    for member in consortium["members"]:
        assert short_name(ctx.orgs[member["org"]], member["org"]) in texts
    assert all(s.fontName == pdf.FONT for s in drawing.contents if isinstance(s, String))
    # every label stays inside the drawing
    for s in drawing.contents:
        if isinstance(s, String):
            assert 0 <= s.x <= drawing.width and 0 <= s.y <= drawing.height


def test_short_names_drop_legal_form_and_stay_short(catalogue: Catalogue) -> None:
    for org in catalogue.organizations:
        name = short_name(org, org.id)
        assert 0 < len(name) <= 10
        assert not name.endswith("有限公司")
    org = next(o for o in catalogue.organizations if o.name == "杭州钱塘踏云机器人有限公司")
    assert short_name(org, org.id) == "杭州钱塘踏云机器人"

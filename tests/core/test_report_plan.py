"""实训空间建设方案 (plan summary PDF): read back what a coordinator hands in."""

from __future__ import annotations

import copy
import dataclasses
import io
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pypdf
import pytest
from reportlab.graphics.shapes import Rect, String

from core.demo import demo_catalogue
from core.model import Catalogue, Role
from core.reports import charts, pdf
from core.reports.context import ReportContext
from core.reports.plan_summary import (
    plan_summary_filename,
    plan_summary_story,
    write_plan_summary,
)

ZJ = "浙江省"
HX = "华夏能源集团（虚构）"
SECTIONS = [
    "一、方案规则符合性",
    "二、场景构成",
    "三、场景单元与创新应用联合体",
    "四、机器人部署计划",
    "五、集中度风险",
    "六、未组建联合体的场景及原因",
    "七、匹配运行参数与求解质量",
]
HOSTILE = "<b>粗体</b> & </para> 机器人🤖工位"


# -- helpers -----------------------------------------------------------------------------

def squeeze(text: str) -> str:
    """Text without whitespace: table cells wrap names over several lines."""
    return "".join(text.split())


def page_texts(path: Path | bytes) -> list[str]:
    source = io.BytesIO(path) if isinstance(path, bytes) else path
    return [squeeze(p.extract_text()) for p in pypdf.PdfReader(source).pages]


def lead_names(catalogue: Catalogue, result: dict[str, Any], coordinator: str) -> set[str]:
    orgs = catalogue.org_by_id()
    scenes = catalogue.scene_by_id()
    return {orgs[m["org"]].name for c in result["consortia"]
            if scenes[c["scene"]].coordinator == coordinator
            for m in c["members"] if m["role"] in (Role.MAKER, Role.SERVICE_PROVIDER)}


def context(result: dict[str, Any] | None, catalogue: Catalogue | None = None) -> ReportContext:
    catalogue = catalogue or demo_catalogue()
    return ReportContext(catalogue, result, run_id=7 if result else None,
                         run_created="2026-03-01T10:20:30" if result else "",
                         catalogue_name=catalogue.name)


def fonts(path: Path) -> list[list[str]]:
    """pdffonts' rows (name, type, encoding, emb, sub, uni, …) for ``path``."""
    if shutil.which("pdffonts") is None:
        pytest.skip("pdffonts (poppler-utils) is not installed")
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True,
                         timeout=60).stdout
    return [line.split() for line in out.splitlines()[2:] if line.strip()]


def assert_fonts_embedded(path: Path) -> None:
    rows = fonts(path)
    assert rows, "no font at all: the Chinese text cannot be there"
    for row in rows:
        # name type [type2] encoding emb sub uni object id: emb is the 5th from the end
        assert row[-5] == "yes", f"font not embedded: {row}"
    assert not any("Helvetica" in row[0] for row in rows)


@pytest.fixture(scope="module")
def demo_pdfs(tmp_path_factory: pytest.TempPathFactory,
              demo_result: dict[str, Any]) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("plan")
    ctx = context(demo_result)
    paths = {}
    for coordinator in (ZJ, HX):
        paths[coordinator] = out / plan_summary_filename(coordinator)
        write_plan_summary(ctx, coordinator, paths[coordinator])
    return paths


# -- the demo's two plans ---------------------------------------------------------------

@pytest.mark.parametrize("coordinator", [ZJ, HX])
def test_names_of_scenes_and_leads_are_in_the_text(demo_pdfs, demo_result, coordinator):
    catalogue = demo_catalogue()
    text = "".join(page_texts(demo_pdfs[coordinator]))
    scenes = [s.name for s in catalogue.scenes if s.coordinator == coordinator]
    assert len(scenes) >= 14
    assert [s for s in scenes if squeeze(s) not in text] == []
    leads = lead_names(catalogue, demo_result, coordinator)
    assert len(leads) >= 5
    assert [name for name in leads if name not in text] == []
    assert coordinator in text
    assert "实训空间建设方案" in text


@pytest.mark.parametrize("coordinator", [ZJ, HX])
def test_cover_contents_and_page_numbers(demo_pdfs, coordinator):
    pages = page_texts(demo_pdfs[coordinator])
    n = len(pages)
    assert 5 <= n <= 15
    cover, contents = pages[0], pages[1]
    assert "实训空间建设方案" in cover and coordinator in cover and "第7次运行" in cover
    assert "页/共" not in cover  # the cover has no footer
    for i, page in enumerate(pages[1:], start=2):
        assert f"第{i}页/共{n}页" in page
    # every section is listed in the contents with the page it really starts on (the
    # extracted text puts each entry's page number before its title)
    assert "目录" in contents
    listed = dict((title, int(number)) for number, title in
                  re.findall(r"\.{3,}(\d+)(.+?)(?=\.{3}|第\d+页/共)", contents))
    assert all(heading in listed for heading in SECTIONS), listed
    for heading in SECTIONS:
        first = next(i for i, page in enumerate(pages[2:], start=3) if heading in page)
        assert listed[heading] == first, heading
    # … and in the PDF outline (bookmarks)
    reader = pypdf.PdfReader(demo_pdfs[coordinator])
    assert [item.title for item in reader.outline if not isinstance(item, list)] == SECTIONS


def test_bookmarks_point_at_the_section_pages(demo_pdfs):
    path = demo_pdfs[ZJ]
    pages = page_texts(path)
    reader = pypdf.PdfReader(path)
    top = [item for item in reader.outline if not isinstance(item, list)]
    starts = [next(i for i, page in enumerate(pages[2:], start=3) if item.title in page)
              for item in top]
    assert [reader.get_destination_page_number(item) + 1 for item in top] == starts


def test_every_font_is_embedded(demo_pdfs):
    for path in demo_pdfs.values():
        assert_fonts_embedded(path)


def test_compliant_plan_and_its_numbers(demo_pdfs, demo_result):
    zj_scenes = {s.id for s in demo_catalogue().scenes if s.coordinator == ZJ}
    text = "".join(page_texts(demo_pdfs[ZJ]))
    assert "结论：本方案符合方案规则。" in text
    assert "≥20个" in text  # the province rule
    assert "计划部署机器人" in text and "312台" in text
    if not [u for u in demo_result["unmatched"] if u["scene"] in zj_scenes]:
        assert "全部场景单元均已组建创新应用联合体" in text
    assert "已证明最优" in text and "0.00%" in text
    assert "能力裕度" in text  # a weight, by its Chinese name


def test_unmatched_scene_and_its_reason_in_the_soe_plan(demo_pdfs, demo_result):
    catalogue = demo_catalogue()
    scenes = catalogue.scene_by_id()
    text = "".join(page_texts(demo_pdfs[HX]))
    unmatched = [u for u in demo_result["unmatched"] if scenes[u["scene"]].coordinator == HX]
    assert unmatched
    for u in unmatched:
        assert squeeze(scenes[u["scene"]].name) in text
    assert "未能组建联合体" in text
    # the reason, in Chinese, with organisation names instead of ids
    assert "已满负荷" in text and "every eligible" not in text
    assert not re.search(r"\bO\d{3}\b", text)


def test_concentration_risk_is_flagged(demo_pdfs, demo_result):
    catalogue = demo_catalogue()
    orgs, scenes = catalogue.org_by_id(), catalogue.scene_by_id()
    mine = [c for c in demo_result["consortia"] if scenes[c["scene"]].coordinator == HX]
    counts: dict[str, int] = {}
    for c in mine:
        for org in {m["org"] for m in c["members"] if m["role"] != Role.USER_UNIT}:
            counts[org] = counts.get(org, 0) + 1
    risky = [o for o, k in counts.items() if k / len(mine) > 0.25]
    assert risky, "the demo SOE plan has suppliers in more than a quarter of its consortia"

    text = "".join(page_texts(demo_pdfs[HX]))
    section = text[text.rindex("五、集中度风险"):text.rindex("六、未组建联合体")]
    assert f"发现{len(risky)}个组织的参与比例超过25%" in section
    for org in risky:
        name = orgs[org].name
        row = section[section.index(name):]
        assert row.startswith(name) and f"{counts[org]}/{len(mine)}" in row[:80]
        assert "风险" in row[:100]


# -- plans that are not compliant ---------------------------------------------------------

def test_plan_that_breaks_its_rule_shows_the_shortfalls(tmp_path):
    from matching.engine import MatchParams, match

    demo = demo_catalogue()
    plans = tuple(dataclasses.replace(p, min_scenes=20) if p.coordinator == HX else p
                  for p in demo.plans)
    catalogue = dataclasses.replace(demo, plans=plans)
    result = match(catalogue, MatchParams(time_limit=20, workers=1)).to_dict()
    entry = next(p for p in result["plans"] if p["coordinator"] == HX)
    assert not entry["compliant"] and entry["why"]

    path = tmp_path / "hx.pdf"
    write_plan_summary(context(result, catalogue), HX, path)
    text = "".join(page_texts(path))
    assert "结论：本方案不符合方案规则" in text
    assert "还差5个场景（15/20）" in text  # the plan rule's shortfall
    assert "匹配成功的场景还差" in text
    assert "匹配运行给出的原因" in text and "规则要求20个" in text
    assert "不符合" in text


# -- user text, odd inputs ----------------------------------------------------------------

def test_markup_ampersand_and_emoji_in_user_text(tmp_path, demo_result):
    demo = demo_catalogue()
    scene = next(s for s in demo.scenes if s.coordinator == ZJ)
    consortium = next(c for c in demo_result["consortia"] if c["scene"] == scene.id)
    lead = next(m["org"] for c in [consortium] for m in c["members"]
                if m["role"] in (Role.MAKER, Role.SERVICE_PROVIDER))
    catalogue = dataclasses.replace(
        demo,
        scenes=tuple(dataclasses.replace(s, name=HOSTILE, category="A&B<i>") if s.id == scene.id
                     else s for s in demo.scenes),
        organizations=tuple(dataclasses.replace(o, name="星&衡 <robot> 机器人") if o.id == lead
                            else o for o in demo.organizations),
        name="目录 <script>&amp; 🤖",
    )
    path = tmp_path / "hostile.pdf"
    write_plan_summary(context(demo_result, catalogue), ZJ, path)
    text = "".join(page_texts(path))
    assert squeeze(HOSTILE.replace("🤖", "□")) in text
    assert "A&B<i>" in text
    assert "星&衡<robot>机器人" in text
    assert "目录<script>&amp;□" in text  # the running header and the cover
    assert "🤖" not in text
    assert_fonts_embedded(path)


def test_coordinator_name_with_markup_and_slashes(tmp_path, demo_result):
    demo = demo_catalogue()
    odd = "示范<b>单位</b> & A/B 🤖"
    catalogue = dataclasses.replace(demo, scenes=tuple(
        dataclasses.replace(s, coordinator=odd) if s.coordinator == ZJ else s
        for s in demo.scenes))
    name = plan_summary_filename(odd)
    assert "/" not in name and "<" not in name and name.endswith(".pdf")
    path = tmp_path / name
    write_plan_summary(context(demo_result, catalogue), odd, path)
    text = "".join(page_texts(path))
    assert squeeze(odd.replace("🤖", "□")) in text
    # not a province: the central-SOE default rule applies
    assert "默认规则" in text


def test_unknown_coordinator_raises(tmp_path, demo_result):
    ctx = context(demo_result)
    path = tmp_path / "x.pdf"
    with pytest.raises(ValueError, match="没有组织单位.*unknown coordinator"):
        write_plan_summary(ctx, "火星省", path)
    assert not path.exists()
    with pytest.raises(ValueError, match="火星省"):
        plan_summary_story(ctx, "火星省")


def test_without_a_match_result(tmp_path):
    buffer = io.BytesIO()
    write_plan_summary(context(None), ZJ, buffer)
    pages = page_texts(buffer.getvalue())
    text = "".join(pages)
    assert text.count("尚未运行匹配") >= 5  # cover and every section that needs consortia
    scenes = [s.name for s in demo_catalogue().scenes if s.coordinator == ZJ]
    assert all(squeeze(s) in text for s in scenes)  # the scene list is still there
    assert "312台" in text
    assert all(h in text for h in SECTIONS)
    assert 4 <= len(pages) <= 12


def test_run_that_did_not_cover_the_coordinator(tmp_path, demo_result):
    catalogue = demo_catalogue()
    scenes = catalogue.scene_by_id()
    only_zj = copy.deepcopy(demo_result)
    only_zj["consortia"] = [c for c in only_zj["consortia"]
                            if scenes[c["scene"]].coordinator == ZJ]
    only_zj["unmatched"] = [u for u in only_zj["unmatched"]
                            if scenes[u["scene"]].coordinator == ZJ]
    only_zj["plans"] = [p for p in only_zj["plans"] if p["coordinator"] == ZJ]
    only_zj["params"]["coordinator"] = ZJ
    path = tmp_path / "hx.pdf"
    write_plan_summary(context(only_zj, catalogue), HX, path)
    text = "".join(page_texts(path))
    assert "所选匹配运行未包含本组织单位的场景" in text
    assert "仅浙江省" in text  # the run's scope, in the parameters


@pytest.mark.parametrize(("coordinator", "expected"), [
    ("浙江省", "实训空间建设方案_浙江省.pdf"),
    ("华夏能源集团（虚构）", "实训空间建设方案_华夏能源集团（虚构）.pdf"),
    ('a/b\\c:d*e?f"g<h>i|j', "实训空间建设方案_a_b_c_d_e_f_g_h_i_j.pdf"),
    ("tab\there\x00\x1f", "实训空间建设方案_tab_here.pdf"),
    ("../..", "实训空间建设方案_未命名.pdf"),
    ("", "实训空间建设方案_未命名.pdf"),
])
def test_file_name_is_safe(coordinator, expected):
    assert plan_summary_filename(coordinator) == expected


# -- a 40-scene plan ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def plan_40() -> tuple[Catalogue, dict[str, Any]]:
    from core.generate import GenerateSpec, generate
    from matching.engine import MatchParams, match

    catalogue = generate(GenerateSpec(scenes=40, orgs=160, provinces=1, soes=0))
    assert len(catalogue.coordinators()) == 1
    return catalogue, match(catalogue, MatchParams(time_limit=20, workers=1)).to_dict()


def test_40_scene_plan_table_splits_across_pages(tmp_path, plan_40):
    # its speed (≤ 3 s) is watched by `make bench`, not asserted here
    catalogue, result = plan_40
    coordinator = catalogue.coordinators()[0]
    ctx = context(result, catalogue)
    path = tmp_path / "p40.pdf"
    write_plan_summary(ctx, coordinator, path)

    pages = page_texts(path)
    text = "".join(pages)
    assert all(squeeze(s.name) in text for s in catalogue.scenes)
    # the scene-and-consortium table runs over several pages, its header on each
    header = "序号场景单元类别用户单位牵头单位模型算法零部件科研院所适配度"
    assert sum(header in p for p in pages) >= 3
    assert len(result["unmatched"]) >= 1 and "未能组建联合体" in text
    assert_fonts_embedded(path)


# -- the charts ---------------------------------------------------------------------------

def strings(drawing: Any) -> list[String]:
    return [s for s in drawing.getContents() if isinstance(s, String)]


def test_bar_chart_keeps_long_labels_inside_and_in_the_report_font():
    items = [("一个非常非常长的牵头单位名称机器人科技股份有限公司（上海）", 80.0),
             ("短", 4.0), ("🤖 emoji", 0.0)]
    d = charts.bar_chart(items, 300, value_format=lambda v: f"{v:g} 台")
    texts = strings(d)
    assert {s.fontName for s in texts} == {pdf.FONT}
    assert d.initialFontName == pdf.FONT
    for s in texts:
        left = s.x - (charts.text_width(s.text) if s.textAnchor == "end" else 0)
        assert left >= -0.01 and left + charts.text_width(s.text) <= 300.01, s.text
    labels = [s.text for s in texts]
    assert any(t.endswith("…") for t in labels)  # the long name is cut, not clipped
    assert "80 台" in labels and "短" in labels and "□ emoji" in labels
    bars = sorted((r for r in d.getContents() if isinstance(r, Rect)
                   and r.fillColor == pdf.SERIES[0]), key=lambda r: -r.width)
    assert len(bars) == 2 and bars[0].width == pytest.approx(bars[1].width * 20)


def test_share_bar_shows_shares_and_a_legend():
    d = charts.share_bar([("工业", 16), ("服务", 9), ("特种", 5), ("其他", 0)], 400,
                         value_format=lambda v: f"{v:g} 个")
    labels = [s.text for s in strings(d)]
    assert "53%" in labels and "30%" in labels and "17%" in labels
    assert "工业  16 个（53%）" in labels and "其他  0 个（0%）" in labels
    assert {s.fontName for s in strings(d)} == {pdf.FONT}
    assert all(s.x <= 400 for s in strings(d))


def test_charts_without_data_say_so():
    for d in (charts.bar_chart([], 200), charts.share_bar([("工业", 0)], 200)):
        assert "（无数据）" in [s.text for s in strings(d)]

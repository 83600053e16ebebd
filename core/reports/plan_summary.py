"""实训空间建设方案: one coordinator's plan summary as a PDF (reportlab; no Qt).

The document a province or central SOE hands in with its proposals: a cover page, a table of
contents, then

1. the plan against its rule (scenes and fields required, in the plan, matched),
2. the scenes by field and by category (charts and tables),
3. every scene with its consortium in one table,
4. the robots planned, in total and by lead,
5. concentration risks (organisations in many of the plan's consortia),
6. the unmatched scenes and why,
7. the run's parameters, status, objective, bound and gap.

Everything comes from a :class:`~core.reports.context.ReportContext`; without a match result
the document still builds, with "尚未运行匹配" where the consortia would be.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    HRFlowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    Spacer,
)

from core.filenames import bounded_filename, safe_filename_part
from core.model import LEAD_ROLES, Field, Role, Scene
from core.plan_rules import PlanStatus, plan_status
from core.reports import charts, pdf
from core.reports.context import ReportContext, label, slot_label, term_label

TITLE = "实训空间建设方案"
PROGRAMME = "人形机器人与具身智能实景实训专项行动"
NO_RUN = "尚未运行匹配：本节内容将在运行匹配后生成。"
NOT_IN_RUN = "所选匹配运行未包含本组织单位的场景：本节内容需在包含本组织单位的运行后生成。"
WIDTH = pdf.CONTENT_WIDTH  # the frame has no padding: this is the width a flowable gets
# An organisation in more than this share of the plan's consortia is a concentration risk.
RISK_SHARE = 0.25

WEIGHT_LABELS = {
    "concentration_share": "单一组织占联合体比例上限",
    "concentration_penalty": "集中度惩罚（每超出一个联合体）",
    "lead_share": "单一牵头单位占比上限",
    "lead_penalty": "牵头集中惩罚（每超出一个联合体）",
    "change_penalty": "重新匹配变更惩罚（每项变更）",
}
SHARE_WEIGHTS = ("concentration_share", "lead_share")
_ID = re.compile(r"(?<![A-Za-z0-9_\-])[A-Za-z0-9_\-]+(?![A-Za-z0-9_\-])")
_COMPONENT_SLOT = re.compile(r"component:([^\s，。；、,;/（）()]+)")


# -- file name -------------------------------------------------------------------

def plan_summary_filename(coordinator: str) -> str:
    """``实训空间建设方案_<coordinator>.pdf`` with characters no file system accepts
    (``/ \\ : * ? " < > |``, control characters) replaced by "_"."""
    return bounded_filename(f"{TITLE}_{safe_filename_part(coordinator, 80) or '未命名'}", ".pdf")


# -- entry points ----------------------------------------------------------------

def write_plan_summary(ctx: ReportContext, coordinator: str, target: Path | BinaryIO) -> None:
    """Write ``coordinator``'s plan summary to ``target`` (a path or a binary file).

    ``ValueError`` when the catalogue has no such coordinator.
    """
    story = plan_summary_story(ctx, coordinator)
    info = ctx.info(f"{TITLE} · {coordinator}", subject=f"{TITLE}（{coordinator}）")
    pdf.build(target, info, story, cover=True, with_toc=True)


def plan_summary_story(ctx: ReportContext, coordinator: str) -> list[Flowable]:
    """The flowables of ``coordinator``'s plan summary: cover, contents and the seven
    sections (for :func:`core.reports.pdf.build` with ``cover=True, with_toc=True``).

    ``ValueError`` when the catalogue has no such coordinator.
    """
    known = ctx.catalogue.coordinators()
    if coordinator not in known:
        raise ValueError(f"目录中没有组织单位“{coordinator}” / unknown coordinator "
                         f"{coordinator!r} (known: {'、'.join(known) or '—'})")
    plan = _Plan.of(ctx, coordinator)
    story: list[Flowable] = []
    story += _cover(ctx, plan)
    story += _contents()
    story += _compliance(plan)
    figures = _Figures()
    story += _composition(plan, figures)
    story += _scene_table(plan)
    story += _robots(plan, figures)
    story += _concentration(plan)
    story += _unmatched(plan)
    story += _run(plan)
    return story


# -- the facts -------------------------------------------------------------------

@dataclass(frozen=True)
class _Plan:
    """One coordinator's plan and what the run made of it."""

    ctx: ReportContext
    coordinator: str
    status: PlanStatus
    scenes: tuple[Scene, ...]  # in the plan (or matched), catalogue order
    consortia: dict[str, dict[str, Any]]  # scene id -> consortium, this plan's only
    unmatched: dict[str, str]  # scene id -> reason
    entry: dict[str, Any] | None  # the run's plans entry

    @classmethod
    def of(cls, ctx: ReportContext, coordinator: str) -> _Plan:
        consortia = {c["scene"]: c for c in ctx.consortia(coordinator)}
        scenes = tuple(s for s in ctx.coordinator_scenes(coordinator)
                       if s.in_plan or s.id in consortia)
        unmatched = {u["scene"]: str(u.get("reason", "")) for u in ctx.unmatched(coordinator)}
        return cls(ctx, coordinator, plan_status(ctx.catalogue, coordinator), scenes,
                   consortia, unmatched, ctx.plan_entry(coordinator))

    @property
    def ran(self) -> bool:
        """The context holds a match result."""
        return self.ctx.result is not None

    @property
    def covered(self) -> bool:
        """The result covers this coordinator's scenes."""
        return self.ran and bool(self.entry or self.consortia or self.unmatched)

    def note_if_no_run(self) -> list[Flowable]:
        """The "not matched yet" note for a section that needs consortia (empty if it can
        be written)."""
        if not self.ran:
            return [_note_box(NO_RUN)]
        if not self.covered:
            return [_note_box(NOT_IN_RUN)]
        return []

    @property
    def matched(self) -> list[Scene]:
        """The plan's scenes that have a consortium, catalogue order."""
        return [s for s in self.scenes if s.id in self.consortia]

    def members(self, scene_id: str) -> _Members:
        """The consortium of ``scene_id`` by role."""
        return _Members.of(self.ctx, self.consortia[scene_id])


@dataclass(frozen=True)
class _Members:
    lead: str | None
    lead_role: str
    algorithm: list[str]
    institute: list[str]
    components: list[tuple[str, str]]  # (category, org id)

    @classmethod
    def of(cls, ctx: ReportContext, consortium: dict[str, Any]) -> _Members:
        lead = ctx.lead_of(consortium)
        lead_role = ""
        algorithm: list[str] = []
        institute: list[str] = []
        components: list[tuple[str, str]] = []
        for m in consortium.get("members", []):
            role, org = m.get("role"), str(m.get("org"))
            if org == lead and role in (Role.MAKER.value, Role.SERVICE_PROVIDER.value):
                lead_role = role
            elif role == Role.ALGORITHM.value:
                algorithm.append(org)
            elif role == Role.INSTITUTE.value:
                institute.append(org)
            elif role == Role.COMPONENT.value:
                components.append((str(m.get("category") or ""), org))
        return cls(lead, lead_role, algorithm, institute, components)


# -- styles and small pieces ---------------------------------------------------------

@cache
def _style(name: str) -> ParagraphStyle:
    s = pdf.styles()
    table = {
        "programme": ParagraphStyle("PlanProgramme", parent=s.subtitle, fontSize=11, leading=16,
                                    textColor=pdf.MUTED),
        "cover_title": ParagraphStyle("PlanCoverTitle", parent=s.title, fontSize=30, leading=40,
                                      textColor=pdf.ACCENT, spaceAfter=4 * mm),
        "cover_name": ParagraphStyle("PlanCoverName", parent=s.subtitle, fontSize=17, leading=24,
                                     textColor=pdf.INK),
        "contents": ParagraphStyle("PlanContents", parent=s.h1, alignment=TA_CENTER,
                                   spaceBefore=0, spaceAfter=6 * mm),
        "cell": ParagraphStyle("PlanCell", parent=s.cell, fontSize=7.5, leading=9.8),
        "cell_num": ParagraphStyle("PlanCellNum", parent=s.cell, fontSize=7.5, leading=9.8,
                                   alignment=TA_RIGHT),
        "cell_head": ParagraphStyle("PlanCellHead", parent=s.cell_head, fontSize=7.5,
                                    leading=9.8),
        "centre": ParagraphStyle("PlanCentre", parent=s.cell, alignment=TA_CENTER),
        "num": ParagraphStyle("PlanNum", parent=s.cell, alignment=TA_RIGHT),
        "caption": ParagraphStyle("PlanCaption", parent=s.small, alignment=TA_CENTER,
                                  spaceBefore=1 * mm, spaceAfter=3 * mm),
        "verdict": ParagraphStyle("PlanVerdict", parent=s.body, fontSize=11.5, leading=17,
                                  spaceBefore=2 * mm),
        "bullet": ParagraphStyle("PlanBullet", parent=s.body, leftIndent=5 * mm,
                                 bulletIndent=1 * mm, spaceAfter=0.8 * mm),
        "box": ParagraphStyle("PlanBox", parent=s.body, textColor=pdf.MUTED, spaceAfter=0),
    }
    return table[name]


def _hex(color: Any) -> str:
    return str(color.hexval()).replace("0x", "#")


def _coloured(text: str, color: Any) -> str:
    """``text`` (the code's own words) in ``color``, as markup."""
    return f'<font color="{_hex(color)}">{pdf.esc(text)}</font>'


def _note_box(text: str) -> Flowable:
    """A shaded box holding a notice (as wide as the tables)."""
    box = pdf.table([[pdf.para(text, _style("box"))]], [WIDTH], header=False, zebra=False,
                     extra=[("BACKGROUND", (0, 0), (-1, -1), pdf.HEAD_BG),
                            ("BOX", (0, 0), (-1, -1), 0.6, pdf.RULE),
                            ("TOPPADDING", (0, 0), (-1, -1), 6),
                            ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
                            ("LEFTPADDING", (0, 0), (-1, -1), 8)])
    box.spaceBefore = box.spaceAfter = 3 * mm
    return box


def _bullets(lines: Sequence[str]) -> list[Flowable]:
    return [pdf.markup(pdf.esc(line), _style("bullet")) for line in lines]


def _cols(*shares: float) -> list[float]:
    """Column widths in the given proportions, filling :data:`WIDTH`."""
    total = sum(shares)
    return [WIDTH * share / total for share in shares]


def _heading(text: str, level: int) -> Flowable:
    """A heading (in the contents) that never ends a page: it stays with what follows."""
    h = pdf.heading(text, level)
    h.keepWithNext = True
    return h


def _key_values(pairs: Sequence[tuple[str, object]], label_width: float) -> Flowable:
    """Label/value rows (labels are the code's words, values may be user text)."""
    return pdf.table(list(pairs), [label_width, WIDTH - label_width], header=False, zebra=False,
                     extra=[("BACKGROUND", (0, 0), (0, -1), pdf.HEAD_BG)])


def _num(value: object, style: str = "num") -> Paragraph:
    return pdf.markup(pdf.esc(value), _style(style))


def _percent(part: float, whole: float) -> str:
    return f"{part / whole:.1%}" if whole else "—"


def _caption(text: str) -> Paragraph:
    return pdf.para(text, _style("caption"))


def _field_label(value: str) -> str:
    return label("fields", value)


def _field_order(values: Sequence[str]) -> list[str]:
    known = [f.value for f in Field]
    return sorted(set(values), key=lambda v: (known.index(v) if v in known else len(known), v))


class _Figures:
    """Numbers the figures ("图 1") in document order."""

    def __init__(self) -> None:
        self.figure = 0

    def fig(self, text: str) -> Paragraph:
        self.figure += 1
        return _caption(f"图 {self.figure}  {text}")


# -- cover and contents ---------------------------------------------------------------

def _cover(ctx: ReportContext, plan: _Plan) -> list[Flowable]:
    rule = plan.status.rule
    kind = label("plan_kinds", rule.kind.value)
    if ctx.result is None:
        run = "尚未运行匹配"
    else:
        run = f"第 {ctx.run_id} 次运行" if ctx.run_id is not None else "未保存的运行"
        if ctx.run_created:
            run += f"（{ctx.run_created[:19].replace('T', ' ')}）"
    facts = [
        ("组织单位", plan.coordinator),
        ("方案类型", kind),
        ("场景目录", ctx.catalogue_name or ctx.catalogue.name or "—"),
        ("匹配运行", run),
        ("编制日期", f"{ctx.date.year} 年 {ctx.date.month} 月 {ctx.date.day} 日"),
    ]
    width = 110 * mm
    cover_table = pdf.table([(k, v) for k, v in facts], [28 * mm, width - 28 * mm],
                            header=False, zebra=False,
                            extra=[("BACKGROUND", (0, 0), (0, -1), pdf.HEAD_BG),
                                   ("TOPPADDING", (0, 0), (-1, -1), 4),
                                   ("BOTTOMPADDING", (0, 0), (-1, -1), 4)])
    cover_table.hAlign = "CENTER"
    return [
        Spacer(1, 38 * mm),
        pdf.para(PROGRAMME, _style("programme")),
        Spacer(1, 8 * mm),
        pdf.para(TITLE, _style("cover_title")),
        pdf.para(plan.coordinator, _style("cover_name")),
        Spacer(1, 6 * mm),
        HRFlowable(width="40%", thickness=1.2, color=pdf.ACCENT, hAlign="CENTER"),
        Spacer(1, 70 * mm),
        cover_table,
        Spacer(1, 8 * mm),
        pdf.para("本文件由 SceneMatch 根据场景目录和匹配运行结果生成。", _style("caption")),
        PageBreak(),
    ]


def _contents() -> list[Flowable]:
    return [pdf.para("目  录", _style("contents")), pdf.toc(), PageBreak()]


# -- 1. compliance ------------------------------------------------------------------

def _compliance(plan: _Plan) -> list[Flowable]:
    st = plan.status
    rule = st.rule
    fields_plan = list(st.fields)
    matched = plan.matched
    fields_matched = _field_order([s.field.value for s in matched])

    def names(values: Sequence[str]) -> str:
        return "、".join(_field_label(f) for f in _field_order(values)) or "无"

    kind = label("plan_kinds", rule.kind.value)
    intro = (f"{plan.coordinator}（{kind}）本方案纳入场景 {st.scenes} 个，覆盖{names(fields_plan)}"
             f" {len(fields_plan)} 个领域，计划部署机器人 {st.robots} 台。")
    if plan.covered:
        intro += (f"匹配运行为其中 {len(matched)} 个场景组建了创新应用联合体，"
                  f"{len(plan.unmatched)} 个场景未能组建。")
    elif plan.ran:
        intro += "所选匹配运行未包含本组织单位的场景。"
    else:
        intro += "尚未运行匹配。"
    if st.excluded:
        intro += f"另有 {st.excluded} 个场景已排除在方案之外，不计入。"
    if st.required:
        intro += f"其中 {st.required} 个场景为必选。"

    def verdict(ok: bool) -> str:
        return _coloured("符合" if ok else "不符合", pdf.GOOD if ok else pdf.BAD)

    ok_scenes_plan = st.missing_scenes == 0
    ok_fields_plan = st.missing_fields == 0
    ok_scenes_run = len(matched) >= rule.min_scenes
    ok_fields_run = len(fields_matched) >= rule.min_fields
    run = plan.covered
    robots_matched = sum(s.robots for s in matched)
    # Markup rows: every value below is the code's own words or numbers, escaped anyway.
    grid: list[list[str]] = [
        ["指标", "规则要求", "方案纳入", *(["匹配成功"] if run else []), "结论"],
        ["场景单元数", f"≥ {rule.min_scenes} 个", f"{st.scenes} 个",
         *([f"{len(matched)} 个"] if run else []),
         verdict(ok_scenes_plan and (not run or ok_scenes_run))],
        ["覆盖领域数", f"≥ {rule.min_fields} 个", f"{len(fields_plan)} 个（{names(fields_plan)}）",
         *([f"{len(fields_matched)} 个（{names(fields_matched)}）"] if run else []),
         verdict(ok_fields_plan and (not run or ok_fields_run))],
        ["计划部署机器人", "—", f"{st.robots} 台", *([f"{robots_matched} 台"] if run else []), "—"],
    ]
    centre = _style("centre")
    rows = [[pdf.markup(text if c == len(row) - 1 and r else pdf.esc(text),
                        pdf.styles().cell_head if r == 0 else (centre if c else pdf.styles().cell))
             for c, text in enumerate(row)] for r, row in enumerate(grid)]
    widths = _cols(28, 22, 50, 50, 20) if run else _cols(30, 26, 60, 24)

    compliant = st.compliant and (not plan.covered or (ok_scenes_run and ok_fields_run))
    if compliant:
        text = "结论：本方案符合方案规则。"
    else:
        text = "结论：本方案不符合方案规则，需补充场景或调整匹配后再报送。"
    source = ("规则来源：默认规则（" + kind + "）" if st.default_rule else "规则来源：场景目录中的方案规则")
    story: list[Flowable] = [
        _heading("一、方案规则符合性", 1),
        pdf.para(intro),
        pdf.table(rows, widths),
        pdf.para(source + f"，要求至少 {rule.min_scenes} 个场景单元、覆盖至少 {rule.min_fields} 个领域。",
                 pdf.styles().note),
        pdf.markup(_coloured(text, pdf.GOOD if compliant else pdf.BAD), _style("verdict")),
    ]
    shortfalls = list(st.shortfalls("zh"))
    if plan.covered:
        if not ok_scenes_run:
            shortfalls.append(f"匹配成功的场景还差 {rule.min_scenes - len(matched)} 个"
                              f"（{len(matched)}/{rule.min_scenes}）")
        if not ok_fields_run:
            shortfalls.append(f"匹配成功的场景还需覆盖 {rule.min_fields - len(fields_matched)} 个领域"
                              f"（已有：{names(fields_matched)}）")
    why = [_readable(plan.ctx, line) for line in (plan.entry or {}).get("why", [])]
    if shortfalls:
        story.append(_heading("差距", 2))
        story += _bullets([f"• {line}" for line in shortfalls])
    if why:
        story.append(_heading("匹配运行给出的原因", 2))
        story += _bullets([f"• {line}" for line in why])
    return story


# -- 2. composition -----------------------------------------------------------------

def _composition(plan: _Plan, figures: _Figures) -> list[Flowable]:
    scenes = plan.scenes
    total = len(scenes)
    by_field: dict[str, list[Scene]] = defaultdict(list)
    for s in scenes:
        by_field[s.field.value].append(s)
    fields = _field_order([f.value for f in Field] + list(by_field))
    field_rows: list[list[object]] = [["领域", "场景数", "占比", "计划部署（台）", "已匹配"]]
    for f in fields:
        mine = by_field.get(f, [])
        field_rows.append([_field_label(f), _num(len(mine)), _num(_percent(len(mine), total)),
                           _num(sum(s.robots for s in mine)), _num(_matched_text(plan, mine))])
    field_rows.append(["合计", _num(total), _num("100%" if total else "—"),
                       _num(sum(s.robots for s in scenes)), _num(_matched_text(plan, scenes))])
    field_table = pdf.table(*_matched_column(plan, field_rows, [40, 30, 30, 40, 34]),
                            extra=[("BACKGROUND", (0, -1), (-1, -1), pdf.HEAD_BG)])

    share = charts.share_bar([(_field_label(f), len(by_field.get(f, []))) for f in fields],
                             WIDTH, value_format=lambda v: f"{v:g} 个")

    by_cat: dict[str, list[Scene]] = defaultdict(list)
    for s in scenes:
        by_cat[s.category].append(s)
    cats = sorted(by_cat, key=lambda c: (-len(by_cat[c]), _field_rank(by_cat[c][0]), c))
    bars = charts.bar_chart([(c, len(by_cat[c])) for c in cats], WIDTH * 0.9,
                            value_format=lambda v: f"{v:g} 个")
    bars.hAlign = "CENTER"
    cat_rows: list[list[object]] = [["场景类别", "领域", "场景数", "占比", "计划部署（台）", "已匹配"]]
    for c in cats:
        mine = by_cat[c]
        cat_rows.append([c, "、".join(_field_label(f) for f in
                                      _field_order([s.field.value for s in mine])),
                         _num(len(mine)), _num(_percent(len(mine), total)),
                         _num(sum(s.robots for s in mine)), _num(_matched_text(plan, mine))])
    cat_table = pdf.table(*_matched_column(plan, cat_rows, [44, 24, 24, 24, 30, 28]))

    story: list[Flowable] = [
        _heading("二、场景构成", 1),
        pdf.para(f"本方案共 {total} 个场景单元，分布在 {len(by_field)} 个领域、"
                 f"{len(by_cat)} 个场景类别。"),
        KeepTogether([_heading("按领域", 2), share, figures.fig("场景单元按领域分布"),
                      field_table]),
    ]
    if cats:
        story += [KeepTogether([_heading("按场景类别", 2), bars,
                                figures.fig("场景单元按场景类别分布")]),
                  CondPageBreak(35 * mm), cat_table]
    else:
        story += [_heading("按场景类别", 2), pdf.para("本方案尚无场景单元。")]
    return story


def _matched_column(plan: _Plan, rows: list[list[object]], shares: list[float]
                    ) -> tuple[list[list[object]], list[float]]:
    """``rows`` and their widths, without the last ("已匹配") column when the run does not
    cover the plan."""
    if plan.covered:
        return rows, _cols(*shares)
    return [row[:-1] for row in rows], _cols(*shares[:-1])


def _field_rank(scene: Scene) -> int:
    return list(Field).index(scene.field)


def _matched_text(plan: _Plan, scenes: Sequence[Scene]) -> str:
    if not plan.covered:
        return "—"
    return f"{sum(s.id in plan.consortia for s in scenes)} / {len(scenes)}"


# -- 3. scenes and consortia --------------------------------------------------------

def _scene_table(plan: _Plan) -> list[Flowable]:
    story: list[Flowable] = [_heading("三、场景单元与创新应用联合体", 1)]
    if not plan.scenes:
        return [*story, pdf.para("本方案尚无场景单元。")]
    ctx = plan.ctx
    cell = _style("cell")
    head_style = _style("cell_head")

    def c(value: object) -> Paragraph:
        return pdf.markup(pdf.esc(value), cell)

    def orgs(ids: Sequence[str]) -> Paragraph:
        return pdf.markup("<br/>".join(pdf.esc(ctx.org_name(o)) for o in ids) or "—", cell)

    covered = plan.covered
    if covered:
        head = ["序号", "场景单元", "类别", "用户单位", "牵头单位", "模型算法", "零部件",
                "科研院所", "适配度"]
        widths = _cols(8, 28, 14.5, 22, 22, 20, 30.5, 18, 11)
        story.append(pdf.para(
            "下表按领域列出本方案的全部场景单元及匹配组建的创新应用联合体（用户单位、牵头整机企业"
            "或应用服务商、模型算法企业、零部件企业和科研院所）；适配度为各项得分之和，"
            "分项见各联合体组建方案。"))
    else:
        head = ["序号", "场景单元", "类别", "用户单位", "所在地", "计划台数", "联合体"]
        widths = _cols(8, 40, 16, 36, 20, 16, 24)
        story += plan.note_if_no_run()
    muted = _hex(pdf.MUTED)
    rows: list[list[object]] = [[pdf.markup(h, head_style) for h in head]]
    extra: list[tuple[Any, ...]] = []
    groups: list[int] = []
    by_field: dict[str, list[Scene]] = defaultdict(list)
    for s in plan.scenes:
        by_field[s.field.value].append(s)
    n = 0
    for f in _field_order(list(by_field)):
        groups.append(len(rows))
        rows.append([pdf.markup(f"{pdf.esc(_field_label(f))}领域（{len(by_field[f])} 个）",
                                head_style)] + [""] * (len(head) - 1))
        for s in by_field[f]:
            n += 1
            name = pdf.markup(f'{pdf.esc(s.name)}<br/><font size="6.5" color="{muted}">'
                              f"{pdf.esc(s.id)}</font>", cell)
            row: list[object] = [_num(n, "cell_num"), name, c(s.category),
                                 c(ctx.org_name(s.owner))]
            if not covered:
                row += [c(" ".join(p for p in (s.province, s.city) if p) or "—"),
                        _num(s.robots, "cell_num"),
                        c("尚未运行匹配" if not plan.ran else "未参与所选运行")]
            elif s.id in plan.consortia:
                m = plan.members(s.id)
                comps = "<br/>".join(f"{pdf.esc(cat)}：{pdf.esc(ctx.org_name(o))}" if cat
                                     else pdf.esc(ctx.org_name(o)) for cat, o in m.components)
                fit = plan.consortia[s.id].get("fit")
                row += [orgs([m.lead] if m.lead else []), orgs(m.algorithm),
                        pdf.markup(comps or "—", cell), orgs(m.institute),
                        _num(f"{fit:.1f}" if isinstance(fit, int | float) else "—", "cell_num")]
            else:
                text = (_coloured("未能组建联合体（原因见第六节）", pdf.BAD)
                        if s.id in plan.unmatched else pdf.esc("未参与本次运行（运行之后加入方案）"))
                row += [pdf.markup(text, cell), "", "", "", ""]
                extra.append(("SPAN", (4, len(rows)), (-1, len(rows))))
            rows.append(row)
    for r in groups:
        extra += [("SPAN", (0, r), (-1, r)), ("BACKGROUND", (0, r), (-1, r), pdf.HEAD_BG)]
    zebra = [("BACKGROUND", (0, r), (-1, r), colors.HexColor("#f8f9fa"))
             for r in range(1, len(rows)) if r % 2 == 0 and r not in groups]
    story.append(pdf.table(rows, widths, zebra=False, extra=[*zebra, *extra]))
    return story


# -- 4. robots ------------------------------------------------------------------------

def _robots(plan: _Plan, figures: _Figures) -> list[Flowable]:
    st = plan.status
    ctx = plan.ctx
    deployed = sum(s.robots_deployed for s in plan.scenes)
    story: list[Flowable] = [_heading("四、机器人部署计划", 1)]
    facts: list[tuple[str, object]] = [("方案计划部署", f"{st.robots} 台（{st.scenes} 个场景单元）")]
    if plan.covered:
        matched = plan.matched
        robots_matched = sum(s.robots for s in matched)
        facts.append(("已组建联合体的场景", f"{robots_matched} 台（{len(matched)} 个场景单元）"))
        facts.append(("未组建联合体的场景", f"{st.robots - robots_matched} 台"))
    facts.append(("目前已部署", f"{deployed} 台"))
    story.append(_key_values(facts, 40 * mm))
    blocked = plan.note_if_no_run()
    if blocked:
        return story + blocked

    by_lead: dict[str, list[Scene]] = defaultdict(list)
    roles: dict[str, str] = {}
    for s in plan.matched:
        m = plan.members(s.id)
        key = m.lead or "—"
        by_lead[key].append(s)
        roles[key] = m.lead_role
    leads = sorted(by_lead, key=lambda o: (-sum(s.robots for s in by_lead[o]), ctx.org_name(o)))
    if not leads:
        return story + [_heading("按牵头单位", 2), pdf.para("没有组建联合体，暂无牵头单位。")]
    bars = charts.bar_chart([(ctx.org_name(o), sum(s.robots for s in by_lead[o])) for o in leads],
                            WIDTH * 0.9, value_format=lambda v: f"{v:g} 台",
                            color=pdf.SERIES[2])
    bars.hAlign = "CENTER"
    rows: list[list[object]] = [["牵头单位", "类型", "牵头联合体", "计划部署（台）", "占比",
                                 "年交付能力（台）"]]
    total = sum(s.robots for s in plan.matched)
    for o in leads:
        robots = sum(s.robots for s in by_lead[o])
        org = ctx.orgs.get(o)
        capacity = org.robot_capacity if org and org.robot_capacity else "—"
        rows.append([ctx.org_name(o), label("roles", roles.get(o) or "") or "—",
                     _num(len(by_lead[o])), _num(robots), _num(_percent(robots, total)),
                     _num(capacity)])
    rows.append(["合计", "", _num(sum(len(v) for v in by_lead.values())), _num(total),
                 _num("100%"), ""])
    story += [KeepTogether([_heading("按牵头单位", 2), bars,
                            figures.fig("计划部署机器人按牵头单位分布")]),
              pdf.table(rows, _cols(56, 24, 22, 26, 18, 28),
                        extra=[("BACKGROUND", (0, -1), (-1, -1), pdf.HEAD_BG)]),
              pdf.para("年交付能力为牵头单位在目录中填报的本年度可交付整机数量，"
                       "其他组织单位方案中的联合体也占用这一能力。", pdf.styles().note)]
    return story


# -- 5. concentration -------------------------------------------------------------------

def _concentration(plan: _Plan) -> list[Flowable]:
    story: list[Flowable] = [_heading("五、集中度风险", 1)]
    blocked = plan.note_if_no_run()
    if blocked:
        return story + blocked
    ctx = plan.ctx
    n = len(plan.consortia)
    if not n:
        return story + [pdf.para("没有组建联合体，无集中度风险可评估。")]
    seen: Counter[str] = Counter()
    roles: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for c in plan.consortia.values():
        orgs = set()
        for m in c.get("members", []):
            if m.get("role") == Role.USER_UNIT.value:
                continue
            org = str(m.get("org"))
            orgs.add(org)
            categories = roles[org][str(m.get("role"))]
            if m.get("category"):
                categories.add(str(m["category"]))
        seen.update(orgs)
    limits = _share_limits(ctx)
    ranked = sorted((o for o, k in seen.items() if k >= 2), key=lambda o: (-seen[o], ctx.org_name(o)))
    risky = [o for o in ranked if seen[o] / n > RISK_SHARE]
    story.append(pdf.para(
        f"本方案共 {n} 个联合体。同一组织（不含用户单位）参与超过 {RISK_SHARE:.0%} 的联合体，"
        "即视为集中度风险：该组织一旦交付受阻，将同时影响多个场景。"))
    if risky:
        story.append(pdf.markup(_coloured(
            f"发现 {len(risky)} 个组织的参与比例超过 {RISK_SHARE:.0%}，建议引入备选单位分散风险。",
            pdf.BAD), pdf.styles().body))
    else:
        story.append(pdf.markup(_coloured(
            f"没有组织的参与比例超过 {RISK_SHARE:.0%}。", pdf.GOOD), pdf.styles().body))
    if not ranked:
        story.append(pdf.para("每个组织至多参与一个联合体。"))
        return story
    rows: list[list[object]] = [["组织", "在联合体中的角色", "参与联合体", "占比", "评估"]]
    for o in ranked[:12]:
        share = seen[o] / n
        is_lead = any(r.value in roles[o] for r in LEAD_ROLES)
        limit = limits["lead_share" if is_lead else "concentration_share"]
        if share > RISK_SHARE:
            verdict = _coloured("风险", pdf.BAD)
            if limit is not None and share > limit:
                verdict += pdf.esc(f"（超过运行设定上限 {limit:.0%}）")
        else:
            verdict = pdf.esc("正常")
        rows.append([ctx.org_name(o), _roles_text(roles[o]), _num(f"{seen[o]} / {n}"),
                     _num(f"{share:.0%}"), pdf.markup(verdict, pdf.styles().cell)])
    story.append(pdf.table(rows, _cols(48, 46, 20, 14, 42)))
    note = "表中列出参与两个及以上联合体的组织"
    if len(ranked) > 12:
        note += f"中参与最多的 12 个（共 {len(ranked)} 个）"
    story.append(pdf.para(note + "。运行设定上限即匹配时对集中度施加惩罚的比例，见第七节。",
                          pdf.styles().note))
    return story


def _roles_text(roles: dict[str, set[str]]) -> str:
    """"零部件企业（减速器、控制器）、模型算法企业" for an organisation's roles in a plan."""
    order = [r.value for r in Role]
    out = []
    for role in sorted(roles, key=lambda r: order.index(r) if r in order else len(order)):
        text = label("roles", role)
        if roles[role]:
            text += "（" + "、".join(sorted(roles[role])) + "）"
        out.append(text)
    return "、".join(out)


def _share_limits(ctx: ReportContext) -> dict[str, float | None]:
    weights = ((ctx.result or {}).get("params") or {}).get("weights") or {}
    out: dict[str, float | None] = {}
    for key in SHARE_WEIGHTS:
        value = weights.get(key)
        out[key] = float(value) if isinstance(value, int | float) else None
    return out


# -- 6. unmatched ---------------------------------------------------------------------

def _unmatched(plan: _Plan) -> list[Flowable]:
    story: list[Flowable] = [_heading("六、未组建联合体的场景及原因", 1)]
    blocked = plan.note_if_no_run()
    if blocked:
        return story + blocked
    ctx = plan.ctx
    scenes = [s for s in plan.scenes if s.id in plan.unmatched]
    others = [s for s in plan.scenes if s.id not in plan.unmatched and s.id not in plan.consortia]
    if not scenes and not others:
        return story + [pdf.markup(_coloured("本方案的全部场景单元均已组建创新应用联合体。",
                                             pdf.GOOD), pdf.styles().body)]
    story.append(pdf.para(f"{len(scenes)} 个场景单元未能组建联合体。原因由匹配运行给出，"
                          "可据此补充组织、调整能力要求或放宽条件后重新匹配。"))
    rows: list[list[object]] = [["场景单元", "类别", "用户单位", "计划台数", "原因"]]
    for s in scenes:
        name = pdf.markup(f'{pdf.esc(s.name)}<br/><font size="7" color="{_hex(pdf.MUTED)}">'
                          f"{pdf.esc(s.id)}</font>", pdf.styles().cell)
        rows.append([name, s.category, ctx.org_name(s.owner), _num(s.robots),
                     _readable(ctx, plan.unmatched[s.id])])
    if scenes:
        story.append(pdf.table(rows, _cols(36, 18, 30, 18, 72)))
    if others:
        story.append(pdf.para(
            f"另有 {len(others)} 个场景单元未参与本次运行（运行之后加入方案）："
            + "、".join(s.name for s in others) + "。", pdf.styles().note))
    return story


def _readable(ctx: ReportContext, reason: str) -> str:
    """The Chinese half of the result's bilingual reason ("中文 / English" parts joined by
    "；"), with organisation ids and slot keys replaced by names."""
    parts = []
    for part in str(reason).split("；"):
        zh, sep, _en = part.partition(" / ")
        parts.append(zh.strip() if sep and _has_cjk(zh) else part.strip())

    def name(m: re.Match[str]) -> str:
        token = m.group(0)
        if token in ctx.orgs:
            return ctx.org_name(token)
        if token in ctx.scenes:
            return f"{ctx.scenes[token].name}（{token}）"
        if token in ("lead", "algorithm", "institute"):
            return slot_label(token)
        return token

    def component(m: re.Match[str]) -> str:
        return slot_label(m.group(0))

    return "；".join(_ID.sub(name, _COMPONENT_SLOT.sub(component, p)) for p in parts if p)


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


# -- 7. the run -------------------------------------------------------------------------

def _run(plan: _Plan) -> list[Flowable]:
    story: list[Flowable] = [_heading("七、匹配运行参数与求解质量", 1)]
    ctx = plan.ctx
    result = ctx.result
    if result is None:
        return story + [_note_box(NO_RUN)]
    params = result.get("params") or {}
    status = str(result.get("status", "unknown"))
    scope = params.get("coordinator")

    def number(key: str, fmt: str = "{:,.1f}") -> str:
        value = result.get(key)
        return fmt.format(value) if isinstance(value, int | float) else "—"

    gap = result.get("gap")
    facts: list[tuple[str, object]] = [
        ("运行编号", f"第 {ctx.run_id} 次运行" if ctx.run_id is not None else "未保存"),
        ("运行时间", ctx.run_created[:19].replace("T", " ") if ctx.run_created else "—"),
        ("运行范围", f"仅{scope}" if scope else "全部组织单位"),
        ("求解状态", f"{label('run_statuses', status)}（{status}）"),
        ("总适配度（目标值）", number("objective")),
        ("上界", number("bound")),
        ("差距", f"{gap:.2%}" if isinstance(gap, int | float) else "—"),
        ("匹配优先级", f"{number('matched_priority', '{:g}')}"
                      f"（上界 {number('matched_priority_bound', '{:g}')}）"),
        ("求解用时", number("seconds", "{:.1f} 秒")),
        ("时间限制", f"{params['time_limit']:g} 秒"
         if isinstance(params.get("time_limit"), int | float) else "—"),
    ]
    if plan.covered:
        fit = sum(float(c.get("fit") or 0) for c in plan.consortia.values())
        facts.insert(5, ("本方案适配度", f"{fit:,.1f}（{len(plan.consortia)} 个联合体之和）"))
    story += [
        pdf.para("匹配先使有优先级的场景尽可能多地组建联合体，再使总适配度最高；"
                 "上界是任何方案都无法超过的值，差距为目标值与上界的相对差，"
                 "差距为 0 即已证明最优。"),
        _key_values(facts, 40 * mm),
    ]
    weights = params.get("weights") or {}
    if weights:
        cells: list[tuple[str, str]] = []
        for key, value in weights.items():
            name = WEIGHT_LABELS.get(key) or term_label(key)
            text = (f"{value:.0%}" if key in SHARE_WEIGHTS else f"{value:g}") \
                if isinstance(value, int | float) else str(value)
            cells.append((name, text))
        half = (len(cells) + 1) // 2
        left, right = cells[:half], cells[half:] + [("", "")] * (half * 2 - len(cells))
        rows: list[list[object]] = [["权重", "取值", "权重", "取值"]]
        rows += [[a, _num(b), c, _num(d)] for (a, b), (c, d) in zip(left, right, strict=True)]
        story += [_heading("权重", 2),
                  pdf.table(rows, _cols(57, 30, 57, 30)),
                  pdf.para("适配度各项权重为满分时的分值；比例上限与惩罚为软目标，"
                           "超出时按惩罚扣减目标值。", pdf.styles().note)]
    return story

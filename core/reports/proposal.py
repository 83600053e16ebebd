"""联合体组建方案: the proposal of one consortium of a match result, as a PDF.

One document per consortium: the scene as its user unit states it, the members by role and
why each was chosen, the fit breakdown, prior partnerships, alternates per role, the skill and
component coverage, the capacity the consortium uses, and a small diagram of the members.

Speed matters (a national run has ~1,800 consortia): everything that is the same for every
proposal of one context (partnerships by pair, each organisation's use across the run, short
names) is computed once per :class:`~core.reports.context.ReportContext` by
:func:`run_index`.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from reportlab import rl_config
from reportlab.graphics.shapes import Circle, Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    Flowable,
    HRFlowable,
    KeepTogether,
    Paragraph,
    Spacer,
)

from core.filenames import bounded_filename, safe_filename_part, write_atomically
from core.model import Organization, Partnership, Role, Scene
from core.progress import Cancelled, CancelToken, ProgressCallback, no_progress
from core.reports import pdf
from core.reports.context import ReportContext, label, role_label, slot_label, term_label

TITLE = "联合体组建方案"

# Display order of the slots in a consortium (components keep the scene's order).
_ROLE_ORDER = {Role.USER_UNIT.value: 0, Role.MAKER.value: 1, Role.SERVICE_PROVIDER.value: 1,
               Role.ALGORITHM.value: 2, Role.COMPONENT.value: 3, Role.INSTITUTE.value: 4}
_LEAD = (Role.MAKER.value, Role.SERVICE_PROVIDER.value)

ROLE_COLOURS: dict[str, colors.Color] = {
    Role.USER_UNIT.value: pdf.ACCENT,
    Role.MAKER.value: pdf.SERIES[0],
    Role.SERVICE_PROVIDER.value: pdf.SERIES[7],
    Role.ALGORITHM.value: pdf.SERIES[2],
    Role.COMPONENT.value: pdf.SERIES[6],
    Role.INSTITUTE.value: pdf.SERIES[4],
}

_NAME_SUFFIXES = ("股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "（虚构）", "(虚构)")
_NAME_TAILS = ("科技", "技术")
_SHORT_MAX = 10


# -- file names ----------------------------------------------------------------------------



class _Named(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...


def proposal_filename(scene: _Named) -> str:
    """A safe file name for ``scene``'s proposal: ``S001_<scene name>.pdf``."""
    sid = safe_filename_part(scene.id, 40) or "scene"
    name = safe_filename_part(scene.name)
    return bounded_filename(f"{sid}_{name}" if name else sid, ".pdf")


# -- per-context index -------------------------------------------------------------------

class RunIndex:
    """What every proposal of one context looks up (the context's own cached lookups), plus
    short display names computed once per organisation."""

    def __init__(self, ctx: ReportContext) -> None:
        self.ctx = ctx
        self.consortia_of = ctx.consortia_of
        self.robots_led = ctx.robots_led
        self._short: dict[str, str] = {}

    def partnership(self, a: str, b: str) -> Partnership | None:
        """The recorded prior partnership of ``a`` and ``b`` (either order)."""
        return self.ctx.partnerships_by_pair.get(frozenset((a, b))) if a != b else None

    def short_name(self, ctx: ReportContext, org_id: str) -> str:
        """A short display name: legal-form suffixes and the home city dropped, at most
        :data:`_SHORT_MAX` characters."""
        hit = self._short.get(org_id)
        if hit is None:
            hit = self._short[org_id] = short_name(ctx.orgs.get(org_id), org_id)
        return hit


def short_name(org: Organization | None, fallback: str) -> str:
    """``org``'s name without its legal form ("有限公司" …) and, when still long, without the
    leading city or province; cut to :data:`_SHORT_MAX` characters with "…"."""
    if org is None:
        return fallback[:_SHORT_MAX]
    name = org.name.strip()
    for suffix in _NAME_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            name = name[: -len(suffix)]
    for tail in _NAME_TAILS:
        if name.endswith(tail) and len(name) > len(tail) + 3:
            name = name[: -len(tail)]
    if len(name) > _SHORT_MAX:
        for place in (org.city, org.province):
            for prefix in (place, place.rstrip("市省")):
                if prefix and name.startswith(prefix) and len(name) > len(prefix) + 1:
                    name = name[len(prefix):]
                    break
            if len(name) <= _SHORT_MAX:
                break
    name = re.sub(r"[（(][^）)]*[）)]", "", name) or name  # "（上海）" and the like
    return name if len(name) <= _SHORT_MAX else name[: _SHORT_MAX - 1] + "…"


def run_index(ctx: ReportContext) -> RunIndex:
    """The :class:`RunIndex` of ``ctx`` (built on first use, kept with the context)."""
    index = ctx.memo.get("run_index")
    if not isinstance(index, RunIndex):
        index = ctx.memo["run_index"] = RunIndex(ctx)
    return index


# -- formatting ----------------------------------------------------------------------------

def _num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    text = f"{value:,.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _signed(value: float) -> str:
    return ("+" if value > 0 else "−" if value < 0 else "±") + _num(abs(value), 2)


def _percent(value: float) -> str:
    return f"{value * 100:.0f}%" if value <= 1 else f"{value:.0f}%"


def _dots(level: int | None, top: int = 5) -> str:
    if level is None:
        return "未填写"
    level = max(0, min(top, int(level)))
    return "●" * level + "○" * (top - level) + f"  {level}/{top}"


def _joined(values: Iterable[str], sep: str = "、") -> str:
    return sep.join(v for v in values if v) or "—"


def _ordered_members(scene: Scene | None,
                     members: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    components = {c: i for i, c in enumerate(scene.components)} if scene else {}
    return sorted(members, key=lambda m: (_ROLE_ORDER.get(m["role"], 9),
                                          components.get(m.get("category") or "", 99)))


def _slot_key(member: dict[str, Any]) -> str:
    role = member["role"]
    if role in _LEAD:
        return "lead"
    if role == Role.COMPONENT.value:
        return f"component:{member.get('category') or ''}"
    return str(role)


class _Bar(Flowable):
    """A horizontal share bar for a table cell (cheaper than a Drawing per row)."""

    def __init__(self, fraction: float, width: float, colour: colors.Color) -> None:
        super().__init__()
        self.fraction = max(0.0, min(1.0, fraction))
        self.width, self.height = width, 8
        self.colour = colour

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        return self.width, self.height

    def draw(self) -> None:
        c = self.canv
        c.setFillColor(pdf.HEAD_BG)
        c.rect(0, 1, self.width, 6, stroke=0, fill=1)
        if self.fraction > 0:
            c.setFillColor(self.colour)
            c.rect(0, 1, self.width * self.fraction, 6, stroke=0, fill=1)


class _Text(Flowable):
    """One line of plain text in a table cell, drawn with ``drawString``.

    Tables of short values (numbers, levels, names that fit) are most of a proposal; a
    Paragraph per cell (markup parse, line breaking) costs several times more. The text is
    never parsed as markup, so user text needs no escaping here, only :func:`pdf.printable`.
    """

    def __init__(self, text: str, style: ParagraphStyle,
                 colour: colors.Color | None = None) -> None:
        super().__init__()
        self.text = text
        self.style = style
        self.colour = colour or style.textColor
        self.width = stringWidth(text, style.fontName, style.fontSize)
        self.height = style.leading

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        return self.width, self.height

    def draw(self) -> None:
        s = self.style
        self.canv.setFont(s.fontName, s.fontSize)
        self.canv.setFillColor(self.colour)
        self.canv.drawString(0, s.leading - _ascent(s.fontName, s.fontSize), self.text)


class Stack(Flowable):
    """Flowables one under the other in a single table cell (a list of names, of problems):
    each item starts its own line without ``<br/>`` markup."""

    def __init__(self, items: Sequence[Flowable]) -> None:
        super().__init__()
        self.items = list(items)
        self._sizes: list[tuple[float, float]] = []

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        self._sizes = [f.wrap(availWidth, availHeight) for f in self.items]
        self.width = max((w for w, _ in self._sizes), default=0.0)
        self.height = sum(h for _, h in self._sizes)
        return self.width, self.height

    def draw(self) -> None:
        y = self.height
        for f, (_, h) in zip(self.items, self._sizes, strict=True):
            y -= h
            f.drawOn(self.canv, 0, y)


@cache
def _ascent(font: str, size: float) -> float:
    # where a one-line Paragraph of the same style puts its baseline, so both kinds of cell
    # line up in a row
    if rl_config.paraFontSizeHeightOffset:
        return size
    return float(pdfmetrics.getAscent(font, size))


_CELL_PADDING = 6  # pdf.table's left + right padding


def _fast_cell(value: object, style: ParagraphStyle, width: float) -> object:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        text = pdf.printable(str(value))
        if "\n" not in text and (not text or stringWidth(
                text, style.fontName, style.fontSize) <= width - _CELL_PADDING):
            return _Text(text, style)
        return Paragraph(pdf.esc(value), style)
    return value


def fast_table(rows: Sequence[Sequence[object]], widths: Sequence[float], *,
               header: bool = True, **kw: Any) -> Flowable:
    """:func:`pdf.table`, with every value that fits its column on one line drawn as
    :class:`_Text` (fast), the rest as wrapping (escaped) Paragraph cells, and a list or
    tuple of values as a :class:`Stack` of such cells, one per line."""
    s = pdf.styles()
    fast: list[list[object]] = []
    for r, row in enumerate(rows):
        style = s.cell_head if header and r == 0 else s.cell
        out: list[object] = []
        for j, value in enumerate(row):
            if isinstance(value, list | tuple):
                value = Stack([_fast_cell(v, style, widths[j]) for v in value])
            else:
                value = _fast_cell(value, style, widths[j])
            out.append(value)
        fast.append(out)
    return pdf.table(fast, widths, header=header, **kw)


def coloured_cell(text: str, colour: colors.Color, width: float) -> Flowable:
    """A table cell in ``colour`` (a warning, a shortfall)."""
    style = pdf.styles().cell
    plain = pdf.printable(text)
    if stringWidth(plain, style.fontName, style.fontSize) <= width - _CELL_PADDING:
        return _Text(plain, style, colour)
    return pdf.markup(f'<font color="{colour.hexval()}">{pdf.esc(text)}</font>', style)


def keep_together(*flowables: Flowable) -> Flowable:
    """Flowables that stay on one page when they fit (a heading with its table)."""
    return KeepTogether(list(flowables))


def fast_key_values(pairs: Sequence[tuple[str, object]], label_width: float = 28 * mm) -> Flowable:
    """:func:`pdf.key_values` through :func:`fast_table`."""
    return fast_table(list(pairs), [label_width, pdf.CONTENT_WIDTH - label_width],
                      header=False, zebra=False,
                      extra=[("BACKGROUND", (0, 0), (0, -1), pdf.HEAD_BG)])


# -- the story -----------------------------------------------------------------------------

def _consortium_or_raise(ctx: ReportContext, scene_id: str) -> tuple[Scene, dict[str, Any]]:
    if ctx.result is None:
        raise ValueError(f"没有匹配结果，无法生成联合体组建方案 / no match result: run the matching "
                         f"first (scene {scene_id})")
    scene = ctx.scenes.get(scene_id)
    if scene is None:
        raise KeyError(f"目录中没有场景 {scene_id} / scene {scene_id} is not in the catalogue")
    consortium = ctx.consortium(scene_id)
    if consortium is None:
        reason = ctx.unmatched_reason(scene_id)
        why = f"：{reason}" if reason else ""
        raise KeyError(f"场景 {scene_id} 在本次运行中没有联合体{why} / scene {scene_id} has no "
                       f"consortium in this run")
    return scene, consortium


def proposal_story(ctx: ReportContext, scene_id: str) -> list[Flowable]:
    """The flowables of ``scene_id``'s proposal (``KeyError``/``ValueError`` when the scene or
    its consortium is missing from ``ctx``)."""
    scene, consortium = _consortium_or_raise(ctx, scene_id)
    index = run_index(ctx)
    members = _ordered_members(scene, consortium["members"])
    story: list[Flowable] = []
    story += _title_block(ctx, scene, consortium, members)
    story += _scene_section(ctx, scene)
    story += _members_section(ctx, index, scene, consortium, members)
    story += _alternates_section(ctx, scene, consortium, members)
    story += _coverage_section(ctx, scene, members)
    story += _capacity_section(ctx, index, scene, members)
    return story


def _title_block(ctx: ReportContext, scene: Scene, consortium: dict[str, Any],
                 members: list[dict[str, Any]]) -> list[Flowable]:
    s = pdf.styles()
    if ctx.run_id is not None:
        run = f"第 {ctx.run_id} 次匹配运行"
        if ctx.run_created:
            run += f"（{ctx.run_created[:16].replace('T', ' ')}）"
    else:
        run = "未保存的匹配结果"
    lead = next((m["org"] for m in members if m["role"] in _LEAD), None)
    line = " · ".join((f"组织单位：{pdf.esc(scene.coordinator)}", f"场景编号：{pdf.esc(scene.id)}",
                       pdf.esc(run), f"编制日期：{ctx.date.isoformat()}"))
    distinct = len({m["org"] for m in members})
    summary = [
        ("用户单位", ctx.org_name(scene.owner)),
        ("牵头单位", ctx.org_name(lead) if lead else "—"),
        ("联合体规模", f"{distinct} 家单位，{len(members)} 个岗位"),
        ("综合适配度", f"{_num(consortium.get('fit'), 2)} 分"),
        ("计划部署", f"{scene.robots} 台机器人"),
    ]
    return [
        pdf.markup(TITLE, s.title),
        pdf.para(scene.name, s.subtitle),
        Spacer(1, 2 * mm),
        pdf.markup(line, s.small),
        HRFlowable(width="100%", thickness=1.2, color=pdf.ACCENT, spaceBefore=3 * mm,
                   spaceAfter=3 * mm),
        fast_key_values(summary),
    ]


def _scene_section(ctx: ReportContext, scene: Scene) -> list[Flowable]:
    s = pdf.styles()
    place = " ".join(p for p in (scene.province, scene.city) if p)
    status = label("statuses", scene.status)
    if scene.robots_deployed:
        status += f"（已部署 {scene.robots_deployed} 台）"
    period = " 至 ".join(p for p in (scene.start, scene.end) if p)
    rows: list[tuple[str, object]] = [
        ("场景名称", scene.name),
        ("领域 / 类别", f"{label('fields', scene.field)} · {scene.category}"),
        ("所在地", place),
        ("所属行业", scene.sector),
        ("适用形态", _joined(label("form_factors", f) for f in scene.form_factors)),
        ("计划部署", f"{scene.robots} 台"),
        ("当前状态", status),
        ("预算", f"{_num(scene.budget_wan)} 万元" if scene.budget_wan is not None else ""),
        ("实施周期", period),
    ]
    facts = fast_key_values([(k, v) for k, v in rows if v not in ("", None)])
    out: list[Flowable] = [keep_together(pdf.heading("一、场景概况", 1), facts)]
    if scene.description:
        out.append(keep_together(pdf.heading("场景描述", 2), pdf.para(scene.description)))
    requirements = scene.requirements.as_dict()
    if requirements:
        out.append(keep_together(pdf.heading("需求描述（五个维度）", 2), fast_table(
            [("维度", "要求"), *((label("requirement_dimensions", k), v)
                                for k, v in requirements.items())],
            [28 * mm, pdf.CONTENT_WIDTH - 28 * mm])))
    out.append(_goals(scene))
    out.append(_environment(scene))
    readiness = scene.readiness.as_dict()
    crit = ("demand", "conditions", "standardisation", "economics")
    w = pdf.CONTENT_WIDTH / 4
    block: list[Flowable] = [
        pdf.heading("场景成熟度（四项遴选条件）", 2),
        fast_table([[label("readiness_criteria", k) for k in crit],
                [_dots(readiness.get(k)) for k in crit]], [w] * 4)]
    if not readiness:
        block.append(pdf.markup("用户单位尚未填写成熟度评价。", s.note))
    out.append(keep_together(*block))
    return out


def _goals(scene: Scene) -> Flowable:
    g = scene.goals
    items: list[tuple[str, str]] = [("部署数量", f"{scene.robots} 台")]
    if g.success_rate is not None:
        items.append(("任务成功率", f"≥ {_percent(g.success_rate)}"))
    if g.cycle_time_s is not None:
        items.append(("作业节拍", f"≤ {_num(g.cycle_time_s)} 秒"))
    if g.continuous_hours is not None:
        items.append(("连续运行", f"≥ {_num(g.continuous_hours)} 小时"))
    if g.payload_kg is not None:
        items.append(("负载", f"{_num(g.payload_kg)} kg"))
    if g.availability is not None:
        items.append(("可用率", f"≥ {_percent(g.availability)}"))
    w = pdf.CONTENT_WIDTH / len(items)
    grid = fast_table([[k for k, _ in items], [v for _, v in items]], [w] * len(items))
    return keep_together(pdf.heading("量化目标", 2), grid)


def _environment(scene: Scene) -> Flowable:
    e = scene.environment
    temp = ""
    if e.temp_min_c is not None or e.temp_max_c is not None:
        temp = f"{_num(e.temp_min_c)} ～ {_num(e.temp_max_c)} ℃"
    rows: list[tuple[str, object]] = [
        ("作业环境", label("settings", e.setting) if e.setting else ""),
        ("温度范围", temp),
        ("防护等级", e.ip_rating),
        ("防爆要求", e.explosion_protection),
        ("危险因素", "、".join(e.hazards)),
        ("所需认证", _joined(label("certifications", c) for c in scene.certifications)
         if scene.certifications else "无特殊要求"),
    ]
    return keep_together(pdf.heading("作业环境与认证要求", 2),
                         fast_key_values([(k, v) for k, v in rows if v]))


def _reasons(ctx: ReportContext, index: RunIndex, scene: Scene, member: dict[str, Any],
             members: list[dict[str, Any]]) -> str:
    """Why the member fits its slot, in plain words from the catalogue's facts."""
    org = ctx.orgs.get(member["org"])
    if org is None:
        return "目录中没有该组织的资料"
    role = member["role"]
    parts: list[str] = []
    if role == Role.USER_UNIT.value:
        parts.append("场景所有方，提供实训场地与作业条件")
        if org.ownership:
            parts.append(label("ownership", org.ownership))
    elif role in _LEAD:
        forms = [f for f in org.form_factors if f in scene.form_factors]
        if forms:
            parts.append("提供" + "、".join(label("form_factors", f) for f in forms))
        if scene.certifications:
            held = [c for c in scene.certifications if c in org.certifications]
            parts.append(f"具备所需认证 {'、'.join(held)}" if len(held) == len(scene.certifications)
                         else f"认证 {len(held)}/{len(scene.certifications)} 项")
        parts.append(_skill_phrase(org, scene))
        if org.robot_capacity:
            parts.append(f"年交付能力 {org.robot_capacity} 台")
    elif role == Role.ALGORITHM.value:
        parts.append(_skill_phrase(org, scene))
    elif role == Role.COMPONENT.value:
        cat = member.get("category") or ""
        parts.append(f"供应{cat}" if cat in org.component_categories else f"{cat}（供应目录未列）")
    elif role == Role.INSTITUTE.value and org.ownership:
        parts.append(label("ownership", org.ownership))
    if role != Role.USER_UNIT.value:
        deployments = [d for d in org.deployments if d.category == scene.category]
        if deployments:
            robots = sum(d.robots or 0 for d in deployments)
            parts.append(f"{scene.category}类部署经验 {len(deployments)} 项"
                         + (f"（{robots} 台）" if robots else ""))
        if org.province and org.province == scene.province:
            parts.append(f"同省（{org.province}）")
    partners = []
    seen: set[str] = {org.id}
    for other in members:
        if other["org"] in seen:
            continue
        seen.add(other["org"])
        if index.partnership(org.id, other["org"]) is not None:
            partners.append(index.short_name(ctx, other["org"]))
    if partners:
        parts.append("与" + "、".join(partners) + "有既往合作")
    points = member.get("points")
    if isinstance(points, int | float):
        parts.append(f"岗位得分 {_num(float(points), 1)}")
    return "；".join(p for p in parts if p) or "—"


def _skill_phrase(org: Organization, scene: Scene) -> str:
    if not scene.skills:
        return ""
    met = sum(1 for k, need in scene.skills.items() if org.skills.get(k, 0) >= need)
    return f"技能 {met}/{len(scene.skills)} 项达到要求"


def _members_section(ctx: ReportContext, index: RunIndex, scene: Scene,
                     consortium: dict[str, Any], members: list[dict[str, Any]]) -> list[Flowable]:
    s = pdf.styles()
    rows: list[list[object]] = [["角色", "单位", "所在地", "入选理由"]]
    for m in members:
        org = ctx.orgs.get(m["org"])
        place = " ".join(p for p in ((org.province, org.city) if org else ()) if p)
        rows.append([role_label(m["role"], m.get("category")), ctx.org_name(m["org"]), place,
                     _reasons(ctx, index, scene, m, members)])
    widths = [34 * mm, 44 * mm, 22 * mm]
    out: list[Flowable] = [
        pdf.heading("二、联合体成员", 1),
        fast_table(rows, [*widths, pdf.CONTENT_WIDTH - sum(widths)]),
        _network_block(ctx, scene, members),
    ]

    breakdown: dict[str, float] = consortium.get("breakdown") or {}
    fit = float(consortium.get("fit") or sum(breakdown.values()))
    positive = sum(v for v in breakdown.values() if v > 0) or 1.0
    bar_w = 60 * mm
    brows: list[list[object]] = [["评分项", "得分", "占比", ""]]
    for term, points in sorted(breakdown.items(), key=lambda kv: -kv[1]):
        share = points / positive if points > 0 else 0.0
        brows.append([term_label(term),
                      _num(points, 2) if points >= 0
                      else coloured_cell(_num(points, 2), pdf.BAD, 24 * mm),
                      f"{share * 100:.0f}%" if points > 0 else "—",
                      _Bar(share, bar_w, pdf.SERIES[0])])
    brows.append(["合计", _num(fit, 2), "", ""])
    w0 = pdf.CONTENT_WIDTH - bar_w - 6 - 2 * 24 * mm
    out.append(keep_together(
        pdf.heading("适配度构成", 2),
        fast_table(brows, [w0, 24 * mm, 24 * mm, bar_w + 6], extra=[
            ("ALIGN", (1, 1), (2, -1), "RIGHT"),
            ("VALIGN", (3, 1), (3, -1), "MIDDLE"),
            ("BACKGROUND", (0, -1), (-1, -1), pdf.HEAD_BG),
            ("SPAN", (2, 0), (3, 0)),
        ]),
        pdf.markup("适配度为各岗位成员得分与成员间合作加分之和，各项权重见本次匹配运行的参数。", s.note)))

    ids = list(dict.fromkeys(m["org"] for m in members))
    pairs = [(a, b, p) for i, a in enumerate(ids) for b in ids[i + 1:]
             if (p := index.partnership(a, b)) is not None]
    if pairs:
        prow: list[list[object]] = [["单位", "单位", "强度", "合作内容"]]
        for a, b, p in sorted(pairs, key=lambda t: -t[2].strength):
            prow.append([ctx.org_name(a), ctx.org_name(b), _num(p.strength, 2), p.note or "—"])
        widths = [44 * mm, 44 * mm, 12 * mm]
        body: Flowable = fast_table(prow, [*widths, pdf.CONTENT_WIDTH - sum(widths)],
                                    extra=[("ALIGN", (2, 1), (2, -1), "CENTER")])
    else:
        body = pdf.para("目录中没有登记成员之间的既往合作。", s.body)
    out.append(keep_together(pdf.heading("成员间既往合作", 2), body))
    return out


def _alternates_section(ctx: ReportContext, scene: Scene, consortium: dict[str, Any],
                        members: list[dict[str, Any]]) -> list[Flowable]:
    s = pdf.styles()
    heading = pdf.heading("三、备选单位", 1)
    alternates: dict[str, list[dict[str, Any]]] = consortium.get("alternates") or {}
    chosen = {_slot_key(m): m["org"] for m in members if m["role"] != Role.USER_UNIT.value}
    order = [k for k in chosen if k in alternates] + [k for k in alternates if k not in chosen]
    if not order:
        return [keep_together(heading, pdf.para("本次运行未给出备选单位。", s.body))]
    rows: list[list[object]] = [["岗位", "当前人选", "备选单位", "分差", "状态"]]
    extra: list[tuple[Any, ...]] = []
    for n, key in enumerate(order):
        options = alternates[key]
        first = len(rows)
        current = ctx.org_name(chosen[key]) if key in chosen else "—"
        if not options:
            rows.append([slot_label(key), current, "无其他符合条件的单位", "", ""])
        for i, o in enumerate(options):
            name = o.get("name") or ctx.org_name(str(o.get("org", "")))
            rows.append([slot_label(key) if i == 0 else "", current if i == 0 else "", name,
                         _signed(float(o.get("delta", 0.0))),
                         "可用" if o.get("available") else coloured_cell("已满负荷", pdf.MUTED, 18 * mm)])
        last = len(rows) - 1
        if last > first:
            extra += [("SPAN", (0, first), (0, last)), ("SPAN", (1, first), (1, last))]
        if n % 2:
            extra.append(("BACKGROUND", (0, first), (-1, last), colors.HexColor("#f8f9fa")))
    widths = [34 * mm, 46 * mm, 0.0, 18 * mm, 18 * mm]
    widths[2] = pdf.CONTENT_WIDTH - sum(widths)
    return [
        heading,
        fast_table(rows, widths, zebra=False,
                   extra=[*extra, ("ALIGN", (3, 1), (4, -1), "CENTER")]),
        pdf.markup("分差：备选单位与当前人选在该岗位上的成员得分之差（不含合作加分）。正分差而未入选，"
                   "通常因其产能已被其他联合体占用，或整体组合更优。", s.note),
    ]


def _coverage_section(ctx: ReportContext, scene: Scene,
                      members: list[dict[str, Any]]) -> list[Flowable]:
    s = pdf.styles()
    lead_id = next((m["org"] for m in members if m["role"] in _LEAD), None)
    alg_id = next((m["org"] for m in members if m["role"] == Role.ALGORITHM.value), None)
    lead = ctx.orgs.get(lead_id) if lead_id else None
    alg = ctx.orgs.get(alg_id) if alg_id else None
    skills: list[Flowable] = [pdf.heading("技能覆盖", 2)]
    if scene.skills:
        widths = [32 * mm, 18 * mm, 18 * mm, 18 * mm]
        last_w = pdf.CONTENT_WIDTH - sum(widths)
        rows: list[list[object]] = [["技能", "需要等级", "牵头单位", "算法单位", "覆盖方"]]
        for skill, need in scene.skills.items():
            lv = lead.skills.get(skill, 0) if lead else 0
            av = alg.skills.get(skill, 0) if alg else 0
            by = []
            if lead and lv >= need:
                by.append(ctx.org_name(lead.id))
            if alg and av >= need and alg is not lead:
                by.append(ctx.org_name(alg.id))
            rows.append([skill, str(need), str(lv) if lead else "—", str(av) if alg else "—",
                         "、".join(by) if by else coloured_cell("未达到要求", pdf.BAD, last_w)])
        skills += [fast_table(rows, [*widths, last_w],
                              extra=[("ALIGN", (1, 1), (3, -1), "CENTER")]),
                   pdf.markup("技能等级 1–5；牵头单位与算法单位中较高的一方达到需要等级即视为覆盖。",
                              s.note)]
    else:
        skills.append(pdf.para("场景未列出技能要求。", s.body))

    components: list[Flowable] = [pdf.heading("零部件覆盖", 2)]
    if scene.components:
        suppliers = {m.get("category"): m["org"] for m in members
                     if m["role"] == Role.COMPONENT.value}
        widths = [30 * mm, 56 * mm, 26 * mm]
        last_w = pdf.CONTENT_WIDTH - sum(widths)
        crow: list[list[object]] = [["零部件类别", "供应单位", "所在地", "供应目录"]]
        for cat in scene.components:
            org_id = suppliers.get(cat)
            org = ctx.orgs.get(org_id) if org_id else None
            supplier = (ctx.org_name(org_id) if org_id
                        else coloured_cell("未落实", pdf.BAD, 56 * mm))
            crow.append([cat, supplier,
                         " ".join(p for p in (org.province, org.city) if p) if org else "—",
                         ("、".join(org.component_categories) or "—") if org else "—"])
        components.append(fast_table(crow, [*widths, last_w]))
    else:
        components.append(pdf.para("场景未要求特定零部件类别。", s.body))
    return [keep_together(pdf.heading("四、技能与零部件覆盖", 1), *skills), keep_together(*components)]


def _capacity_section(ctx: ReportContext, index: RunIndex, scene: Scene,
                      members: list[dict[str, Any]]) -> list[Flowable]:
    s = pdf.styles()
    widths = [50 * mm, 40 * mm, 32 * mm]
    last_w = pdf.CONTENT_WIDTH - sum(widths)
    rows: list[list[object]] = [["单位", "岗位", "参与联合体", "机器人交付"]]
    roles_of: dict[str, list[str]] = {}
    for m in members:
        if m["role"] != Role.USER_UNIT.value:
            roles_of.setdefault(m["org"], []).append(role_label(m["role"], m.get("category")))
    for org_id, roles in roles_of.items():
        org = ctx.orgs.get(org_id)
        used = len(index.consortia_of.get(org_id, ()))
        limit = org.max_consortia if org else 0
        groups = f"{used} / {limit} 个" + ("（已满）" if org and used >= limit else "")
        robots: object = "—"
        if org and any(m["org"] == org_id and m["role"] in _LEAD for m in members):
            led = index.robots_led.get(org_id, 0)
            others = led - scene.robots
            text = f"{led} / {org.robot_capacity} 台（本场景 {scene.robots} 台"
            text += f"，其他 {others} 台）" if others else "）"
            robots = coloured_cell(text, pdf.BAD, last_w) if led > org.robot_capacity else text
        rows.append([ctx.org_name(org_id), "、".join(roles), groups, robots])
    return [keep_together(
        pdf.heading("五、产能占用（本次运行）", 1),
        fast_table(rows, [*widths, last_w]),
        pdf.markup("参与联合体：该单位在本次运行中参与的联合体数 / 可同时参与的上限（用户单位的自有场景不计）。"
                   "机器人交付：其在本次运行中牵头的全部场景的计划部署台数之和 / 年交付能力。", s.note))]


# -- network diagram -----------------------------------------------------------------------

def member_network(ctx: ReportContext, scene: Scene, members: Sequence[dict[str, Any]],
                   width: float = pdf.CONTENT_WIDTH, height: float = 62 * mm) -> Drawing:
    """A diagram of the members: the user unit in the centre, the others around it, nodes
    coloured by role, solid lines for prior partnerships (thicker = stronger), dashed spokes
    for membership. Labels are short names and roles."""
    font = pdf.register_fonts()
    index = run_index(ctx)
    roles: dict[str, list[dict[str, Any]]] = {}
    for m in _ordered_members(scene, members):
        roles.setdefault(m["org"], []).append(m)
    owner = scene.owner if scene.owner in roles else next(iter(roles), scene.owner)
    others = [o for o in roles if o != owner]
    d = pdf.drawing(width, height, 7.5)
    legend_h = 12
    cx, cy = width / 2, legend_h + (height - legend_h) / 2
    rx, ry = width / 2 - 60, (height - legend_h) / 2 - 22
    pos: dict[str, tuple[float, float]] = {owner: (cx, cy)}
    n = len(others)
    for i, org in enumerate(others):
        # start at the top, go clockwise; an offset keeps two nodes off the vertical axis
        angle = math.pi / 2 - 2 * math.pi * i / max(n, 1) - (math.pi / n if n % 2 == 0 else 0)
        pos[org] = (cx + rx * math.cos(angle), cy + ry * math.sin(angle))
    grey = colors.HexColor("#9aa5b1")
    for org in others:
        (x1, y1), (x2, y2) = pos[owner], pos[org]
        if index.partnership(owner, org) is None:
            d.add(Line(x1, y1, x2, y2, strokeColor=grey, strokeWidth=0.6, strokeDashArray=[2, 2]))
    ids = [owner, *others]
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            p = index.partnership(a, b)
            if p is not None:
                (x1, y1), (x2, y2) = pos[a], pos[b]
                d.add(Line(x1, y1, x2, y2, strokeColor=pdf.INK,
                           strokeWidth=0.8 + 2.2 * max(0.0, min(1.0, p.strength))))
    for org, (x, y) in pos.items():
        ms = roles.get(org, [{"org": org, "role": Role.USER_UNIT.value}])
        r = 11 if org == owner else 8
        fill = ROLE_COLOURS.get(ms[0]["role"], pdf.MUTED)
        if len(ms) > 1:  # a second role: an outer ring in its colour
            d.add(Circle(x, y, r + 2.6, fillColor=colors.white,
                         strokeColor=ROLE_COLOURS.get(ms[1]["role"], pdf.MUTED), strokeWidth=2.2))
        d.add(Circle(x, y, r, fillColor=fill, strokeColor=colors.white, strokeWidth=1))
        name = pdf.printable(index.short_name(ctx, org))
        role_text = pdf.printable("/".join(dict.fromkeys(
            role_label(m["role"]) if m["role"] != Role.COMPONENT.value
            else (m.get("category") or role_label(m["role"])) for m in ms)))
        # labels above the upper nodes and below the others, away from the spokes' ends
        above = y > cy + 1 and org != owner
        ny, ry2 = (y + r + 12, y + r + 3.5) if above else (y - r - 9, y - r - 17.5)
        for text, yy, size, colour in ((name, ny, 7.5, pdf.INK), (role_text, ry2, 6.5, pdf.MUTED)):
            tw = stringWidth(text, font, size)
            # keep labels inside the drawing
            xx = min(max(x, tw / 2 + 1), width - tw / 2 - 1)
            d.add(Rect(xx - tw / 2 - 1, yy - 1.8, tw + 2, size + 1.2, fillColor=colors.white,
                       strokeColor=None, fillOpacity=0.85))
            d.add(String(xx, yy, text, fontName=font, fontSize=size, fillColor=colour,
                         textAnchor="middle"))
    # legend: roles present, then the two line kinds
    x = 2.0
    present = list(dict.fromkeys(m["role"] for ms in roles.values() for m in ms))
    for role in sorted(present, key=lambda r: _ROLE_ORDER.get(r, 9)):
        d.add(Circle(x + 3, 4, 3, fillColor=ROLE_COLOURS.get(role, pdf.MUTED), strokeColor=None))
        text = role_label(role)
        d.add(String(x + 8, 1.5, text, fontName=font, fontSize=6.5, fillColor=pdf.MUTED))
        x += 14 + stringWidth(text, font, 6.5)
    x += 6
    d.add(Line(x, 4, x + 14, 4, strokeColor=pdf.INK, strokeWidth=1.6))
    d.add(String(x + 17, 1.5, "既往合作（线越粗合作越紧密）", fontName=font, fontSize=6.5,
                 fillColor=pdf.MUTED))
    x += 24 + stringWidth("既往合作（线越粗合作越紧密）", font, 6.5)
    d.add(Line(x, 4, x + 14, 4, strokeColor=grey, strokeWidth=0.6, strokeDashArray=[2, 2]))
    d.add(String(x + 17, 1.5, "同一联合体", fontName=font, fontSize=6.5, fillColor=pdf.MUTED))
    return d


def _network_block(ctx: ReportContext, scene: Scene, members: list[dict[str, Any]]) -> Flowable:
    s = pdf.styles()
    return keep_together(
        pdf.heading("成员关系图", 2), member_network(ctx, scene, members),
        pdf.markup("圆心为用户单位；实线为目录登记的既往合作，虚线为同一联合体内尚无合作记录的成员；"
                   "双色圆环表示同一单位承担两个岗位。", s.note))


# -- writing -------------------------------------------------------------------------------

def write_proposal(ctx: ReportContext, scene_id: str, target: Path | BinaryIO) -> None:
    """Write ``scene_id``'s proposal to ``target`` (a path, written atomically, or a binary
    file object). Raises ``KeyError`` when the scene or its consortium is missing and
    ``ValueError`` when ``ctx`` has no result."""
    story = proposal_story(ctx, scene_id)
    scene = ctx.scenes[scene_id]
    info = ctx.info(f"{TITLE} {scene.id}", subject=f"{TITLE}：{scene.name}")
    if isinstance(target, Path):
        write_atomically(target, lambda fh: pdf.build(fh, info, story))
    else:
        pdf.build(target, info, story)


PARALLEL_MIN = 48  # below this many documents, starting worker processes costs more than it saves
CHUNK = 16  # documents per task handed to a worker process


def _worker_init(ctx: ReportContext) -> None:
    global _WORKER_CTX
    _WORKER_CTX = ctx


_WORKER_CTX: ReportContext | None = None


def _worker_write(jobs: list[tuple[str, str]]) -> int:
    assert _WORKER_CTX is not None
    for sid, path in jobs:
        write_proposal(_WORKER_CTX, sid, Path(path))
    return len(jobs)


def default_workers() -> int:
    """Worker processes for a large batch: one per core, at most four."""
    return max(1, min(4, os.cpu_count() or 1))


def write_proposals(ctx: ReportContext, out_dir: Path, scene_ids: Iterable[str] | None = None,
                    on_progress: ProgressCallback = no_progress,
                    cancel: CancelToken | None = None, workers: int | None = None) -> list[Path]:
    """Write one proposal per consortium into ``out_dir`` (every consortium of the result
    when ``scene_ids`` is None); returns the files written, in order.

    Every requested scene is checked before anything is written (``KeyError`` names those
    without a consortium). ``cancel`` is checked between documents and raises
    :class:`~core.progress.Cancelled` with the files written so far as ``partial``; each file
    is written to a temporary name and renamed, so no half-written proposal is left behind.
    A batch of :data:`PARALLEL_MIN` or more is spread over ``workers`` processes (default
    :func:`default_workers`; reportlab is pure Python, so threads would not help).
    """
    cancel = cancel or CancelToken()
    if ctx.result is None:
        raise ValueError("没有匹配结果，无法生成联合体组建方案 / no match result: run the matching first")
    ids = ([c["scene"] for c in ctx.consortia()] if scene_ids is None
           else list(dict.fromkeys(scene_ids)))
    missing = [sid for sid in ids if sid not in ctx.scenes or ctx.consortium(sid) is None]
    if missing:
        shown = "、".join(missing[:10]) + (" …" if len(missing) > 10 else "")
        raise KeyError(f"以下场景在本次运行中没有联合体：{shown} / no consortium for {len(missing)} "
                       f"scene(s)")
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    used: set[str] = set()
    for i, sid in enumerate(ids):
        name = proposal_filename(ctx.scenes[sid])
        if name.casefold() in used:  # two ids that clean to the same name
            name = bounded_filename(f"{Path(name).stem}_{i + 1}", ".pdf")
        used.add(name.casefold())
        paths.append(out_dir / name)
    total = len(ids)
    workers = default_workers() if workers is None else workers
    if workers > 1 and total >= PARALLEL_MIN:
        return _write_parallel(ctx, ids, paths, workers, on_progress, cancel)
    written: list[Path] = []
    for i, (sid, path) in enumerate(zip(ids, paths, strict=True)):
        if cancel.cancelled:
            raise Cancelled(partial=written)
        on_progress(i / max(total, 1), f"{TITLE} {i + 1}/{total}：{ctx.scenes[sid].name}")
        write_proposal(ctx, sid, path)
        written.append(path)
    on_progress(1.0, f"{TITLE}：已生成 {len(written)} 份 / {len(written)} written")
    return written


def _write_parallel(ctx: ReportContext, ids: list[str], paths: list[Path], workers: int,
                    on_progress: ProgressCallback, cancel: CancelToken) -> list[Path]:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    total = len(ids)
    chunks = [list(zip(ids[k:k + CHUNK], map(str, paths[k:k + CHUNK]), strict=True))
              for k in range(0, total, CHUNK)]
    on_progress(0.0, f"{TITLE}：{workers} 个进程 / {workers} worker processes")
    # spawn, not fork: the caller may be a GUI with threads running, and fork copies locks.
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_worker_init, initargs=(ctx,))
    done_ids: set[str] = set()
    try:
        pending = {pool.submit(_worker_write, chunk): chunk for chunk in chunks}
        while pending:
            finished, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in finished:
                chunk = pending.pop(future)
                future.result()  # a failure in a worker surfaces here
                done_ids.update(sid for sid, _ in chunk)
            if finished:
                on_progress(len(done_ids) / total,
                            f"{TITLE} {len(done_ids)}/{total}")
            if cancel.cancelled:
                for future in pending:
                    future.cancel()
                pool.shutdown(wait=True, cancel_futures=True)
                for future, chunk in pending.items():
                    if future.done() and not future.cancelled() and future.exception() is None:
                        done_ids.update(sid for sid, _ in chunk)
                raise Cancelled(partial=[p for sid, p in zip(ids, paths, strict=True)
                                         if sid in done_ids])
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    on_progress(1.0, f"{TITLE}：已生成 {total} 份 / {total} written")
    return paths

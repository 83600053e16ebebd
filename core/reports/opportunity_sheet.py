"""An organisation's opportunity sheet (PDF and xlsx): the consortia a run proposes it for,
the scene slots it could fill ranked by fit, and what blocks the rest.

The ranking comes from ``matching.opportunities`` (core/ never imports matching/): the caller
computes it and hands the objects in; anything with the attributes of
:class:`OpportunityLike` will do.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, HRFlowable, Spacer

from core.filenames import bounded_filename, safe_filename_part, write_atomically
from core.model import Organization, Role
from core.reports import pdf
from core.reports.context import ReportContext, label, role_label, slot_label, term_label
from core.reports.proposal import (
    Stack,
    fast_key_values,
    fast_table,
    keep_together,
    run_index,
)

TITLE = "机会清单"
PDF_ROWS = 300  # rows per table in the PDF; the xlsx has every row
_LEAD = (Role.MAKER.value, Role.SERVICE_PROVIDER.value)


class OpportunityLike(Protocol):
    """One slot of one scene for the organisation (``matching.opportunities.Opportunity``)."""

    @property
    def scene(self) -> str: ...

    @property
    def slot(self) -> str: ...  # lead, algorithm, institute, component:<category>

    @property
    def roles(self) -> Sequence[Any]: ...  # the organisation's roles that fill the slot

    @property
    def eligible(self) -> bool: ...

    @property
    def points(self) -> float: ...  # member points before pair bonuses

    @property
    def terms(self) -> Mapping[str, float]: ...  # points per fit term

    @property
    def owner_partnership(self) -> float: ...  # pair bonus with the scene's owner

    @property
    def problems(self) -> Sequence[str]: ...  # the hard rules it breaks (empty when eligible)


@dataclass(frozen=True)
class Membership:
    """A consortium of the run the organisation is in (its slots there merged)."""

    scene: str
    roles: tuple[str, ...]  # role labels, "零部件企业（灵巧手）" for a component slot
    fit: float
    partners: tuple[tuple[str, str], ...]  # (org id, role label) of the other members


def memberships(ctx: ReportContext, org_id: str) -> list[Membership]:
    """The consortia of ``ctx.result`` that ``org_id`` is a member of, in result order."""
    out = []
    for c in ctx.consortia():
        mine = [m for m in c["members"] if m["org"] == org_id]
        if not mine:
            continue
        partners: dict[str, list[str]] = {}
        for m in c["members"]:
            if m["org"] != org_id:
                partners.setdefault(m["org"], []).append(_partner_role(m))
        out.append(Membership(
            scene=c["scene"],
            roles=tuple(role_label(m["role"], m.get("category")) for m in mine),
            fit=float(c.get("fit") or 0.0),
            partners=tuple((o, "、".join(r)) for o, r in partners.items()),
        ))
    return out


def _partner_role(member: dict[str, Any]) -> str:
    # a component member by its category alone, so "名称（灵巧手）" needs no nested brackets
    if member["role"] == Role.COMPONENT.value and member.get("category"):
        return str(member["category"])
    return role_label(member["role"])


def _chosen_slots(ctx: ReportContext, org_id: str) -> set[tuple[str, str]]:
    """(scene, slot key) pairs the run gave ``org_id``."""
    out = set()
    for c in ctx.consortia():
        for m in c["members"]:
            if m["org"] != org_id:
                continue
            role = m["role"]
            if role in _LEAD:
                out.add((c["scene"], "lead"))
            elif role == Role.COMPONENT.value:
                out.add((c["scene"], f"component:{m.get('category') or ''}"))
            else:
                out.add((c["scene"], str(role)))
    return out


def problem_text(problem: str) -> str:
    """The Chinese half of a bilingual "中文 / English" problem message."""
    head, sep, tail = problem.rpartition(" / ")
    if sep and head and tail[:1].isascii() and tail.isascii():
        return head
    return problem


_KIND = re.compile(r"^[^：:（( 0-9<>]+")


def problem_kind(problem: str) -> str:
    """A problem's kind for counting: the words before its details ("缺少认证", "形态不符" …)."""
    text = problem_text(problem).strip()
    found = _KIND.match(text)
    return (found.group(0) if found else text)[:16] or "其他"


def _top_terms(o: OpportunityLike, n: int = 3) -> str:
    items = sorted(((k, v) for k, v in o.terms.items() if v > 0), key=lambda kv: -kv[1])[:n]
    parts = [f"{term_label(k)} {_num(v)}" for k, v in items]
    if o.owner_partnership > 0:
        parts.append(f"与用户单位既往合作 +{_num(o.owner_partnership)}")
    return "、".join(parts) or "—"


def _num(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _org_or_raise(ctx: ReportContext, org_id: str) -> Organization:
    org = ctx.orgs.get(org_id)
    if org is None:
        raise KeyError(f"目录中没有组织 {org_id} / organisation {org_id} is not in the catalogue")
    return org


def opportunity_sheet_filename(ctx: ReportContext, org_id: str) -> str:
    """The file stem (no extension) of ``org_id``'s sheet: ``O042_<name>_机会清单``."""
    oid = safe_filename_part(org_id, 40) or "org"
    name = safe_filename_part(ctx.org_name(org_id), 50)
    return bounded_filename(f"{oid}_{name}_{TITLE}" if name else f"{oid}_{TITLE}", "")


# -- PDF -----------------------------------------------------------------------------------

def opportunity_story(ctx: ReportContext, org_id: str,
                      opportunities: Sequence[OpportunityLike]) -> list[Flowable]:
    """The flowables of ``org_id``'s opportunity sheet (``KeyError`` for an unknown org)."""
    org = _org_or_raise(ctx, org_id)
    s = pdf.styles()
    mine = memberships(ctx, org_id)
    eligible = [o for o in opportunities if o.eligible]
    blocked = [o for o in opportunities if not o.eligible]
    story: list[Flowable] = [
        pdf.markup(TITLE, s.title),
        pdf.para(org.name, s.subtitle),
        Spacer(1, 2 * mm),
        pdf.markup(" · ".join((
            f"角色：{pdf.esc('、'.join(label('roles', r) for r in org.roles))}",
            f"所在地：{pdf.esc(' '.join(p for p in (org.province, org.city) if p))}",
            pdf.esc(f"第 {ctx.run_id} 次匹配运行" if ctx.run_id is not None else
                    "未保存的匹配结果" if ctx.result is not None else "尚无匹配结果"),
            f"编制日期：{ctx.date.isoformat()}")), s.small),
        HRFlowable(width="100%", thickness=1.2, color=pdf.ACCENT, spaceBefore=3 * mm,
                   spaceAfter=3 * mm),
        _summary(ctx, mine, eligible, blocked),
    ]
    story += _org_section(ctx, org)
    story += _membership_section(ctx, mine)
    story += _ranking_section(ctx, org_id, eligible)
    story += _blocked_section(ctx, blocked)
    return story


def _summary(ctx: ReportContext, mine: list[Membership], eligible: Sequence[OpportunityLike],
             blocked: Sequence[OpportunityLike]) -> Flowable:
    s = pdf.styles()
    big = ParagraphStyle("Stat", parent=s.body, fontSize=18, leading=22, alignment=TA_CENTER,
                         textColor=pdf.ACCENT, spaceAfter=0)
    small = ParagraphStyle("StatLabel", parent=s.small, alignment=TA_CENTER)
    scenes = len({o.scene for o in eligible})
    best = max((o.points for o in eligible), default=None)
    tiles = [
        (str(len(mine)) if ctx.result is not None else "—", "已入选联合体"),
        (str(len(eligible)), f"可参与机会（{scenes} 个场景）"),
        (str(len(blocked)), "受阻机会"),
        (_num(best) if best is not None else "—", "最高岗位得分"),
    ]
    w = pdf.CONTENT_WIDTH / len(tiles)
    return pdf.table([[Stack([pdf.para(v, big), pdf.para(k, small)]) for v, k in tiles]],
                     [w] * len(tiles), header=False, zebra=False,
                     extra=[("BACKGROUND", (0, 0), (-1, -1), pdf.HEAD_BG),
                            ("GRID", (0, 0), (-1, -1), 0, pdf.HEAD_BG),
                            ("LINEAFTER", (0, 0), (-2, -1), 0.6, pdf.RULE),
                            ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                            ("TOPPADDING", (0, 0), (-1, -1), 6),
                            ("BOTTOMPADDING", (0, 0), (-1, -1), 6)])


def _org_section(ctx: ReportContext, org: Organization) -> list[Flowable]:
    index = run_index(ctx)
    used = len(index.consortia_of.get(org.id, ()))
    rows: list[tuple[str, object]] = [
        ("组织名称", org.name),
        ("统一社会信用代码", org.uscc or ""),
        ("角色", "、".join(label("roles", r) for r in org.roles)),
        ("所在地", " ".join(p for p in (org.province, org.city) if p)),
        ("所有制", label("ownership", org.ownership) if org.ownership else ""),
        ("联合体容量", f"可同时参与 {org.max_consortia} 个联合体"
         + (f"，本次运行已用 {used} 个" if ctx.result is not None else "")),
    ]
    if any(r in (Role.MAKER, Role.SERVICE_PROVIDER) for r in org.roles):
        led = index.robots_led.get(org.id, 0)
        rows.append(("交付能力", f"年交付 {org.robot_capacity} 台"
                     + (f"，本次运行牵头部署 {led} 台" if ctx.result is not None else "")))
        rows.append(("机器人形态", "、".join(label("form_factors", f) for f in org.form_factors)))
    rows += [
        ("认证", "、".join(label("certifications", c) for c in org.certifications)),
        ("供应零部件", "、".join(org.component_categories)),
        ("技能等级", "、".join(f"{k} {v}" for k, v in sorted(org.skills.items(),
                                                            key=lambda kv: (-kv[1], kv[0])))),
        ("能力维度", "、".join(f"{label('capability_dimensions', k)} {v}"
                            for k, v in org.capabilities.items())),
        ("产品", "；".join(p.name + (f"（{label('form_factors', p.form_factor)}）"
                                     if p.form_factor else "") for p in org.products)),
        ("应用案例", "；".join(f"{d.category}" + (f" {d.year} 年" if d.year else "")
                               + (f" {d.robots} 台" if d.robots else "")
                               + (f"：{d.description}" if d.description else "")
                               for d in org.deployments)),
        ("简介", org.description),
    ]
    return [keep_together(pdf.heading("一、组织概况", 1),
                          fast_key_values([(k, v) for k, v in rows if v], 30 * mm))]


def _membership_section(ctx: ReportContext, mine: list[Membership]) -> list[Flowable]:
    s = pdf.styles()
    heading = pdf.heading("二、已入选的联合体", 1)
    if ctx.result is None:
        return [keep_together(heading, pdf.para("尚无匹配结果：请先运行匹配。", s.body))]
    if not mine:
        return [keep_together(heading, pdf.para("本次匹配运行未将本单位纳入任何联合体。", s.body))]
    rows: list[list[object]] = [["场景 / 组织单位", "岗位", "适配度", "合作伙伴"]]
    for m in mine:
        rows.append([_scene_cell(ctx, m.scene), list(m.roles), _num(m.fit),
                     [f"{ctx.org_name(o)}（{r}）" for o, r in m.partners] or "—"])
    widths = [52 * mm, 30 * mm, 14 * mm]
    return [heading, fast_table(rows, [*widths, pdf.CONTENT_WIDTH - sum(widths)],
                                extra=[("ALIGN", (2, 1), (2, -1), "RIGHT")])]


def _ranking_section(ctx: ReportContext, org_id: str,
                     eligible: Sequence[OpportunityLike]) -> list[Flowable]:
    s = pdf.styles()
    heading = pdf.heading("三、机会排名（符合全部硬性条件）", 1)
    if not eligible:
        return [keep_together(heading, pdf.para("目录中没有本单位可参与的场景岗位。", s.body))]
    chosen = _chosen_slots(ctx, org_id)
    rows: list[list[object]] = [["排名", "场景 / 组织单位", "岗位", "得分", "主要得分项", "入选"]]
    for rank, o in enumerate(eligible[:PDF_ROWS], start=1):
        rows.append([str(rank), _scene_cell(ctx, o.scene), slot_label(o.slot), _num(o.points),
                     _top_terms(o), "✓" if (o.scene, o.slot) in chosen else ""])
    widths = [10 * mm, 56 * mm, 30 * mm, 12 * mm, 0.0, 10 * mm]
    widths[4] = pdf.CONTENT_WIDTH - sum(widths)
    out: list[Flowable] = [heading, fast_table(rows, widths, extra=[
        ("ALIGN", (0, 1), (0, -1), "RIGHT"), ("ALIGN", (3, 1), (3, -1), "RIGHT"),
        ("ALIGN", (5, 0), (5, -1), "CENTER")])]
    note = "得分为本单位在该岗位的成员得分（不含合作加分），与匹配时所用一致；“入选”表示本次运行已将本单位安排在该岗位。"
    if len(eligible) > PDF_ROWS:
        note += f"此处列出前 {PDF_ROWS} 项（共 {len(eligible)} 项），完整清单见同名 xlsx 文件。"
    out.append(pdf.markup(note, s.note))
    return out


def _blocked_section(ctx: ReportContext, blocked: Sequence[OpportunityLike]) -> list[Flowable]:
    s = pdf.styles()
    heading = pdf.heading("四、受阻机会", 1)
    if not blocked:
        return [keep_together(heading, pdf.para("没有受阻的机会：本单位有角色的每个场景岗位都符合硬性条件。",
                                         s.body))]
    kinds = Counter(k for o in blocked for k in dict.fromkeys(problem_kind(p) for p in o.problems))
    krows: list[list[object]] = [["受阻原因", "涉及机会", "占比"]]
    for kind, n in kinds.most_common():
        krows.append([kind, str(n), f"{n / len(blocked) * 100:.0f}%"])
    out: list[Flowable] = [keep_together(
        heading, pdf.heading("受阻原因分布", 2),
        _kinds_table(krows),
        pdf.markup("一个机会可能同时受多项原因阻碍，故合计可超过受阻机会数。", s.note))]
    rows: list[list[object]] = [["场景 / 组织单位", "岗位", "得分", "受阻原因"]]
    for o in blocked[:PDF_ROWS]:
        rows.append([_scene_cell(ctx, o.scene), slot_label(o.slot), _num(o.points),
                     [problem_text(p) for p in o.problems] or "—"])
    widths = [52 * mm, 30 * mm, 12 * mm]
    out += [pdf.heading("受阻清单", 2),
            fast_table(rows, [*widths, pdf.CONTENT_WIDTH - sum(widths)],
                       extra=[("ALIGN", (2, 1), (2, -1), "RIGHT")])]
    if len(blocked) > PDF_ROWS:
        out.append(pdf.markup(f"此处列出前 {PDF_ROWS} 项（共 {len(blocked)} 项），完整清单见同名 xlsx 文件。",
                              s.note))
    return out


def _scene_cell(ctx: ReportContext, scene_id: str) -> Flowable:
    """The scene's name and id, its coordinator in small type underneath."""
    s = pdf.styles()
    scene = ctx.scenes.get(scene_id)
    # the id first: a closing bracket at the end would hang into the cell border
    name = f"{scene_id}  {scene.name}" if scene else scene_id
    return Stack([pdf.para(name, s.cell), pdf.para(scene.coordinator if scene else "—", s.small)])


def _kinds_table(rows: list[list[object]]) -> Flowable:
    t = fast_table(rows, [70 * mm, 24 * mm, 24 * mm], extra=[("ALIGN", (1, 1), (2, -1), "RIGHT")])
    t.hAlign = "LEFT"
    return t


def write_opportunity_sheet(ctx: ReportContext, org_id: str,
                            opportunities: Sequence[OpportunityLike],
                            target: Path | BinaryIO) -> None:
    """Write ``org_id``'s opportunity sheet as a PDF to ``target`` (a path, written
    atomically, or a binary file object). ``opportunities``: its ranking from
    ``matching.opportunities.opportunities`` (eligible first). ``KeyError`` for an unknown
    organisation."""
    story = opportunity_story(ctx, org_id, opportunities)
    info = ctx.info(f"{TITLE} {org_id}", subject=f"{TITLE}：{ctx.org_name(org_id)}")
    if isinstance(target, Path):
        write_atomically(target, lambda fh: pdf.build(fh, info, story))
    else:
        pdf.build(target, info, story)


# -- xlsx ----------------------------------------------------------------------------------

_HEAD_FILL = PatternFill("solid", fgColor="EEF1F4")


def _xl(value: object) -> object:
    """A value as a cell: text without the characters Excel refuses."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def _sheet(wb: Workbook, title: str, header: list[str], rows: list[list[object]],
           widths: list[float], freeze: str, wrap: tuple[int, ...] = ()) -> None:
    ws = wb.create_sheet(title)
    ws.append(header)
    for row in rows:
        ws.append([_xl(v) for v in row])
    for cells in ws.iter_rows(min_row=2):
        for c in cells:
            # user text is data: a name starting with "=" must stay text, not a formula
            if c.data_type == "f":
                c.data_type = "s"
            if c.column - 1 in wrap:
                c.alignment = Alignment(wrap_text=True, vertical="top")
    for i, width in enumerate(widths, start=1):
        head = ws.cell(row=1, column=i)
        head.font = Font(bold=True)
        head.fill = _HEAD_FILL
        head.alignment = Alignment(vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = freeze
    if rows:
        ws.auto_filter.ref = ws.dimensions


def write_opportunity_xlsx(ctx: ReportContext, org_id: str,
                           opportunities: Sequence[OpportunityLike],
                           target: Path | BinaryIO) -> None:
    """Write ``org_id``'s opportunity sheet as an Excel workbook: sheets 匹配联合体 (the
    consortia of the run it is in), 机会排名 (eligible slots, best first, one column per fit
    term) and 受阻机会 (blocked slots with their problems). ``KeyError`` for an unknown
    organisation."""
    org = _org_or_raise(ctx, org_id)
    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.title = f"{TITLE}：{org.name}"
    wb.properties.creator = "SceneMatch"

    def scene_cols(scene_id: str) -> list[object]:
        scene = ctx.scenes.get(scene_id)
        if scene is None:
            return [scene_id, "", "", "", "", ""]
        return [scene_id, scene.name, scene.coordinator, label("fields", scene.field),
                scene.category, scene.province]

    scene_head = ["场景编号", "场景名称", "组织单位", "领域", "类别", "省份"]
    scene_widths = [10.0, 36.0, 16.0, 8.0, 12.0, 10.0]

    rows: list[list[object]] = [
        [*scene_cols(m.scene), "、".join(m.roles), round(m.fit, 2),
         "\n".join(f"{ctx.org_name(o)}（{r}）" for o, r in m.partners)]
        for m in memberships(ctx, org_id)]
    _sheet(wb, "匹配联合体", [*scene_head, "岗位", "适配度", "合作伙伴"], rows,
           [*scene_widths, 24, 10, 60], "C2", wrap=(8,))

    eligible = [o for o in opportunities if o.eligible]
    blocked = [o for o in opportunities if not o.eligible]
    terms = list(dict.fromkeys(k for o in opportunities for k in o.terms))
    chosen = _chosen_slots(ctx, org_id)
    rows = [[rank, *scene_cols(o.scene), slot_label(o.slot), round(o.points, 2),
             *(round(o.terms.get(k, 0.0), 2) for k in terms), round(o.owner_partnership, 2),
             "是" if (o.scene, o.slot) in chosen else ""]
            for rank, o in enumerate(eligible, start=1)]
    _sheet(wb, "机会排名", ["排名", *scene_head, "岗位", "得分", *(term_label(k) for k in terms),
                            "与用户单位既往合作加分", "已入选"], rows,
           [6, *scene_widths, 24, 8, *(10 for _ in terms), 12, 8], "D2")

    rows = [[*scene_cols(o.scene), slot_label(o.slot), round(o.points, 2), len(o.problems),
             "\n".join(o.problems)] for o in blocked]
    _sheet(wb, "受阻机会", [*scene_head, "岗位", "得分", "问题数", "受阻原因"], rows,
           [*scene_widths, 24, 8, 8, 80], "C2", wrap=(9,))
    if isinstance(target, Path):
        write_atomically(target, wb.save)
    else:
        wb.save(target)

"""Counts over a catalogue: by field, category, role, province, coordinator; plan status;
and the national overview (consortia formed and robots planned, from the stored runs)."""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Sequence
from typing import Any

from core.model import Catalogue, Field, MatchRun
from core.plan_rules import plan_statuses
from core.taxonomy import taxonomy

NATIONAL_ROBOT_TARGET = 10_000


def newest_run_for(runs: Sequence[MatchRun], coordinator: str) -> MatchRun | None:
    """The newest run that covers ``coordinator``: one of its own or one of every coordinator."""
    covering = [r for r in runs if r.coordinator in (None, coordinator)]
    return max(covering, key=lambda r: r.id) if covering else None


def national_overview(catalogue: Catalogue, runs: Sequence[MatchRun] = ()) -> dict[str, Any]:
    """The national overview as plain data (the ``national`` key of :func:`catalogue_stats`).

    Per coordinator, its scenes by field and category, and what its newest covering run
    (:func:`newest_run_for`) formed; nationally, the consortia formed and the robots they
    plan against :data:`NATIONAL_ROBOT_TARGET`. Keys::

        coordinators: [ {coordinator, kind (province | central_soe | None), scenes,
                         scenes_in_plan, robots_in_plan, by_field {field: n},
                         by_category {category: n}, run_id, run_created, consortia,
                         unmatched, robots_matched} ]   (most scenes first)
        coordinator_count, scenes, scenes_in_plan, by_field, by_category,
        consortia, unmatched, robots_matched, robots_in_plan,
        robot_target, target_share (robots_matched / robot_target),
        runs: [run ids used, newest first]

    ``robots_matched`` counts the robots of scenes that have a consortium; ``robots_in_plan``
    those of every scene in a plan (plan choice not "exclude").
    """
    kinds = {p.coordinator: p.kind.value for p in catalogue.plans}
    scenes_of: dict[str, list[Any]] = {}
    for s in catalogue.scenes:
        scenes_of.setdefault(s.coordinator, []).append(s)
    rows = []
    used: set[int] = set()
    for coordinator in catalogue.coordinators():
        scenes = scenes_of.get(coordinator, [])
        by_id = {s.id: s for s in scenes}
        run = newest_run_for(runs, coordinator)
        result = run.result if run else {}
        formed = [c for c in result.get("consortia", []) if c.get("scene") in by_id]
        unmatched = [u for u in result.get("unmatched", []) if u.get("scene") in by_id]
        if run is not None:
            used.add(run.id)
        in_plan = [s for s in scenes if s.in_plan]
        rows.append({
            "coordinator": coordinator,
            "kind": kinds.get(coordinator),
            "scenes": len(scenes),
            "scenes_in_plan": len(in_plan),
            "robots_in_plan": sum(s.robots for s in in_plan),
            "by_field": dict(Counter(s.field.value for s in scenes).most_common()),
            "by_category": dict(Counter(s.category for s in scenes).most_common()),
            "run_id": run.id if run else None,
            "run_created": run.created if run else None,
            "consortia": len(formed),
            "unmatched": len(unmatched),
            "robots_matched": sum(by_id[c["scene"]].robots for c in formed),
        })
    rows.sort(key=lambda r: (-r["scenes"], r["coordinator"]))
    matched = sum(r["robots_matched"] for r in rows)
    return {
        "coordinators": rows,
        "coordinator_count": len(rows),
        "scenes": len(catalogue.scenes),
        "scenes_in_plan": sum(r["scenes_in_plan"] for r in rows),
        "by_field": dict(Counter(s.field.value for s in catalogue.scenes).most_common()),
        "by_category": dict(Counter(s.category for s in catalogue.scenes).most_common()),
        "consortia": sum(r["consortia"] for r in rows),
        "unmatched": sum(r["unmatched"] for r in rows),
        "robots_matched": matched,
        "robots_in_plan": sum(r["robots_in_plan"] for r in rows),
        "robot_target": NATIONAL_ROBOT_TARGET,
        "target_share": round(matched / NATIONAL_ROBOT_TARGET, 4),
        "runs": sorted(used, reverse=True),
    }


def catalogue_stats(catalogue: Catalogue, runs: Sequence[MatchRun] = ()) -> dict[str, Any]:
    """Counts as plain data (what ``scenematch stats --json`` prints).

    ``runs`` (the store's runs) feed the ``national`` overview (:func:`national_overview`);
    without them it counts scenes only and no consortia.
    """
    scenes = catalogue.scenes
    return {
        "name": catalogue.name,
        "organizations": len(catalogue.organizations),
        "scenes": len(scenes),
        "partnerships": len(catalogue.partnerships),
        "exclusions": len(catalogue.exclusions),
        "pins": len(catalogue.pins),
        "robots_planned": sum(s.robots for s in scenes),
        "robots_deployed": sum(s.robots_deployed for s in scenes),
        "robot_target": NATIONAL_ROBOT_TARGET,
        "by_field": dict(Counter(s.field.value for s in scenes).most_common()),
        "by_category": dict(Counter(s.category for s in scenes).most_common()),
        "by_status": dict(Counter(s.status.value for s in scenes).most_common()),
        "by_plan": dict(Counter(s.plan.value for s in scenes).most_common()),
        "by_role": dict(Counter(r.value for o in catalogue.organizations for r in o.roles).most_common()),
        "by_province": dict(Counter(o.province for o in catalogue.organizations).most_common()),
        "by_coordinator": dict(Counter(s.coordinator for s in scenes).most_common()),
        "plans": [
            {
                "coordinator": p.rule.coordinator,
                "kind": p.rule.kind.value,
                "min_scenes": p.rule.min_scenes,
                "min_fields": p.rule.min_fields,
                "default_rule": p.default_rule,
                "scenes": p.scenes,
                "fields": list(p.fields),
                "robots": p.robots,
                "required": p.required,
                "excluded": p.excluded,
                "compliant": p.compliant,
                "shortfalls": p.shortfalls("en"),
                "shortfalls_zh": p.shortfalls("zh"),
            }
            for p in plan_statuses(catalogue)
        ],
        "national": national_overview(catalogue, runs),
    }


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes (Chinese characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, width: int) -> str:
    """``text`` padded with spaces to ``width`` terminal columns."""
    return text + " " * max(0, width - display_width(text))


def format_stats(stats: dict[str, Any], lang: str = "zh") -> str:
    """The counts as a readable text report."""
    tax = taxonomy()
    zh = lang == "zh"
    lines = [
        f"{'目录' if zh else 'Catalogue'}: {stats['name'] or '—'}",
        f"{'组织' if zh else 'Organisations'}: {stats['organizations']}    "
        f"{'场景' if zh else 'Scenes'}: {stats['scenes']}    "
        f"{'合作关系' if zh else 'Partnerships'}: {stats['partnerships']}    "
        f"{'排斥关系' if zh else 'Exclusions'}: {stats['exclusions']}    "
        f"{'固定选择' if zh else 'Pins'}: {stats['pins']}",
        f"{'计划部署' if zh else 'Robots planned'}: {stats['robots_planned']} / "
        f"{stats['robot_target']}    {'已部署' if zh else 'deployed'}: {stats['robots_deployed']}",
    ]

    def block(title: str, counts: dict[str, int], kind: str = "") -> None:
        lines.append("")
        lines.append(title)
        for key, n in counts.items():
            label = tax.label(kind, key, lang) if kind else key
            lines.append(f"  {pad(label, 24)} {n:>6}")

    block("按领域 By field" if zh else "By field", stats["by_field"], "fields")
    block("按场景类别 By category" if zh else "By category", stats["by_category"])
    block("按角色 By role" if zh else "By role", stats["by_role"], "roles")
    block("按状态 By status" if zh else "By status", stats["by_status"], "statuses")
    if "by_plan" in stats:
        block("按计划选择 By plan choice" if zh else "By plan choice", stats["by_plan"], "plan_choices")
    block("按省份（组织） By province" if zh else "By province", stats["by_province"])
    block("按组织单位（场景） By coordinator" if zh else "By coordinator", stats["by_coordinator"])
    lines.append("")
    lines.append("方案规则 Plan rules" if zh else "Plan rules")
    for p in stats["plans"]:
        mark = "✓" if p["compliant"] else "✗"
        fields = ", ".join(tax.label("fields", f, lang) for f in p["fields"])
        rule = f"≥{p['min_scenes']} / ≥{p['min_fields']}"
        note = "" if p["compliant"] else "  " + "; ".join(p["shortfalls_zh" if zh else "shortfalls"])
        default = " (default)" if p["default_rule"] else ""
        scenes = f"{p['scenes']} 个场景" if zh else f"{p['scenes']} scenes"
        if p.get("excluded"):
            scenes += f"（另有 {p['excluded']} 个已排除）" if zh else f" (+{p['excluded']} excluded)"
        rule_word = "规则" if zh else "rule"
        lines.append(f"  {mark} {p['coordinator']}{default}: {scenes} [{fields}] {rule_word} {rule}{note}")
    if "national" in stats:
        lines.append("")
        lines.extend(format_national(stats["national"], lang))
    return "\n".join(lines)


def format_national(national: dict[str, Any], lang: str = "zh") -> list[str]:
    """The national overview as lines of text."""
    tax = taxonomy()
    zh = lang == "zh"
    share = f"{national['target_share']:.1%}"
    lines = [
        "全国概览 National overview" if zh else "National overview",
        (f"  组织单位 {national['coordinator_count']} 个，场景 {national['scenes']} 个（纳入方案 "
         f"{national['scenes_in_plan']} 个），已组建联合体 {national['consortia']} 个，未匹配 "
         f"{national['unmatched']} 个") if zh else
        (f"  {national['coordinator_count']} coordinators, {national['scenes']} scenes "
         f"({national['scenes_in_plan']} in plans), {national['consortia']} consortia formed, "
         f"{national['unmatched']} unmatched"),
        (f"  计划部署机器人（已组建联合体的场景） {national['robots_matched']:,} / "
         f"{national['robot_target']:,} 台（{share}）") if zh else
        (f"  Robots planned (scenes with a consortium): {national['robots_matched']:,} / "
         f"{national['robot_target']:,} ({share})"),
    ]
    fields = [f.value for f in Field]
    header = [("组织单位" if zh else "Coordinator"), *(tax.label("fields", f, lang) for f in fields),
              ("场景" if zh else "Scenes"), ("联合体" if zh else "Consortia"),
              ("机器人" if zh else "Robots"), ("运行" if zh else "Run")]
    widths = [max([display_width(header[0])] + [display_width(r["coordinator"])
                                                 for r in national["coordinators"]]) + 2,
              *[max(6, display_width(h) + 2) for h in header[1:]]]
    lines.append("  " + "".join(pad(h, w) for h, w in zip(header, widths, strict=True)))
    for r in national["coordinators"]:
        cells = [r["coordinator"], *(str(r["by_field"].get(f, 0)) for f in fields), str(r["scenes"]),
                 str(r["consortia"]), str(r["robots_matched"]),
                 str(r["run_id"]) if r["run_id"] is not None else "—"]
        lines.append("  " + "".join(pad(c, w) for c, w in zip(cells, widths, strict=True)))
    return lines


"""Counts over a catalogue: by field, category, role, province, coordinator; plan status."""

from __future__ import annotations

import unicodedata
from collections import Counter
from typing import Any

from core.model import Catalogue
from core.plan_rules import plan_statuses
from core.taxonomy import taxonomy

NATIONAL_ROBOT_TARGET = 10_000


def catalogue_stats(catalogue: Catalogue) -> dict[str, Any]:
    """Counts as plain data (what ``scenematch stats --json`` prints)."""
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
    return "\n".join(lines)

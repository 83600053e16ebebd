"""Domain objects to and from catalogue-format dicts.

These are the trusted paths (storage rows, export). Untrusted input goes
through :mod:`core.validate`, which checks every value first.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from core.model import (
    Catalogue,
    Deployment,
    Environment,
    Exclusion,
    Goals,
    Organization,
    Ownership,
    Partnership,
    Pin,
    PlanChoice,
    PlanKind,
    PlanRule,
    Product,
    Readiness,
    Requirements,
    Role,
    Scene,
    Setting,
    Status,
)
from core.model import Field as SceneField

FORMAT = "scenematch.catalogue"
VERSION = 1


def org_to_dict(o: Organization) -> dict[str, Any]:
    """Every attribute of an organisation, in catalogue-format keys."""
    return {
        "id": o.id,
        "name": o.name,
        "uscc": o.uscc,
        "roles": [r.value for r in o.roles],
        "province": o.province,
        "city": o.city,
        "ownership": o.ownership.value if o.ownership else None,
        "max_consortia": o.max_consortia,
        "robot_capacity": o.robot_capacity,
        "form_factors": list(o.form_factors),
        "skills": dict(o.skills),
        "certifications": list(o.certifications),
        "component_categories": list(o.component_categories),
        "capabilities": dict(o.capabilities),
        "products": [asdict(p) for p in o.products],
        "deployments": [asdict(d) for d in o.deployments],
        "description": o.description,
        "tags": list(o.tags),
    }


def org_from_dict(d: dict[str, Any]) -> Organization:
    """An organisation from a trusted dict (a storage row or our own export)."""
    return Organization(
        id=d["id"],
        name=d["name"],
        roles=tuple(sorted({Role(r) for r in d["roles"]}, key=list(Role).index)),
        province=d["province"],
        uscc=d.get("uscc") or None,
        city=d.get("city") or "",
        ownership=Ownership(d["ownership"]) if d.get("ownership") else None,
        max_consortia=int(d.get("max_consortia", 1)),
        robot_capacity=int(d.get("robot_capacity") or 0),
        form_factors=tuple(d.get("form_factors") or ()),
        skills=dict(d.get("skills") or {}),
        certifications=tuple(d.get("certifications") or ()),
        component_categories=tuple(d.get("component_categories") or ()),
        capabilities=dict(d.get("capabilities") or {}),
        products=tuple(Product(**p) for p in d.get("products") or ()),
        deployments=tuple(Deployment(**x) for x in d.get("deployments") or ()),
        description=d.get("description") or "",
        tags=tuple(d.get("tags") or ()),
    )


def scene_to_dict(s: Scene) -> dict[str, Any]:
    """Every attribute of a scene, in catalogue-format keys."""
    env = asdict(s.environment)
    env["setting"] = s.environment.setting.value if s.environment.setting else None
    env["hazards"] = list(s.environment.hazards)
    return {
        "id": s.id,
        "name": s.name,
        "owner": s.owner,
        "coordinator": s.coordinator,
        "field": s.field.value,
        "category": s.category,
        "province": s.province,
        "city": s.city,
        "sector": s.sector,
        "description": s.description,
        "form_factors": list(s.form_factors),
        "skills": dict(s.skills),
        "certifications": list(s.certifications),
        "components": list(s.components),
        "needs_institute": s.needs_institute,
        "needs_algorithm": s.needs_algorithm,
        "robots": s.robots,
        "readiness": s.readiness.as_dict(),
        "priority": s.priority,
        "requirements": s.requirements.as_dict(),
        "goals": {k: v for k, v in asdict(s.goals).items() if v is not None},
        "environment": env,
        "budget_wan": s.budget_wan,
        "start": s.start,
        "end": s.end,
        "status": s.status.value,
        "robots_deployed": s.robots_deployed,
        "tags": list(s.tags),
        "plan": s.plan.value,
    }


def scene_from_dict(d: dict[str, Any]) -> Scene:
    """A scene from a trusted dict (a storage row or our own export)."""
    env = dict(d.get("environment") or {})
    return Scene(
        id=d["id"],
        name=d["name"],
        owner=d["owner"],
        coordinator=d["coordinator"],
        field=SceneField(d["field"]),
        category=d["category"],
        province=d["province"],
        form_factors=tuple(d.get("form_factors") or ()),
        robots=int(d["robots"]),
        skills=dict(d.get("skills") or {}),
        certifications=tuple(d.get("certifications") or ()),
        components=tuple(d.get("components") or ()),
        needs_institute=bool(d.get("needs_institute", False)),
        needs_algorithm=bool(d.get("needs_algorithm", True)),
        readiness=Readiness(**(d.get("readiness") or {})),
        priority=float(d.get("priority") or 1.0),
        city=d.get("city") or "",
        sector=d.get("sector") or "",
        description=d.get("description") or "",
        requirements=Requirements(**(d.get("requirements") or {})),
        goals=Goals(**(d.get("goals") or {})),
        environment=Environment(
            setting=Setting(env["setting"]) if env.get("setting") else None,
            temp_min_c=env.get("temp_min_c"),
            temp_max_c=env.get("temp_max_c"),
            ip_rating=env.get("ip_rating") or "",
            explosion_protection=env.get("explosion_protection") or "",
            hazards=tuple(env.get("hazards") or ()),
        ),
        budget_wan=d.get("budget_wan"),
        start=d.get("start") or "",
        end=d.get("end") or "",
        status=Status(d.get("status") or Status.CANDIDATE),
        robots_deployed=int(d.get("robots_deployed") or 0),
        tags=tuple(d.get("tags") or ()),
        plan=PlanChoice(d.get("plan") or PlanChoice.INCLUDE),
    )


def pin_to_dict(p: Pin) -> dict[str, Any]:
    """A pin in catalogue-format keys (``category`` only for component pins)."""
    d: dict[str, Any] = {"scene": p.scene, "org": p.org, "role": p.role.value}
    if p.category:
        d["category"] = p.category
    return d


def plan_to_dict(p: PlanRule) -> dict[str, Any]:
    """A plan rule in catalogue-format keys."""
    return {"coordinator": p.coordinator, "kind": p.kind.value, "min_scenes": p.min_scenes,
            "min_fields": p.min_fields}


def plan_from_dict(d: dict[str, Any]) -> PlanRule:
    """A plan rule from a trusted dict."""
    return PlanRule(d["coordinator"], PlanKind(d["kind"]), int(d["min_scenes"]), int(d["min_fields"]))


def prune(value: Any) -> Any:
    """Drop ``None`` and empty strings, lists and dicts, recursively (for compact export)."""
    if isinstance(value, dict):
        out = {k: prune(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [prune(v) for v in value]
    return value


def _scene_export(s: Scene) -> dict[str, Any]:
    """A scene for export: the ``plan`` extension key only when it is not the default."""
    d = scene_to_dict(s)
    if s.plan is PlanChoice.INCLUDE:
        del d["plan"]
    return d


def catalogue_to_dict(c: Catalogue) -> dict[str, Any]:
    """The whole catalogue as a ``scenematch.catalogue`` version 1 document."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "name": c.name,
        "organizations": [prune(org_to_dict(o)) for o in c.organizations],
        "scenes": [prune(_scene_export(s)) for s in c.scenes],
        "partnerships": [prune(asdict(p)) for p in c.partnerships],
        "exclusions": [prune(asdict(e)) for e in c.exclusions],
        "pins": [pin_to_dict(p) for p in c.pins],
        "plans": [plan_to_dict(p) for p in c.plans],
    }


def partnership_from_dict(d: dict[str, Any]) -> Partnership:
    """A partnership from a trusted dict."""
    return Partnership(d["a"], d["b"], float(d.get("strength", 1.0)), d.get("note") or "")


def exclusion_from_dict(d: dict[str, Any]) -> Exclusion:
    """An exclusion from a trusted dict."""
    return Exclusion(d["a"], d["b"], d.get("reason") or "")


def pin_from_dict(d: dict[str, Any]) -> Pin:
    """A pin from a trusted dict."""
    return Pin(d["scene"], d["org"], Role(d["role"]), d.get("category") or None)

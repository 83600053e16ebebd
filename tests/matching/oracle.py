"""Independent test oracles for matchmaking, written from docs FORMATS.md alone.

Nothing here imports or mirrors ``matching``: the checks restate the contract
(a complete and valid consortium, the result document) so that the engine can
be tested against it.

Two entry points:

- ``check_result(catalogue, doc)``: every violation of the contract in a result
  document, as readable sentences (empty list = valid);
- ``brute_force_best(catalogue)``: the best summed ``priority`` of matched scenes
  over every valid assignment, by plain enumeration (tiny catalogues only).

Readings of the contract where it leaves room (see also the report in the tests):

- ``max_consortia`` counts the consortia an organisation is a member of, other
  than the scenes it owns (its own scenes never count, even when it also fills
  another slot there, e.g. leads its own scene); an organisation counts once
  per consortium however many slots it fills.
- ``robot_capacity`` counts every scene the organisation leads, its own included.
- With ``needs_algorithm`` false an algorithm supplier is optional (at most one);
  when present its skill levels count like any algorithm supplier's.
  ``brute_force_best(..., optional_algorithm=False)`` uses the stricter reading
  (no algorithm supplier at all on such scenes).
- An institute is present iff ``needs_institute``.
- The lead's forms are its ``form_factors`` (products are not consulted).
- The only ``user_unit`` member is the owner; other members are only the slots
  the contract lists (lead, algorithm, components, institute).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from core.model import Catalogue, Organization, Scene

LEAD_ROLES = ("maker", "service_provider")
ROLES = ("user_unit", "maker", "service_provider", "algorithm", "component", "institute")
STATUSES = ("optimal", "feasible", "infeasible", "timeout", "cancelled")
RESULT_KEYS = ("status", "objective", "bound", "gap", "seconds", "consortia", "unmatched", "plans")


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _is_finite(x: Any) -> bool:
    return _is_number(x) and math.isfinite(x)


def _role_names(org: Organization) -> set[str]:
    return {str(r) for r in org.roles}


# --------------------------------------------------------------------------- one consortium


def consortium_violations(
    catalogue: Catalogue, scene: Scene, members: Sequence[dict[str, Any]]
) -> list[str]:
    """Every rule a single consortium for ``scene`` breaks, on its own.

    Covers completeness, roles, forms, certifications, skills, component
    categories, institute, exclusions and pins. Rules across consortia
    (``max_consortia``, ``robot_capacity``) are in ``capacity_violations``.
    """
    orgs = catalogue.org_by_id()
    sid = scene.id
    out: list[str] = []

    if not isinstance(members, list | tuple):
        return [f"scene {sid}: members is {members!r}, not a list"]

    seen: Counter[tuple[Any, Any, Any]] = Counter()
    by_role: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in members:
        if not isinstance(m, dict):
            out.append(f"scene {sid}: member entry {m!r} is not an object")
            continue
        oid, role = m.get("org"), m.get("role")
        seen[(oid, role, m.get("category"))] += 1
        if oid not in orgs:
            out.append(f"scene {sid}: member {oid!r} is not an organisation of the catalogue")
            continue
        if role not in ROLES:
            out.append(f"scene {sid}: member {oid} has unknown role {role!r}")
            continue
        if role not in _role_names(orgs[oid]):
            out.append(f"scene {sid}: member {oid} is listed as {role} but does not have that role")
        by_role[role].append(m)
    for key, n in seen.items():
        if n > 1:
            out.append(f"scene {sid}: member entry {key} is listed {n} times (duplicate)")

    # Owner: present as user_unit, and the only user_unit.
    users = by_role["user_unit"]
    if not any(m["org"] == scene.owner for m in users):
        out.append(f"scene {sid}: owner {scene.owner} missing from members with role user_unit")
    for m in users:
        if m["org"] != scene.owner:
            out.append(f"scene {sid}: {m['org']} is listed as user_unit but the owner is {scene.owner}")

    # Lead: exactly one maker or service provider; forms, certifications.
    leads = by_role["maker"] + by_role["service_provider"]
    lead: Organization | None = None
    if len(leads) != 1:
        out.append(f"scene {sid}: needs exactly one lead (maker or service_provider), has {len(leads)}")
    if len(leads) >= 1 and leads[0]["org"] in orgs:
        lead = orgs[leads[0]["org"]]
    if len(leads) == 1 and lead is not None:
        if not set(lead.form_factors) & set(scene.form_factors):
            out.append(
                f"scene {sid}: lead {lead.id} offers no accepted form factor "
                f"(offers {list(lead.form_factors)}, scene accepts {list(scene.form_factors)})"
            )
        missing = [c for c in scene.certifications if c not in lead.certifications]
        if missing:
            out.append(f"scene {sid}: lead {lead.id} lacks certification(s) {missing}")

    # Algorithm supplier.
    algs = by_role["algorithm"]
    alg: Organization | None = None
    if scene.needs_algorithm and len(algs) != 1:
        out.append(f"scene {sid}: needs exactly one algorithm supplier, has {len(algs)}")
    elif not scene.needs_algorithm and len(algs) > 1:
        out.append(f"scene {sid}: at most one algorithm supplier (not required), has {len(algs)}")
    if len(algs) == 1 and algs[0]["org"] in orgs:
        alg = orgs[algs[0]["org"]]

    # Skills: the higher of lead and algorithm supplier must reach each level.
    if len(leads) == 1 and lead is not None:
        for skill, need in scene.skills.items():
            have = max(lead.skills.get(skill, 0), alg.skills.get(skill, 0) if alg else 0)
            if have < need:
                out.append(
                    f"scene {sid}: skill {skill} needs level {need}, lead"
                    f"{'/algorithm' if alg else ''} reach only {have}"
                )

    # Components: one supplier per category, offering it; no other categories.
    needed = set(scene.components)
    covered: Counter[Any] = Counter()
    for m in by_role["component"]:
        cat = m.get("category")
        if cat is None:
            out.append(f"scene {sid}: component supplier {m['org']} has no category")
            continue
        covered[cat] += 1
        if cat not in needed:
            out.append(f"scene {sid}: component category {cat!r} ({m['org']}) is not required by the scene")
        if cat not in orgs[m["org"]].component_categories:
            out.append(f"scene {sid}: component supplier {m['org']} does not supply category {cat!r}")
    for cat in sorted(needed):
        if covered[cat] == 0:
            out.append(f"scene {sid}: missing component supplier for category {cat!r}")
        elif covered[cat] > 1:
            out.append(f"scene {sid}: component category {cat!r} has {covered[cat]} suppliers")

    # Institute iff needs_institute.
    insts = by_role["institute"]
    if scene.needs_institute and len(insts) != 1:
        out.append(f"scene {sid}: needs exactly one institute, has {len(insts)}")
    if not scene.needs_institute and insts:
        out.append(f"scene {sid}: has an institute ({insts[0]['org']}) but does not need one")

    # Exclusions: no two excluded organisations together, owner included.
    present = {m.get("org") for m in members if isinstance(m, dict)} | {scene.owner}
    for ex in catalogue.exclusions:
        if ex.a != ex.b and ex.a in present and ex.b in present:
            out.append(f"scene {sid}: exclusion violated, {ex.a} and {ex.b} are both in the consortium")

    # Pins on this scene.
    for pin in catalogue.pins:
        if pin.scene != sid:
            continue
        ok = any(
            isinstance(m, dict)
            and m.get("org") == pin.org
            and m.get("role") == str(pin.role)
            and (pin.category is None or m.get("category") == pin.category)
            for m in members
        )
        if not ok:
            what = f"{pin.role}" + (f"/{pin.category}" if pin.category else "")
            out.append(f"scene {sid}: pin violated, {pin.org} must fill {what}")
    return out


def counted_orgs(scene: Scene, members: Iterable[dict[str, Any]]) -> set[str]:
    """Organisations whose ``max_consortia`` this consortium uses (once each; not the owner)."""
    return {m["org"] for m in members if m.get("org") not in (None, scene.owner)}


def lead_of(members: Iterable[dict[str, Any]]) -> str | None:
    """The lead's id (first maker / service provider entry)."""
    return next((m.get("org") for m in members if m.get("role") in LEAD_ROLES), None)


def capacity_violations(
    catalogue: Catalogue, consortia: Sequence[tuple[Scene, Sequence[dict[str, Any]]]]
) -> list[str]:
    """``max_consortia`` and ``robot_capacity`` over a whole set of consortia."""
    orgs = catalogue.org_by_id()
    joins: Counter[str] = Counter()
    robots: Counter[str] = Counter()
    for scene, members in consortia:
        for oid in counted_orgs(scene, members):
            joins[oid] += 1
        lead = lead_of(members)
        if lead is not None:
            robots[lead] += scene.robots
    out = []
    for oid, n in sorted(joins.items()):
        if oid in orgs and n > orgs[oid].max_consortia:
            out.append(
                f"max_consortia exceeded: {oid} joins {n} consortia, max_consortia is {orgs[oid].max_consortia}"
            )
    for oid, n in sorted(robots.items()):
        if oid in orgs and n > orgs[oid].robot_capacity:
            out.append(
                f"robot_capacity exceeded: {oid} leads {n} robots, robot_capacity is {orgs[oid].robot_capacity}"
            )
    return out


# --------------------------------------------------------------------------- whole result


def check_result(catalogue: Catalogue, result: dict[str, Any]) -> list[str]:
    """Every violation of the contract in a result document (empty = valid)."""
    out: list[str] = []
    if not isinstance(result, dict):
        return ["result is not an object"]
    if result.get("format") != "scenematch.result":
        out.append(f"format is {result.get('format')!r}, expected 'scenematch.result'")
    if result.get("version") != 1:
        out.append(f"version is {result.get('version')!r}, expected 1")
    for key in RESULT_KEYS:
        if key not in result:
            out.append(f"key {key!r} is missing")
    if "status" in result and result["status"] not in STATUSES:
        out.append(f"status {result['status']!r} is not one of {STATUSES}")
    for key in ("objective", "bound", "gap", "seconds"):
        v = result.get(key)
        if v is None:
            continue
        if not _is_number(v) or math.isnan(v):
            out.append(f"{key} is {v!r}, not a number")
        elif key == "gap" and v < 0:
            out.append(f"gap is negative ({v})")
        elif key == "seconds" and v < 0:
            out.append(f"seconds is negative ({v})")

    scenes = catalogue.scene_by_id()
    consortia = result.get("consortia") or []
    unmatched = result.get("unmatched") or []
    if not isinstance(consortia, list):
        out.append("consortia is not a list")
        consortia = []
    if not isinstance(unmatched, list):
        out.append("unmatched is not a list")
        unmatched = []

    valid_pairs: list[tuple[Scene, Sequence[dict[str, Any]]]] = []
    in_consortia: Counter[Any] = Counter()
    for c in consortia:
        if not isinstance(c, dict):
            out.append(f"consortium entry {c!r} is not an object")
            continue
        sid = c.get("scene")
        in_consortia[sid] += 1
        if sid not in scenes:
            out.append(f"consortium for unknown scene {sid!r}")
            continue
        fit = c.get("fit")
        if not _is_finite(fit):
            out.append(f"scene {sid}: fit {fit!r} is not a finite number")
        breakdown = c.get("breakdown", {})
        if not isinstance(breakdown, dict):
            out.append(f"scene {sid}: breakdown is not an object")
        else:
            for term, v in breakdown.items():
                if not _is_finite(v):
                    out.append(f"scene {sid}: breakdown term {term!r} = {v!r} is not a finite number")
        members: Any = c.get("members")
        out.extend(consortium_violations(catalogue, scenes[sid], members))
        if not isinstance(members, list | tuple):
            members = []
        valid_pairs.append((scenes[sid], [m for m in members if isinstance(m, dict)]))
    for sid, n in in_consortia.items():
        if n > 1:
            out.append(f"scene {sid} is listed twice in consortia ({n} times)")

    in_unmatched: Counter[Any] = Counter()
    for u in unmatched:
        if not isinstance(u, dict):
            out.append(f"unmatched entry {u!r} is not an object")
            continue
        sid = u.get("scene")
        in_unmatched[sid] += 1
        if sid not in scenes:
            out.append(f"unmatched lists unknown scene {sid!r}")
        if not isinstance(u.get("reason"), str):
            out.append(f"unmatched scene {sid}: reason is missing or not text")
    for sid, n in in_unmatched.items():
        if n > 1:
            out.append(f"scene {sid} is listed twice in unmatched ({n} times)")
    for sid in scenes:
        total = in_consortia[sid] + in_unmatched[sid]
        if total == 0:
            out.append(f"scene {sid} is missing: neither in consortia nor in unmatched")
        elif in_consortia[sid] and in_unmatched[sid]:
            out.append(f"scene {sid} is listed both in consortia and in unmatched")

    out.extend(capacity_violations(catalogue, valid_pairs))
    out.extend(_plan_violations(catalogue, result.get("plans"), [s for s, _ in valid_pairs]))
    # The extension keys (docs/matching.md): the matched priority is the consortia's.
    if "matched_priority" in result:
        summed = sum(s.priority for s, _ in valid_pairs)
        if abs(result["matched_priority"] - summed) > 1e-6:
            out.append(f"matched_priority {result['matched_priority']} is not the consortia's "
                       f"{summed}")
        if result.get("matched_priority_bound", math.inf) < result["matched_priority"] - 1e-6:
            out.append(f"matched_priority_bound {result['matched_priority_bound']} is below "
                       f"matched_priority {result['matched_priority']}")
    return out


def _plan_violations(catalogue: Catalogue, plans: Any, matched: list[Scene]) -> list[str]:
    if plans is None:
        return []
    if not isinstance(plans, list):
        return ["plans is not a list"]
    out = []
    rules = {p.coordinator: p for p in catalogue.plans}
    seen: Counter[Any] = Counter()
    for p in plans:
        if not isinstance(p, dict):
            out.append(f"plans entry {p!r} is not an object")
            continue
        coord: Any = p.get("coordinator")
        seen[coord] += 1
        mine = [s for s in matched if s.coordinator == coord]
        want_fields = {str(s.field) for s in mine}
        if p.get("scenes") != len(mine):
            out.append(f"plan {coord}: scenes is {p.get('scenes')!r}, consortia of that coordinator: {len(mine)}")
        fields = p.get("fields")
        if not isinstance(fields, list) or len(set(fields)) != len(fields) or set(fields) != want_fields:
            out.append(f"plan {coord}: fields is {fields!r}, expected {sorted(want_fields)}")
        if not isinstance(p.get("compliant"), bool):
            out.append(f"plan {coord}: compliant is {p.get('compliant')!r}, not a boolean")
        rule = rules.get(coord)
        if rule is not None:
            ok = len(mine) >= rule.min_scenes and len(want_fields) >= rule.min_fields
            if p.get("compliant") != ok:
                out.append(
                    f"plan {coord}: compliant is {p.get('compliant')!r} but {len(mine)} scenes in "
                    f"{len(want_fields)} fields against min {rule.min_scenes}/{rule.min_fields} gives {ok}"
                )
    for coord, n in seen.items():
        if n > 1:
            out.append(f"plan {coord} is listed {n} times")
    return out


# --------------------------------------------------------------------------- brute force


def _member(org: str, role: str, category: str | None = None) -> dict[str, Any]:
    m: dict[str, Any] = {"org": org, "role": role}
    if category is not None:
        m["category"] = category
    return m


def scene_options(
    catalogue: Catalogue, scene: Scene, optional_algorithm: bool = True
) -> list[list[dict[str, Any]]]:
    """Every member list for ``scene`` that is valid on its own (``consortium_violations`` empty)."""
    orgs = catalogue.organizations

    def having(role: str) -> list[str]:
        return [o.id for o in orgs if role in _role_names(o)]

    leads = [(oid, role) for role in LEAD_ROLES for oid in having(role)]
    if scene.needs_algorithm:
        algs: list[str | None] = list(having("algorithm"))
    elif optional_algorithm:
        algs = [None, *having("algorithm")]
    else:
        algs = [None]
    cats = sorted(set(scene.components))
    comp_choices = [
        [o.id for o in orgs if "component" in _role_names(o) and c in o.component_categories]
        for c in cats
    ]
    insts: list[str | None] = list(having("institute")) if scene.needs_institute else [None]

    options = []
    for (lead, lead_role), alg, comps, inst in itertools.product(
        leads, algs, itertools.product(*comp_choices), insts
    ):
        members = [_member(scene.owner, "user_unit"), _member(lead, lead_role)]
        if alg is not None:
            members.append(_member(alg, "algorithm"))
        members += [_member(oid, "component", c) for c, oid in zip(cats, comps, strict=True)]
        if inst is not None:
            members.append(_member(inst, "institute"))
        if not consortium_violations(catalogue, scene, members):
            options.append(members)
    return options


def brute_force_best(catalogue: Catalogue, optional_algorithm: bool = True) -> float:
    """The maximum summed ``priority`` of matched scenes over every valid assignment.

    Enumerates, for every scene, "not matched" or any member list valid on its
    own, and keeps the combinations that respect ``max_consortia`` and
    ``robot_capacity`` across scenes. Plan rules are ignored. ``priority``
    is > 0, so the empty assignment (0) is the floor.

    To stay fast enough the per-scene option lists are reduced to one
    representative per (lead, set of organisations counted against
    ``max_consortia``): the cross-scene rules depend on nothing else, so this
    cannot change the optimum.
    """
    assert len(catalogue.scenes) <= 4 and len(catalogue.organizations) <= 9, "too big"
    per_scene: list[list[list[dict[str, Any]] | None]] = []
    for scene in catalogue.scenes:
        reps: dict[tuple[str | None, frozenset[str]], list[dict[str, Any]]] = {}
        for members in scene_options(catalogue, scene, optional_algorithm):
            reps.setdefault((lead_of(members), frozenset(counted_orgs(scene, members))), members)
        per_scene.append([*reps.values(), None])

    # Depth-first over the scenes, each either unmatched (None) or one option:
    # the same space as itertools.product(*per_scene), cut where a partial
    # choice already breaks a capacity (capacities only grow with more
    # consortia) or cannot beat the best found.
    scenes = list(catalogue.scenes)
    best = 0.0

    def search(i: int, chosen: list[tuple[Scene, list[dict[str, Any]]]], value: float) -> None:
        nonlocal best
        if value + sum(s.priority for s in scenes[i:]) <= best:
            return
        if i == len(scenes):
            best = value
            return
        for members in per_scene[i]:
            if members is None:
                search(i + 1, chosen, value)
                continue
            trial = [*chosen, (scenes[i], members)]
            if not capacity_violations(catalogue, trial):
                search(i + 1, trial, value + scenes[i].priority)

    search(0, [], 0.0)
    return best

"""Build the domain-free problem from a catalogue, and say why a pair is not eligible.

Slots of a scene's consortium: ``lead`` (maker or service provider),
``algorithm`` (unless not needed), ``component:<category>`` per required
category, ``institute`` when required. The owner is fixed. The skill rule
(lead or algorithm supplier reaches each level) becomes one cover per skill.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from core.model import LEAD_ROLES, Catalogue, Organization, PlanChoice, Role, Scene
from core.plan_rules import default_rule
from core.progress import CancelToken
from matching.fit import (
    Profile,
    Weights,
    member_points,
    member_values,
    pair_points,
    profile,
    readiness,
    terms_of,
    to_int,
)
from matching.problem import (
    Agent,
    Candidate,
    Concentration,
    CountRule,
    Cover,
    Group,
    PairBonus,
    Pin,
    Problem,
    Slot,
)

LEAD, ALGORITHM, INSTITUTE, COMPONENT = "lead", "algorithm", "institute", "component"
ROBOTS = "robots"
EXCLUDED_REASON = "不在计划中（计划选择为“排除”） / excluded from the plan"


def slot_key(role: Role, category: str | None = None) -> str:
    """The slot a role fills (makers and service providers share the lead slot)."""
    if role in LEAD_ROLES:
        return LEAD
    if role is Role.COMPONENT:
        return f"{COMPONENT}:{category or ''}"
    return role.value


def slot_roles(key: str) -> frozenset[Role]:
    """Roles that may fill a slot."""
    if key == LEAD:
        return frozenset(LEAD_ROLES)
    if key.startswith(COMPONENT):
        return frozenset({Role.COMPONENT})
    return frozenset({Role(key)})


def scene_slots(scene: Scene) -> list[str]:
    """The slot keys of a scene's consortium, in display order."""
    keys = [LEAD]
    if scene.needs_algorithm:
        keys.append(ALGORITHM)
    keys.extend(f"{COMPONENT}:{c}" for c in scene.components)
    if scene.needs_institute:
        keys.append(INSTITUTE)
    return keys


@dataclass
class Index:
    """What the adapter knows that explanations need: lookups and per-candidate terms."""

    catalogue: Catalogue
    weights: Weights
    orgs: dict[str, Organization]
    scenes: dict[str, Scene]
    # Per slot, while a run explains its result; emptied before the result is returned.
    candidates: dict[tuple[str, str], tuple[Candidate, ...]] = field(default_factory=dict)
    strength: dict[frozenset[str], float] = field(default_factory=dict)
    excluded: dict[frozenset[str], str] = field(default_factory=dict)
    infeasible: dict[str, str] = field(default_factory=dict)  # scene -> why no consortium can form
    base: dict[str, float] = field(default_factory=dict)  # scene -> readiness points
    profiles: dict[str, Profile] = field(default_factory=dict, repr=False, compare=False)

    def terms(self, scene_id: str, key: str, org_id: str) -> dict[str, float]:
        """Points per term ``org_id`` brings to ``scene_id`` in slot ``key``."""
        found = self.profiles.get(org_id)
        if found is None:  # one profile per organisation, made when first needed
            found = self.profiles[org_id] = profile(self.orgs[org_id])
        return terms_of(member_values(found, self.scenes[scene_id], key.split(":")[0]),
                        self.weights)

    def points(self, scene_id: str, key: str, org_id: str) -> float:
        """The member's total points (before pair bonuses)."""
        return sum(self.terms(scene_id, key, org_id).values())


def hard_rule_problems(scene: Scene, org: Organization, key: str, index: Index) -> list[str]:
    """Every hard rule ``org`` breaks for slot ``key`` of ``scene`` (empty: eligible)."""
    out: list[str] = []
    roles = slot_roles(key)
    if not roles & set(org.roles):
        names = "/".join(r.value for r in sorted(roles, key=list(Role).index))
        out.append(f"没有角色 {names} / lacks role {names}")
        return out
    # The owner may fill other slots of its own scene (if it has the role); that
    # does not count against its max_consortia.
    if org.max_consortia <= 0 and org.id != scene.owner:
        out.append("可参与联合体数为 0 / max_consortia is 0")
    reason = index.excluded.get(frozenset((org.id, scene.owner)))
    if reason is not None:
        out.append(f"与用户单位互斥（{reason}） / excluded with the owner" + (f": {reason}" if reason else ""))
    if key == LEAD:
        if not set(org.form_factors) & set(scene.form_factors):
            offered = "、".join(org.form_factors) or "—"
            out.append(f"形态不符：提供 {offered}，需要 {'、'.join(scene.form_factors)} / form factor "
                       f"not accepted")
        missing = [c for c in scene.certifications if c not in org.certifications]
        if missing:
            out.append(f"缺少认证 {'、'.join(missing)} / missing certification {', '.join(missing)}")
        if org.robot_capacity < scene.robots:
            out.append(f"交付能力 {org.robot_capacity} 台 < 需要 {scene.robots} 台 / robot capacity "
                       f"{org.robot_capacity} < {scene.robots}")
        if not scene.needs_algorithm:
            short = [f"{k} {org.skills.get(k, 0)}<{v}" for k, v in scene.skills.items()
                     if org.skills.get(k, 0) < v]
            if short:
                out.append(f"技能不足（无算法企业补足）：{'，'.join(short)} / skills below the "
                           f"requirement and no algorithm supplier to cover them")
    elif key.startswith(COMPONENT):
        category = key.split(":", 1)[1]
        if category not in org.component_categories:
            out.append(f"不供应 {category} / does not supply {category}")
    return out


def make_index(catalogue: Catalogue, weights: Weights, scenes: list[Scene] | None = None) -> Index:
    """The lookups, partnership strengths and exclusions of ``scenes`` (default: all), without
    candidate lists: what explanations and opportunity rankings need."""
    chosen = catalogue.scenes if scenes is None else scenes
    index = Index(catalogue, weights, catalogue.org_by_id(), {s.id: s for s in chosen})
    for p in catalogue.partnerships:
        pair = frozenset((p.a, p.b))
        index.strength[pair] = max(p.strength, index.strength.get(pair, 0.0))
    for e in catalogue.exclusions:
        index.excluded[frozenset((e.a, e.b))] = e.reason
    return index


def build_problem(
    catalogue: Catalogue,
    weights: Weights | None = None,
    coordinator: str | None = None,
    cancel: CancelToken | None = None,
) -> tuple[Problem, Index]:
    """The problem for ``catalogue`` (one coordinator's scenes, or all), and its index.

    Raises :class:`~core.progress.Cancelled` soon after ``cancel`` is set."""
    weights = weights or Weights()
    scenes = [s for s in catalogue.scenes if coordinator is None or s.coordinator == coordinator]
    index = make_index(catalogue, weights, scenes)
    orgs = index.orgs

    by_role: dict[Role, list[Organization]] = defaultdict(list)
    for org in catalogue.organizations:
        for role in org.roles:
            by_role[role].append(org)
    leads = sorted({o.id: o for r in LEAD_ROLES for o in by_role[r]}.values(), key=lambda o: o.id)
    pool = {
        LEAD: leads,
        ALGORITHM: by_role[Role.ALGORITHM],
        INSTITUTE: by_role[Role.INSTITUTE],
    }
    suppliers: dict[str, list[Organization]] = defaultdict(list)
    for org in by_role[Role.COMPONENT]:
        for category in org.component_categories:
            suppliers[category].append(org)

    pins_by_scene: dict[str, list[tuple[str, str]]] = defaultdict(list)
    loose_pins: dict[str, list[str]] = defaultdict(list)
    problem_pins: list[Pin] = []
    for pin in catalogue.pins:
        if pin.scene in index.scenes:
            if pin.role is Role.USER_UNIT:
                if pin.org != index.scenes[pin.scene].owner:
                    index.infeasible[pin.scene] = (f"固定的用户单位 {pin.org} 不是场景所有者 / pinned user "
                                                   f"unit {pin.org} is not the owner")
                continue
            pinned_org = orgs.get(pin.org)
            if pinned_org is None or pin.role not in pinned_org.roles:
                index.infeasible[pin.scene] = (f"固定选择 {pin.org} 没有角色 {pin.role.value} / pinned "
                                               f"{pin.org} does not have the role {pin.role.value}")
                continue
            if pin.role is Role.COMPONENT and not pin.category:
                # "Supplies one of the scene's components": a cover, built with the slots.
                loose_pins[pin.scene].append(pin.org)
                continue
            key = slot_key(pin.role, pin.category)
            pins_by_scene[pin.scene].append((key, pin.org))
            problem_pins.append(Pin(pin.scene, key, pin.org))

    index.profiles.update({o.id: profile(o) for o in catalogue.organizations})
    profiles = index.profiles
    forms = {o.id: frozenset(o.form_factors) for o in catalogue.organizations}
    certs = {o.id: frozenset(o.certifications) for o in catalogue.organizations}
    excluded_with: dict[str, set[str]] = defaultdict(set)
    for pair in index.excluded:
        if len(pair) == 2:
            a, b = tuple(pair)
            excluded_with[a].add(b)
            excluded_with[b].add(a)

    def eligible(scene: Scene, org: Organization, key: str) -> bool:
        # The fast form of hard_rule_problems (which says why, for explanations).
        if org.max_consortia <= 0 and org.id != scene.owner:
            return False
        if org.id in excluded_with[scene.owner]:
            return False
        if key == LEAD:
            if forms[org.id].isdisjoint(scene.form_factors):
                return False
            if not certs[org.id].issuperset(scene.certifications):
                return False
            if org.robot_capacity < scene.robots:
                return False
            if not scene.needs_algorithm:
                return all(org.skills.get(k, 0) >= v for k, v in scene.skills.items())
        return True

    groups: list[Group] = []
    for scene in scenes:
        if cancel is not None:
            cancel.raise_if_cancelled()
        if scene.plan is PlanChoice.EXCLUDE:
            # Out of the plan: a group nobody can fill, so it is never chosen, never counts
            # towards the plan rule, and the result lists it as unmatched with this reason.
            index.infeasible[scene.id] = EXCLUDED_REASON
            index.base[scene.id] = weights.readiness * readiness(scene)
            for key in scene_slots(scene):
                index.candidates[(scene.id, key)] = ()
            groups.append(Group(
                id=scene.id, slots=tuple(Slot(key, ()) for key in scene_slots(scene)),
                value=to_int(scene.priority), base_score=to_int(index.base[scene.id]),
                cluster=scene.coordinator, tag=scene.field.value, fixed=(scene.owner,),
            ))
            continue
        slots: list[Slot] = []
        why_not: list[str] = []
        for key in scene_slots(scene):
            candidates = []
            kind = key.split(":")[0]
            source = suppliers[key.split(":", 1)[1]] if key.startswith(COMPONENT) else pool[key]
            loads = ((ROBOTS, scene.robots),) if key == LEAD else ()
            for org in source:
                if not eligible(scene, org, key):
                    continue
                points = member_points(member_values(profiles[org.id], scene, kind), weights)
                candidates.append(Candidate(org.id, to_int(points), loads))
            index.candidates[(scene.id, key)] = tuple(candidates)
            pinned = [a for k, a in pins_by_scene[scene.id] if k == key]
            if pinned and pinned[0] not in {c.agent for c in candidates}:
                pinned_org = orgs.get(pinned[0])
                reasons = (hard_rule_problems(scene, pinned_org, key, index) if pinned_org
                           else ["unknown organisation"])
                why_not.append(f"固定选择 {pinned[0]} 不满足硬性条件 / pinned {pinned[0]} breaks a hard "
                               f"rule: {'; '.join(reasons)}")
            if not candidates:
                why_not.append(f"没有符合条件的 {key} / no eligible organisation for slot {key}")
            slots.append(Slot(key, tuple(candidates)))
        needed = set(scene_slots(scene))
        for key, org_id in pins_by_scene[scene.id]:
            if key not in needed:
                why_not.append(f"固定选择 {org_id} 的席位 {key} 不是该场景需要的 / pinned {org_id} to slot "
                               f"{key}, which this scene does not have")
        covers = []
        for skill, need in scene.skills.items():
            options = tuple(
                (s.key, c.agent) for s in slots if s.key in (LEAD, ALGORITHM)
                for c in s.candidates if orgs[c.agent].skills.get(skill, 0) >= need
            )
            if not options:
                why_not.append(f"没有整机或算法企业达到 {skill} {need} 级 / nobody reaches {skill} "
                               f"level {need}")
            covers.append(Cover(f"{skill}≥{need}", options))
        for org_id in loose_pins[scene.id]:
            options = tuple((sl.key, c.agent) for sl in slots if sl.key.startswith(COMPONENT)
                            for c in sl.candidates if c.agent == org_id)
            if not options:
                why_not.append(f"固定选择 {org_id} 不能供应该场景的任何零部件 / pinned {org_id} cannot "
                               f"supply any of this scene's components")
            covers.append(Cover(f"pin {org_id}", options))
        if why_not and scene.id not in index.infeasible:
            index.infeasible[scene.id] = "；".join(why_not)
        if scene.id in index.infeasible:
            # A pin that cannot be honoured keeps the scene out; so does any empty slot.
            slots = [Slot(sl.key, ()) if i == 0 else sl for i, sl in enumerate(slots)]
        base = weights.readiness * readiness(scene)
        index.base[scene.id] = base
        groups.append(Group(
            id=scene.id, slots=tuple(slots), value=to_int(scene.priority), base_score=to_int(base),
            cluster=scene.coordinator, tag=scene.field.value, covers=tuple(covers),
            fixed=(scene.owner,), required=scene.plan is PlanChoice.REQUIRE,
        ))

    agents = tuple(
        Agent(o.id, o.max_consortia, ((ROBOTS, o.robot_capacity),) if LEAD_ROLES & set(o.roles) else ())
        for o in catalogue.organizations
    )
    bonuses = []
    for pair, strength in index.strength.items():
        if len(pair) == 2 and strength > 0:
            a, b = sorted(pair)
            bonuses.append(PairBonus(a, b, to_int(pair_points(strength, weights))))
    rules_by = {p.coordinator: p for p in catalogue.plans}
    clusters = sorted({s.coordinator for s in scenes})
    rules = tuple(
        CountRule(c, (rules_by.get(c) or default_rule(c)).min_scenes,
                  (rules_by.get(c) or default_rule(c)).min_fields)
        for c in clusters
    )
    concentrations = (
        Concentration(weights.concentration_share, to_int(weights.concentration_penalty), "",
                      "concentration"),
        Concentration(weights.lead_share, to_int(weights.lead_penalty), LEAD, "lead_spread"),
    )
    problem = Problem(
        groups=tuple(groups), agents=agents,
        conflicts=tuple(tuple(sorted(pair)) for pair in index.excluded if len(pair) == 2),  # type: ignore[misc]
        pair_bonuses=tuple(bonuses), pins=tuple(problem_pins), rules=rules, concentrations=concentrations,
    )
    return problem, index

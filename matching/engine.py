"""Matchmaking on a catalogue: build, solve, explain; the ``scenematch.result`` document.

``match(catalogue, MatchParams(...))`` returns a :class:`MatchResult` whose
``to_dict()`` is the FORMATS.md result, plus SceneMatch's extensions
(primary objective and its bound, alternates per role, parameters, the diff
against a previous run when re-matching). ``why_not`` answers "why is this
organisation not in that scene's consortium?".
"""

from __future__ import annotations

import gc
import heapq
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.model import LEAD_ROLES, Catalogue, PlanChoice, Role
from core.plan_rules import default_rule
from core.progress import Cancelled, CancelToken
from matching.adapter import (
    COMPONENT,
    LEAD,
    Index,
    build_problem,
    hard_rule_problems,
    scene_slots,
    slot_key,
)
from matching.fit import SCALE, TERM_LABELS, TERMS, Weights, pair_points
from matching.problem import Assignment, Problem, Solution, concentration_excess
from matching.solve import Progress, SolveOptions, solve, worker_count

FORMAT = "scenematch.result"
VERSION = 1


@dataclass
class MatchParams:
    """What to solve and how."""

    time_limit: float = 30.0
    coordinator: str | None = None
    weights: Weights = field(default_factory=Weights)
    workers: int | None = None
    seed: int = 0
    column_budget: int = 60_000
    previous: dict[str, Any] | None = None  # a result document to stay close to …
    previous_run: int | None = None  # … and the stored run it came from, when known
    on_progress: Callable[[Progress], None] | None = None
    cancel: CancelToken = field(default_factory=CancelToken)

    def as_dict(self) -> dict[str, Any]:
        """The parameters worth storing with a run."""
        return {
            "time_limit": self.time_limit,
            "coordinator": self.coordinator,
            "weights": self.weights.as_dict(),
            # The worker count the search used: with more than one, CP-SAT's parallel search
            # may return another answer of the same quality on a second run.
            "workers": worker_count(self.workers),
            "seed": self.seed,
            "column_budget": self.column_budget,
            "rematch": self.previous is not None,
            "rematch_of": self.previous_run,
        }


def members_to_assignment(consortia: list[dict[str, Any]]) -> Assignment:
    """A result document's consortia as slot assignments (the owner left out)."""
    out: Assignment = {}
    for c in consortia:
        slots = out.setdefault(c["scene"], {})
        for m in c["members"]:
            role = Role(m["role"])
            if role is not Role.USER_UNIT:
                slots[slot_key(role, m.get("category"))] = m["org"]
    return out


@dataclass
class MatchResult:
    """A solved match with everything needed to explain it."""

    solution: Solution
    index: Index
    params: MatchParams
    consortia: list[dict[str, Any]]
    unmatched: list[dict[str, Any]]
    plans: list[dict[str, Any]]
    diff: dict[str, Any] | None = None
    # Soft goals the answer breaks (the objective subtracts their points), and the
    # re-matching rewards it earns (memberships kept × the change penalty, in points).
    penalties: list[dict[str, Any]] = field(default_factory=list)
    rewards: float = 0.0

    @property
    def status(self) -> str:
        """optimal | feasible | infeasible | timeout | cancelled."""
        return self.solution.status

    def to_dict(self) -> dict[str, Any]:
        """The ``scenematch.result`` document (FORMATS.md, with extensions)."""
        s = self.solution
        doc: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "status": s.status,
            "objective": round(s.score / SCALE, 2),
            "bound": round(s.score_bound / SCALE, 2),
            "gap": round(s.gap, 6),
            "seconds": round(s.seconds, 3),
            "consortia": self.consortia,
            "unmatched": self.unmatched,
            "plans": self.plans,
            "matched_priority": s.primary / SCALE,
            "matched_priority_bound": s.primary_bound / SCALE,
            "params": self.params.as_dict(),
            "solver": {"stages": s.stages, "candidates_kept": s.kept,
                       "candidates_pruned": s.pruned, "rule_shortfall": s.shortfall},
        }
        # Extension: what the objective is made of (the consortia's fit, less the soft
        # goals' penalties, plus the re-matching rewards) and which goals were broken.
        # The fit as the solver counts it (each member's points in hundredths), so the parts
        # sum to the objective; the consortia's own fits are unrounded and their total can
        # differ by those roundings (measured: up to 0.3 points over 364 consortia).
        penalties = round(0.0 - sum(p["points"] for p in self.penalties), 2)
        doc["objective_parts"] = {
            "fit": round(doc["objective"] - penalties - self.rewards, 2),
            "penalties": penalties,
            "rematch_rewards": round(self.rewards, 2)}
        doc["penalties"] = self.penalties
        if self.diff is not None:
            doc["diff"] = self.diff
        return doc

    def why_not(self, scene_id: str, org_id: str) -> str:
        """Why ``org_id`` is not (or is) in ``scene_id``'s consortium, in one paragraph."""
        return why_not(self, scene_id, org_id)


def _role_of(index: Index, org_id: str, key: str, scene_id: str = "") -> Role:
    org = index.orgs[org_id]
    if key == LEAD:
        for pin in index.catalogue.pins:  # a pin says which lead role the organisation takes
            if pin.scene == scene_id and pin.org == org_id and pin.role in LEAD_ROLES:
                return pin.role
        return Role.MAKER if Role.MAKER in org.roles else Role.SERVICE_PROVIDER
    if key.startswith(COMPONENT):
        return Role.COMPONENT
    return Role(key)


def _breakdown(index: Index, scene_id: str, slots: dict[str, str],
               member_terms: dict[str, dict[str, float]]) -> dict[str, float]:
    """The consortium's fit by term; ``member_terms``: each slot's terms (``index.terms``)."""
    scene = index.scenes[scene_id]
    out = dict.fromkeys(TERMS, 0.0)
    out["readiness"] = index.base[scene_id]
    for key in slots:
        for term, points in member_terms[key].items():
            out[term] += points
    members = sorted({scene.owner, *slots.values()})
    for i, a in enumerate(members):
        for b in members[i + 1:]:
            strength = index.strength.get(frozenset((a, b)), 0.0)
            out["partnership"] += pair_points(strength, index.weights)
    return {k: round(v, 2) for k, v in out.items()}


def _usage(index: Index, assignment: Assignment) -> tuple[dict[str, int], dict[str, int]]:
    groups: dict[str, int] = defaultdict(int)
    robots: dict[str, int] = defaultdict(int)
    for scene_id, slots in assignment.items():
        owner = index.scenes[scene_id].owner
        for org in set(slots.values()) - {owner}:
            groups[org] += 1
        if LEAD in slots:
            robots[slots[LEAD]] += index.scenes[scene_id].robots
    return groups, robots


def _free(index: Index, scene_id: str, key: str, org_id: str,
          usage: tuple[dict[str, int], dict[str, int]]) -> bool:
    """Whether ``org_id`` has capacity left for ``scene_id`` given the solution's usage."""
    groups, robots = usage
    org = index.orgs[org_id]
    scene = index.scenes[scene_id]
    free = groups[org_id] < org.max_consortia or org_id == scene.owner
    if key == LEAD:
        free = free and robots[org_id] + scene.robots <= org.robot_capacity
    return free


def _alternates(index: Index, scene_id: str, key: str, chosen: str,
                usage: tuple[dict[str, int], dict[str, int]]) -> list[dict[str, Any]]:
    mine = index.points(scene_id, key, chosen)
    best = heapq.nlargest(12, (c for c in index.candidates[(scene_id, key)] if c.agent != chosen),
                          key=lambda c: c.score)
    options: list[dict[str, Any]] = []
    for c in best:
        options.append({"org": c.agent, "name": index.orgs[c.agent].name,
                        "delta": round(c.score / SCALE - mine, 2),
                        "available": _free(index, scene_id, key, c.agent, usage)})
    options.sort(key=lambda a: (not a["available"], -a["delta"]))
    return options[:3]


def _unmatched_reason(index: Index, scene_id: str, assignment: Assignment,
                      usage: tuple[dict[str, int], dict[str, int]]) -> str:
    if scene_id in index.infeasible:
        return index.infeasible[scene_id]
    scene = index.scenes[scene_id]
    groups, robots = usage
    blocked = []
    for key in scene_slots(scene):
        cands = [c.agent for c in index.candidates[(scene_id, key)]]
        if not any(_free(index, scene_id, key, org, usage) for org in cands):
            detail = "、".join(
                f"{org}（{groups[org]}/{index.orgs[org].max_consortia} 个联合体"
                + (f"，{robots[org]}/{index.orgs[org].robot_capacity} 台" if key == LEAD else "")
                + "）" for org in cands[:6]) + ("…" if len(cands) > 6 else "")
            blocked.append(f"{key}：全部 {len(cands)} 个符合条件的组织已满负荷 {detail} / every eligible "
                           f"organisation for {key} is at capacity")
    if blocked:
        return "；".join(blocked)
    return ("可组建的联合体与已选场景争用同一批组织，整体上无法同时满足 / its possible consortia compete "
            "with the chosen scenes for the same organisations (exclusions or capacity)")


def _infeasible_reason(index: Index, solution: Solution) -> str:
    """Why an infeasible run matched nothing: the required scenes the solver found
    impossible even alone, else every required scene (their combination is)."""
    named = solution.stages[0].get("groups") if solution.stages else None
    alone = [str(g) for g in named] if isinstance(named, list) else []
    required = alone or sorted(sid for sid, sc in index.scenes.items()
                               if sc.plan is PlanChoice.REQUIRE)
    listed = "、".join(required[:10]) + ("…" if len(required) > 10 else "")
    if alone:
        return (f"必选场景（{listed}）无法组建完整的联合体，本次未匹配任何场景；请取消其“必选” / "
                f"the required scenes ({listed}) cannot get a complete consortium, so nothing "
                f"was matched; un-require them")
    return (f"必选场景（{listed}）无法同时组建联合体，本次未匹配任何场景；请取消其中一些的“必选” / "
            f"the required scenes ({listed}) cannot all get a consortium together, so nothing "
            f"was matched; un-require some of them")


EXPLAIN_SECONDS_PER_SCENE = 0.0003


def match(catalogue: Catalogue, params: MatchParams | None = None) -> MatchResult:
    """Choose scenes and form one complete, valid consortium per chosen scene."""
    params = params or MatchParams()
    params.weights.check()  # ValueError: a negative weight, a share outside 0..1
    started = time.perf_counter()
    # A run builds millions of long-lived objects (national scale: 1.9 million candidates)
    # and frees them by reference counting; the cycle collector only rescans them, again and
    # again (measured: 15 full collections, 3 s of a 60 s national run, before the search
    # starts; peak memory the same without them). gc.freeze() made it worse (34 full
    # collections: the frozen objects no longer count towards the full-collection trigger).
    collecting = gc.isenabled()
    gc.disable()
    try:
        try:
            problem, index = build_problem(catalogue, params.weights, params.coordinator,
                                           params.cancel)
        except Cancelled:
            return _cancelled_before_start(catalogue, params, started)
        return _solve_and_explain(catalogue, params, problem, index, started)
    finally:
        if collecting:
            gc.enable()


def _solve_and_explain(catalogue: Catalogue, params: MatchParams, problem: Problem,
                       index: Index, started: float) -> MatchResult:
    """Solve the built problem and explain the result (the second half of :func:`match`)."""
    previous = members_to_assignment(params.previous["consortia"]) if params.previous else None
    # The time limit covers building the model and explaining the result too (measured:
    # about 0.3 ms per scene for alternates and reasons).
    explain = EXPLAIN_SECONDS_PER_SCENE * len(index.scenes)
    remaining = max(1.0, params.time_limit - explain - (time.perf_counter() - started))
    solution = solve(problem, SolveOptions(
        time_limit=remaining, workers=params.workers, seed=params.seed,
        column_budget=params.column_budget, previous=previous,
        change_penalty=int(round(params.weights.change_penalty * SCALE)) if previous else 0,
        on_progress=params.on_progress, cancel=params.cancel,
    ))
    assignment = solution.assignment
    usage = _usage(index, assignment)
    consortia = []
    for scene_id in sorted(assignment):
        slots = assignment[scene_id]
        scene = index.scenes[scene_id]
        members: list[dict[str, Any]] = [{"org": scene.owner, "role": Role.USER_UNIT.value}]
        alternates = {}
        terms: dict[str, dict[str, float]] = {}
        for key in scene_slots(scene):
            org = slots[key]
            member: dict[str, Any] = {"org": org, "role": _role_of(index, org, key, scene_id).value}
            if key.startswith(COMPONENT):
                member["category"] = key.split(":", 1)[1]
            # Extension: the member's own points (fit terms before pair bonuses), so a
            # proposal can say why each member was chosen.
            terms[key] = index.terms(scene_id, key, org)
            member["points"] = round(sum(terms[key].values()), 2)
            members.append(member)
            if solution.status != "cancelled":  # a cancelled run returns at once
                alternates[key] = _alternates(index, scene_id, key, org, usage)
        breakdown = _breakdown(index, scene_id, slots, terms)
        consortia.append({"scene": scene_id, "fit": round(sum(breakdown.values()), 2),
                          "members": members, "breakdown": breakdown, "alternates": alternates})
    cancelled = solution.status == "cancelled"
    if cancelled:
        general = "运行已取消，取消前未匹配 / not matched before the run was cancelled"
    elif solution.status == "infeasible":
        general = _infeasible_reason(index, solution)
    unmatched = [
        {"scene": sid, "reason": (index.infeasible[sid] if sid in index.infeasible else general)
         if cancelled or solution.status == "infeasible"
         else _unmatched_reason(index, sid, assignment, usage)}
        for sid in sorted(index.scenes) if sid not in assignment
    ]
    plans = plan_entries(catalogue, index, assignment, unmatched)
    diff = diff_assignments(previous, assignment) if previous is not None else None
    # The explanations are written: the result keeps no candidate objects. Measured at
    # national scale: the 2 million kept by the index cost four garbage collections after
    # the run (0.9 + 0.3 + 0.3 + 0.3 s, in whichever thread allocated next, the GUI's too);
    # freed here by reference counting they cost about 0.1 s.
    index.candidates.clear()
    penalties = [{"goal": e.label, "coordinator": e.cluster, "org": e.agent,
                  "consortia": e.groups, "of": e.of, "share": e.share,
                  "points": round(e.penalty * e.excess / SCALE, 2)}
                 for e in concentration_excess(problem, assignment)]
    # Each membership kept earns the change penalty, as the solver counts it.
    rewards = (diff["kept"] * int(round(params.weights.change_penalty * SCALE)) / SCALE
               if diff is not None else 0.0)
    return MatchResult(solution, index, params, consortia, unmatched, plans, diff, penalties,
                       rewards)


def _cancelled_before_start(catalogue: Catalogue, params: MatchParams, started: float
                            ) -> MatchResult:
    """A run cancelled while its model was being built: nothing matched, every scene says so."""
    index = Index(catalogue, params.weights, catalogue.org_by_id(), {
        s.id: s for s in catalogue.scenes
        if params.coordinator is None or s.coordinator == params.coordinator})
    solution = Solution("cancelled", {}, 0, sum(int(round(s.priority * SCALE))
                                               for s in index.scenes.values()), 0,
                        _fit_ceiling(index, params) * SCALE, 0,
                        time.perf_counter() - started, 0, 0,
                        [{"stage": "cancelled", "note": "stopped while building the model"}])
    unmatched = [{"scene": sid, "reason": "已取消，尚未求解 / cancelled before solving"}
                 for sid in sorted(index.scenes)]
    return MatchResult(solution, index, params, [], unmatched,
                       plan_entries(catalogue, index, {}, unmatched))


def _fit_ceiling(index: Index, params: MatchParams) -> float:
    """A bound on the fit of any solution, from the weights alone (no candidate is known yet):
    every scene matched, at full readiness, every member at the top of every term, every
    pair of members (the owner included) at full partnership strength, every membership
    rewarded as kept when re-matching; penalties only lower the fit."""
    w = params.weights
    member = sum(max(0.0, x) for x in (w.capability, w.experience, w.locality, w.spare_capacity))
    pair = max(0.0, w.partnership) / 2  # pair_points at strength 1, the most FORMATS allows
    kept = max(0.0, w.change_penalty) if params.previous else 0.0
    total = 0.0
    for scene in index.scenes.values():
        slots = len(scene_slots(scene))
        members = slots + 1
        total += max(0.0, w.readiness) + slots * (member + kept) + members * (members - 1) / 2 * pair
    return total


def plan_entries(catalogue: Catalogue, index: Index, assignment: Assignment,
                 unmatched: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each coordinator's plan after matching, against its rule, with what is missing and why."""
    rules = {p.coordinator: p for p in catalogue.plans}
    out = []
    for coordinator in sorted({s.coordinator for s in index.scenes.values()}):
        rule = rules.get(coordinator) or default_rule(coordinator)
        mine = [s for s in index.scenes.values() if s.coordinator == coordinator]
        matched = [s for s in mine if s.id in assignment]
        fields = sorted({s.field.value for s in matched})
        compliant = len(matched) >= rule.min_scenes and len(fields) >= rule.min_fields
        entry: dict[str, Any] = {"coordinator": coordinator, "scenes": len(matched),
                                 "fields": fields, "compliant": compliant,
                                 "robots": sum(s.robots for s in matched),
                                 "rule": {"kind": rule.kind.value, "min_scenes": rule.min_scenes,
                                          "min_fields": rule.min_fields}}
        if not compliant:
            missing = []
            if len(matched) < rule.min_scenes:
                missing.append(f"匹配成功 {len(matched)} 个场景，规则要求 {rule.min_scenes} 个（候选共 "
                               f"{len(mine)} 个） / {len(matched)} scenes matched, the rule asks for "
                               f"{rule.min_scenes} ({len(mine)} candidates)")
            if len(fields) < rule.min_fields:
                missing.append(f"覆盖 {len(fields)} 个领域，规则要求 {rule.min_fields} 个 / {len(fields)} "
                               f"fields covered, the rule asks for {rule.min_fields}")
            ids = {s.id for s in mine}
            missing.extend(f"{u['scene']}: {u['reason']}" for u in unmatched if u["scene"] in ids)
            entry["why"] = missing
        out.append(entry)
    return out


def diff_assignments(before: Assignment, after: Assignment) -> dict[str, Any]:
    """Memberships kept, added and removed between two assignments, per scene."""
    changes = []
    kept = 0
    for scene in sorted(set(before) | set(after)):
        old, new = before.get(scene, {}), after.get(scene, {})
        for key in sorted(set(old) | set(new)):
            if old.get(key) == new.get(key):
                kept += 1
                continue
            changes.append({"scene": scene, "slot": key, "before": old.get(key), "after": new.get(key)})
    return {"kept": kept, "changed": len(changes), "changes": changes,
            "scenes_added": sorted(set(after) - set(before)),
            "scenes_removed": sorted(set(before) - set(after))}


def why_not(result: MatchResult, scene_id: str, org_id: str) -> str:
    """The hard rule ``org_id`` breaks for ``scene_id``, or the score it loses by."""
    index = result.index
    scene = index.scenes.get(scene_id)
    org = index.orgs.get(org_id)
    if scene is None or org is None:
        return f"未知的场景或组织 / unknown scene or organisation: {scene_id}, {org_id}"
    if org_id == scene.owner:
        return f"{org.name} 是该场景的用户单位 / is the scene's owner"
    assignment = result.solution.assignment
    slots = assignment.get(scene_id)
    if slots and org_id in slots.values():
        keys = [k for k, v in slots.items() if v == org_id]
        return f"{org.name} 已在联合体中（{'、'.join(keys)}） / is a member ({', '.join(keys)})"
    lines = []
    usage = _usage(index, assignment)
    for key in scene_slots(scene):
        problems = hard_rule_problems(scene, org, key, index)
        if problems and problems[0].startswith("没有角色"):
            continue
        if problems:
            lines.append(f"{key}: " + "；".join(problems))
            continue
        if not slots:
            lines.append(f"{key}: 符合条件；场景未匹配成功 / eligible; the scene itself is unmatched: "
                         + next(u["reason"] for u in result.unmatched if u["scene"] == scene_id))
            continue
        chosen = slots[key]
        delta = index.points(scene_id, key, chosen) - index.points(scene_id, key, org_id)
        groups, robots = usage
        notes = []
        if groups[org_id] >= org.max_consortia:
            notes.append(f"已参与 {groups[org_id]} 个联合体（上限 {org.max_consortia}） / already in "
                         f"{groups[org_id]} consortia (max {org.max_consortia})")
        if key == LEAD and robots[org_id] + scene.robots > org.robot_capacity:
            notes.append(f"交付能力已用 {robots[org_id]}/{org.robot_capacity} 台 / robot capacity used "
                         f"{robots[org_id]}/{org.robot_capacity}")
        members = set(slots.values()) | {scene.owner}
        clash = [m for m in members if frozenset((m, org_id)) in index.excluded]
        if clash:
            notes.append(f"与成员 {', '.join(clash)} 互斥 / excluded with member {', '.join(clash)}")
        chosen_name = index.orgs[chosen].name
        if delta >= 0:
            notes.append(f"适配度比入选的 {chosen_name} 低 {delta:.1f} 分 / fit {delta:.1f} points below "
                         f"the chosen {chosen}")
        else:
            notes.append(f"适配度比入选的 {chosen_name} 高 {-delta:.1f} 分，但为整体最优让位 / fit "
                         f"{-delta:.1f} points above the chosen {chosen}, given up for the whole plan")
        lines.append(f"{key}: " + "；".join(notes))
    if not lines:
        roles = "、".join(r.value for r in org.roles)
        return f"{org.name} 的角色（{roles}）不对应该场景的任何席位 / has no role this scene needs"
    return f"{org.name} × {scene.name}\n" + "\n".join(lines)



def compare_results(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Two result documents side by side: membership changes, fit per scene, totals.

    Runs of different scope (one coordinator's plan against every plan) are compared on the
    scenes both cover: the others were not left out, only not asked about."""
    def scope(doc: dict[str, Any]) -> set[str]:
        return {c["scene"] for c in doc["consortia"]} | {u["scene"] for u in doc["unmatched"]}

    in_a, in_b = scope(before), scope(after)
    both = in_a & in_b
    diff = diff_assignments(
        {s: v for s, v in members_to_assignment(before["consortia"]).items() if s in both},
        {s: v for s, v in members_to_assignment(after["consortia"]).items() if s in both})
    fit_a = {c["scene"]: c["fit"] for c in before["consortia"] if c["scene"] in both}
    fit_b = {c["scene"]: c["fit"] for c in after["consortia"] if c["scene"] in both}
    fits = [
        {"scene": s, "before": fit_a.get(s), "after": fit_b.get(s),
         "delta": round((fit_b.get(s) or 0) - (fit_a.get(s) or 0), 2)}
        for s in sorted(set(fit_a) | set(fit_b)) if fit_a.get(s) != fit_b.get(s)
    ]

    # Over the scenes both cover, like the memberships; the objectives are the runs' own.
    return {
        "objective": {"before": before.get("objective"), "after": after.get("objective")},
        "fit": {"before": round(sum(fit_a.values()), 2), "after": round(sum(fit_b.values()), 2)},
        "matched": {"before": len(fit_a), "after": len(fit_b)},
        "scope": {"both": len(both), "only_before": len(in_a - in_b),
                  "only_after": len(in_b - in_a)},
        "memberships": diff,
        "fit_changes": fits,
    }


def explain(result: MatchResult, scene_id: str, org_id: str | None = None) -> str:
    """A scene's consortium with its breakdown and alternates (or why it is unmatched), and,
    given ``org_id``, why that organisation is or is not in it — as text for the user."""
    index = result.index
    scene = index.scenes[scene_id]
    lines = [f"{scene_id} {scene.name}（{scene.coordinator}，{scene.category}）"]
    consortium = next((c for c in result.consortia if c["scene"] == scene_id), None)
    if consortium is None:
        reason = next(u["reason"] for u in result.unmatched if u["scene"] == scene_id)
        lines.append(f"  未匹配 unmatched: {reason}")
    else:
        lines.append(f"  适配度 fit {consortium['fit']:.1f}")
        for m in consortium["members"]:
            name = index.orgs[m["org"]].name
            extra = f" [{m['category']}]" if m.get("category") else ""
            lines.append(f"    {m['role']}{extra}: {m['org']} {name}")
        lines.append("  分项 breakdown:")
        for term, points in consortium["breakdown"].items():
            zh, en = TERM_LABELS[term]
            lines.append(f"    {zh} {en}: {points:.1f}")
        lines.append("  备选 alternates:")
        for key, options in consortium["alternates"].items():
            shown = "；".join(f"{o['org']} {o['name']} ({o['delta']:+.1f}"
                             f"{'' if o['available'] else '，已满负荷 full'})" for o in options) or "—"
            lines.append(f"    {key}: {shown}")
    if org_id:
        lines.append("")
        lines.append(result.why_not(scene_id, org_id))
    return "\n".join(lines)

"""Warm starts: quick feasible assignments that CP-SAT starts from (and falls back on).

``greedy`` goes group by group. ``flow_start`` goes slot position by slot position
(all leads at once, then all algorithm suppliers, …), each as one min-cost flow with
lexicographic costs, so scarce organisations go where they are needed rather than to
whichever group came first; what breaks a rule the flows do not see (resources,
conflicts, covers) is dropped at the end and a second pass reuses the freed capacity.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import product

from core.progress import Cancelled, CancelToken
from matching.problem import Assignment, Candidate, Group, Problem


def _limits(problem: Problem) -> tuple[dict[str, int | None], dict[str, dict[str, int]]]:
    return ({a.id: a.max_groups for a in problem.agents},
            {a.id: dict(a.resources) for a in problem.agents})


def _conflicts(problem: Problem) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for a, b in problem.conflicts:
        out[a].add(b)
        out[b].add(a)
    return out


def greedy(problem: Problem, groups: list[Group], tries: int = 8,
           cancel: CancelToken | None = None) -> Assignment:
    """Groups by value; for each, the best-scoring combination of the slots that covers
    mention (top ``tries`` each), then every other slot's best free candidate."""
    groups_cap, resources = _limits(problem)
    used_groups: dict[str, int] = defaultdict(int)
    used_res: dict[tuple[str, str], int] = defaultdict(int)
    conflicts = _conflicts(problem)

    def fill(group: Group) -> dict[str, Candidate] | None:
        ranked = {s.key: sorted(s.candidates, key=lambda c: -c.score) for s in group.slots}
        cover_keys = sorted({k for cv in group.covers for k, _ in cv.options})
        others = [s.key for s in sorted(group.slots, key=lambda s: len(s.candidates))
                  if s.key not in cover_keys]
        combos = sorted(product(*(ranked[k][:tries] for k in cover_keys)),
                        key=lambda cs: -sum(c.score for c in cs))
        for combo in combos:
            chosen: dict[str, Candidate] = {}
            members = set(group.fixed)
            local: dict[tuple[str, str], int] = defaultdict(int)

            def add(key: str, c: Candidate, chosen: dict[str, Candidate] = chosen,
                    members: set[str] = members, local: dict[tuple[str, str], int] = local) -> bool:
                cap = groups_cap.get(c.agent, 1)
                if c.agent not in members and cap is not None and used_groups[c.agent] >= cap:
                    return False
                if conflicts[c.agent] & (members - {c.agent}):
                    return False
                for res, load in c.loads:
                    limit = resources.get(c.agent, {}).get(res, 0)
                    if used_res[(c.agent, res)] + local[(c.agent, res)] + load > limit:
                        return False
                chosen[key] = c
                members.add(c.agent)
                for res, load in c.loads:
                    local[(c.agent, res)] += load
                return True

            if not all(add(k, c) for k, c in zip(cover_keys, combo, strict=True)):
                continue
            picked = {k: c.agent for k, c in chosen.items()}
            if not all(any(picked.get(k) == a for k, a in cv.options) for cv in group.covers):
                continue
            if all(any(add(k, c) for c in ranked[k]) for k in others):
                return chosen
        return None

    order = sorted(groups, key=lambda g: (-g.value, sum(len(s.candidates) for s in g.slots)))
    result: Assignment = {}
    for n, group in enumerate(order):
        if cancel is not None and n % 100 == 0:
            cancel.raise_if_cancelled()
        chosen = fill(group)
        if chosen is None:
            continue
        result[group.id] = {k: c.agent for k, c in chosen.items()}
        for agent in {c.agent for c in chosen.values()} - set(group.fixed):
            used_groups[agent] += 1
        for c in chosen.values():
            for res, load in c.loads:
                used_res[(c.agent, res)] += load
    return result


def _flow_pass(problem: Problem, groups: list[Group], cancel: CancelToken | None) -> Assignment:
    from ortools.graph.python import min_cost_flow as mcf

    groups_cap, _ = _limits(problem)
    conflicts = _conflicts(problem)
    chosen: dict[str, dict[str, str]] = {g.id: {} for g in groups}
    alive = {g.id for g in groups}
    used: dict[str, int] = defaultdict(int)  # groups joined so far, per agent
    depth = max((len(g.slots) for g in groups), default=0)
    big = 1 + max((c.score for g in groups for s in g.slots for c in s.candidates), default=0)
    for position in range(depth):
        if cancel is not None:
            cancel.raise_if_cancelled()
        flow = mcf.SimpleMinCostFlow()
        tasks: list[tuple[Group, str]] = [(g, g.slots[position].key) for g in groups
                                          if g.id in alive and position < len(g.slots)]
        n = len(tasks)
        source, sink = n, n + 1
        node: dict[str, int] = {}
        arcs: list[tuple[int, int, str]] = []
        for t, (g, key) in enumerate(tasks):
            flow.add_arc_with_capacity_and_unit_cost(source, t, 1, 0)
            members = set(g.fixed) | set(chosen[g.id].values())
            slot = g.slots[position]
            allowed = None
            for cover in g.covers:
                done = any(chosen[g.id].get(k) == a for k, a in cover.options)
                later = any(k == s.key for k, _ in cover.options for s in g.slots[position + 1:])
                if not done and not later:  # this slot is the cover's last chance
                    options = {a for k, a in cover.options if k == key}
                    allowed = options if allowed is None else allowed & options
            for c in slot.candidates:
                if allowed is not None and c.agent not in allowed:
                    continue
                if conflicts[c.agent] & (members - {c.agent}):
                    continue
                if c.agent not in node:
                    node[c.agent] = n + 2 + len(node)
                arc = flow.add_arc_with_capacity_and_unit_cost(t, node[c.agent], 1,
                                                               -(big * g.value + c.score))
                arcs.append((arc, t, c.agent))
        for agent, nid in node.items():
            cap = groups_cap.get(agent, 1)
            left = n if cap is None else max(0, cap - used[agent])
            flow.add_arc_with_capacity_and_unit_cost(nid, sink, left, 0)
        flow.add_arc_with_capacity_and_unit_cost(source, sink, n, 0)
        flow.set_node_supply(source, n)
        flow.set_node_supply(sink, -n)
        if flow.solve() != flow.OPTIMAL:
            break
        filled = set()
        for arc, t, agent in arcs:
            if flow.flow(arc):
                g, key = tasks[t]
                chosen[g.id][key] = agent
                filled.add(g.id)
                if agent not in g.fixed and list(chosen[g.id].values()).count(agent) == 1:
                    used[agent] += 1
        for g, _ in tasks:
            if g.id not in filled:
                alive.discard(g.id)
                for agent in set(chosen[g.id].values()) - set(g.fixed):
                    used[agent] -= 1
                chosen[g.id] = {}
    return {gid: slots for gid, slots in chosen.items() if gid in alive and slots}


def repair(problem: Problem, groups: list[Group], assignment: Assignment,
           cancel: CancelToken | None = None) -> Assignment:
    """Keep groups (highest value first) while every limit, resource, conflict and cover holds;
    a member that no longer fits is swapped for the slot's best candidate that does, and a
    group is dropped only when no swap makes it fit."""
    groups_cap, resources = _limits(problem)
    conflicts = _conflicts(problem)
    by_id = {g.id: g for g in groups}
    used: dict[str, int] = defaultdict(int)
    used_res: dict[tuple[str, str], int] = defaultdict(int)
    out: Assignment = {}

    def fits(g: Group, slots: dict[str, str]) -> bool:
        members = set(slots.values()) | set(g.fixed)
        if any(conflicts[a] & (members - {a}) for a in members):
            return False
        if not all(any(slots.get(k) == a for k, a in cv.options) for cv in g.covers):
            return False
        joining = set(slots.values()) - set(g.fixed)
        if any((cap := groups_cap.get(a, 1)) is not None and used[a] >= cap for a in joining):
            return False
        loads: dict[tuple[str, str], int] = defaultdict(int)
        for s in g.slots:
            for c in s.candidates:
                if c.agent == slots[s.key]:
                    for res, load in c.loads:
                        loads[(c.agent, res)] += load
        return all(used_res[k] + v <= resources.get(k[0], {}).get(k[1], 0)
                   for k, v in loads.items())

    def commit(g: Group, slots: dict[str, str]) -> None:
        out[g.id] = slots
        for a in set(slots.values()) - set(g.fixed):
            used[a] += 1
        for s in g.slots:
            for c in s.candidates:
                if c.agent == slots[s.key]:
                    for res, load in c.loads:
                        used_res[(c.agent, res)] += load

    for n, gid in enumerate(sorted(assignment, key=lambda g: -by_id[g].value)):
        if cancel is not None and n % 20 == 0:
            cancel.raise_if_cancelled()
        g, slots = by_id[gid], dict(assignment[gid])
        if fits(g, slots):
            commit(g, slots)
            continue
        # Swap members one slot at a time, best candidate first, until the group fits.
        for slot in g.slots:
            if fits(g, slots):
                break
            for c in sorted(slot.candidates, key=lambda c: -c.score):
                trial = {**slots, slot.key: c.agent}
                if fits(g, trial):
                    slots = trial
                    break
        if fits(g, slots):
            commit(g, slots)
    return out


def flow_start(problem: Problem, groups: list[Group],
               cancel: CancelToken | None = None) -> Assignment:
    """Slot-position min-cost flows, repaired, then a second pass for the groups left out."""
    first = repair(problem, groups, _flow_pass(problem, groups, cancel), cancel)
    if len(first) == len(groups):
        return first
    # Second pass: the matched groups keep their members (as fixed choices); the others
    # compete for what is left.
    rest = [g for g in groups if g.id not in first]
    limits = {a.id: a for a in problem.agents}
    used: dict[str, int] = defaultdict(int)
    for gid, slots in first.items():
        fixed = set(next(g for g in groups if g.id == gid).fixed)
        for a in set(slots.values()) - fixed:
            used[a] += 1
    from dataclasses import replace

    reduced = replace(problem, agents=tuple(
        replace(a, max_groups=None if a.max_groups is None else max(0, a.max_groups - used[a.id]))
        for a in limits.values()))
    second = _flow_pass(reduced, rest, cancel)
    return repair(problem, groups, {**first, **second}, cancel)


def best_start(problem: Problem, groups: list[Group],
               cancel: CancelToken | None = None) -> Assignment:
    """The better of the greedy and the flow start (more value, then more score)."""
    by_id = {g.id: g for g in groups}

    def key(assignment: Assignment) -> tuple[int, int]:
        value = sum(by_id[g].value for g in assignment)
        score = sum(c.score for g, slots in assignment.items() for s in by_id[g].slots
                    for c in s.candidates if slots.get(s.key) == c.agent)
        return value, score

    candidates = [greedy(problem, groups, cancel=cancel)]
    if len(groups) > 1:
        try:
            candidates.append(flow_start(problem, groups, cancel))
        except Cancelled:
            pass  # the greedy answer stands
    if cancel is not None and cancel.cancelled:
        best = max(candidates, key=key)
        raise Cancelled(best)
    return max(candidates, key=key)

"""Warm starts: quick feasible assignments that CP-SAT starts from (and falls back on).

``greedy`` goes group by group. ``flow_start`` goes slot position by slot position
(all leads at once, then all algorithm suppliers, …), each as one min-cost flow with
lexicographic costs, so scarce organisations go where they are needed rather than to
whichever group came first; what breaks a rule the flows do not see (resources,
conflicts, covers) is dropped at the end and a second pass reuses the freed capacity.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from itertools import product

import numpy as np

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


FLOW_ARCS = 48  # best candidates per task that a position's flow considers


def _flow_pass(problem: Problem, groups: list[Group], cancel: CancelToken | None,
               weight: dict[str, int] | None = None) -> Assignment:

    groups_cap, resources = _limits(problem)
    conflicts = _conflicts(problem)
    chosen: dict[str, dict[str, str]] = {g.id: {} for g in groups}
    alive = {g.id for g in groups}
    used: dict[str, int] = defaultdict(int)  # groups joined so far, per agent
    used_res: dict[tuple[str, str], int] = defaultdict(int)
    depth = max((len(g.slots) for g in groups), default=0)
    big = 1 + max((c.score for g in groups for s in g.slots for c in s.candidates), default=0)
    for position in range(depth):
        if cancel is not None:
            cancel.raise_if_cancelled()
        tasks: list[tuple[Group, str]] = [(g, g.slots[position].key) for g in groups
                                          if g.id in alive and position < len(g.slots)]
        options: list[list[tuple[Candidate, int]]] = []
        for t, (g, key) in enumerate(tasks):
            if cancel is not None and t % 64 == 0:
                cancel.raise_if_cancelled()  # a position's options: up to 0.5 s nationally
            members = set(g.fixed) | set(chosen[g.id].values())
            slot = g.slots[position]
            later_keys = {s.key for s in g.slots[position + 1:]}
            allowed: set[str] | None = None
            pending: list[tuple[set[str], dict[str, set[str]]]] = []
            for cover in g.covers:
                if any(chosen[g.id].get(k) == a for k, a in cover.options):
                    continue
                here = {a for k, a in cover.options if k == key}
                later: dict[str, set[str]] = defaultdict(set)
                for k, a in cover.options:
                    if k in later_keys:
                        later[k].add(a)
                if not later:  # this slot is the cover's last chance
                    allowed = here if allowed is None else allowed & here
                else:
                    pending.append((here, later))
            room: dict[tuple[bool, ...], int | None] = {}
            mine = []
            worth = big * 4 * g.value * (weight or {}).get(g.id, 1)
            for c in slot.candidates:
                a = c.agent
                if allowed is not None and a not in allowed:
                    continue
                clash = conflicts.get(a)
                if clash and any(x != a and x in members for x in clash):
                    continue
                # The covers this choice leaves to later slots: when they all fall on one
                # slot, some single later member must reach all of them; the fewer such
                # members remain, the less this choice is worth.
                pattern = tuple(a in here for here, _ in pending) if pending else ()
                if pattern not in room:
                    left = [later for (_, later), done in zip(pending, pattern, strict=True)
                            if not done]
                    keys = set().union(*left) if left else set()
                    if len(keys) == 1:
                        k = next(iter(keys))
                        room[pattern] = len(set.intersection(*(later[k] for later in left)))
                    else:
                        room[pattern] = None
                n_room = room[pattern]
                if n_room == 0:
                    continue
                penalty = 0 if n_room is None else 2 * big * max(0, 16 - n_room) // 16
                mine.append((c, worth + c.score - penalty))
            mine.sort(key=lambda cg: -cg[1])
            options.append(mine[:FLOW_ARCS])
        picked = _position_flow(tasks, options, chosen, used, used_res, groups_cap, resources,
                                None if cancel is None else lambda: cancel.cancelled)
        if cancel is not None:
            cancel.raise_if_cancelled()  # a stopped flow picks nothing: not a real result
        filled = set()
        for t, c in picked.items():
            g, key = tasks[t]
            if c.agent not in g.fixed and c.agent not in chosen[g.id].values():
                used[c.agent] += 1
            chosen[g.id][key] = c.agent
            for res, load in c.loads:
                used_res[(c.agent, res)] += load
            filled.add(g.id)
        for g, _ in tasks:
            if g.id not in filled:
                alive.discard(g.id)
                _release(g, chosen[g.id], used, used_res)
                chosen[g.id] = {}
    return {gid: slots for gid, slots in chosen.items() if gid in alive and slots}


def _release(g: Group, slots: dict[str, str], used: dict[str, int],
             used_res: dict[tuple[str, str], int]) -> None:
    for agent in set(slots.values()) - set(g.fixed):
        used[agent] -= 1
    for s in g.slots:
        for c in s.candidates:
            if slots.get(s.key) == c.agent:
                for res, load in c.loads:
                    used_res[(c.agent, res)] -= load


def _position_flow(tasks: list[tuple[Group, str]], options: list[list[tuple[Candidate, int]]],
                   chosen: dict[str, dict[str, str]], used: dict[str, int],
                   used_res: dict[tuple[str, str], int], groups_cap: dict[str, int | None],
                   resources: dict[str, dict[str, int]],
                   stop: Callable[[], bool] | None = None,
                   keep: dict[int, str] | None = None) -> dict[int, Candidate]:
    """One slot per task, by min-cost flow (most gain). An agent already in the task's group
    joins it for free. Resources (loads) are not a flow: when the flow overloads an agent,
    the picks that do not fit are forbidden to it and the flow is solved again (a few times).
    ``stop``: checked before each solve; when it says so, nothing is picked.

    Re-choosing the members of selected groups (polish, insertion) passes ``keep``: per task
    of a selected group, its current member, which fitted. Those tasks must be filled (their
    supply is their own; when they cannot all be, nothing is picked). An agent that overloads
    is *gated* in the next solves: its current tasks may stay, and it takes at most as many
    new ones as fit even if they are the heaviest. The last solve gates every agent with
    resources, so the answer always fits."""
    from ortools.graph.python import min_cost_flow as mcf

    n = len(tasks)
    required = keep or {}
    attempts = 6
    forbidden: set[tuple[int, str]] = set()
    gated: set[str] = set()
    picked: dict[int, Candidate] = {}
    for attempt in range(attempts):
        if stop is not None and stop():
            return {}
        gate_all = keep is not None and attempt == attempts - 1
        flow = mcf.SimpleMinCostFlow()
        source, sink = n, n + 1
        node: dict[str, int] = {}
        gate: dict[str, int] = {}
        newcomers: dict[str, list[Candidate]] = defaultdict(list)
        staying: dict[str, list[Candidate]] = defaultdict(list)
        tails: list[int] = []
        heads: list[int] = []
        costs: list[int] = []
        arcs: list[tuple[int, Candidate]] = []
        for t, (g, _) in enumerate(tasks):
            inside = set(chosen[g.id].values()) | set(g.fixed)
            for c, gain in options[t]:
                if (t, c.agent) in forbidden:
                    continue
                gating = (c.loads and keep is not None and (gate_all or c.agent in gated)
                          and keep.get(t) != c.agent)
                if keep is not None and keep.get(t) == c.agent:
                    staying[c.agent].append(c)
                if c.agent in inside:
                    if gating:
                        continue  # its resources would bypass the gate (a rare case)
                    head = sink  # already a member: no group capacity used
                elif gating:
                    head = gate.get(c.agent, -1)
                    if head < 0:
                        head = gate[c.agent] = n + 2 + len(node) + len(gate)
                    newcomers[c.agent].append(c)
                else:
                    head = node.get(c.agent, -1)
                    if head < 0:
                        head = node[c.agent] = n + 2 + len(node) + len(gate)
                tails.append(t)
                heads.append(head)
                costs.append(-gain)
                arcs.append((t, c))
        for agent in gate:
            if agent not in node:
                node[agent] = n + 2 + len(node) + len(gate)
        # Arcs in one call each: source -> task, task -> agent, agent -> sink, and the bypass
        # (a task may stay empty).
        flow.add_arcs_with_capacity_and_unit_cost(  # first, so arc i is arcs[i]
            np.asarray(tails, dtype=np.int32), np.asarray(heads, dtype=np.int32),
            np.ones(len(tails), dtype=np.int64), np.asarray(costs, dtype=np.int64))
        optional = np.asarray([t for t in range(n) if t not in required], dtype=np.int32)
        flow.add_arcs_with_capacity_and_unit_cost(
            np.full(len(optional), source, dtype=np.int32), optional,
            np.ones(len(optional), dtype=np.int64), np.zeros(len(optional), dtype=np.int64))
        for agent, head in gate.items():
            flow.add_arc_with_capacity_and_unit_cost(
                head, node[agent], _fitting(newcomers[agent], staying[agent], agent,
                                            used_res, resources), 0)
        agents = list(node)
        lefts = []
        for agent in agents:
            cap = groups_cap.get(agent, 1)
            lefts.append(n if cap is None else max(0, cap - used[agent]))
        flow.add_arcs_with_capacity_and_unit_cost(
            np.asarray([node[a] for a in agents], dtype=np.int32),
            np.full(len(agents), sink, dtype=np.int32), np.asarray(lefts, dtype=np.int64),
            np.zeros(len(agents), dtype=np.int64))
        flow.add_arc_with_capacity_and_unit_cost(source, sink, n, 0)
        flow.set_node_supply(source, len(optional))
        for t in required:
            flow.set_node_supply(t, 1)
        flow.set_node_supply(sink, -n)
        if flow.solve() != flow.OPTIMAL:
            return {}
        flows = flow.flows(np.arange(len(arcs), dtype=np.int32)) if arcs else []
        picked = {t: c for (t, c), f in zip(arcs, flows, strict=True) if f}
        # Resources the flow does not see: how many of its picks each agent can carry.
        by_agent: dict[str, list[tuple[int, Candidate]]] = defaultdict(list)
        for t, c in picked.items():
            if c.loads:
                by_agent[c.agent].append((t, c))
        over = False
        for agent, tcs in by_agent.items():
            room = dict(resources.get(agent, {}))
            for t, c in sorted(tcs, key=lambda tc: sum(v for _, v in tc[1].loads)):
                if all(used_res[(agent, r)] + v <= room.get(r, 0) for r, v in c.loads):
                    for r, v in c.loads:
                        room[r] = room.get(r, 0) - v
                else:
                    over = True
                    if keep is None:
                        forbidden.add((t, agent))
                    else:
                        gated.add(agent)
        if not over:
            break
    return picked


def _fitting(newcomers: list[Candidate], staying: list[Candidate], agent: str,
             used_res: dict[tuple[str, str], int], resources: dict[str, dict[str, int]]) -> int:
    """How many of ``newcomers`` an agent can surely take beside every task in ``staying``:
    the most that fit even when the heaviest come."""
    room = dict(resources.get(agent, {}))
    for c in staying:
        for r, v in c.loads:
            room[r] = room.get(r, 0) - v
    most = len(newcomers)
    for r in {r for c in newcomers for r, _ in c.loads}:
        total, fits = used_res[(agent, r)], 0
        for v in sorted((dict(c.loads).get(r, 0) for c in newcomers), reverse=True):
            total += v
            if total > room.get(r, 0):
                break
            fits += 1
        most = min(most, fits)
    return most


def repair(problem: Problem, groups: list[Group], assignment: Assignment,
           cancel: CancelToken | None = None, weight: dict[str, int] | None = None) -> Assignment:
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

    for n, gid in enumerate(sorted(assignment, key=lambda g: -by_id[g].value * (weight or {}).get(g, 1))):
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


def rule_weights(problem: Problem, groups: list[Group],
                 assignment: Assignment | None = None) -> dict[str, int]:
    """Weights that favour the groups counting rules depend on: those of a cluster with few
    groups to spare (or short in ``assignment``), and those carrying a tag the cluster has
    few of when it needs several tags."""
    by_cluster: dict[str, list[Group]] = defaultdict(list)
    for g in groups:
        by_cluster[g.cluster].append(g)
    weight: dict[str, int] = {}
    for rule in problem.rules:
        members = by_cluster.get(rule.cluster, [])
        if assignment is not None:
            chosen = [g for g in members if g.id in assignment]
            short = (len(chosen) < rule.min_groups
                     or len({g.tag for g in chosen}) < rule.min_tags)
            if not short:
                continue
            factor = 10
        else:
            factor = 3
        tight = len(members) <= 1.5 * rule.min_groups or assignment is not None
        tag_count: dict[str, int] = defaultdict(int)
        for g in members:
            tag_count[g.tag] += 1
        for g in members:
            if tight or (rule.min_tags > 1 and tag_count[g.tag] <= 2):
                weight[g.id] = factor
    return weight


def rule_shortfall(problem: Problem, groups: list[Group], assignment: Assignment) -> int:
    """How far ``assignment`` falls short of the counting rules (groups, then tags)."""
    counts: dict[str, int] = defaultdict(int)
    tags: dict[str, set[str]] = defaultdict(set)
    for g in groups:
        if g.id in assignment:
            counts[g.cluster] += 1
            tags[g.cluster].add(g.tag)
    return sum(max(0, r.min_groups - counts[r.cluster]) + max(0, r.min_tags - len(tags[r.cluster]))
               for r in problem.rules)


def flow_start(problem: Problem, groups: list[Group],
               cancel: CancelToken | None = None) -> Assignment:
    """Slot-position min-cost flows, repaired, then a second pass for the groups left out;
    if a counting rule is still short, once more with its cluster's groups weighted up."""
    weight = rule_weights(problem, groups)
    result = _flow_start(problem, groups, cancel, weight)
    if problem.rules and rule_shortfall(problem, groups, result):
        weight = {**weight, **rule_weights(problem, groups, result)}
        again = _flow_start(problem, groups, cancel, weight)
        by_id = {g.id: g for g in groups}
        result = min((result, again), key=lambda a: (
            rule_shortfall(problem, groups, a), -sum(by_id[g].value for g in a)))
    return result


def _flow_start(problem: Problem, groups: list[Group], cancel: CancelToken | None,
                weight: dict[str, int]) -> Assignment:
    first = repair(problem, groups, _flow_pass(problem, groups, cancel, weight), cancel, weight)
    if len(first) == len(groups):
        return first
    # Second pass: the matched groups keep their members (as fixed choices); the others
    # compete for what is left.
    rest = [g for g in groups if g.id not in first]
    limits = {a.id: a for a in problem.agents}
    used: dict[str, int] = defaultdict(int)
    by_id = {g.id: g for g in groups}
    for gid, slots in first.items():
        for a in set(slots.values()) - set(by_id[gid].fixed):
            used[a] += 1
    from dataclasses import replace

    reduced = replace(problem, agents=tuple(
        replace(a, max_groups=None if a.max_groups is None else max(0, a.max_groups - used[a.id]))
        for a in limits.values()))
    second = _flow_pass(reduced, rest, cancel, weight)
    return repair(problem, groups, {**first, **second}, cancel, weight)


def best_start(problem: Problem, groups: list[Group],
               cancel: CancelToken | None = None) -> Assignment:
    """The better of the greedy and the flow start (least rule shortfall, more value, then
    more score)."""
    by_id = {g.id: g for g in groups}

    def key(assignment: Assignment) -> tuple[int, int, int]:
        value = sum(by_id[g].value for g in assignment)
        score = sum(c.score for g, slots in assignment.items() for s in by_id[g].slots
                    for c in s.candidates if slots.get(s.key) == c.agent)
        return -rule_shortfall(problem, groups, assignment), value, score

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

"""Solve a :class:`~matching.problem.Problem`.

1. Independent components (no shared agent, no coupled cluster) are solved apart.
2. A transportation problem (one slot per group, nothing else) goes to min-cost flow,
   which solves it exactly.
3. Preprocess: pins restrict their slot; candidates in conflict with a group's fixed
   agents or without capacity go; groups that cannot be completed stay unselected.
4. Warm start (:mod:`matching.warm_start`): the better of a greedy and a flow start.
5. Small (at most ``COMBINED_MAX`` candidates): one CP-SAT search over an exact big-M
   lexicographic objective; its bound holds for the whole problem.
6. Otherwise add the groups the start left out by chains of swaps over every candidate
   (:func:`matching.polish.insert`), then prune to each slot's best candidates by raw and
   capacity-priced score (plus covers, pins, the previous run's and the warm start's
   members; nothing is pruned when the candidates fit ``column_budget``), search in two
   stages (A: least rule shortfall, then most value; B: most score
   with A's value kept; both skipped when too little time is left), insert and polish
   again over every candidate, and bound the whole problem by a Lagrangian over every
   candidate (:mod:`matching.bound`).

Progress goes to ``on_progress``; every long phase checks the :class:`CancelToken`, and
a cancelled run returns the best assignment found so far with trivial bounds.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from operator import attrgetter
from typing import Any

import numpy as np

from core.progress import Cancelled, CancelToken
from matching.bound import (
    Columns,
    Lagrangian,
    adjusted_scores,
    build_columns,
    exact_bound,
    lagrangian,
    slot_flow_bound,
)
from matching.colgen import generate
from matching.polish import Scorer, insert, polish
from matching.problem import (
    Assignment,
    Group,
    Problem,
    Slot,
    Solution,
    concentration_excess,
    pair_scores,
    pair_total,
)
from matching.warm_start import best_start, rule_shortfall


@dataclass(frozen=True)
class Progress:
    """A progress report: stage, best objective and bound so far, seconds elapsed.

    Stage "A" reports the summed value of its best answer and the bound on value at that
    answer's ``shortfall`` (plan-rule groups and tags still missing; NaN while a smaller
    shortfall is not ruled out), "insert"
    the summed value of the warm start after the insertion (no bound: NaN); stages
    "B", "A+B", "polish", "bound" and "done" report the score (fit points × SCALE) and its
    bound ("polish": NaN, no bound known at that point). ``kept_only``: the bound is CP-SAT's
    over the candidates kept after pruning, not yet one for the whole problem (stages A and
    B of a pruned run; the whole problem's comes with stage "bound")."""

    stage: str
    objective: float
    bound: float
    seconds: float
    fraction: float
    kept_only: bool = False
    shortfall: int = 0


@dataclass
class SolveOptions:
    """How to solve."""

    time_limit: float = 30.0
    workers: int | None = None
    seed: int = 0
    column_budget: int = 60_000  # candidates kept for the exact model
    previous: Assignment | None = None  # re-matching: memberships to keep …
    change_penalty: int = 0  # … and what each one lost costs
    on_progress: Callable[[Progress], None] | None = None
    cancel: CancelToken = field(default_factory=CancelToken)


@dataclass
class Prepared:
    """The problem after preprocessing and pruning, as the models use it."""

    groups: list[Group]
    infeasible: dict[str, str]
    pruned: int
    kept: int
    warm: Assignment
    columns: Columns | None = None  # the full candidate set, when pruning happened
    prices: Lagrangian | None = None
    scorer: Scorer | None = None  # exact scoring (made here when pruning, else by _scorer)
    stages: list[dict[str, object]] = field(default_factory=list)


# Above this many candidates, even when nothing is pruned, the staged search (insertion,
# stages A and B, polish, bounds over every candidate) replaces the one combined search: a
# 300-scene catalogue (49 000 candidates) ended its 30 s combined search with 348.5 of 361
# matched and a 100 % gap (the big-M bound proves nothing until the value is settled); the
# staged search had 344 and 8 % in 4 s.
COMBINED_MAX = 20_000
INSERT_SHARE = 0.12  # of the time limit, for adding groups to the warm start (pruned runs)
INSERT_AGAIN = 0.05  # … and to the searched answer, before the polish
REFINE_THETA = 0.02  # the second subgradient run's first step, against the first run's 2.0
STAGE_A_SHARE = 0.2  # of the search time; the rest goes to stage B (fit)
# Seconds, plus one per 250 groups: with less, a staged run skips CP-SAT (on the national
# model, 1 952 groups, both stages ended without an answer in 8 s; loading it takes 1-2 s).
# A 250-scene catalogue (48 000 candidates) at 10 s has 4.9 s for the search: searching
# matched priority 302 against 299 skipping (the rule was 4 s + 1 s per 10 000 candidates).
MIN_SEARCH = 2.0
BOUND_GROWTH = 120.0  # seconds of limit beyond which the bounds' time grows with it


def worker_count(requested: int | None) -> int:
    """CP-SAT's workers: ``requested``, else one per core."""
    return requested or max(1, os.cpu_count() or 1)


def _agent_limits(problem: Problem) -> tuple[dict[str, int | None], dict[str, dict[str, int]]]:
    groups_cap = {a.id: a.max_groups for a in problem.agents}
    resources = {a.id: dict(a.resources) for a in problem.agents}
    return groups_cap, resources


def _clean(problem: Problem, cancel: CancelToken | None = None
           ) -> tuple[list[Group], dict[str, str]]:
    groups_cap, _ = _agent_limits(problem)
    pins = {(p.group, p.slot): p.agent for p in problem.pins}
    conflicts: dict[str, set[str]] = defaultdict(set)
    for a, b in problem.conflicts:
        conflicts[a].add(b)
        conflicts[b].add(a)
    infeasible: dict[str, str] = {}
    cleaned: list[Group] = []
    for gi, group in enumerate(problem.groups):
        if cancel is not None and gi % 64 == 0:
            cancel.raise_if_cancelled()  # national scale: 0.5 s for every group
        fixed = set(group.fixed)
        slots = []
        for slot in group.slots:
            cands = tuple(
                c for c in slot.candidates
                if (groups_cap.get(c.agent, 1) != 0 or c.agent in fixed)
                and not (conflicts[c.agent] & fixed)
            )
            pinned = pins.get((group.id, slot.key))
            if pinned is not None:
                cands = tuple(c for c in cands if c.agent == pinned)
            if not cands:
                infeasible[group.id] = f"slot {slot.key}: no candidate"
            # Unchanged slots are kept as they are: no second tuple per slot to build and free.
            slots.append(slot if len(cands) == len(slot.candidates) else Slot(slot.key, cands))
        keys = {s.key: {c.agent for c in s.candidates} for s in slots}
        for cover in group.covers:
            if not any(a in keys.get(k, ()) for k, a in cover.options):
                infeasible.setdefault(group.id, f"cover {cover.label}: no option")
        if group.id not in infeasible:
            same = all(a is b for a, b in zip(slots, group.slots, strict=True))
            cleaned.append(group if same else replace(group, slots=tuple(slots)))
    return cleaned, infeasible


def _keep_bonus(options: SolveOptions) -> dict[tuple[str, str, str], int]:
    return {(g, k, a): options.change_penalty for g, slots in (options.previous or {}).items()
            for k, a in slots.items()} if options.change_penalty else {}


def prepare(problem: Problem, options: SolveOptions, deadline: float | None = None,
            start: float | None = None) -> Prepared:
    """Preprocess and prune (see the module docstring); ``start``: when the run began (for
    progress reports)."""
    cleaned, infeasible = _clean(problem, options.cancel)
    total = sum(len(s.candidates) for g in cleaned for s in g.slots)
    warm = best_start(problem, cleaned, options.cancel)
    if total <= min(options.column_budget, COMBINED_MAX):
        return Prepared(cleaned, infeasible, 0, total, warm)

    # Too large to search whole. The arrays first: a cancel from here on takes its trivial
    # bounds from them (walking two million candidates instead took 0.2 s).
    try:
        cols = build_columns(problem, cleaned, _keep_bonus(options), options.cancel)
    except Cancelled:
        raise Cancelled(warm) from None
    t_insert = time.perf_counter()
    # Before pruning, add the groups the start left out by chains of swaps over every
    # candidate (:func:`matching.polish.insert`).
    scorer = Scorer(problem, cleaned, _keep_bonus(options))
    before = sum(g.value for g in cleaned if g.id in warm)
    warm = insert(problem, cleaned, warm, scorer=scorer, cancel=options.cancel,
                  deadline=t_insert + INSERT_SHARE * options.time_limit)
    scorer.forget()
    if options.cancel.cancelled:
        raise _StoppedWithColumns(warm, cols)
    spent = time.perf_counter() - t_insert
    value = sum(g.value for g in cleaned if g.id in warm)
    stages: list[dict[str, object]] = [{
        "stage": "insert", "objective": value, "gain": value - before,
        "seconds": round(spent, 3), "note": "groups added to the warm start"}]
    if options.on_progress:
        # Like stage A, the summed value; no bound known yet.
        elapsed = time.perf_counter() - (t_insert if start is None else start)
        options.on_progress(Progress("insert", value, math.nan, elapsed, 0.04))
    if deadline is not None:
        deadline += spent  # the pricing below keeps its own time

    # Capacity prices from the Lagrangian of the combined objective (value first).
    # Above any group's score (from the arrays: a walk over every candidate took 0.2 s).
    slot_best = np.maximum.reduceat(cols.score, cols.slot_start)
    big = float(np.max(cols.base + np.bincount(cols.slot_group, weights=slot_best,
                                               minlength=len(cleaned)))) + 1.0
    known = sum(big * g.value for g in cleaned if g.id in warm)
    prices = lagrangian(cols, col_weight=1.0, value_weight=big, base_weight=1.0,
                        best_known=known, iterations=60, deadline=deadline, cancel=options.cancel)
    try:
        options.cancel.raise_if_cancelled()
        prepared = _prune(problem, options, cleaned, infeasible, total, warm, cols, prices)
        prepared.scorer, prepared.stages = scorer, stages
        return prepared
    except Cancelled:
        raise _StoppedWithColumns(warm, cols) from None


class _StoppedWithColumns(Cancelled):
    """Cancelled once the candidate arrays exist: the trivial bounds come from them."""

    def __init__(self, partial: Assignment, columns: Columns) -> None:
        super().__init__(partial)
        self.columns = columns


def _prune(problem: Problem, options: SolveOptions, cleaned: list[Group],
           infeasible: dict[str, str], total: int, warm: Assignment, cols: Columns,
           prices: Lagrangian) -> Prepared:
    """Keep each slot's best candidates by raw and by capacity-priced score, the two best
    options of every cover, pins, the previous run's members and the warm start's.
    Raises ``Cancelled`` when the run is cancelled."""
    adjusted = adjusted_scores(cols, prices)

    n_slots = sum(len(g.slots) for g in cleaned)
    # Everything fits the budget: nothing pruned (the staged search, every candidate).
    k = (total if total <= options.column_budget
         else max(4, options.column_budget // max(1, n_slots)))
    must: set[tuple[str, str, str]] = set()
    for source in (options.previous or {}, warm):
        for g_id, chosen in source.items():
            for key, agent in chosen.items():
                must.add((g_id, key, agent))
    for gi, group in enumerate(cleaned):
        if gi % 64 == 0:
            options.cancel.raise_if_cancelled()
        score_of = {(s.key, c.agent): c.score for s in group.slots for c in s.candidates}
        for cover in group.covers:
            # The two best options of every cover survive, so pruning never empties a cover.
            ranked = sorted((score_of[o], o) for o in cover.options if o in score_of)
            for _, (key, agent) in ranked[-2:]:
                must.add((group.id, key, agent))
    pruned_groups = []
    kept = 0
    slot_index = 0
    ends = list(cols.slot_start[1:]) + [cols.n]
    for gi, group in enumerate(cleaned):
        if gi % 64 == 0:
            options.cancel.raise_if_cancelled()  # national scale: 0.5 s of sorting in all
        slots = []
        for slot in group.slots:
            lo, hi = int(cols.slot_start[slot_index]), int(ends[slot_index])
            slot_index += 1
            if hi - lo <= k:
                slots.append(slot)
                kept += hi - lo
                continue
            by_price = np.argsort(-adjusted[lo:hi], kind="stable")[:k]
            by_score = np.argsort(-cols.score[lo:hi], kind="stable")[: max(2, k // 2)]
            chosen_idx = set(by_price.tolist()) | set(by_score.tolist())
            keep = [c for i, c in enumerate(slot.candidates)
                    if i in chosen_idx or (group.id, slot.key, c.agent) in must]
            kept += len(keep)
            slots.append(Slot(slot.key, tuple(keep)))
        pruned_groups.append(replace(group, slots=tuple(slots)))
    return Prepared(pruned_groups, infeasible, total - kept, kept, warm, cols, prices)


class _Model:
    """The CP-SAT model over the prepared groups."""

    def __init__(self, problem: Problem, prepared: Prepared, options: SolveOptions) -> None:
        from ortools.sat.python import cp_model

        self.cp = cp_model
        m = self.model = cp_model.CpModel()
        groups_cap, resources = _agent_limits(problem)
        self.x: dict[str, Any] = {}
        self.y: dict[tuple[str, str, str], Any] = {}
        self.z: dict[tuple[str, str], Any] = {}
        score_terms: list[Any] = []
        agent_groups: dict[str, list[str]] = defaultdict(list)
        group_agents: dict[str, set[str]] = {}
        loads: dict[tuple[str, str], list[tuple[int, Any]]] = defaultdict(list)
        for n_group, g in enumerate(prepared.groups):
            if n_group % 20 == 0 and options.cancel.cancelled:
                raise Cancelled(prepared.warm)
            x = self.x[g.id] = m.new_bool_var(f"x[{g.id}]")
            if g.required:
                m.add(x == 1)
            score_terms.append(g.base_score * x)
            per_agent: dict[str, list[Any]] = defaultdict(list)
            for slot in g.slots:
                ys = []
                for c in slot.candidates:
                    y = m.new_bool_var(f"y[{g.id},{slot.key},{c.agent}]")
                    self.y[(g.id, slot.key, c.agent)] = y
                    ys.append(y)
                    per_agent[c.agent].append(y)
                    score_terms.append(c.score * y)
                    for res, load in c.loads:
                        loads[(c.agent, res)].append((load, y))
                m.add(sum(ys) == x)
            group_agents[g.id] = set(per_agent)
            for agent, ys in per_agent.items():
                if len(ys) == 1:
                    self.z[(g.id, agent)] = ys[0]
                else:
                    z = m.new_bool_var(f"z[{g.id},{agent}]")
                    for y in ys:
                        m.add_implication(y, z)
                    m.add(z <= sum(ys))
                    self.z[(g.id, agent)] = z
                if agent not in g.fixed:  # a fixed agent's own groups use no group capacity
                    agent_groups[agent].append(g.id)
            for cover in g.covers:
                opts = [self.y[(g.id, k, a)] for k, a in cover.options if (g.id, k, a) in self.y]
                m.add(sum(opts) >= x)
        for agent, gids in agent_groups.items():
            cap = groups_cap.get(agent, 1)
            if cap is not None and len(gids) > cap:
                m.add(sum(self.z[(g, agent)] for g in gids) <= cap)
        for (agent, res), items in loads.items():
            cap_r = resources.get(agent, {}).get(res, 0)
            if sum(load for load, _ in items) > cap_r:
                m.add(sum(load * y for load, y in items) <= cap_r)
        for a, b in problem.conflicts:
            for gid in set(agent_groups.get(a, ())) & set(agent_groups.get(b, ())):
                m.add(self.z[(gid, a)] + self.z[(gid, b)] <= 1)
        # Pair bonuses (a fixed agent's pairs are unary).
        partners = pair_scores(problem)
        self.pairs: list[tuple[int, Any]] = []
        for g in prepared.groups:
            present = group_agents[g.id]
            fixed = set(g.fixed)
            for agent in present:
                if agent in fixed:
                    continue  # a fixed agent's pairs are its partners' unary terms (once)
                for other, score in partners.get(agent, {}).items():
                    if other in fixed and other != agent:
                        score_terms.append(score * self.z[(g.id, agent)])
                    elif other in present and agent < other:
                        w = m.new_bool_var(f"w[{g.id},{agent},{other}]")
                        m.add_implication(w, self.z[(g.id, agent)])
                        m.add_implication(w, self.z[(g.id, other)])
                        score_terms.append(score * w)
                        self.pairs.append((score, w))
        # Counting rules: shortfall variables (lexicographically first).
        shortfalls: list[Any] = []
        by_cluster: dict[str, list[Group]] = defaultdict(list)
        for g in prepared.groups:
            by_cluster[g.cluster].append(g)
        for rule in problem.rules:
            members = by_cluster.get(rule.cluster, [])
            n = sum(self.x[g.id] for g in members)
            short = m.new_int_var(0, max(0, rule.min_groups), f"short[{rule.cluster}]")
            m.add(short >= rule.min_groups - n)
            shortfalls.append(short)
            if rule.min_tags > 0:
                tags = sorted({g.tag for g in members})
                covered = []
                for tag in tags:
                    t = m.new_bool_var(f"tag[{rule.cluster},{tag}]")
                    m.add(t <= sum(self.x[g.id] for g in members if g.tag == tag))
                    covered.append(t)
                short_t = m.new_int_var(0, rule.min_tags, f"short_tags[{rule.cluster}]")
                m.add(short_t >= rule.min_tags - sum(covered))
                shortfalls.append(short_t)
        # Soft goals: concentration of agents within a cluster.
        self.penalties: list[tuple[int, Any]] = []
        negative = 0  # the most the penalties can take away (for the big-M weight)
        for conc in problem.concentrations:
            share = int(round(conc.max_share * 100))
            for cluster, members in by_cluster.items():
                n = sum(self.x[g.id] for g in members)
                counts: dict[str, list[Any]] = defaultdict(list)
                slots_in: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
                for g in members:
                    if conc.slot_prefix:
                        for slot in g.slots:
                            if slot.key.startswith(conc.slot_prefix):
                                for c in slot.candidates:
                                    counts[c.agent].append(self.y[(g.id, slot.key, c.agent)])
                                    slots_in[c.agent][g.id] += 1
                    else:
                        for agent in group_agents[g.id]:
                            counts[agent].append(self.z[(g.id, agent)])
                            slots_in[agent][g.id] = 1
                for agent, vs in counts.items():
                    # An agent may always take one group beyond its share. Counted s_g times
                    # in a selected group g (its slots there), it breaks the goal only if
                    # sum(100 s_g - share) > 100 over some selected groups: at most the sum
                    # of the positive terms. Agents that can never break it are not watched.
                    most = sum(max(0, 100 * s - share) for s in slots_in[agent].values())
                    if most <= 100:
                        continue
                    top = -(-(most - 100) // 100)  # the largest excess possible
                    excess = m.new_int_var(0, top, f"excess[{conc.label},{cluster},{agent}]")
                    m.add(100 * sum(vs) - 100 * excess - share * n <= 100)
                    self.penalties.append((conc.penalty, excess))
                    # A floor far below the real one: the generated provinces prove optimal
                    # in 1.3 s with it, 2.2 s with the tight sum of penalty × top.
                    negative += conc.penalty * max(top, len(prepared.groups))
        # Re-matching: each kept membership of the previous run earns its change penalty.
        keep_terms = []
        for gid, slots in (options.previous or {}).items():
            for key, agent in slots.items():
                kept = self.y.get((gid, key, agent))
                if kept is not None and options.change_penalty:
                    keep_terms.append(options.change_penalty * kept)
        # Score range, for an exact big-M lexicographic objective.
        positive = sum(g.base_score + sum(max((c.score for c in sl.candidates), default=0)
                                          for sl in g.slots) for g in prepared.groups)
        positive += sum(score for score, _ in self.pairs) + sum(
            options.change_penalty for _ in keep_terms)
        positive += sum(abs(t) for t in _fixed_pair_scores(problem, prepared))
        self.score_floor = -int(negative)  # no solution scores lower
        self.score_span = int(positive + negative) + 1
        self.value = sum(g.value * self.x[g.id] for g in prepared.groups)
        self.shortfall = sum(shortfalls) if shortfalls else 0
        self.total_value = sum(g.value for g in prepared.groups)
        self.score = (sum(score_terms) - sum(p * e for p, e in self.penalties) + sum(keep_terms))
        self.prepared = prepared

    def hint(self, assignment: Assignment) -> None:
        self.model.clear_hints()
        for gid, x in self.x.items():
            self.model.add_hint(x, gid in assignment)
        ys = set()
        for (gid, key, agent), y in self.y.items():
            on = assignment.get(gid, {}).get(key) == agent
            self.model.add_hint(y, on)
            ys.add(id(y))
        present = {(gid, a) for gid, slots in assignment.items() for a in slots.values()}
        for (gid, agent), z in self.z.items():
            if id(z) not in ys:  # a z that is not itself a y
                self.model.add_hint(z, (gid, agent) in present)

    def assignment(self, solver: Any) -> Assignment:
        out: Assignment = {}
        for (gid, key, agent), y in self.y.items():
            if solver.boolean_value(y):
                out.setdefault(gid, {})[key] = agent
        return out


def _value_bound(bound: float, penalty: int, shortfall: int) -> float:
    """Stage A maximises value - penalty × shortfall (the penalty above every value): its
    ``bound`` as a bound on the value of answers with ``shortfall``; NaN while it still
    allows a smaller shortfall (fewer rules unmet), whose value it does not limit."""
    return bound + penalty * shortfall if -math.floor(bound / penalty) == shortfall else math.nan


class _Reporter:
    def __init__(self, options: SolveOptions, stage: str, start: float, base: float, span: float,
                 split: tuple[int, int] | None = None, kept_only: bool = False,
                 penalty: int = 0) -> None:
        self.options, self.stage, self.start, self.base, self.span = options, stage, start, base, span
        self.kept_only = kept_only
        self.bound = float("nan")
        self.split = split  # (weight, score floor) of a combined objective weight * primary + score
        self.penalty = penalty  # stage A: reported as value and shortfall (:func:`_value_bound`)

    def emit(self, objective: float, bound: float) -> None:
        if self.options.on_progress is None:
            return
        if self.split is not None:
            # The incumbent's primary part, then its score and the score bound at that primary
            # (as the final report computes them).
            weight, floor = self.split
            primary = (objective - floor) // weight
            objective, bound = objective - weight * primary, bound - weight * primary
            if bound >= floor + weight:
                bound = math.nan  # the bound still allows more value: nothing said of the fit
        short = 0
        if self.split is None and self.penalty:
            short = -math.floor(objective / self.penalty)
            objective += self.penalty * short
            bound = _value_bound(bound, self.penalty, short)
        elapsed = time.perf_counter() - self.start
        frac = self.base + self.span * min(1.0, elapsed / max(self.options.time_limit, 1e-3))
        self.options.on_progress(Progress(self.stage, objective, bound, elapsed, min(frac, 0.99),
                                          self.kept_only, short))


def _run(model: _Model, objective: Any, time_limit: float, options: SolveOptions,
         reporter: _Reporter) -> tuple[Any, Any]:
    """Maximise ``objective`` within ``time_limit``; cancellable from another thread."""
    cp = model.cp
    model.model.maximize(objective)
    solver = cp.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, time_limit)
    workers = worker_count(options.workers)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = options.seed
    # Measured on the demo (2 cores): the default 2-worker portfolio left a 14 % gap after
    # 20 s, while the LP-heavy workers below prove optimality in under a second. The
    # assignment structure needs the LP relaxation; give the few workers we have to it.
    # Measured on generated provinces (2 cores): presolve took 1.3 of CP-SAT's 1.9 s, in
    # three rounds of probing; one round with light probing proves the same optima in
    # 1.1–1.6 s, and leaves the national search more of its time.
    solver.parameters.max_presolve_iterations = 1
    solver.parameters.cp_model_probing_level = 1
    if workers == 1:
        solver.parameters.linearization_level = 2
    elif workers <= 4:
        for name in ("max_lp", "default_lp", "quick_restart", "core")[:workers]:
            solver.parameters.subsolvers.append(name)
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(0.01):  # CP-SAT then takes 0.05-0.15 s to stop
            if options.cancel.cancelled:
                solver.stop_search()
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        status = solver.solve(model.model, _solution_callback(cp, reporter, options.cancel))
    finally:
        stop.set()
        watcher.join()
    return solver, status


_callback_type: Any = None


def _solution_callback(cp: Any, reporter: _Reporter, cancel: CancelToken) -> Any:
    """A CP-SAT solution callback that reports progress and stops when cancelled. Its class
    is made once (OR-Tools is imported lazily): a class made per search is a reference cycle
    that kept the whole CP-SAT model alive until the next garbage collection."""
    global _callback_type
    if _callback_type is None:
        class Callback(cp.CpSolverSolutionCallback):
            def __init__(self, reporter: _Reporter, cancel: CancelToken) -> None:
                super().__init__()
                self.reporter, self.cancel = reporter, cancel

            def on_solution_callback(self) -> None:
                self.reporter.emit(self.objective_value, self.best_objective_bound)
                if self.cancel.cancelled:
                    self.stop_search()

        _callback_type = Callback
    return _callback_type(reporter, cancel)


def is_flow(problem: Problem) -> bool:
    """True when the problem is a transportation problem that min-cost flow solves exactly:
    one slot per group, no covers, resources, conflicts, pair bonuses, fixed agents, rules
    with a minimum, soft goals or re-matching."""
    return (
        all(len(g.slots) == 1 and not g.covers and not g.fixed and not g.required
            for g in problem.groups)
        and not any(c.loads for g in problem.groups for c in g.slots[0].candidates)
        and not problem.conflicts and not problem.pair_bonuses and not problem.concentrations
        and not any(r.min_groups or r.min_tags for r in problem.rules)
    )


def solve_flow(problem: Problem, start: float) -> Solution:
    """Exact lexicographic optimum of a flow-structured problem by SimpleMinCostFlow."""
    from ortools.graph.python import min_cost_flow as mcf

    groups, _ = _clean(problem)
    flow = mcf.SimpleMinCostFlow()
    n = len(groups)
    agents = {a.id: a for a in problem.agents}
    node = {a: n + 2 + i for i, a in enumerate(agents)}
    source, sink = n, n + 1
    # One unit of value must outweigh every score: costs are lexicographic.
    big = 1 + sum(g.base_score + max(c.score for c in g.slots[0].candidates) for g in groups)
    arcs = []
    for gi, g in enumerate(groups):
        flow.add_arc_with_capacity_and_unit_cost(source, gi, 1, 0)
        for c in g.slots[0].candidates:
            arc = flow.add_arc_with_capacity_and_unit_cost(
                gi, node[c.agent], 1, -(big * g.value + g.base_score + c.score))
            arcs.append((arc, g, c))
    for agent_id, n_id in node.items():
        cap = agents[agent_id].max_groups
        flow.add_arc_with_capacity_and_unit_cost(n_id, sink, n if cap is None else cap, 0)
    flow.add_arc_with_capacity_and_unit_cost(source, sink, n, 0)
    flow.set_node_supply(source, n)
    flow.set_node_supply(sink, -n)
    if flow.solve() != flow.OPTIMAL:
        raise RuntimeError("min-cost flow did not solve a flow-structured problem")
    assignment: Assignment = {}
    primary = score = 0
    for arc, g, c in arcs:
        if flow.flow(arc):
            assignment[g.id] = {g.slots[0].key: c.agent}
            primary += g.value
            score += g.base_score + c.score
    seconds = time.perf_counter() - start
    stage = {"stage": "min-cost flow", "status": "OPTIMAL", "objective": score,
             "seconds": round(seconds, 3)}
    return Solution("optimal", assignment, primary, primary, score, float(score), 0, seconds,
                    0, sum(len(g.slots[0].candidates) for g in groups), [stage])


def components(problem: Problem, cancel: CancelToken | None = None) -> list[list[Group]]:
    """Groups that interact: sharing a candidate agent, or a cluster when rules or soft goals
    apply to it. Independent components are solved separately. Raises ``Cancelled`` when
    ``cancel`` is set (national scale: 0.5 s over every candidate)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        parent[find(a)] = find(b)

    coupled = {r.cluster for r in problem.rules if r.min_groups or r.min_tags}
    for gi, g in enumerate(problem.groups):
        if cancel is not None and gi % 64 == 0:
            cancel.raise_if_cancelled()
        if problem.concentrations or g.cluster in coupled:
            union(f"g:{g.id}", f"c:{g.cluster}")
        for slot in g.slots:
            for c in slot.candidates:
                union(f"g:{g.id}", f"a:{c.agent}")
    out: dict[str, list[Group]] = defaultdict(list)
    for g in problem.groups:
        out[find(f"g:{g.id}")].append(g)
    return list(out.values())


def _merge(parts: list[Solution], seconds: float) -> Solution:
    for p in parts:
        if p.status == "infeasible":  # a required group of that part: the whole problem
            return replace(p, seconds=seconds)
    order = ["optimal", "feasible", "timeout", "cancelled"]
    status = max((p.status for p in parts), key=order.index)
    assignment: Assignment = {}
    stages: list[dict[str, object]] = []
    for i, p in enumerate(parts):
        assignment.update(p.assignment)
        stages.extend({**st, "component": i} for st in p.stages)
    return Solution(status, assignment, sum(p.primary for p in parts),
                    sum(p.primary_bound for p in parts), sum(p.score for p in parts),
                    sum(p.score_bound for p in parts), sum(p.shortfall for p in parts), seconds,
                    sum(p.pruned for p in parts), sum(p.kept for p in parts), stages)


def solve(problem: Problem, options: SolveOptions | None = None) -> Solution:
    """Solve ``problem`` within ``options.time_limit`` seconds; see the module docstring."""
    options = options or SolveOptions()
    start = time.perf_counter()
    try:
        parts = components(problem, options.cancel)
    except Cancelled:
        return _cancelled(problem, {}, start, keep_bonus=_keep_bonus(options))
    if len(parts) > 1:
        # Independent parts (e.g. coordinators that share no organisation): solve each with
        # a share of the time in proportion to its candidates.
        sizes = [sum(len(s.candidates) for g in part for s in g.slots) + 1 for part in parts]
        left = sum(sizes)
        solutions = []
        for part, size in zip(parts, sizes, strict=True):
            ids = {g.id for g in part}
            clusters = {g.cluster for g in part}
            sub = replace(problem, groups=tuple(part),
                          pins=tuple(p for p in problem.pins if p.group in ids),
                          rules=tuple(r for r in problem.rules if r.cluster in clusters))
            remaining = options.time_limit - (time.perf_counter() - start)
            share = max(0.5, remaining * size / left)
            left -= size
            solutions.append(solve(sub, replace(options, time_limit=share)))
        return _merge(solutions, time.perf_counter() - start)
    if is_flow(problem) and not options.previous:
        return solve_flow(problem, start)
    try:
        return _solve_one(problem, options, start)
    except Cancelled as exc:
        partial = exc.partial if isinstance(exc.partial, dict) else {}
        columns = exc.columns if isinstance(exc, _StoppedWithColumns) else None
        return _cancelled(problem, partial, start, columns, _keep_bonus(options))


def _cancelled(problem: Problem, assignment: Assignment, start: float,
               columns: Columns | None = None,
               keep_bonus: dict[tuple[str, str, str], int] | None = None) -> Solution:
    """What a run cancelled before its search returns: the best start found, with the
    trivial bounds (every group, every slot's best candidate, every pair bonus; with
    ``columns``, the score bound is the Lagrangian at zero prices, in numpy). ``keep_bonus``:
    the re-match rewards (the columns hold them already)."""
    keep_bonus = keep_bonus or {}
    value = sum(g.value for g in problem.groups if g.id in assignment)
    value_bound = sum(g.value for g in problem.groups)
    pairs = pair_scores(problem)
    if columns is not None:
        score_bound = columns.trivial_bound  # the Lagrangian at zero prices
        score = _chosen_scores(columns, assignment)
    else:
        top_bonus = max((s for mine in pairs.values() for s in mine.values()), default=0)
        score_bound = 0.0
        for g in problem.groups:
            if keep_bonus:
                best = [max((c.score + keep_bonus.get((g.id, s.key, c.agent), 0)
                             for c in s.candidates), default=0) for s in g.slots]
            else:
                best = [max(map(_score_of_candidate, s.candidates), default=0) for s in g.slots]
            members = len(g.slots) + len(g.fixed)
            # At most (members choose 2) pairs per group, none worth more than the top bonus.
            score_bound += max(0, g.base_score + sum(best)
                               + top_bonus * members * (members - 1) // 2)  # or left out
        score = _score_of(problem.groups, assignment) + sum(
            keep_bonus.get((gid, key, agent), 0)
            for gid, slots in assignment.items() for key, agent in slots.items())
    # With the pair bonuses and the concentration penalties, as every answer is scored.
    by_id = {g.id: g for g in problem.groups}
    score += sum(pair_total(pairs, by_id[gid].fixed, set(slots.values()))
                 for gid, slots in assignment.items() if gid in by_id)
    score -= sum(e.penalty * e.excess for e in concentration_excess(problem, assignment, by_id))
    stage: dict[str, object] = {"stage": "cancelled", "note": "stopped before the search"}
    return Solution("cancelled", assignment, value, max(value, value_bound), score,
                    max(float(score), score_bound), 0, time.perf_counter() - start, 0, 0, [stage])


def _chosen_scores(cols: Columns, assignment: Assignment) -> int:
    """:func:`_score_of` looked up in the arrays instead of walking the candidates (with the
    re-matching reward for kept members, as the searches count it)."""
    slot_at = {key: i for i, key in enumerate(cols.keys)}
    agent_at = {a: i for i, a in enumerate(cols.agent_ids)}
    group_at = {g.id: i for i, g in enumerate(cols.groups)}
    ends = np.append(cols.slot_start[1:], cols.n)
    total = 0.0
    for g_id, chosen in assignment.items():
        if g_id in group_at:
            total += cols.base[group_at[g_id]]
        for key, agent in chosen.items():
            si = slot_at.get((g_id, key))
            if si is None or agent not in agent_at:
                continue
            lo, hi = int(cols.slot_start[si]), int(ends[si])
            hit = np.flatnonzero(cols.agent[lo:hi] == agent_at[agent])
            if len(hit):
                total += cols.score[lo + int(hit[0])]
    return int(round(total))


_score_of_candidate = attrgetter("score")  # twice as fast as a generator over 2 million


def _infeasible(start: float, why: str, groups: Sequence[str] = ()) -> Solution:
    """No assignment selects every required group; ``groups``: those that cannot be
    completed even alone (none named: it is their combination)."""
    return Solution("infeasible", {}, 0, 0, 0, 0.0, 0, time.perf_counter() - start, 0, 0,
                    [{"stage": "infeasible", "note": why, "groups": list(groups)}])


def _solve_one(problem: Problem, options: SolveOptions, start: float) -> Solution:
    """One component, not flow-structured: prepare, then one exact search (nothing pruned)
    or two searches on the pruned model with bounds over every candidate."""
    prepared = prepare(problem, options, deadline=start + 0.15 * options.time_limit,
                       start=start)
    lost = [g.id for g in problem.groups if g.required and g.id in prepared.infeasible]
    if lost:
        return _infeasible(start, "required groups cannot be completed: " + ", ".join(lost),
                           lost)
    if not prepared.groups:
        return Solution("optimal", {}, 0, 0, 0, 0.0, 0, time.perf_counter() - start,
                        prepared.pruned, prepared.kept, [])
    if any(g.required and g.id not in prepared.warm for g in prepared.groups):
        prepared.warm = {}  # a hint or a fallback that drops a required group is no answer
    if prepared.columns is None:
        return _solve_combined(problem, prepared, _Model(problem, prepared, options), options,
                               start)
    try:
        options.cancel.raise_if_cancelled()  # before loading OR-Tools and building the model
        return _solve_pruned(problem, prepared, lambda: _Model(problem, prepared, options),
                             options, start)
    except Cancelled as exc:
        # The arrays are at hand: the trivial bounds in numpy, not by walking every candidate.
        partial = exc.partial if isinstance(exc.partial, dict) else {}
        return _cancelled(problem, partial, start, prepared.columns, _keep_bonus(options))


def _scorer(problem: Problem, prepared: Prepared, options: SolveOptions) -> Scorer:
    """The run's exact scoring (pair bonuses, penalties, re-match rewards), made once."""
    if prepared.scorer is None:
        prepared.scorer = Scorer(problem, prepared.groups, _keep_bonus(options))
    return prepared.scorer


def _warm_answer(problem: Problem, prepared: Prepared, options: SolveOptions, start: float,
                 stages: list[dict[str, object]]) -> Solution:
    """The search found nothing in time: the warm start is still a valid answer."""
    warm = prepared.warm
    value = sum(g.value for g in prepared.groups if g.id in warm)
    # Counted as the model counts it: pair bonuses, penalties and re-match rewards too.
    score = _scorer(problem, prepared, options).score(warm)
    shortfall = rule_shortfall(problem, prepared.groups, warm)
    value_bound, score_bound, info = _full_bounds(
        problem, prepared, value, score, time.perf_counter() + 2.0, shortfall=shortfall,
        keep_bonus=_keep_bonus(options), assignment=warm)
    stages.append(info)
    return Solution("feasible" if warm else "timeout", warm, value, max(value, value_bound),
                    score, max(float(score), score_bound), shortfall,
                    time.perf_counter() - start,
                    prepared.pruned, prepared.kept, stages)


def _solve_pruned(problem: Problem, prepared: Prepared, make_model: Callable[[], _Model],
                  options: SolveOptions, start: float) -> Solution:
    """The staged search: stage A (least shortfall, then most value) and stage B (most
    score, stage A's value kept) on the kept candidates (every one when nothing was pruned;
    the model is built only if there is time to search), insertion and polish over every
    candidate, then bounds over every candidate, which need time reserved."""
    limit = options.time_limit
    # The bounds' time grows with the candidates: column generation's passes cost about
    # 4.5 s each nationally (1.9 million candidates), and each pass lowers the bound (35.3,
    # 34.4, 33.7, 33.4 M): 24 s of 60, the search skipped for it (it added one scene and
    # nothing to the fit the polish would not find). A 50 000-candidate catalogue: 3.6 s.
    n_cols = prepared.columns.n if prepared.columns is not None else prepared.kept
    # Beyond two minutes the passes grow with the limit: nationally at 300 s, 26 s gave
    # five (33.19 M), 60 s nine (32.93 M, about the Dantzig-Wolfe limit). A fixed share
    # would take search time from mid-sized catalogues, whose passes converge in seconds.
    reserve = min(0.4 * limit, 3.0 + 1.2e-5 * n_cols * max(1.0, limit / BOUND_GROWTH))
    # Kept for the insertions and the polish after the search, also by size (national: 3 s,
    # 10 s and 6 s; a 300-scene catalogue converged in 0.2 s and 0.6 s of the 4.5 s it was
    # given). The polish had 6 s less the last insertion's: at 300 s, 0.6-4 s after CP-SAT.
    last_insert = min(2 * INSERT_AGAIN * limit, 0.5 + 3e-6 * n_cols)
    polish_time = (min(0.1 * limit, 1.0 + 5e-6 * n_cols + last_insert)
                   + min(INSERT_AGAIN * limit, 0.5 + 1.5e-6 * n_cols))
    warm = prepared.warm
    stages: list[dict[str, object]] = list(prepared.stages)
    total_value = sum(g.value for g in prepared.groups)
    big = total_value + 1
    by_id = {g.id: g for g in prepared.groups}

    def primary_of(assignment: Assignment) -> tuple[int, int]:
        short = rule_shortfall(problem, prepared.groups, assignment)
        value = sum(by_id[g].value for g in assignment)
        return value - big * short, short

    # Too little time left for CP-SAT to load the model and search (national, 30 s limit:
    # both stages ended without an answer): the insertion and the polish get it instead.
    # Plus 1 s per 100 000 candidates: nationally (1.9 million) a search with about 10 s
    # (stage A 3.3 s, no stage B answer) left the polish 0.7 s instead of 8 s, and the gap
    # went from 6.4 % to 11 %; 300 s of search reach 31.6 M against the polish's 31.2 M.
    least = MIN_SEARCH + len(prepared.groups) / 250 + 1e-5 * n_cols  # national: about 29 s
    skip = bool(warm) and (limit - reserve - polish_time - (time.perf_counter() - start)
                           < least)
    model = None if skip else make_model()
    # Nothing pruned: CP-SAT's proofs speak of the whole problem (stage A's optimum, stage
    # B's bound given A's value), and an answer both stages proved is optimal.
    a_proven, b_bound, b_optimal = False, math.inf, False
    if model is None:
        stage_a = warm
        a_best, shortfall = primary_of(warm)
        primary = a_best + big * shortfall
        stages.append({"stage": "A", "status": "SKIPPED", "objective": primary,
                       "shortfall": shortfall, "seconds": 0.0,
                       "note": f"less than {least:.1f} s left for the search: warm start kept"})
    elif len(warm) == len(prepared.groups) and _rules_met(problem, prepared, warm):
        # Every feasible group is matched and every rule met: no search can do better.
        stage_a, a_best, primary, shortfall = warm, total_value, total_value, 0
        a_proven = True
        stages.append({"stage": "A", "status": "OPTIMAL", "objective": a_best,
                       "seconds": 0.0, "note": "warm start matched every feasible group"})
    else:
        cp = model.cp
        primary_expr = model.value - big * model.shortfall
        model.hint(warm)
        budget = limit - reserve - (time.perf_counter() - start)
        reporter = _Reporter(options, "A", start, 0.05, 0.4, kept_only=prepared.pruned > 0,
                             penalty=big)
        a_time = max(STAGE_A_SHARE * budget, min(2.0, 0.5 * budget))  # CP-SAT loads ~1 s
        solver, status = _run(model, primary_expr, a_time, options, reporter)
        if status == cp.INFEASIBLE:
            return _infeasible(start, "the required groups cannot all be selected together")
        if status not in (cp.OPTIMAL, cp.FEASIBLE):
            if options.cancel.cancelled:
                raise Cancelled(warm)
            stages.append({"stage": "A", "status": solver.status_name(status),
                           "seconds": round(solver.wall_time, 3), "note": "warm start kept"})
            if not warm:
                return _warm_answer(problem, prepared, options, start, stages)
            # No answer in stage A's time (national, 30 s: CP-SAT had not finished loading):
            # the warm start stands for it, and stage B, the polish and the bounds still run.
            stage_a = warm
        else:
            stage_a = model.assignment(solver)
        # A feasible (not optimal) solution may carry slack in its shortfall variables:
        # count the shortfall of the assignment itself, and keep the warm start if the
        # search did worse than it (it can, when it gets little CPU).
        a_best, shortfall = primary_of(stage_a)
        if warm and primary_of(warm)[0] > a_best:
            stage_a = warm
            a_best, shortfall = primary_of(warm)
        primary = a_best + big * shortfall
        # CP-SAT's optimum speaks of the kept candidates: a proof only when none was pruned.
        a_proven = status == cp.OPTIMAL and not prepared.pruned
        if status in (cp.OPTIMAL, cp.FEASIBLE):
            # Recorded as the value and the rules' shortfall, with the bound on value at
            # that shortfall when there is one.
            value_bound = _value_bound(int(solver.best_objective_bound + 1e-6), big, shortfall)
            record: dict[str, object] = {"stage": "A", "status": solver.status_name(status),
                                         "objective": primary, "shortfall": shortfall}
            if value_bound == value_bound:  # not NaN
                record["bound"] = int(value_bound)
            record["seconds"] = round(solver.wall_time, 3)
            stages.append(record)
    if options.cancel.cancelled:
        raise Cancelled(stage_a)
    assignment, score = stage_a, None
    if model is not None:
        model.model.add(model.value - big * model.shortfall >= a_best)
        model.hint(stage_a)
        budget = max(0.1, limit - reserve - polish_time - (time.perf_counter() - start))
        reporter = _Reporter(options, "B", start, 0.45, 0.45, kept_only=prepared.pruned > 0)
        solver_b, status_b = _run(model, model.score, budget, options, reporter)
        if status_b in (model.cp.OPTIMAL, model.cp.FEASIBLE):
            assignment = model.assignment(solver_b)
            score = int(round(solver_b.objective_value))
            # B keeps A's value as a floor, not a ceiling: it may match more (a 400-scene
            # catalogue reported 485.0 for consortia worth 485.5).
            best_b, shortfall = primary_of(assignment)
            primary = best_b + big * shortfall
            if not prepared.pruned:
                b_bound = float(solver_b.best_objective_bound)
                b_optimal = status_b == model.cp.OPTIMAL
            # Scored as every answer is (see _solve_combined): B's optimum is a proof only
            # when the model counted the same.
            scored = _scorer(problem, prepared, options).score(assignment)
            if scored != score:
                score, b_optimal = scored, False
            stages.append({"stage": "B", "status": solver_b.status_name(status_b),
                           "objective": score, "bound": float(solver_b.best_objective_bound),
                           "seconds": round(solver_b.wall_time, 3)})
    if score is None:
        score = _scorer(problem, prepared, options).score(stage_a)
    if options.cancel.cancelled:
        raise Cancelled(assignment)  # the user is waiting: trivial bounds, no pricing
    # The search saw only the kept candidates: polish over all of them, same groups.
    # Groups the search left out, by chains of swaps over every candidate, first.
    t_polish = time.perf_counter()
    cols = prepared.columns
    if cols is not None and not options.cancel.cancelled:
        scorer = _scorer(problem, prepared, options)
        value_of = {g.id: g.value for g in cols.groups}

        def insert_into(answer: Assignment, deadline: float, note: str) -> Assignment:
            nonlocal primary, shortfall
            t_insert = time.perf_counter()
            more = insert(problem, cols.groups, answer, scorer=scorer, deadline=deadline,
                          cancel=options.cancel)
            if options.cancel.cancelled:
                raise Cancelled(more)  # every state the insertion keeps is valid
            added = sum(value_of[g] for g in more) - sum(value_of[g] for g in answer)
            if len(more) != len(answer):
                # More groups: the primary objective and the rules' shortfall move with them.
                shortfall = rule_shortfall(problem, prepared.groups, more)
                primary = sum(value_of[g] for g in more)
                stages.append({"stage": "insert", "objective": primary, "gain": added,
                               "seconds": round(time.perf_counter() - t_insert, 3),
                               "note": note})
            return more

        inserted = insert_into(assignment, t_polish + INSERT_AGAIN * limit,
                               "groups added to the searched answer")
        t_polish = time.perf_counter()
        # The polish's last seconds gain little (national: +10 000 of 31.2 M in 12 s); a
        # last insertion after it can place a group its moves freed (national: one scene,
        # 2 468.5 -> 2 469.5, in 5.5 s), so time is kept for that.
        polished = polish(problem, cols.groups, inserted, scorer=scorer,
                          deadline=max(t_polish + 0.5, start + limit - reserve - last_insert),
                          cancel=options.cancel)
        if options.cancel.cancelled:
            raise Cancelled(polished)  # every state the polish keeps is valid
        before, score = scorer.score(inserted), scorer.score(polished)
        stages.append({"stage": "polish", "objective": score, "gain": score - before,
                       "seconds": round(time.perf_counter() - t_polish, 3)})
        if start + limit - reserve - time.perf_counter() > 0.2:
            polished = insert_into(polished, start + limit - reserve,
                                   "groups added to the polished answer")
            score = scorer.score(polished)  # never lower: the insertion only moves up
        assignment = polished
        if options.on_progress:
            # No bound yet: stage B's spoke only of the kept candidates, which the polish
            # has left; the whole problem's comes next.
            options.on_progress(Progress("polish", score, math.nan,
                                         time.perf_counter() - start, 0.9))
    if options.cancel.cancelled:
        raise Cancelled(assignment)
    # CP-SAT's bounds speak only of the kept candidates; price the full set.
    # Half a second kept back: the last group searches of the exact bound may run past it.
    end = max(start + limit - 0.5, time.perf_counter() + 0.5)
    def bound_so_far(bound: float) -> None:
        if options.on_progress:
            options.on_progress(Progress("bound", score, max(float(score), bound),
                                         time.perf_counter() - start, 0.95))

    proven = a_proven and b_optimal
    if proven:
        primary_bound, score_bound = primary, float(score)  # the polish cannot beat B's optimum
    else:
        primary_bound, score_bound, info = _full_bounds(problem, prepared, primary, score, end,
                                                        options.cancel, bound_so_far,
                                                        shortfall=shortfall,
                                                        assignment=assignment)
        if options.cancel.cancelled:
            raise Cancelled(assignment)
        stages.append(info)
        if a_proven:
            primary_bound = primary
        score_bound = min(score_bound, b_bound)  # inf unless nothing was pruned
    if options.on_progress:
        options.on_progress(Progress("done", score, score_bound, time.perf_counter() - start, 1.0))
    return Solution("optimal" if proven else "feasible", assignment, primary,
                    max(primary, primary_bound), score,
                    max(float(score), score_bound), shortfall, time.perf_counter() - start,
                    prepared.pruned, prepared.kept, stages)


def _solve_combined(problem: Problem, prepared: Prepared, model: _Model, options: SolveOptions,
                    start: float) -> Solution:
    """Both stages in one search: M * (value - M' * shortfall) + score, with M above the whole
    score range, which is exactly lexicographic. Used for small problems (the large
    coefficients cost less than a second search). When the search ends unproven, its bound
    says little until the value is settled (big-M): the Lagrangian bounds over every
    candidate are computed in a little time kept back for them."""
    cp = model.cp
    big = model.total_value + 1
    weight = model.score_span
    primary_expr = model.value - big * model.shortfall
    model.hint(prepared.warm)
    reserve = min(0.1 * options.time_limit, 1.0 + 1e-5 * prepared.kept)  # 19 000: 0.3 s used
    budget = max(0.1, options.time_limit - reserve - (time.perf_counter() - start))
    reporter = _Reporter(options, "A+B", start, 0.05, 0.9, (weight, model.score_floor))
    solver, status = _run(model, weight * primary_expr + model.score, budget, options, reporter)
    if status == cp.INFEASIBLE:
        return _infeasible(start, "the required groups cannot all be selected together")
    stages: list[dict[str, object]] = []
    if status not in (cp.OPTIMAL, cp.FEASIBLE):
        if options.cancel.cancelled:
            raise Cancelled(prepared.warm)
        stages.append({"stage": "A+B", "status": solver.status_name(status),
                       "note": "warm start kept"})
        return _warm_answer(problem, prepared, options, start, stages)
    assignment = model.assignment(solver)
    primary = int(solver.value(model.value))
    # Counted on the assignment: a feasible solution's shortfall variables may carry slack.
    shortfall = rule_shortfall(problem, prepared.groups, assignment)
    score = int(solver.value(model.score))
    combined_bound = float(solver.best_objective_bound)
    # Every solution has weight * (value - big * shortfall) + score <= combined_bound and
    # score >= score_floor, so a rule-respecting one has value <= (bound - floor) / weight.
    primary_best = primary - big * shortfall
    primary_bound = (int((combined_bound - model.score_floor) // weight) if shortfall == 0
                     else model.total_value)
    primary_bound = max(primary, min(primary_bound, model.total_value))
    score_bound = max(float(score), combined_bound - weight * primary_best)
    optimal = status == cp.OPTIMAL
    # Scored as every answer is (the concentration penalties by their definition,
    # :func:`matching.problem.concentration_excess`): a proof only when the model agrees.
    scored = _scorer(problem, prepared, options).score(assignment)
    if scored != score:
        score, optimal = scored, False
    if optimal:
        primary_bound = primary  # proven (with the rules' shortfall it is, too)
    stages.append({"stage": "A+B", "status": solver.status_name(status),
                   "objective": score, "bound": score_bound, "seconds": round(solver.wall_time, 3)})
    if options.cancel.cancelled:
        raise Cancelled(assignment)
    if not optimal:
        value_bound, full_score_bound, info = _full_bounds(
            problem, prepared, primary, score, start + options.time_limit, options.cancel,
            shortfall=shortfall, keep_bonus=_keep_bonus(options), assignment=assignment)
        if options.cancel.cancelled:
            raise Cancelled(assignment)
        stages.append(info)
        primary_bound = max(primary, min(primary_bound, value_bound))
        score_bound = max(float(score), min(score_bound, full_score_bound))
    state = "optimal" if optimal else "feasible"
    if options.on_progress:
        options.on_progress(Progress("done", score, score_bound, time.perf_counter() - start, 1.0))
    return Solution(state, assignment, primary, primary_bound, score, score_bound, shortfall,
                    time.perf_counter() - start, 0, prepared.kept, stages)


def _full_bounds(problem: Problem, prepared: Prepared, primary: int, score: int,
                 deadline: float, cancel: CancelToken | None = None,
                 report: Callable[[float], None] | None = None, *, shortfall: int = 0,
                 keep_bonus: dict[tuple[str, str, str], int] | None = None,
                 assignment: Assignment | None = None
                 ) -> tuple[int, float, dict[str, object]]:
    """Bounds on summed value and on score (given ``primary``) over every candidate.

    The score bound holds for every solution at least as good in the first objectives:
    with the rules met (``shortfall`` 0), those matching at least ``primary``; with a
    shortfall, a solution meeting more of the rules may match less, so no value floor.
    ``keep_bonus``: the re-match rewards, when the arrays are built here.

    Value: the smaller of the per-slot-key flow bound (:func:`matching.bound.slot_flow_bound`)
    and the Lagrangian's. Score: prices by subgradient on the relaxed group subproblems,
    for solutions whose value lies between ``primary`` and the value bound (the upper side
    priced in a second run, from the first run's prices, when the value bound is below the
    value of every group); then the score bound with every group's subproblem solved
    exactly (:func:`matching.bound.exact_bound`): at those prices, and — with
    ``assignment``, the answer found, to start the master LP — at the prices column
    generation proposes while time remains (:func:`matching.colgen.generate`)."""
    t0 = time.perf_counter()
    cols = prepared.columns or build_columns(problem, prepared.groups, keep_bonus)
    floor = primary if shortfall == 0 else 0
    span = max(0.5, deadline - t0)
    flow_value, flow_key = slot_flow_bound(cols, cancel=cancel)
    value_lr = lagrangian(cols, col_weight=0.0, value_weight=1.0, base_weight=0.0,
                          best_known=primary, iterations=2000, deadline=t0 + 0.1 * span,
                          cancel=cancel)
    value_bound = max(primary, int(math.floor(min(value_lr.bound, flow_value) + 1e-6)))
    score_lr = lagrangian(cols, col_weight=1.0, value_weight=0.0, base_weight=1.0,
                          min_value=floor, best_known=score, iterations=2000,
                          deadline=max(t0 + 0.2 * span, time.perf_counter() + 0.3),
                          start=prepared.prices, cancel=cancel)
    capped = value_bound < float(cols.value.sum()) - 1e-6
    if not (cancel is not None and cancel.cancelled):
        # From those prices, small steps (national: 36.9 M -> 36.65 M relaxed, and 35.04 M
        # -> 34.79 M exact): the first run's long steps stall well above the minimum. With
        # a value bound below every group's value, the ceiling is priced too.
        within = lagrangian(cols, col_weight=1.0, value_weight=0.0, base_weight=1.0,
                            min_value=floor, max_value=value_bound if capped else None,
                            best_known=score, iterations=2000,
                            deadline=max(t0 + 0.27 * span, time.perf_counter() + 0.2),
                            start=score_lr, cancel=cancel, theta=REFINE_THETA, patience=40)
        if within.bound < score_lr.bound:
            score_lr = within
    if report:
        report(score_lr.bound)  # already a bound for the whole problem
    t1 = time.perf_counter()
    end = max(deadline, time.perf_counter() + 0.5)
    passes = 0
    if cancel is not None and cancel.cancelled:
        exact = math.inf  # the caller stops at once: the relaxed bound stands
    elif assignment:
        generated = generate(cols, problem, score_lr, score_lr.bound, assignment,
                             col_weight=1.0, value_weight=0.0, base_weight=1.0,
                             min_value=floor, max_value=value_bound if capped else None,
                             deadline=end, best_known=score, cancel=cancel, report=report)
        exact, passes = generated.bound, generated.passes
    else:
        exact = exact_bound(cols, problem, score_lr, col_weight=1.0, value_weight=0.0,
                            base_weight=1.0, min_value=floor,
                            max_value=value_bound if capped else None,
                            deadline=end, cancel=cancel)
    score_bound = min(score_lr.bound, exact)
    info: dict[str, object] = {"stage": "bound", "value_bound": value_bound,
                               "value_bound_flow": round(flow_value, 1),
                               "value_bound_key": flow_key,
                               "score_bound": round(score_bound, 1),
                               "relaxed_score_bound": round(score_lr.bound, 1),
                               "iterations": value_lr.iterations + score_lr.iterations,
                               "pricing_passes": passes,
                               "exact_seconds": round(time.perf_counter() - t1, 3),
                               "seconds": round(time.perf_counter() - t0, 3)}
    return value_bound, score_bound, info


def _fixed_pair_scores(problem: Problem, prepared: Prepared) -> list[int]:
    """Pair bonuses with fixed agents (unary in the model), each counted once per group."""
    fixed = {a for g in prepared.groups for a in g.fixed}
    return [b.score * len(prepared.groups) for b in problem.pair_bonuses
            if b.a in fixed or b.b in fixed]


def _rules_met(problem: Problem, prepared: Prepared, assignment: Assignment) -> bool:
    """Whether ``assignment`` meets every counting rule (so its shortfall is 0)."""
    by_cluster: dict[str, list[Group]] = defaultdict(list)
    for g in prepared.groups:
        if g.id in assignment:
            by_cluster[g.cluster].append(g)
    return all(len(by_cluster[r.cluster]) >= r.min_groups
               and len({g.tag for g in by_cluster[r.cluster]}) >= r.min_tags for r in problem.rules)


def _score_of(groups_in: Iterable[Group], assignment: Assignment) -> int:
    """The base and candidate scores of an assignment, walking the candidates (a run
    cancelled before the candidate arrays exist adds the pairs and penalties)."""
    total = 0
    groups = {g.id: g for g in groups_in}
    for gid, slots in assignment.items():
        g = groups[gid]
        total += g.base_score
        for slot in g.slots:
            for c in slot.candidates:
                if slots.get(slot.key) == c.agent:
                    total += c.score
    return total

"""Upper bounds that hold for the *whole* problem, however much was pruned.

The LP relaxation of the full model is solved by column generation: start
from the columns (slot, candidate) kept for CP-SAT, price every pruned column
with the LP's duals, add those with positive reduced cost, repeat. When no
column prices out, the restricted LP's optimum is the full LP's optimum, a
valid upper bound. If the iteration limit is reached first, the Lagrangian
bound (dual objective plus every positive reduced cost) is used instead,
which is valid too.

Relaxations (each keeps the bound valid): conflicts, pins, counting rules and
penalties are dropped; an agent in several slots of one group counts as
``y / m`` per slot (m = its number of candidate slots there) against its group
limit; a pair bonus is split into per-member optimistic halves.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from matching.problem import Problem

if TYPE_CHECKING:
    from matching.solve import Prepared, SolveOptions

MAX_ROUNDS = 25
EPS = 1e-6


def _pair_upper(problem: Problem, prepared: Prepared) -> dict[tuple[str, str, str], float]:
    """Optimistic unary share of pair bonuses for every full column."""
    bonus: dict[str, dict[str, int]] = defaultdict(dict)
    for b in problem.pair_bonuses:
        bonus[b.a][b.b] = max(bonus[b.a].get(b.b, 0), b.score)
        bonus[b.b][b.a] = max(bonus[b.b].get(b.a, 0), b.score)
    fixed = {g.id: set(g.fixed) for g in problem.groups}
    slots_of: dict[str, list[str]] = defaultdict(list)
    for gid, key in prepared.full_slots:
        slots_of[gid].append(key)
    out: dict[tuple[str, str, str], float] = {}
    for (gid, key), cands in prepared.full_slots.items():
        for c in cands:
            mine = bonus.get(c.agent)
            if not mine:
                continue
            total = float(sum(mine.get(f, 0) for f in fixed.get(gid, ())))
            for other in slots_of[gid]:
                if other == key:
                    continue
                best = max((mine.get(o.agent, 0) for o in prepared.full_slots[(gid, other)]),
                           default=0)
                total += best / 2
            if total:
                out[(gid, key, c.agent)] = total
    return out


def _lp_bound(problem: Problem, prepared: Prepared, options: SolveOptions, *,
              primary: bool, min_value: int) -> float:
    from ortools.linear_solver import pywraplp

    lp = pywraplp.Solver.CreateSolver("GLOP")
    groups = {g.id: g for g in problem.groups}
    feasible = [g.id for g in prepared.groups]
    caps = {a.id: a.max_groups for a in problem.agents}
    res_caps = {a.id: dict(a.resources) for a in problem.agents}
    pair_ub = {} if primary else _pair_upper(problem, prepared)
    keep = defaultdict(int)
    if not primary:
        for gid, slots in (options.previous or {}).items():
            for key, agent in slots.items():
                keep[(gid, key, agent)] = options.change_penalty
    multiplicity: dict[tuple[str, str], int] = defaultdict(int)
    for (gid, _key), cands in prepared.full_slots.items():
        for c in cands:
            multiplicity[(gid, c.agent)] += 1

    x = {gid: lp.NumVar(0, 1, f"x{gid}") for gid in feasible}
    obj = lp.Objective()
    obj.SetMaximization()
    slot_rows: dict[tuple[str, str], Any] = {}
    cover_rows: dict[str, list[tuple[set[tuple[str, str]], Any]]] = defaultdict(list)
    for gid in feasible:
        g = groups[gid]
        obj.SetCoefficient(x[gid], g.value if primary else g.base_score)
        for slot in g.slots:
            row = lp.Constraint(0, 0)
            row.SetCoefficient(x[gid], -1)
            slot_rows[(gid, slot.key)] = row
        for cover in g.covers:
            row = lp.Constraint(0, lp.infinity())
            row.SetCoefficient(x[gid], -1)
            cover_rows[gid].append((set(cover.options), row))
    if not primary and min_value > 0:
        row = lp.Constraint(min_value, lp.infinity())
        for gid in feasible:
            row.SetCoefficient(x[gid], groups[gid].value)
    cap_rows: dict[str, Any] = {}
    res_rows: dict[tuple[str, str], Any] = {}

    def cost(gid: str, key: str, agent: str, score: int) -> float:
        return 0.0 if primary else score + pair_ub.get((gid, key, agent), 0.0) + keep[(gid, key, agent)]

    def add_column(gid: str, key: str, agent: str, score: int, loads: tuple[tuple[str, int], ...]
                   ) -> None:
        y = lp.NumVar(0, 1, "")
        obj.SetCoefficient(y, cost(gid, key, agent, score))
        slot_rows[(gid, key)].SetCoefficient(y, 1)
        for options_set, row in cover_rows[gid]:
            if (key, agent) in options_set:
                row.SetCoefficient(y, 1)
        cap = caps.get(agent, 1)
        if cap is not None and agent not in groups[gid].fixed:
            if agent not in cap_rows:
                cap_rows[agent] = lp.Constraint(-lp.infinity(), cap)
            cap_rows[agent].SetCoefficient(y, 1 / multiplicity[(gid, agent)])
        for res, load in loads:
            if (agent, res) not in res_rows:
                res_rows[(agent, res)] = lp.Constraint(-lp.infinity(), res_caps.get(agent, {}).get(res, 0))
            res_rows[(agent, res)].SetCoefficient(y, load)

    in_lp: set[tuple[str, str, str]] = set()
    for g in prepared.groups:
        for slot in g.slots:
            for c in slot.candidates:
                add_column(g.id, slot.key, c.agent, c.score, c.loads)
                in_lp.add((g.id, slot.key, c.agent))

    value = math.inf
    for _ in range(MAX_ROUNDS):
        if options.cancel.cancelled:
            break
        if lp.Solve() != pywraplp.Solver.OPTIMAL:
            return math.inf
        value = obj.Value()
        dual_slot = {k: r.dual_value() for k, r in slot_rows.items()}
        dual_cap = {a: r.dual_value() for a, r in cap_rows.items()}
        dual_res = {k: r.dual_value() for k, r in res_rows.items()}
        dual_cover = {gid: [(opts, r.dual_value()) for opts, r in rows]
                      for gid, rows in cover_rows.items()}
        positive = 0.0
        added = 0
        for (gid, key), cands in prepared.full_slots.items():
            if gid not in x:
                continue
            for c in cands:
                if (gid, key, c.agent) in in_lp:
                    continue
                rc = cost(gid, key, c.agent, c.score) - dual_slot[(gid, key)]
                rc -= sum(d for opts, d in dual_cover.get(gid, ()) if (key, c.agent) in opts)
                if caps.get(c.agent, 1) is not None and c.agent not in groups[gid].fixed:
                    rc -= dual_cap.get(c.agent, 0.0) / multiplicity[(gid, c.agent)]
                rc -= sum(load * dual_res.get((c.agent, res), 0.0) for res, load in c.loads)
                if rc > EPS:
                    positive += rc
                    add_column(gid, key, c.agent, c.score, c.loads)
                    in_lp.add((gid, key, c.agent))
                    added += 1
        if not added:
            return value
        lagrangian = _dual_objective(lp) + positive
        value = lagrangian
    # Out of rounds: the last Lagrangian bound is valid.
    return value


def _dual_objective(lp: Any) -> float:
    total = 0.0
    for row in lp.constraints():
        dual = row.dual_value()
        bound = row.ub() if dual > 0 else row.lb()
        if math.isfinite(bound):
            total += dual * bound
    for var in lp.variables():
        rc = var.reduced_cost()
        bound = var.ub() if rc > 0 else var.lb()
        total += rc * bound
    return total


def full_bound(problem: Problem, prepared: Prepared, primary: int, options: SolveOptions
               ) -> tuple[int, float]:
    """Upper bounds for the whole problem: (summed value, score given at least ``primary``)."""
    value_bound = _lp_bound(problem, prepared, options, primary=True, min_value=0)
    score_bound = _lp_bound(problem, prepared, options, primary=False, min_value=primary)
    return int(math.floor(value_bound + EPS)), score_bound

"""Column generation for the score bound: better prices for :func:`matching.bound.exact_bound`.

The subgradient (:func:`matching.bound.lagrangian`) tunes its prices to the *relaxed* group
subproblems; evaluated exactly, those prices leave a bound well above the best answer
(national scale: 34.7 M against a found 31.2 M). The Lagrangian dual with the exact group
subproblems is the Dantzig–Wolfe bound, the LP over every complete consortium (national:
about 32.9 M). Column generation approaches it:

- a *restricted master* LP over the consortia seen so far (the found answer's, then each
  pricing pass's best per group): at most one consortium per group, each agent's group
  limit and resource capacity, the summed value between ``min_value`` and ``max_value``;
- its duals, smoothed toward the best prices so far (``ALPHA``), are the next prices;
- *pricing* is the exact group search at those prices, which returns the best consortium
  of every group — and ``L`` at those prices, a valid bound whatever the prices are.

So every bound reported is an exact-group Lagrangian value; the master only proposes
prices, and an LP solved badly could cost bound quality, never validity.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.progress import CancelToken
from matching.bound import MASK_BITS, Columns, Lagrangian, exact_bound
from matching.problem import Assignment, Problem, pair_scores, pair_total

NEIGHBOURS = 3  # swaps per slot of the found answer added to the first master
ALPHA = 0.7  # the weight of the best prices so far in the next ones (the rest: the LP's duals)


@dataclass
class Generated:
    """What :func:`generate` returns: the smallest exact-group bound and its prices."""

    bound: float
    prices: Lagrangian
    passes: int  # pricing passes completed
    columns: int  # consortia in the master at the end
    master: float  # the last master LP's value (nan: none solved)


class _Master:
    """The restricted master LP (MathOpt, HiGHS): one variable per consortium seen."""

    def __init__(self, cols: Columns, problem: Problem, *, col_weight: float,
                 value_weight: float, base_weight: float, min_value: float,
                 max_value: float | None) -> None:
        from ortools.math_opt.python import mathopt

        self.mathopt = mathopt
        self.cols = cols
        self.weights = (col_weight, value_weight, base_weight)
        self.pairs = pair_scores(problem)
        self.model = mathopt.Model(name="master")
        self.model.objective.is_maximize = True
        self.value_lo = self.model.add_linear_constraint(lb=min_value) if min_value > 0 else None
        self.value_hi = (self.model.add_linear_constraint(ub=max_value)
                         if max_value is not None else None)
        self.group_rows: dict[int, Any] = {}
        self.cap_rows: dict[int, Any] = {}
        self.res_rows: dict[int, Any] = {}
        self.seen: set[tuple[int, tuple[int, ...]]] = set()

    def add(self, gi: int, chosen: list[int]) -> bool:
        """Add group ``gi``'s consortium of columns ``chosen`` (one per slot); False if seen."""
        cols = self.cols
        key = (gi, tuple(chosen))
        if key in self.seen:
            return False
        self.seen.add(key)
        col_weight, value_weight, base_weight = self.weights
        agents = [int(cols.agent[c]) for c in chosen]
        # Scored as every answer is: member scores, then the pair bonuses once each.
        score = float(cols.score[chosen].sum()) + pair_total(
            self.pairs, cols.groups[gi].fixed, {cols.agent_ids[a] for a in agents})
        first: dict[int, int] = {}  # each member's first column (it joins the group once)
        loads: dict[int, float] = defaultdict(float)
        for c, a in zip(chosen, agents, strict=True):
            first.setdefault(a, c)
            if cols.load[c]:
                loads[a] += float(cols.load[c])
        value = float(cols.value[gi])
        profit = (col_weight * score + value_weight * value
                  + base_weight * float(cols.base[gi]))
        x = self.model.add_variable(lb=0.0, ub=1.0)
        self.model.objective.set_linear_coefficient(x, profit)
        row = self.group_rows.get(gi)
        if row is None:
            row = self.group_rows[gi] = self.model.add_linear_constraint(ub=1.0)
        row.set_coefficient(x, 1.0)
        for a, c in first.items():
            if cols.inv_mult[c] > 0:  # limited, and not fixed in the group
                cap = self.cap_rows.get(a)
                if cap is None:
                    cap = self.cap_rows[a] = self.model.add_linear_constraint(
                        ub=float(cols.cap[a]))
                cap.set_coefficient(x, 1.0)
        for a, load in loads.items():
            res = self.res_rows.get(a)
            if res is None:
                res = self.res_rows[a] = self.model.add_linear_constraint(
                    ub=float(cols.res_cap[a]))
            res.set_coefficient(x, load)
        for bound_row in (self.value_lo, self.value_hi):
            if bound_row is not None:
                bound_row.set_coefficient(x, value)
        return True

    def solve(self, time_limit: float, cancel: CancelToken | None = None
              ) -> tuple[Lagrangian, float] | None:
        """The LP's duals as prices, and its value; None when it did not solve to optimality,
        the solver failed, or ``cancel`` was set meanwhile (then at once, within 10 ms)."""
        import datetime

        mathopt = self.mathopt
        # Barrier: nationally 2-3 s for 20 000 consortia, against 10-20 s for the simplex
        # methods (HiGHS's or GLOP's, started afresh or not).
        params = mathopt.SolveParameters(
            time_limit=datetime.timedelta(seconds=max(0.05, time_limit)),
            lp_algorithm=mathopt.LPAlgorithm.BARRIER)
        # HiGHS does not heed MathOpt's interrupter during a barrier solve: the solve runs
        # in a thread of its own, and a cancel stops waiting for it. The thread finishes its
        # few seconds in the background (nothing reads its result); it is not a daemon, so
        # a process ending meanwhile waits for it instead of aborting inside HiGHS.
        box: dict[str, Any] = {}

        def run() -> None:
            try:
                box["result"] = mathopt.solve(self.model, mathopt.SolverType.HIGHS,
                                              params=params)
            except Exception:  # noqa: BLE001 - no result: the bounds so far stand
                pass  # (e.g. an OR-Tools build without HiGHS)

        worker = threading.Thread(target=run, name="master-lp")
        worker.start()
        while worker.is_alive():
            worker.join(0.01)
            if cancel is not None and cancel.cancelled:
                return None
        result = box.get("result")
        if result is None or result.termination.reason != mathopt.TerminationReason.OPTIMAL:
            return None
        n = len(self.cols.cap)
        lam, mu = np.zeros(n), np.zeros(n)
        if self.cap_rows:
            lam[list(self.cap_rows)] = np.maximum(0.0, result.dual_values(list(self.cap_rows.values())))
        if self.res_rows:
            mu[list(self.res_rows)] = np.maximum(0.0, result.dual_values(list(self.res_rows.values())))
        tau = max(0.0, -result.dual_values(self.value_lo)) if self.value_lo is not None else 0.0
        rho = max(0.0, result.dual_values(self.value_hi)) if self.value_hi is not None else 0.0
        return Lagrangian(math.nan, lam, mu, tau, 0, rho), float(result.objective_value())


def consortium_columns(cols: Columns, assignment: Assignment) -> dict[int, list[int]]:
    """The column of each slot of each group in ``assignment`` (groups it names that the
    columns do not have, or members a slot does not list, are left out)."""
    group_at = {g.id: i for i, g in enumerate(cols.groups)}
    agent_at = {a: i for i, a in enumerate(cols.agent_ids)}
    first_slot = np.searchsorted(cols.slot_group, np.arange(len(cols.groups)))
    ends = np.append(cols.slot_start[1:], cols.n)
    out: dict[int, list[int]] = {}
    for gid, slots in assignment.items():
        gi = group_at.get(gid)
        if gi is None:
            continue
        picked = []
        for k, slot in enumerate(cols.groups[gi].slots):
            si = int(first_slot[gi]) + k
            a = agent_at.get(slots.get(slot.key, ""), -1)
            lo, hi = int(cols.slot_start[si]), int(ends[si])
            where = np.flatnonzero(cols.agent[lo:hi] == a)
            if not len(where):
                break
            picked.append(lo + int(where[0]))
        else:
            out[gi] = picked
    return out


def neighbours(cols: Columns, problem: Problem, consortia: dict[int, list[int]],
               prices: Lagrangian, per_slot: int, cancel: CancelToken | None = None
               ) -> list[tuple[int, list[int]]]:
    """Consortia one swap away from ``consortia``: in each slot, its ``per_slot`` best other
    candidates at ``prices`` (score net of the 1/m price share and the resource), kept when
    the group's covers still hold and no conflict arises. They tell the first master LPs what
    a saturated organisation's groups could do without it, which keeps its dual price sane.
    A cancel ends the list early (nationally it takes about 1.5 s)."""
    if per_slot <= 0:
        return []
    worth = (cols.score + cols.pair_fixed - prices.lam[cols.agent] * cols.inv_mult
             - prices.mu[cols.agent] * cols.load)
    ends = np.append(cols.slot_start[1:], cols.n)
    bad = {frozenset(pair) for pair in problem.conflicts}
    conflicted = {a for pair in problem.conflicts for a in pair}
    ids = cols.agent_ids
    # The organisations the answer has used up: their groups are where the master needs
    # alternatives (a member with room to spare gets no dual price anyway).
    joined = np.zeros(len(cols.cap))
    used = np.zeros(len(cols.cap))
    for picked in consortia.values():
        for a in {int(cols.agent[c]) for c in picked if cols.inv_mult[c] > 0}:
            joined[a] += 1
        for c in picked:
            used[int(cols.agent[c])] += float(cols.load[c])
    out: list[tuple[int, list[int]]] = []
    for n_done, (gi, picked) in enumerate(consortia.items()):
        if cancel is not None and n_done % 50 == 0 and cancel.cancelled:
            break
        g = cols.groups[gi]
        if len(g.covers) > MASK_BITS:
            continue  # no cover masks: a swap could not be checked against the covers
        full = (1 << len(g.covers)) - 1
        masks = [int(cols.cover_mask[c]) for c in picked]
        for k, c in enumerate(picked):
            a = int(cols.agent[c])
            if not (joined[a] >= cols.cap[a] or (cols.load[c] and used[a] + float(cols.load[c])
                                                  > cols.res_cap[a])):
                continue
            si = int(cols.col_slot[c])
            lo, hi = int(cols.slot_start[si]), int(ends[si])
            rest_mask = 0
            for j, m in enumerate(masks):
                if j != k:
                    rest_mask |= m
            others = {ids[int(cols.agent[p])] for j, p in enumerate(picked) if j != k}
            others |= set(g.fixed)
            order = lo + np.argsort(-worth[lo:hi], kind="stable")
            found = 0
            for alt in order.tolist():
                if found >= per_slot:
                    break
                if alt == c or (int(cols.cover_mask[alt]) | rest_mask) != full:
                    continue
                who = ids[int(cols.agent[alt])]
                if who in conflicted and any(frozenset((who, o)) in bad for o in others):
                    continue
                swapped = list(picked)
                swapped[k] = alt
                out.append((gi, swapped))
                found += 1
    return out


def generate(cols: Columns, problem: Problem, start: Lagrangian, start_bound: float,
             assignment: Assignment, *, col_weight: float, value_weight: float,
             base_weight: float, min_value: float = 0.0, max_value: float | None = None,
             deadline: float, best_known: float = -math.inf,
             cancel: CancelToken | None = None, report: Any = None,
             per_slot: int = NEIGHBOURS) -> Generated:
    """Column generation from ``start`` (prices whose exact bound is not yet known;
    ``start_bound``: a bound already proven, e.g. the relaxed one), until ``deadline``.

    The master (built once a second pass fits) starts with ``assignment``'s consortia (they
    meet ``min_value``, so the LP is feasible) and swaps one away from them. Each pass prices every group exactly at the current prices — the bound at
    those prices — adds the best consortia found, and re-solves the master; the next prices
    are ``ALPHA`` × the best prices so far + the rest × the master's duals. A pass starts only
    when the last one's time fits before ``deadline``; ``report`` receives each new best."""
    master: _Master | None = None  # built after the first pass, if a second one fits
    best, best_prices = start_bound, start
    prices = start
    passes, lp_value, lp_time = 0, math.nan, math.nan
    while True:
        t0 = time.perf_counter()
        chosen: dict[int, list[int]] = {}
        bound = exact_bound(cols, problem, prices, col_weight=col_weight,
                            value_weight=value_weight, base_weight=base_weight,
                            min_value=min_value, max_value=max_value,
                            deadline=max(deadline, t0 + 0.5), cancel=cancel, chosen=chosen)
        passes += 1
        if bound < best:
            best, best_prices = bound, prices
            if report:
                report(best)
        t1 = time.perf_counter()
        pricing = t1 - t0
        # Another pass only if the master and the pricing both fit (the first master, built
        # and solved, is guessed at twice a pricing pass: nationally 3 s + 2 s against
        # 1.5 s), and while the bound is above the answer found (``best_known``).
        if (t1 + (2 * pricing if math.isnan(lp_time) else lp_time) + pricing > deadline
                or best <= best_known + 1e-6 or (cancel is not None and cancel.cancelled)):
            break
        added = 0
        if master is None:
            master = _Master(cols, problem, col_weight=col_weight, value_weight=value_weight,
                             base_weight=base_weight, min_value=min_value,
                             max_value=max_value)
            found = consortium_columns(cols, assignment)
            first = list(found.items()) + neighbours(cols, problem, found, start, per_slot,
                                                     cancel)
            for gi, picked in first:  # nationally 20 000 consortia, ~1.5 s
                added += master.add(gi, picked)
                if cancel is not None and added % 500 == 0 and cancel.cancelled:
                    break
        for gi, picked in chosen.items():
            added += master.add(gi, picked)
            if cancel is not None and added % 500 == 0 and cancel.cancelled:
                break
        if not added:
            break  # the master is unchanged: its duals, and so the prices, would repeat
        # The LP leaves the next pricing pass its time.
        solved = master.solve(deadline - time.perf_counter() - pricing, cancel)
        lp_time = time.perf_counter() - t1
        if solved is None or time.perf_counter() + pricing > deadline:
            break
        duals, lp_value = solved
        prices = Lagrangian(math.nan,
                            ALPHA * best_prices.lam + (1 - ALPHA) * duals.lam,
                            ALPHA * best_prices.mu + (1 - ALPHA) * duals.mu,
                            ALPHA * best_prices.tau + (1 - ALPHA) * duals.tau, 0,
                            ALPHA * best_prices.rho + (1 - ALPHA) * duals.rho)
    return Generated(best, best_prices, passes, len(master.seen) if master else 0, lp_value)

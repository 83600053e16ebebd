"""Upper bounds for the *whole* problem, and capacity prices that guide pruning.

Lagrangian relaxation of the agents' limits (groups joined, resources): for
any prices ``lam >= 0`` (per group joined) and ``mu >= 0`` (per resource unit),

    L(lam, mu) = sum_a lam_a cap_a + sum_a mu_a R_a
                 + sum_g max(0, gain_g + sum_{slot s of g} max_{j in s} (c_j - lam_a(j) / m_j
                                                                           - mu_a(j) load_j))

is an upper bound on the objective of every feasible solution, because each
priced constraint is satisfied and every other constraint has been relaxed:
conflicts, covers, counting rules and soft-goal penalties are dropped; an agent
filling m slots of one group is charged 1/m per slot (it joins the group once);
a pair bonus is split into optimistic per-member halves. Prices are improved
by subgradient steps (Polyak step size against the best known solution); the
smallest L seen is the bound. The full candidate set is priced in numpy, so
the bound covers every candidate, kept after pruning or not.

The same prices turn scores into *capacity-aware* scores (``c_j - lam/m -
mu load``): pruning keeps each slot's best candidates by those as well as by
raw score, so the kept set does not pile onto the same few organisations.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from core.progress import CancelToken
from matching.problem import Group, Problem


@dataclass
class Columns:
    """Every (slot, candidate) of the feasible groups as arrays, columns ordered by slot."""

    groups: list[Group]
    slot_group: np.ndarray  # slot -> group index
    slot_start: np.ndarray  # slot -> first column
    col_slot: np.ndarray  # column -> slot
    agent: np.ndarray  # column -> agent index
    score: np.ndarray  # column -> score (points × SCALE)
    pair_ub: np.ndarray  # column -> optimistic share of pair bonuses
    inv_mult: np.ndarray  # column -> 1/m (0 when the agent is fixed in the group or unlimited)
    load: np.ndarray  # column -> units of the agent's resource it uses
    value: np.ndarray  # group -> value
    base: np.ndarray  # group -> base score
    cap: np.ndarray  # agent -> groups it may join (large when unlimited)
    res_cap: np.ndarray  # agent -> resource capacity
    keys: list[tuple[str, str]]  # slot -> (group id, slot key)
    agent_ids: list[str]

    @property
    def n(self) -> int:
        """Number of columns."""
        return len(self.agent)


def build_columns(problem: Problem, groups: list[Group], keep_bonus: dict[tuple[str, str, str], int]
                  | None = None, cancel: CancelToken | None = None) -> Columns:
    """The arrays for ``groups`` (after preprocessing, before pruning)."""
    agent_ids = [a.id for a in problem.agents]
    agent_at = {a: i for i, a in enumerate(agent_ids)}
    limits = {a.id: a.max_groups for a in problem.agents}
    resources = {a.id: dict(a.resources) for a in problem.agents}
    res_names = sorted({r for a in problem.agents for r, _ in a.resources})
    if len(res_names) > 1:
        raise ValueError("the bound supports one resource kind")  # the adapter uses robots only
    res_name = res_names[0] if res_names else ""
    bonus: dict[str, dict[str, int]] = defaultdict(dict)
    for b in problem.pair_bonuses:
        bonus[b.a][b.b] = max(bonus[b.a].get(b.b, 0), b.score)
        bonus[b.b][b.a] = max(bonus[b.b].get(b.a, 0), b.score)
    keep_bonus = keep_bonus or {}
    slot_group: list[int] = []
    slot_start: list[int] = []
    keys: list[tuple[str, str]] = []
    col_slot: list[int] = []
    agent: list[int] = []
    score: list[float] = []
    pair_ub: list[float] = []
    inv_mult: list[float] = []
    load: list[float] = []
    for gi, g in enumerate(groups):
        if cancel is not None and gi % 10 == 0:
            cancel.raise_if_cancelled()
        fixed = set(g.fixed)
        mult: dict[str, int] = defaultdict(int)
        for slot in g.slots:
            for c in slot.candidates:
                mult[c.agent] += 1
        partnered = any(c.agent in bonus for s in g.slots for c in s.candidates)
        slot_agents = {s.key: {c.agent for c in s.candidates} for s in g.slots} if partnered else {}
        for slot in g.slots:
            si = len(slot_group)
            slot_group.append(gi)
            slot_start.append(len(agent))
            keys.append((g.id, slot.key))
            for c in slot.candidates:
                col_slot.append(si)
                agent.append(agent_at[c.agent])
                score.append(c.score + keep_bonus.get((g.id, slot.key, c.agent), 0))
                ub = 0.0
                mine = bonus.get(c.agent) if partnered else None
                if mine:
                    # Exact with fixed agents; half the best partner in every other slot.
                    ub = float(sum(mine.get(f, 0) for f in fixed))
                    for other_key, members in slot_agents.items():
                        if other_key != slot.key:
                            ub += max((sc for b, sc in mine.items() if b in members), default=0) / 2
                pair_ub.append(ub)
                unlimited = limits.get(c.agent, 1) is None or c.agent in fixed
                inv_mult.append(0.0 if unlimited else 1.0 / mult[c.agent])
                load.append(float(dict(c.loads).get(res_name, 0)) if c.loads else 0.0)
    return Columns(
        groups=groups,
        slot_group=np.asarray(slot_group, dtype=np.int64),
        slot_start=np.asarray(slot_start, dtype=np.int64),
        col_slot=np.asarray(col_slot, dtype=np.int64),
        agent=np.asarray(agent, dtype=np.int64),
        score=np.asarray(score, dtype=np.float64),
        pair_ub=np.asarray(pair_ub, dtype=np.float64),
        inv_mult=np.asarray(inv_mult, dtype=np.float64),
        load=np.asarray(load, dtype=np.float64),
        value=np.asarray([g.value for g in groups], dtype=np.float64),
        base=np.asarray([g.base_score for g in groups], dtype=np.float64),
        cap=np.asarray([1e18 if (lim := limits.get(a)) is None else float(lim) for a in agent_ids]),
        res_cap=np.asarray([float(resources[a].get(res_name, 0)) for a in agent_ids]),
        keys=keys,
        agent_ids=agent_ids,
    )


@dataclass
class Lagrangian:
    """The best bound found and the prices that gave it."""

    bound: float
    lam: np.ndarray
    mu: np.ndarray
    tau: float
    iterations: int


def lagrangian(cols: Columns, *, col_weight: float, value_weight: float, base_weight: float,
               min_value: float = 0.0, best_known: float = 0.0, iterations: int = 150,
               deadline: float | None = None, start: Lagrangian | None = None,
               cancel: CancelToken | None = None) -> Lagrangian:
    """Minimise L over prices by subgradient steps; returns the smallest L (a valid bound).

    Objective: ``value_weight * value + base_weight * base + col_weight * (score + pair
    bonus)``; with ``min_value`` > 0, solutions are those with summed value >= min_value
    (the constraint is priced with ``tau``).
    """
    n_agents = len(cols.cap)
    lam = start.lam.copy() if start else np.zeros(n_agents)
    mu = start.mu.copy() if start else np.zeros(n_agents)
    tau = start.tau if start else 0.0
    limited = cols.cap < 1e17
    c = col_weight * (cols.score + cols.pair_ub)
    gain0 = value_weight * cols.value + base_weight * cols.base
    starts = cols.slot_start
    best = math.inf
    best_state = (lam.copy(), mu.copy(), tau)
    theta, stall = 2.0, 0
    done = 0
    for done in range(1, iterations + 1):  # noqa: B007 - the count is reported
        adj = c - lam[cols.agent] * cols.inv_mult - mu[cols.agent] * cols.load
        slot_max = np.maximum.reduceat(adj, starts)
        gain = gain0 + tau * cols.value
        group_sum = gain + np.bincount(cols.slot_group, weights=slot_max, minlength=len(gain))
        take = group_sum > 0
        value = float(np.sum(group_sum[take]) + lam[limited] @ cols.cap[limited]
                      + mu @ cols.res_cap - tau * min_value)
        if value < best - 1e-9:
            best, best_state, stall = value, (lam.copy(), mu.copy(), tau), 0
        else:
            stall += 1
            if stall >= 10:
                theta, stall = theta / 2, 0
        if deadline is not None and time.perf_counter() > deadline:
            break
        if cancel is not None and cancel.cancelled:
            break  # every value seen is a valid bound; keep the best so far
        # The arg-max column of each slot of every taken group.
        is_max = adj == slot_max[cols.col_slot]
        first = np.flatnonzero(is_max)
        chosen_slot, pos = np.unique(cols.col_slot[first], return_index=True)
        chosen = first[pos]
        live = take[cols.slot_group[chosen_slot]]
        chosen = chosen[live]
        use = np.bincount(cols.agent[chosen], weights=cols.inv_mult[chosen], minlength=n_agents)
        use_r = np.bincount(cols.agent[chosen], weights=cols.load[chosen], minlength=n_agents)
        g_lam = np.where(limited, cols.cap - use, 0.0)
        g_mu = cols.res_cap - use_r
        g_tau = (float(cols.value[take].sum()) - min_value) if min_value > 0 else 0.0
        # Only directions that can lower L: a price at zero with slack stays at zero.
        g_lam[(lam <= 0) & (g_lam > 0)] = 0.0
        g_mu[(mu <= 0) & (g_mu > 0)] = 0.0
        if tau <= 0 and g_tau > 0:
            g_tau = 0.0
        norm = float(g_lam @ g_lam + g_mu @ g_mu + g_tau * g_tau)
        if norm <= 1e-12 or theta < 1e-4:
            break
        step = theta * max(value - best_known, 1e-6 * abs(value) + 1.0) / norm
        lam = np.maximum(0.0, lam - step * g_lam)
        mu = np.maximum(0.0, mu - step * g_mu)
        tau = max(0.0, tau - step * g_tau)
    lam_b, mu_b, tau_b = best_state
    return Lagrangian(best, lam_b, mu_b, tau_b, done)


def adjusted_scores(cols: Columns, prices: Lagrangian) -> np.ndarray:
    """Scores net of capacity prices: what a candidate is worth once capacity is paid for."""
    return cols.score + cols.pair_ub - prices.lam[cols.agent] * cols.inv_mult \
        - prices.mu[cols.agent] * cols.load



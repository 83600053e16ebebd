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
from matching.problem import Group, Problem, pair_scores


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
    pair_fixed: np.ndarray  # column -> the exact part of it: pairs with the group's fixed agents
    inv_mult: np.ndarray  # column -> 1/m (0 when the agent is fixed in the group or unlimited)
    load: np.ndarray  # column -> units of the agent's resource it uses
    value: np.ndarray  # group -> value
    base: np.ndarray  # group -> base score
    cap: np.ndarray  # agent -> groups it may join (large when unlimited)
    res_cap: np.ndarray  # agent -> resource capacity
    keys: list[tuple[str, str]]  # slot -> (group id, slot key)
    agent_ids: list[str]
    # The score bound at zero prices (every group with each slot's best column), computed
    # once with the arrays: a cancelled run reports it without 0.1-0.2 s of numpy.
    trivial_bound: float = math.nan

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
    bonus = pair_scores(problem)
    keep_bonus = keep_bonus or {}
    slot_group: list[int] = []
    slot_start: list[int] = []
    keys: list[tuple[str, str]] = []
    col_slot: list[int] = []
    agent: list[int] = []
    score: list[float] = []
    pair_ub: list[float] = []
    pair_fixed: list[float] = []
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
        agent_keys: dict[str, list[str]] = defaultdict(list)
        if partnered:
            for s in g.slots:
                for c in s.candidates:
                    agent_keys[c.agent].append(s.key)
        for slot in g.slots:
            si = len(slot_group)
            slot_group.append(gi)
            slot_start.append(len(agent))
            keys.append((g.id, slot.key))
            for c in slot.candidates:
                col_slot.append(si)
                agent.append(agent_at[c.agent])
                score.append(c.score + keep_bonus.get((g.id, slot.key, c.agent), 0))
                ub = exact = 0.0
                mine = bonus.get(c.agent) if partnered else None
                if mine:
                    # Exact with fixed agents; half the best partner in every other slot.
                    ub = exact = float(sum(mine.get(f, 0) for f in fixed if f != c.agent))
                    best_in: dict[str, int] = {}
                    for partner, sc in mine.items():
                        for other_key in agent_keys.get(partner, ()):
                            if other_key != slot.key and sc > best_in.get(other_key, 0):
                                best_in[other_key] = sc
                    ub += sum(best_in.values()) / 2
                pair_ub.append(ub)
                pair_fixed.append(exact)
                unlimited = limits.get(c.agent, 1) is None or c.agent in fixed
                inv_mult.append(0.0 if unlimited else 1.0 / mult[c.agent])
                load.append(float(dict(c.loads).get(res_name, 0)) if c.loads else 0.0)
    def array(values: list[float] | list[int], dtype: type) -> np.ndarray:
        if cancel is not None:
            cancel.raise_if_cancelled()  # each conversion of two million: up to 0.1 s
        return np.asarray(values, dtype=dtype)

    cols = Columns(
        groups=groups,
        slot_group=array(slot_group, np.int64),
        slot_start=array(slot_start, np.int64),
        col_slot=array(col_slot, np.int64),
        agent=array(agent, np.int64),
        score=array(score, np.float64),
        pair_ub=array(pair_ub, np.float64),
        pair_fixed=array(pair_fixed, np.float64),
        inv_mult=array(inv_mult, np.float64),
        load=array(load, np.float64),
        value=np.asarray([g.value for g in groups], dtype=np.float64),
        base=np.asarray([g.base_score for g in groups], dtype=np.float64),
        cap=np.asarray([1e18 if (lim := limits.get(a)) is None else float(lim) for a in agent_ids]),
        res_cap=np.asarray([float(resources[a].get(res_name, 0)) for a in agent_ids]),
        keys=keys,
        agent_ids=agent_ids,
    )
    if cancel is not None:
        cancel.raise_if_cancelled()
    cols.trivial_bound = lagrangian(cols, col_weight=1.0, value_weight=0.0, base_weight=1.0,
                                    iterations=1).bound
    return cols


@dataclass
class Lagrangian:
    """The best bound found and the prices that gave it."""

    bound: float
    lam: np.ndarray
    mu: np.ndarray
    tau: float
    iterations: int
    rho: float = 0.0  # the price of ``max_value`` (summed value at most that)


def lagrangian(cols: Columns, *, col_weight: float, value_weight: float, base_weight: float,
               min_value: float = 0.0, max_value: float | None = None,
               best_known: float = 0.0, iterations: int = 150,
               deadline: float | None = None, start: Lagrangian | None = None,
               cancel: CancelToken | None = None) -> Lagrangian:
    """Minimise L over prices by subgradient steps; returns the smallest L (a valid bound).

    Objective: ``value_weight * value + base_weight * base + col_weight * (score + pair
    bonus)``; with ``min_value`` > 0, solutions are those with summed value >= min_value
    (the constraint is priced with ``tau``); with ``max_value``, also <= max_value (priced
    with ``rho``: a proven bound on the summed value keeps the relaxation from adding
    groups no solution can match).
    """
    n_agents = len(cols.cap)
    lam = start.lam.copy() if start else np.zeros(n_agents)
    mu = start.mu.copy() if start else np.zeros(n_agents)
    tau = start.tau if start else 0.0
    rho = start.rho if start and max_value is not None else 0.0
    limited = cols.cap < 1e17
    c = col_weight * (cols.score + cols.pair_ub)
    gain0 = value_weight * cols.value + base_weight * cols.base
    starts = cols.slot_start
    best = math.inf
    best_state = (lam.copy(), mu.copy(), tau, rho)
    theta, stall = 2.0, 0
    done = 0
    for done in range(1, iterations + 1):  # noqa: B007 - the count is reported
        adj = c - lam[cols.agent] * cols.inv_mult - mu[cols.agent] * cols.load
        slot_max = np.maximum.reduceat(adj, starts)
        gain = gain0 + (tau - rho) * cols.value
        group_sum = gain + np.bincount(cols.slot_group, weights=slot_max, minlength=len(gain))
        take = group_sum > 0
        value = float(np.sum(group_sum[take]) + lam[limited] @ cols.cap[limited]
                      + mu @ cols.res_cap - tau * min_value + rho * (max_value or 0.0))
        if value < best - 1e-9:
            best, best_state, stall = value, (lam.copy(), mu.copy(), tau, rho), 0
        else:
            stall += 1
            if stall >= 10:
                theta, stall = theta / 2, 0
        if done == iterations or (deadline is not None and time.perf_counter() > deadline):
            break  # (a step after the last evaluation would never be evaluated)
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
        taken = float(cols.value[take].sum())
        g_tau = (taken - min_value) if min_value > 0 else 0.0
        g_rho = (max_value - taken) if max_value is not None else 0.0
        # Only directions that can lower L: a price at zero with slack stays at zero.
        g_lam[(lam <= 0) & (g_lam > 0)] = 0.0
        g_mu[(mu <= 0) & (g_mu > 0)] = 0.0
        if tau <= 0 and g_tau > 0:
            g_tau = 0.0
        if rho <= 0 and g_rho > 0:
            g_rho = 0.0
        norm = float(g_lam @ g_lam + g_mu @ g_mu + g_tau * g_tau + g_rho * g_rho)
        if norm <= 1e-12 or theta < 1e-4:
            break
        step = theta * max(value - best_known, 1e-6 * abs(value) + 1.0) / norm
        lam = np.maximum(0.0, lam - step * g_lam)
        mu = np.maximum(0.0, mu - step * g_mu)
        tau = max(0.0, tau - step * g_tau)
        rho = max(0.0, rho - step * g_rho)
    lam_b, mu_b, tau_b, rho_b = best_state
    return Lagrangian(best, lam_b, mu_b, tau_b, done, rho_b)


def slot_flow_bound(cols: Columns, cancel: CancelToken | None = None) -> tuple[float, str]:
    """A bound on the summed value of the groups that can be completed together, and the slot
    key that gives it: for each slot key on its own, the most value of groups that can each
    get a *distinct-capacity* candidate in that slot (a max-value b-matching, solved exactly
    by min-cost flow); groups without that slot add their whole value.

    Valid because it relaxes everything except one slot's group limits: any solution fills
    that slot of every group it completes with an agent within its limit. An agent that is
    unlimited or fixed in the group (an owner) is free. It is far tighter than the
    Lagrangian's value bound when one role is scarce (national scale: the leads' limits sum
    to fewer than the scenes), because the Lagrangian, charging an agent that could fill
    m slots of a group 1/m per slot, lets a scarce lead count at a fraction of its price.
    """
    from ortools.graph.python import min_cost_flow as mcf

    n_groups = len(cols.groups)
    total = float(cols.value.sum())
    if n_groups == 0 or cols.n == 0:
        return total, ""
    slot_keys = np.asarray([k for _, k in cols.keys], dtype=object)
    value = np.rint(cols.value).astype(np.int64)
    best, best_key = total, ""
    for key in sorted(set(slot_keys.tolist())):
        if cancel is not None:
            cancel.raise_if_cancelled()
        slots = np.flatnonzero(slot_keys == key)
        groups = cols.slot_group[slots]
        if len(np.unique(groups)) != len(groups):
            continue  # a group with this key twice: not one b-matching (the bound skips it)
        col_mask = np.isin(cols.col_slot, slots)
        col = np.flatnonzero(col_mask)
        free = cols.inv_mult[col] <= 0
        limited_cols = col[~free]
        agents, agent_node = np.unique(cols.agent[limited_cols], return_inverse=True)
        caps = cols.cap[agents]
        # Nodes: 0 source, 1 sink, 2.. groups (by position in ``groups``), then agents.
        group_node = np.full(n_groups, -1, dtype=np.int64)
        group_node[groups] = 2 + np.arange(len(groups))
        first_agent = 2 + len(groups)
        flow = mcf.SimpleMinCostFlow()
        n = len(groups)
        flow.add_arcs_with_capacity_and_unit_cost(
            np.zeros(n, dtype=np.int64), group_node[groups], np.ones(n, dtype=np.int64),
            -value[groups])
        flow.add_arcs_with_capacity_and_unit_cost(
            group_node[cols.slot_group[cols.col_slot[limited_cols]]],
            first_agent + agent_node, np.ones(len(limited_cols), dtype=np.int64),
            np.zeros(len(limited_cols), dtype=np.int64))
        flow.add_arcs_with_capacity_and_unit_cost(
            first_agent + np.arange(len(agents)), np.ones(len(agents), dtype=np.int64),
            np.minimum(caps, n).astype(np.int64), np.zeros(len(agents), dtype=np.int64))
        free_groups = np.unique(cols.slot_group[cols.col_slot[col[free]]])
        flow.add_arcs_with_capacity_and_unit_cost(
            group_node[free_groups], np.ones(len(free_groups), dtype=np.int64),
            np.ones(len(free_groups), dtype=np.int64), np.zeros(len(free_groups), dtype=np.int64))
        flow.add_arc_with_capacity_and_unit_cost(0, 1, n, 0)  # a group may stay out
        flow.set_node_supply(0, n)
        flow.set_node_supply(1, -n)
        if flow.solve() != flow.OPTIMAL:
            continue  # cannot happen (the bypass arc is always feasible); skip rather than guess
        bound = -float(flow.optimal_cost()) + total - float(value[groups].sum())
        if bound < best:
            best, best_key = bound, key
    return best, best_key


def adjusted_scores(cols: Columns, prices: Lagrangian) -> np.ndarray:
    """Scores net of capacity prices: what a candidate is worth once capacity is paid for."""
    return cols.score + cols.pair_ub - prices.lam[cols.agent] * cols.inv_mult \
        - prices.mu[cols.agent] * cols.load




def exact_bound(cols: Columns, problem: Problem, prices: Lagrangian, *, col_weight: float,
                value_weight: float, base_weight: float, min_value: float = 0.0,
                max_value: float | None = None,
                deadline: float | None = None, node_limit: int = 1000,
                slack: float = 50.0, cancel: CancelToken | None = None) -> float:
    """``L`` at ``prices`` with every group's subproblem solved exactly instead of relaxed.

    The relaxed subproblem (:func:`lagrangian`) takes each slot's best column on its own: it
    ignores covers and conflicts and credits each column half of its best partner in every
    other slot. Here each group's best *complete* member choice is found by a small
    branch-and-bound (covers, conflicts and the pair bonuses among the chosen members exact),
    which is still a valid bound for any prices and is never above the relaxed one. A group
    whose search exceeds ``node_limit`` nodes is searched again with ten times the nodes, and
    so on while ``deadline`` allows (without one: up to 100 × ``node_limit``); a group not
    settled by then keeps its relaxed value. Each group's search stops proving once nothing open can beat
    its best by more than ``slack``, which is then added to it (so the bound stays valid).
    """
    lam, mu, tau = prices.lam, prices.mu, prices.tau
    rho = prices.rho if max_value is not None else 0.0
    adj = (col_weight * (cols.score + cols.pair_fixed) - lam[cols.agent] * cols.inv_mult
           - mu[cols.agent] * cols.load)
    opt = adj + col_weight * (cols.pair_ub - cols.pair_fixed)
    slot_max = np.maximum.reduceat(opt, cols.slot_start)
    gain = value_weight * cols.value + base_weight * cols.base + (tau - rho) * cols.value
    group_sum = gain + np.bincount(cols.slot_group, weights=slot_max, minlength=len(gain))
    limited = cols.cap < 1e17
    constant = float(lam[limited] @ cols.cap[limited] + mu @ cols.res_cap - tau * min_value
                     + rho * (max_value or 0.0))
    at = {a: i for i, a in enumerate(cols.agent_ids)}
    bonus = {at[a]: {at[b]: col_weight * s for b, s in mine.items() if b in at}
             for a, mine in pair_scores(problem).items() if a in at}
    conflicts: dict[int, set[int]] = defaultdict(set)
    for ca, cb in problem.conflicts:
        if ca in at and cb in at:
            conflicts[at[ca]].add(at[cb])
            conflicts[at[cb]].add(at[ca])
    ends = np.append(cols.slot_start[1:], cols.n)
    first_slot = np.searchsorted(cols.slot_group, np.arange(len(cols.groups)))
    total = constant
    # Every group with a small search first; then the hard ones again with larger searches
    # while time remains (any group not settled keeps its relaxed value).
    open_groups = [gi for gi in range(len(cols.groups)) if group_sum[gi] > 0]
    limit = node_limit
    while open_groups:
        hard = []
        for gi in open_groups:
            relaxed = float(group_sum[gi])
            if (deadline is not None and time.perf_counter() > deadline) or (
                    cancel is not None and cancel.cancelled):
                hard.append(gi)  # out of time (or the user stopped): the relaxed value stands
                continue
            g = cols.groups[gi]
            if not g.slots:  # nothing to choose: the relaxed value is exact
                total += relaxed
                continue
            lo_slot = int(first_slot[gi])
            n_slots = len(g.slots)
            best = _group_best(g, [int(cols.slot_start[lo_slot + k]) for k in range(n_slots)],
                               [int(ends[lo_slot + k]) for k in range(n_slots)],
                               cols, adj, at, bonus, conflicts, -float(gain[gi]), limit, slack)
            if best is None:
                hard.append(gi)
            else:
                total += min(relaxed, max(0.0, float(gain[gi]) + best))
        open_groups = hard
        limit *= 10
        if deadline is None and limit > 100 * node_limit:
            break
        if (deadline is not None and time.perf_counter() > deadline) or (
                cancel is not None and cancel.cancelled):
            break
    total += float(sum(group_sum[gi] for gi in open_groups))
    return total


def _group_best(g: Group, lo: list[int], hi: list[int], cols: Columns, adj: np.ndarray,
                at: dict[str, int], bonus: dict[int, dict[int, float]],
                conflicts: dict[int, set[int]], floor: float, node_limit: int,
                slack: float) -> float | None:
    """An upper bound on the best complete member choice of ``g`` (or on ``floor``, when
    none is worth more): the best found plus ``slack``, since every node pruned could not
    beat the best found by more than ``slack`` (near-ties among equally priced candidates
    would otherwise make the search explode); None when it exceeds ``node_limit`` nodes.

    Depth-first over the slots. At a node, each open slot's candidates are valued with
    their pairs with the chosen members exact, conflicts with them excluded, and half their
    best partner in every other open slot; the node's bound is the best sum of those that
    satisfies the covers still open (per slot, the best value by the set of covers a
    candidate satisfies)."""
    n_slots = len(g.slots)
    key_at = {s.key: k for k, s in enumerate(g.slots)}
    cover_sets: list[list[set[int]]] = []
    for cover in g.covers:
        per: list[set[int]] = [set() for _ in range(n_slots)]
        for key, agent in cover.options:
            if key in key_at and agent in at:
                per[key_at[key]].add(at[agent])
        cover_sets.append(per)
    full = (1 << len(cover_sets)) - 1
    agents = [cols.agent[lo[k]:hi[k]] for k in range(n_slots)]
    agent_lists = [a.tolist() for a in agents]
    adjs = [adj[lo[k]:hi[k]] for k in range(n_slots)]
    pos = [{a: i for i, a in enumerate(agent_lists[k])} for k in range(n_slots)]
    agent_slots: dict[int, list[int]] = defaultdict(list)
    for k in range(n_slots):
        for a in agent_lists[k]:
            agent_slots[a].append(k)
    masks = []
    for k in range(n_slots):
        m = np.zeros(len(agent_lists[k]), dtype=np.int64)
        for i, per in enumerate(cover_sets):
            if per[k]:
                m |= np.isin(agents[k], np.fromiter(per[k], dtype=np.int64)).astype(np.int64) << i
        masks.append(m)
    mask_values = [sorted(set(m.tolist())) for m in masks]
    # halves[k][i, l]: half the best pair bonus of slot k's candidate i with slot l.
    halves = []
    for k in range(n_slots):
        h = np.zeros((len(agent_lists[k]), n_slots))
        for i, a in enumerate(agent_lists[k]):
            for p, sc in bonus.get(a, {}).items():
                for l_slot in agent_slots.get(p, ()):
                    if l_slot != k and sc / 2 > h[i, l_slot]:
                        h[i, l_slot] = sc / 2
        halves.append(h)
    open_half = [[halves[k][:, d:].sum(axis=1) for d in range(n_slots + 1)]
                 for k in range(n_slots)]
    best = floor
    nodes = 0
    members: list[int] = []

    def exact(k: int) -> np.ndarray:
        """Slot ``k``'s candidates given the members: pairs exact, conflicts out."""
        gains = adjs[k].copy()
        where = pos[k]
        for m in members:
            for p, sc in bonus.get(m, {}).items():
                i = where.get(p)
                if i is not None:
                    gains[i] += sc
            for p in conflicts.get(m, ()) if conflicts else ():
                i = where.get(p)
                if i is not None:
                    gains[i] = -math.inf
        return gains

    def dfs(d: int, value: float, need: int) -> bool:
        nonlocal best, nodes
        nodes += 1
        if nodes > node_limit:
            return False
        here = exact(d)
        if d == n_slots - 1:
            if need:
                here = np.where((masks[d] & need) == need, here, -math.inf)
            top = float(here.max()) if len(here) else -math.inf
            if value + top > best:
                best = value + top
            return True
        # The open slots after d: best optimistic value per cover mask, then the best
        # sum for each set of covers left to satisfy.
        per_mask: list[list[tuple[int, float]]] = []
        for l_slot in range(d + 1, n_slots):
            vals = exact(l_slot) + open_half[l_slot][d]
            if len(mask_values[l_slot]) == 1:
                per_mask.append([(mask_values[l_slot][0], float(vals.max()))])
            else:
                per_mask.append([(m, float(vals[masks[l_slot] == m].max()))
                                 for m in mask_values[l_slot]])
        memo: dict[tuple[int, int], float] = {}
        top_rest = _covers_rest(per_mask, memo, 0, 0)
        optimistic = here + open_half[d][d + 1]
        order = np.argsort(-optimistic, kind="stable")
        mask_d = masks[d]
        for i in order.tolist():
            o = float(optimistic[i])
            if value + o + top_rest <= best + slack:
                break  # ranked: nothing later in this slot can do better
            left = need & ~int(mask_d[i])
            if value + o + _covers_rest(per_mask, memo, 0, left) <= best + slack:
                continue
            members.append(agent_lists[d][i])
            ok = dfs(d + 1, value + float(here[i]), left)  # noqa: F821 - deleted after the search
            members.pop()
            if not ok:
                return False
        return True

    settled = dfs(0, 0.0, full)
    del dfs  # it refers to itself: without this every call would leave a cycle to the collector
    return best + slack if settled else None


def _covers_rest(per_mask: list[list[tuple[int, float]]], memo: dict[tuple[int, int], float],
                 j: int, left: int) -> float:
    """The best sum over the open slots ``j..`` (one (cover mask, value) option each) that
    satisfies every cover in ``left``; ``memo`` is shared by the calls of one node."""
    if j == len(per_mask):
        return 0.0 if left == 0 else -math.inf
    found = memo.get((j, left))
    if found is None:
        found = max(v + _covers_rest(per_mask, memo, j + 1, left & ~m) for m, v in per_mask[j])
        memo[(j, left)] = found
    return found

"""Upper bounds for the *whole* problem, and capacity prices that guide pruning.

Lagrangian relaxation of the agents' limits (groups joined, resources): for
any prices ``lam >= 0`` (per group joined) and ``mu >= 0`` (per resource unit),

    L(lam, mu) = sum_a lam_a cap_a + sum_a mu_a R_a
                 + sum_g max(0, gain_g + sum_{slot s of g} max_{j in s} (c_j - lam_a(j) / m_j
                                                                           - mu_a(j) load_j))

is an upper bound on the objective of every feasible solution, because each
priced constraint is satisfied and every other constraint has been relaxed:
conflicts, counting rules and soft-goal penalties are dropped; an agent
filling m slots of one group is charged 1/m per slot (it joins the group once);
a pair bonus is split into optimistic per-member halves. Covers are kept when
they span at most two slots of a group (the skills a lead or an algorithm
supplier must reach): those slots take their best *combination* that meets
every cover (:class:`CoverPlan`), so a scarce skill is priced as scarce
(national scale: 37.8 M -> 36.5 M relaxed, 35.2 M -> 34.7 M with exact groups).
Prices are improved by subgradient steps (Polyak step size against the best
known solution); the smallest L seen is the bound. The full candidate set is
priced in numpy, so the bound covers every candidate, kept after pruning or not.

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

COVER_SLOTS = 2  # a group whose covers span more slots has them relaxed (as before)
COVER_COMBOS = 256  # nor are they kept when the segment combinations exceed this
COVER_BITS = 16  # nor when the group has more covers (a column's mask is one bit per cover)
MASK_BITS = 62  # the exact search's reduction: groups with more covers are not reduced


@dataclass
class CoverPlan:
    """How the relaxed subproblem keeps the covers of groups whose covers span one or two
    slots. Those slots' columns are split into *segments* by the set of covers each column
    satisfies (its mask); a *combination* is one segment per cover slot whose masks together
    satisfy every cover of the group. The group's cover slots then take the best combination
    (each segment at its best column) instead of each slot's best column on its own: a scarce
    skill cannot be counted as reached by a candidate that does not reach it."""

    free_slot: np.ndarray  # slot -> True when it is not a cover slot (its best column counts)
    perm: np.ndarray  # cover-slot columns, ordered by (slot, mask)
    seg_first: np.ndarray  # segment -> its first position in ``perm``
    pos_seg: np.ndarray  # position in ``perm`` -> segment
    combo_a: np.ndarray  # combination -> first segment
    combo_b: np.ndarray  # combination -> second segment (the number of segments: none)
    combo_first: np.ndarray  # group with combinations -> its first combination
    combo_group: np.ndarray  # group with combinations -> group index
    blocked: np.ndarray  # group -> True when no combination satisfies its covers


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
    # For the exact group search and its reduction (:func:`_reduce`): column -> the covers
    # of its group it satisfies (every cover, as bits; 0 in a group with more than
    # ``MASK_BITS``), and column -> True when its candidate is *linked* to the rest of its
    # group (a pair bonus with a candidate of another slot, a candidate of another slot
    # itself, a conflict, a negative pair with a fixed agent).
    cover_mask: np.ndarray
    linked: np.ndarray
    # The reduction's segments, the same at every price (:func:`_runs`): the columns ordered
    # by (slot, cover mask), each run's first position, and each position's run.
    segments: tuple[np.ndarray, np.ndarray, np.ndarray]
    # Covers in the relaxed subproblem (see :class:`CoverPlan`); None: every cover relaxed.
    covers: CoverPlan | None = None
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
    load: list[float] = []
    mask: list[int] = []  # column -> the covers of its group it satisfies (bits)
    cover_slot: list[bool] = []  # slot -> its covers are kept in the relaxation
    n_covers: list[int] = []  # group -> covers kept (0: none, or relaxed)
    fixed_of: list[list[str]] = []
    for gi, g in enumerate(groups):
        if cancel is not None and gi % 10 == 0:
            cancel.raise_if_cancelled()
        bits: dict[tuple[str, str], int] = defaultdict(int)
        for b, cover in enumerate(g.covers):
            for option in cover.options:
                bits[option] |= 1 << b
        cover_keys = {key for key, _ in bits}
        kept = 0 < len(cover_keys) <= COVER_SLOTS and len(g.covers) <= COVER_BITS
        maskable = len(g.covers) <= MASK_BITS
        n_covers.append(len(g.covers) if kept else 0)
        fixed_of.append(sorted(set(g.fixed)))
        for slot in g.slots:
            si = len(slot_group)
            slot_group.append(gi)
            slot_start.append(len(agent))
            keys.append((g.id, slot.key))
            cover_slot.append(kept and slot.key in cover_keys)
            cands = slot.candidates
            n = len(cands)
            slot_bits = {a: m for (k, a), m in bits.items() if k == slot.key} if maskable else {}
            mask.extend([slot_bits.get(c.agent, 0) for c in cands] if slot_bits else [0] * n)
            col_slot.extend([si] * n)
            agent.extend([agent_at[c.agent] for c in cands])
            if keep_bonus:
                score.extend([c.score + keep_bonus.get((g.id, slot.key, c.agent), 0)
                              for c in cands])
            else:
                score.extend([c.score for c in cands])
            load.extend([float(dict(c.loads).get(res_name, 0)) if c.loads else 0.0
                         for c in cands])
    def array(values: list[float] | list[int] | list[bool], dtype: type) -> np.ndarray:
        if cancel is not None:
            cancel.raise_if_cancelled()  # each conversion of two million: up to 0.1 s
        return np.asarray(values, dtype=dtype)

    # Each list of two million numbers is freed once converted (freeing them all at once in
    # a cancel cost the user 0.1-0.2 s).
    col_slot_a = array(col_slot, np.int64)
    del col_slot
    cover_mask = array(mask, np.int64)
    del mask
    agent_a = array(agent, np.int64)
    del agent
    score_a = array(score, np.float64)
    del score
    load_a = array(load, np.float64)
    del load
    slot_group_a = array(slot_group, np.int64)
    unlimited = np.asarray([limits[a] is None for a in agent_ids], dtype=bool)
    conflicted = {a for pair in problem.conflicts for a in pair}
    in_conflict = np.asarray([a in conflicted for a in agent_ids], dtype=bool)
    pair_ub, pair_fixed, inv_mult, linked = _pair_columns(
        slot_group_a[col_slot_a], col_slot_a, agent_a, agent_ids, fixed_of, bonus, unlimited,
        in_conflict, cancel)
    cover_slot_a = np.asarray(cover_slot, dtype=bool)
    cols = Columns(
        groups=groups,
        slot_group=slot_group_a,
        slot_start=array(slot_start, np.int64),
        col_slot=col_slot_a,
        agent=agent_a,
        score=score_a,
        pair_ub=pair_ub,
        pair_fixed=pair_fixed,
        inv_mult=inv_mult,
        load=load_a,
        value=np.asarray([g.value for g in groups], dtype=np.float64),
        base=np.asarray([g.base_score for g in groups], dtype=np.float64),
        cap=np.asarray([1e18 if (lim := limits.get(a)) is None else float(lim) for a in agent_ids]),
        res_cap=np.asarray([float(resources[a].get(res_name, 0)) for a in agent_ids]),
        keys=keys,
        agent_ids=agent_ids,
        cover_mask=cover_mask,
        linked=linked,
        segments=_runs(np.arange(len(col_slot_a)), col_slot_a, cover_mask),
    )
    # The relaxation keeps the covers of the cover slots only (the others' masks count 0).
    cols.covers = _cover_plan(cols, np.where(cover_slot_a[col_slot_a], cover_mask, 0),
                              cover_slot_a, np.asarray(n_covers, dtype=np.int64))
    if cancel is not None:
        cancel.raise_if_cancelled()
    cols.trivial_bound = lagrangian(cols, col_weight=1.0, value_weight=0.0, base_weight=1.0,
                                    iterations=1).bound
    return cols


PAIR_CHUNK = 200_000  # columns per step of :func:`_pair_columns` (a cancel is heard between)


def _pair_columns(col_group: np.ndarray, col_slot: np.ndarray, col_agent: np.ndarray,
                  agent_ids: list[str], fixed_of: list[list[str]],
                  bonus: dict[str, dict[str, int]], unlimited: np.ndarray,
                  in_conflict: np.ndarray, cancel: CancelToken | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per column: ``pair_ub``, ``pair_fixed``, ``inv_mult`` and ``linked`` (see
    :class:`Columns`), in numpy over the (column, partner) pairs, a chunk of columns at a
    time (nationally 1.9 million columns, 5.7 million pairs: about 2 s in all).

    ``pair_fixed``: the pair bonuses with the group's fixed agents (exact). ``pair_ub``: that,
    plus half the best positive bonus with a candidate of each *other* slot of the group
    (the optimistic share), with a negative ``pair_fixed`` taken back for an agent that is a
    candidate in several slots (it pays that pair once, however many it fills). ``linked``:
    a nonzero bonus with another slot's candidate, a negative ``pair_fixed``, a candidate in
    several slots, or an agent in a conflict."""
    def check() -> None:
        if cancel is not None:
            cancel.raise_if_cancelled()

    n = len(col_agent)
    # Agents named only by pairs or as fixed members get indices after the problem's.
    at = {a: i for i, a in enumerate(agent_ids)}
    m = len(agent_ids)
    for name in [b for a, mine in bonus.items() for b in (a, *mine)] + [
            f for fixed in fixed_of for f in fixed]:
        if name not in at:
            at[name] = m
            m += 1
    # Directed pairs (nonzero) in CSR form by agent.
    src_l, dst_l, val_l = [], [], []
    for a, mine in bonus.items():
        for b, s in mine.items():
            if s:
                src_l.append(at[a])
                dst_l.append(at[b])
                val_l.append(s)
    src = np.asarray(src_l, dtype=np.int64)
    order = np.argsort(src, kind="stable")
    dst = np.asarray(dst_l, dtype=np.int64)[order]
    val = np.asarray(val_l, dtype=np.float64)[order]
    ptr = np.zeros(m + 1, dtype=np.int64)
    np.add.at(ptr, src + 1, 1)
    ptr = np.cumsum(ptr)
    # Each column's (group, agent) key, sorted: multiplicities and who is where (a dense
    # table by key: where its run starts in that order, and how long it is).
    key = col_group * m + col_agent
    # Columns come group by group, so sorting whole groups a chunk at a time sorts them all.
    edges = np.unique(np.concatenate((
        [0], np.searchsorted(col_group, col_group[np.arange(PAIR_CHUNK, n, PAIR_CHUNK)]), [n])))
    parts = []
    for lo_col, hi_col in zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True):
        check()
        parts.append(lo_col + np.argsort(key[lo_col:hi_col], kind="stable"))
    by_key = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    check()
    sorted_key = key[by_key]
    first = np.flatnonzero(np.diff(sorted_key, prepend=-1))
    uniq = sorted_key[first]
    counts = np.diff(np.append(first, n))
    del sorted_key
    mult = np.empty(n, dtype=np.int64)
    mult[by_key] = np.repeat(counts, counts)
    check()
    n_groups = int(col_group.max()) + 1 if n else 0
    run_lo = np.zeros(n_groups * m, dtype=np.int32)
    run_len = np.zeros(n_groups * m, dtype=np.int32)
    run_lo[uniq], run_len[uniq] = first, counts
    del uniq, first, counts
    fixed_keys = np.unique(np.asarray(
        [gi * m + at[f] for gi, fixed in enumerate(fixed_of) for f in fixed], dtype=np.int64))
    is_fixed = np.isin(key, fixed_keys)
    n_slots = int(col_slot.max()) + 1 if n else 0
    exact = np.zeros(n)
    halves = np.zeros(n)
    partner_elsewhere = np.zeros(n, dtype=bool)
    for lo_col in range(0, n, PAIR_CHUNK):
        check()
        cols = np.arange(lo_col, min(n, lo_col + PAIR_CHUNK), dtype=np.int64)
        agents = col_agent[cols]
        # (column, partner) pairs.
        deg = ptr[agents + 1] - ptr[agents]
        e_col = np.repeat(cols, deg)
        e_pos = (np.repeat(ptr[agents] - (np.cumsum(deg) - deg), deg)
                 + np.arange(len(e_col), dtype=np.int64))
        e_partner, e_val = dst[e_pos], val[e_pos]
        e_key = col_group[e_col] * m + e_partner
        exact += np.bincount(e_col, weights=np.where(np.isin(e_key, fixed_keys), e_val, 0.0),
                             minlength=n)
        # The partner's columns in the same group: expand each pair to them.
        lo, cnt = run_lo[e_key].astype(np.int64), run_len[e_key].astype(np.int64)
        f_entry = np.repeat(np.arange(len(e_col), dtype=np.int64), cnt)
        f_pos = (np.repeat(lo - (np.cumsum(cnt) - cnt), cnt)
                 + np.arange(len(f_entry), dtype=np.int64))
        f_col, f_other, f_val = e_col[f_entry], by_key[f_pos], e_val[f_entry]
        other_slot = col_slot[f_other]
        elsewhere = other_slot != col_slot[f_col]
        f_col, other_slot, f_val = f_col[elsewhere], other_slot[elsewhere], f_val[elsewhere]
        partner_elsewhere[f_col] = True
        # Half the best positive bonus per (column, other slot).
        pos = f_val > 0
        f_col, other_slot, f_val = f_col[pos], other_slot[pos], f_val[pos]
        col_and_slot = f_col * n_slots + other_slot
        best_order = np.argsort(col_and_slot)
        col_and_slot = col_and_slot[best_order]
        head = np.flatnonzero(np.diff(col_and_slot, prepend=-1))
        if len(head):
            best = np.maximum.reduceat(f_val[best_order], head)
            halves += np.bincount(col_and_slot[head] // n_slots, weights=best, minlength=n)
    check()
    ub = exact + halves / 2
    ub = np.where((exact < 0) & (mult > 1), ub - exact, ub)
    limited = ~(unlimited[col_agent] | is_fixed)
    inv_mult = np.where(limited, 1.0 / mult, 0.0)
    linked = partner_elsewhere | (exact < 0) | (mult > 1) | in_conflict[col_agent]
    return ub.astype(np.float64), exact.astype(np.float64), inv_mult, linked


def _runs(cols_in: np.ndarray, col_slot: np.ndarray, mask: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Columns ``cols_in`` ordered by (slot, mask); the first position of each run of equal
    (slot, mask) in that order; and each position's run."""
    order = cols_in[np.lexsort((mask[cols_in], col_slot[cols_in]))]
    slot_of, mask_of = col_slot[order], mask[order]
    change = np.ones(len(order), dtype=bool)
    change[1:] = (slot_of[1:] != slot_of[:-1]) | (mask_of[1:] != mask_of[:-1])
    return order, np.flatnonzero(change), np.cumsum(change) - 1


def _cover_plan(cols: Columns, mask: np.ndarray, cover_slot: np.ndarray,
                n_covers: np.ndarray) -> CoverPlan | None:
    """The segments and combinations of :class:`CoverPlan`; None when no group keeps covers."""
    if not n_covers.any():
        return None
    perm, seg_first, pos_seg = _runs(np.flatnonzero(cover_slot[cols.col_slot]), cols.col_slot,
                                     mask)
    seg_slot, seg_mask = cols.col_slot[perm[seg_first]], mask[perm[seg_first]]
    n_seg = len(seg_first)
    seg_lo = np.searchsorted(seg_slot, np.arange(len(cols.slot_group)))
    seg_hi = np.searchsorted(seg_slot, np.arange(len(cols.slot_group)), side="right")
    first_slot = np.searchsorted(cols.slot_group, np.arange(len(cols.groups)))
    free_slot = ~cover_slot
    blocked = np.zeros(len(cols.groups), dtype=bool)
    combo_a: list[int] = []
    combo_b: list[int] = []
    combo_first: list[int] = []
    combo_group: list[int] = []
    for gi in np.flatnonzero(n_covers).tolist():
        g_slots = range(int(first_slot[gi]), int(first_slot[gi]) + len(cols.groups[gi].slots))
        cover_slots = [si for si in g_slots if cover_slot[si]]
        if not cover_slots:
            blocked[gi] = True  # its covers name only slots it does not have: never met
            continue
        full = (1 << int(n_covers[gi])) - 1
        segs = [range(int(seg_lo[si]), int(seg_hi[si])) for si in cover_slots]
        if len(segs) == 1:
            pairs = [(a, n_seg) for a in segs[0] if seg_mask[a] == full]
        else:
            pairs = [(a, b) for a in segs[0] for b in segs[1]
                     if int(seg_mask[a]) | int(seg_mask[b]) == full]
        if len(pairs) > COVER_COMBOS:
            free_slot[cover_slots] = True  # too many: this group's covers are relaxed
            continue
        if not pairs:
            blocked[gi] = True  # no choice satisfies the covers: the group is never selected
            continue
        combo_first.append(len(combo_a))
        combo_group.append(gi)
        combo_a.extend(a for a, _ in pairs)
        combo_b.extend(b for _, b in pairs)
    return CoverPlan(free_slot, perm, seg_first, pos_seg,
                     np.asarray(combo_a, dtype=np.int64), np.asarray(combo_b, dtype=np.int64),
                     np.asarray(combo_first, dtype=np.int64),
                     np.asarray(combo_group, dtype=np.int64), blocked)


def group_values(cols: Columns, adj: np.ndarray, gain: np.ndarray,
                 chosen: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """Each group's relaxed subproblem at column values ``adj``: ``gain`` plus, per slot,
    its best column — except that the cover slots of a :class:`CoverPlan` group take their
    best combination together (a group no combination fits is worth -inf). With
    ``chosen``, also the column that gives each slot its value (the subgradient's use)."""
    slot_max = np.maximum.reduceat(adj, cols.slot_start)
    plan = cols.covers
    n_groups = len(gain)
    if plan is None:
        group_sum = gain + np.bincount(cols.slot_group, weights=slot_max, minlength=n_groups)
    else:
        group_sum = gain + np.bincount(cols.slot_group, weights=np.where(
            plan.free_slot, slot_max, 0.0), minlength=n_groups)
        group_sum[plan.blocked] = -math.inf
    picks = None
    if chosen:
        # The first best column of each slot (the free slots' picks).
        first = np.flatnonzero(adj == slot_max[cols.col_slot])
        slots, at = np.unique(cols.col_slot[first], return_index=True)
        picks = first[at][plan.free_slot[slots]] if plan is not None else first[at]
    if plan is None or not len(plan.combo_group):
        return group_sum, picks
    in_perm = adj[plan.perm]
    seg_max = np.maximum.reduceat(in_perm, plan.seg_first)
    ext = np.append(seg_max, 0.0)
    combo = ext[plan.combo_a] + ext[plan.combo_b]
    best = np.maximum.reduceat(combo, plan.combo_first)
    group_sum[plan.combo_group] += best
    if chosen:
        sizes = np.diff(np.append(plan.combo_first, len(combo)))
        top = np.flatnonzero(combo == np.repeat(best, sizes))
        owner = np.repeat(np.arange(len(best)), sizes)[top]
        _, at = np.unique(owner, return_index=True)
        win = top[at]  # the best combination of each group
        first = np.flatnonzero(in_perm == seg_max[plan.pos_seg])
        segs, at = np.unique(plan.pos_seg[first], return_index=True)
        seg_col = np.full(len(seg_max) + 1, -1, dtype=np.int64)
        seg_col[segs] = plan.perm[first[at]]
        picked = np.concatenate([seg_col[plan.combo_a[win]], seg_col[plan.combo_b[win]]])
        picks = np.concatenate([picks, picked[picked >= 0]])
    return group_sum, picks


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
               cancel: CancelToken | None = None, theta: float = 2.0,
               patience: int = 10) -> Lagrangian:
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
    best = math.inf
    best_state = (lam.copy(), mu.copy(), tau, rho)
    stall, theta0 = 0, theta
    done = 0
    for done in range(1, iterations + 1):  # noqa: B007 - the count is reported
        adj = c - lam[cols.agent] * cols.inv_mult - mu[cols.agent] * cols.load
        gain = gain0 + (tau - rho) * cols.value
        group_sum, picks = group_values(cols, adj, gain, chosen=True)
        take = group_sum > 0
        value = float(np.sum(group_sum[take]) + lam[limited] @ cols.cap[limited]
                      + mu @ cols.res_cap - tau * min_value + rho * (max_value or 0.0))
        if value < best - 1e-9:
            best, best_state, stall = value, (lam.copy(), mu.copy(), tau, rho), 0
        else:
            stall += 1
            if stall >= patience:
                theta, stall = theta / 2, 0
        if done == iterations or (deadline is not None and time.perf_counter() > deadline):
            break  # (a step after the last evaluation would never be evaluated)
        if cancel is not None and cancel.cancelled:
            break  # every value seen is a valid bound; keep the best so far
        # The column each slot of every taken group was valued at.
        assert picks is not None
        chosen = picks[take[cols.slot_group[cols.col_slot[picks]]]]
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
        if norm <= 1e-12 or theta < 1e-4 * theta0:
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




def _reduce(cols: Columns, adj: np.ndarray, share: np.ndarray, col_weight: float
            ) -> np.ndarray:
    """The columns the exact group search needs at these prices (True: kept).

    Within a slot, candidates satisfying the same covers (one *segment*) are interchangeable
    for the covers. A candidate not linked to the rest of its group (no pair bonus with a
    candidate of another slot, in no other slot itself, in no conflict) is worth exactly its
    column ``adj``, whoever the other members are; so of those only the segment's best can be
    in a best choice. A linked candidate can add at most its column, its price back when it
    fills another slot too, and every pair bonus it could have; when that is no more than
    the segment's best unlinked candidate, swapping it for that one loses nothing (the covers
    are the same, the other members keep their pairs with each other), so it is dropped.
    Nationally about 1 000 columns per group become a few dozen."""
    order, seg_first, pos_seg = cols.segments
    if not len(order):
        return np.ones(0, dtype=bool)
    seg_of = np.empty(cols.n, dtype=np.int64)
    seg_of[order] = pos_seg
    alone = ~cols.linked
    worth = np.where(alone, adj, -math.inf)[order]
    seg_best = np.maximum.reduceat(worth, seg_first)
    # (A member filling another slot too gets its price back here, and a negative pair
    # with a fixed agent, which it pays once; so it can add that much more.)
    again = share + np.maximum(0.0, -col_weight * cols.pair_fixed)
    up = (adj + np.where(cols.inv_mult < 1.0, again, 0.0)
          + 2.0 * col_weight * (cols.pair_ub - cols.pair_fixed))
    keep = cols.linked & (up > seg_best[seg_of])
    top = np.flatnonzero(alone[order] & (worth == seg_best[seg_of[order]]))
    _, first = np.unique(seg_of[order[top]], return_index=True)
    keep[order[top[first]]] = True  # each segment's best unlinked candidate (the first of ties)
    return keep


def exact_bound(cols: Columns, problem: Problem, prices: Lagrangian, *, col_weight: float,
                value_weight: float, base_weight: float, min_value: float = 0.0,
                max_value: float | None = None,
                deadline: float | None = None, node_limit: int = 1000,
                slack: float = 50.0, cancel: CancelToken | None = None,
                chosen: dict[int, list[int]] | None = None) -> float:
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
    ``chosen`` receives, per group index, the columns of the best member choice found when
    it is worth more than leaving the group out (column generation's new consortia).
    """
    lam, mu, tau = prices.lam, prices.mu, prices.tau
    rho = prices.rho if max_value is not None else 0.0
    share = lam[cols.agent] * cols.inv_mult  # the relaxation's 1/m of the group price
    adj = col_weight * (cols.score + cols.pair_fixed) - share - mu[cols.agent] * cols.load
    opt = adj + col_weight * (cols.pair_ub - cols.pair_fixed)
    # The group search charges an agent its whole price once, when it first joins the group.
    rest = np.where(cols.inv_mult > 0, lam[cols.agent], 0.0) - share
    fixed_pairs = col_weight * cols.pair_fixed
    gain = value_weight * cols.value + base_weight * cols.base + (tau - rho) * cols.value
    group_sum, _ = group_values(cols, opt, gain)
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
    if cancel is not None and cancel.cancelled:  # stopped already: the relaxed values stand
        return constant + float(group_sum[group_sum > 0].sum())
    kept = np.flatnonzero(_reduce(cols, adj, share, col_weight))
    cut = np.append(np.searchsorted(kept, cols.slot_start), len(kept))  # slot -> kept range
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
            if not g.slots or len(g.covers) > MASK_BITS:
                # Nothing to choose (the relaxed value is exact), or too many covers for a
                # mask (the relaxed value, a bound, stands).
                total += relaxed
                continue
            lo_slot = int(first_slot[gi])
            n_slots = len(g.slots)
            picked: list[int] = []
            best = _group_best(g, [kept[cut[lo_slot + k]:cut[lo_slot + k + 1]]
                                   for k in range(n_slots)],
                               cols, adj, (share, rest), fixed_pairs, at,
                               bonus, conflicts, -float(gain[gi]),
                               limit, slack, picked)
            if picked and chosen is not None:
                chosen[gi] = picked
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


def _group_best(g: Group, idx: list[np.ndarray], cols: Columns, adj: np.ndarray,
                charges: tuple[np.ndarray, np.ndarray], adj_pairs: np.ndarray,
                at: dict[str, int], bonus: dict[int, dict[int, float]],
                conflicts: dict[int, set[int]], floor: float, node_limit: int,
                slack: float, chosen: list[int] | None = None) -> float | None:
    """An upper bound on the best complete member choice of ``g`` (or on ``floor``, when
    none is worth more): the best found plus ``slack``, since every node pruned could not
    beat the best found by more than ``slack`` (near-ties among equally priced candidates
    would otherwise make the search explode); None when it exceeds ``node_limit`` nodes.

    Depth-first over the slots. A member pays its agent's group price once: in full when it
    joins, nothing in a later slot it also fills (``charges``: per column, the share of the
    price ``adj`` already takes, 1/m of it, and the rest). At a node, each open slot's
    candidates are valued with their pairs with the chosen members exact, conflicts with
    them excluded, members free, others at their 1/m share (an agent filling j of its m
    slots pays j/m <= 1 of its price, so the node's bound stays optimistic), and half their
    best partner in every other open slot; the node's bound is the best sum of those that
    satisfies the covers still open (per slot, the best value by the set of covers a
    candidate satisfies). ``chosen`` receives the best choice's columns (one per slot),
    when one beats ``floor``."""
    n_slots = len(g.slots)
    fixed_at = {at[f] for f in g.fixed if f in at}
    full = (1 << len(g.covers)) - 1
    agents = [cols.agent[idx[k]] for k in range(n_slots)]
    agent_lists = [a.tolist() for a in agents]
    adjs = [adj[idx[k]] for k in range(n_slots)]
    shares = [charges[0][idx[k]] for k in range(n_slots)]
    fixed_pairs = [adj_pairs[idx[k]] for k in range(n_slots)]
    rests = [charges[1][idx[k]] for k in range(n_slots)]
    pos = [{a: i for i, a in enumerate(agent_lists[k])} for k in range(n_slots)]
    agent_slots: dict[int, list[int]] = defaultdict(list)
    for k in range(n_slots):
        for a in agent_lists[k]:
            agent_slots[a].append(k)
    masks = [cols.cover_mask[idx[k]] for k in range(n_slots)]
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
    # An agent in several slots pays a negative pair with a fixed agent once: in an open
    # slot it may be a member again by then, so it is valued as if refunded (optimistic).
    open_half = [[halves[k][:, d:].sum(axis=1)
                  + np.where([len(agent_slots[a]) > 1 for a in agent_lists[k]],
                             np.maximum(0.0, -fixed_pairs[k]), 0.0)
                  for d in range(n_slots + 1)]
                 for k in range(n_slots)]
    best = floor
    nodes = 0
    members: list[int] = []
    picks: list[int] = []  # the position in its slot of each member, as ``members``
    best_picks: list[int] = []

    def exact(k: int) -> np.ndarray:
        """Slot ``k``'s candidates given the members: pairs exact, conflicts out, members
        free of the group price, the others at their 1/m share of it."""
        gains = adjs[k].copy()
        where = pos[k]
        joined = set(members)
        for m in joined:
            # Pairs with the fixed agents are in ``adj`` already (the column's pair_fixed).
            for p, sc in () if m in fixed_at else bonus.get(m, {}).items():
                i = where.get(p)
                if i is not None and p not in joined and p not in fixed_at:
                    gains[i] += sc
            for p in conflicts.get(m, ()) if conflicts else ():
                i = where.get(p)
                if i is not None:
                    gains[i] = -math.inf
            i = where.get(m)
            if i is not None:
                # A member again: its price and its pairs (with the fixed agents and the
                # other members) were counted when it joined; only its slot score is new.
                gains[i] = adjs[k][i] + shares[k][i] - fixed_pairs[k][i]
        return gains

    def dfs(d: int, value: float, need: int) -> bool:
        nonlocal best, nodes
        nodes += 1
        if nodes > node_limit:
            return False
        here = exact(d)
        # What choosing each candidate is worth: a newcomer pays the rest of its price.
        real = here - rests[d]
        for m in members:
            i = pos[d].get(m)
            if i is not None:
                real[i] = here[i]
        if d == n_slots - 1:
            here = real
            if need:
                here = np.where((masks[d] & need) == need, here, -math.inf)
            top = float(here.max()) if len(here) else -math.inf
            if value + top > best:
                best = value + top
                best_picks[:] = [*picks, int(np.argmax(here))]
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
            picks.append(i)
            ok = dfs(d + 1, value + float(real[i]), left)  # noqa: F821 - deleted after the search
            picks.pop()
            members.pop()
            if not ok:
                return False
        return True

    settled = dfs(0, 0.0, full)
    del dfs  # it refers to itself: without this every call would leave a cycle to the collector
    if settled and chosen is not None and best_picks:
        chosen[:] = [int(idx[k][i]) for k, i in enumerate(best_picks)]
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

"""The exact group search's reduction, checked against brute force written here (not the
solver's own code)."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.bound import Lagrangian, _reduce, build_columns, exact_bound
from matching.problem import Agent, Candidate, Cover, Group, PairBonus, Problem, Slot
from tests.matching.test_bound_polish import _score

POOL = [f"o{i}" for i in range(14)]
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def wide_groups(draw: st.DrawFn) -> Problem:
    """One group with up to six candidates per slot from fourteen organisations: most of
    them in one slot only and without partners, the case the reduction drops."""
    slots = []
    for key in ("lead", "alg", "comp")[: draw(st.integers(2, 3))]:
        agents = draw(st.lists(st.sampled_from(POOL), min_size=1, max_size=6, unique=True))
        slots.append(Slot(key, tuple(
            Candidate(a, draw(st.integers(0, 60)),
                      (("robots", draw(st.integers(1, 3))),) if key == "lead" else ())
            for a in agents)))
    covers = []
    for _ in range(draw(st.integers(0, 2))):
        options = tuple((s.key, c.agent) for s in slots[:2] for c in s.candidates
                        if draw(st.booleans()))
        if options:
            covers.append(Cover("skill", options))
    fixed = (draw(st.sampled_from(["own", *POOL])),)
    g = Group("g", tuple(slots), value=1, base_score=draw(st.integers(0, 10)),
              covers=tuple(covers), fixed=fixed)
    pairs = draw(st.lists(st.tuples(st.sampled_from(POOL + ["own"]), st.sampled_from(POOL),
                                    st.integers(1, 25)), max_size=4))
    # (Conflicts with the fixed owner are removed before any bound: candidates in them are
    # cleaned out of the group.)
    conflicts = tuple((a, b) for a, b in draw(st.lists(
        st.tuples(st.sampled_from(POOL), st.sampled_from(POOL)), max_size=2))
        if a != b and not {a, b} & set(fixed))
    agents = tuple(Agent(a, draw(st.integers(1, 2)), (("robots", 4),)) for a in POOL)
    return Problem(groups=(g,), agents=agents + (Agent("own", None),), conflicts=conflicts,
                   pair_bonuses=tuple(PairBonus(a, b, s) for a, b, s in pairs if a != b))


def _priced_best(problem: Problem, lam: np.ndarray, mu: np.ndarray, at: dict[str, int]) -> float:
    """The group's best member choice at prices, by enumeration: its score (pairs once),
    minus each limited member's group price once and each slot's resource price."""
    g = problem.groups[0]
    limits = {a.id: a.max_groups for a in problem.agents}
    bad = {frozenset(c) for c in problem.conflicts}
    best = 0.0  # leaving the group out
    for combo in itertools.product(*(s.candidates for s in g.slots)):
        slots = {s.key: c.agent for s, c in zip(g.slots, combo, strict=True)}
        members = set(slots.values()) | set(g.fixed)
        if any(frozenset((a, b)) in bad for a in members for b in members if a != b):
            continue
        if any(not any(slots.get(k) == a for k, a in cv.options) for cv in g.covers):
            continue
        value = float(_score(problem, {g.id: slots}))
        value -= sum(mu[at[c.agent]] * dict(c.loads).get("robots", 0) for c in combo)
        value -= sum(lam[at[a]] for a in set(slots.values()) - set(g.fixed)
                     if limits.get(a) is not None)
        best = max(best, value)
    return best


@SETTINGS
@given(wide_groups(), st.randoms(use_true_random=False))
def test_the_reduced_group_search_is_still_exact(problem, rng):
    # Dropping the candidates a better unlinked one can replace must not change the answer:
    # the exact bound equals the Lagrangian computed by enumeration, at any prices.
    cols = build_columns(problem, list(problem.groups))
    n = len(cols.agent_ids)
    at = {a: i for i, a in enumerate(cols.agent_ids)}
    lam = np.array([rng.uniform(0, 40) for _ in range(n)])
    mu = np.array([rng.uniform(0, 10) for _ in range(n)])
    limited = cols.cap < 1e17
    constant = lam[limited] @ cols.cap[limited] + mu @ cols.res_cap
    exact = exact_bound(cols, problem, Lagrangian(0.0, lam, mu, 0.0, 0), col_weight=1.0,
                        value_weight=0.0, base_weight=1.0, slack=0.0)
    assert abs(exact - (constant + _priced_best(problem, lam, mu, at))) <= 1e-6


def test_the_reduction_keeps_one_unlinked_candidate_per_cover_set():
    # Ten interchangeable component suppliers: only the best is searched. The two leads
    # meet different covers, so both stay. A pair with the fixed owner is not a link (it is
    # in the column's own value), so the owner's partner competes like any other.
    comps = tuple(Candidate(f"c{i}", 10 * i) for i in range(10))
    g = Group("g", (Slot("lead", (Candidate("L1", 50), Candidate("L2", 40))),
                    Slot("comp", comps)),
              covers=(Cover("skill", (("lead", "L2"),)),), fixed=("own",))
    problem = Problem(groups=(g,), agents=tuple(Agent(a, 1) for a in
                                                ["L1", "L2", *(c.agent for c in comps)])
                      + (Agent("own", None),),
                      pair_bonuses=(PairBonus("own", "c3", 200),))
    cols = build_columns(problem, [g])
    n = len(cols.agent_ids)
    zero = np.zeros(n)
    share = zero[cols.agent] * cols.inv_mult
    adj = cols.score + cols.pair_fixed - share
    kept = _reduce(cols, adj, share, 1.0)
    names = sorted(cols.agent_ids[int(cols.agent[c])] for c in np.flatnonzero(kept))
    assert names == ["L1", "L2", "c3"]  # c3: 30 + 200 with the owner beats c9's 90
    exact = exact_bound(cols, problem, Lagrangian(0.0, zero, zero, 0.0, 0), col_weight=1.0,
                        value_weight=0.0, base_weight=1.0, slack=0.0)
    assert exact == 40 + 230  # L2 (the cover) and c3

"""The exact group search's reduction and column generation for the score bound: checked
against brute force written here (not the solver's own code) and on a generated catalogue."""

from __future__ import annotations

import time

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.bound import Lagrangian, _reduce, build_columns, exact_bound, lagrangian
from matching.colgen import consortium_columns, generate
from matching.problem import Agent, Candidate, Cover, Group, PairBonus, Problem, Slot
from tests.matching.test_bound_polish import (
    _all_assignments,
    _priced_best,
    _score,
    _valid,
    problems,
)

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
    # Negative bonuses too (a negative partnership weight): a candidate whose only partners
    # are negative is still linked, and an agent in two slots pays a negative pair with the
    # owner once.
    pairs = draw(st.lists(st.tuples(st.sampled_from(POOL + ["own"]), st.sampled_from(POOL),
                                    st.integers(-20, 25).filter(bool)), max_size=4))
    # (Conflicts with the fixed owner are removed before any bound: candidates in them are
    # cleaned out of the group.)
    conflicts = tuple((a, b) for a, b in draw(st.lists(
        st.tuples(st.sampled_from(POOL), st.sampled_from(POOL)), max_size=2))
        if a != b and not {a, b} & set(fixed))
    agents = tuple(Agent(a, draw(st.integers(1, 2)), (("robots", 4),)) for a in POOL)
    return Problem(groups=(g,), agents=agents + (Agent("own", None),), conflicts=conflicts,
                   pair_bonuses=tuple(PairBonus(a, b, s) for a, b, s in pairs if a != b))


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


def _best_assignment(problem: Problem) -> tuple[dict[str, dict[str, str]], int]:
    best, answer = -1, {}
    for a in _all_assignments(problem):
        if _valid(problem, a) and _score(problem, a) > best:
            best, answer = _score(problem, a), a
    return answer, best


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_column_generation_bounds_hold_and_never_rise(problem):
    # Whatever prices the master proposes, each pass's bound is a Lagrangian value with
    # exact subproblems: never below the best answer (brute force), and the reported one is
    # the smallest seen, never above the first pass's.
    cols = build_columns(problem, list(problem.groups))
    answer, best = _best_assignment(problem)
    start = lagrangian(cols, col_weight=1.0, value_weight=0.0, base_weight=1.0,
                       best_known=best, iterations=30)
    first = exact_bound(cols, problem, start, col_weight=1.0, value_weight=0.0,
                        base_weight=1.0)
    generated = generate(cols, problem, start, start.bound, answer, col_weight=1.0,
                         value_weight=0.0, base_weight=1.0,
                         deadline=time.perf_counter() + 0.5, best_known=best)
    assert generated.passes >= 1
    assert best - 1e-6 <= generated.bound <= first + 1e-6, (best, generated.bound, first)


def test_the_master_starts_from_the_answer_found():
    g = Group("g", (Slot("lead", (Candidate("A", 5), Candidate("B", 7))),
                    Slot("alg", (Candidate("C", 1),))))
    cols = build_columns(Problem(groups=(g,), agents=(Agent("A", 1), Agent("B", 1),
                                                      Agent("C", 1))), [g])
    found = consortium_columns(cols, {"g": {"lead": "B", "alg": "C"}, "gone": {"x": "A"}})
    assert {gi: [cols.agent_ids[int(cols.agent[c])] for c in picked]
            for gi, picked in found.items()} == {0: ["B", "C"]}
    # A member the slot does not list (a stale answer): the consortium is left out.
    assert consortium_columns(cols, {"g": {"lead": "C", "alg": "C"}}) == {}


def test_column_generation_lowers_a_generated_catalogues_bound():
    # 120 scenes competing for scarce makers: the prices the relaxed subgradient tunes leave
    # the exact-group bound loose; the master's prices must bring it down (and never below
    # the answer found), in passes reported with the bound.
    from core.generate import GenerateSpec
    from core.generate import generate as generate_catalogue
    from matching.adapter import build_problem
    from matching.solve import SolveOptions, _full_bounds, prepare, solve

    problem, _ = build_problem(generate_catalogue(GenerateSpec(120, 250, seed=7)))
    solution = solve(problem, SolveOptions(time_limit=6, workers=1))
    prepared = prepare(problem, SolveOptions(time_limit=6, workers=1))
    one_pass = _full_bounds(problem, prepared, solution.primary, solution.score,
                            time.perf_counter() + 2, shortfall=solution.shortfall)
    generated = _full_bounds(problem, prepared, solution.primary, solution.score,
                             time.perf_counter() + 2, shortfall=solution.shortfall,
                             assignment=solution.assignment)
    assert one_pass[2]["pricing_passes"] == 0 and generated[2]["pricing_passes"] >= 2
    assert solution.score <= generated[1] < one_pass[1], (generated[2], one_pass[2])

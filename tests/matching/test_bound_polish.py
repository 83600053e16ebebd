"""The whole-problem bound with exact group subproblems, and the polish, against brute force
on random small core problems (covers, conflicts, pair bonuses, agents in several slots,
resources) — checked with a validity test and a score written here, not the solver's."""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import replace

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from matching.bound import Lagrangian, build_columns, exact_bound, lagrangian, slot_flow_bound
from matching.polish import Scorer, insert, polish
from matching.problem import Agent, Assignment, Candidate, Cover, Group, PairBonus, Problem, Slot

AGENTS = [f"a{i}" for i in range(6)]


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    groups = []
    for gi in range(draw(st.integers(1, 3))):
        slots = []
        for key in ("lead", "alg", "comp")[: draw(st.integers(1, 3))]:
            agents = draw(st.lists(st.sampled_from(AGENTS), min_size=1, max_size=3, unique=True))
            slots.append(Slot(key, tuple(
                Candidate(a, draw(st.integers(0, 50)),
                          (("robots", draw(st.integers(1, 3))),) if key == "lead" else ())
                for a in agents)))
        covers = []
        if len(slots) >= 2 and draw(st.booleans()):
            options = tuple((s.key, c.agent) for s in slots[:2] for c in s.candidates
                            if draw(st.booleans()))
            if options:
                covers.append(Cover("skill", options))
        fixed = (draw(st.sampled_from(["own", *AGENTS])),)
        groups.append(Group(f"g{gi}", tuple(slots), value=1, base_score=draw(st.integers(0, 10)),
                            covers=tuple(covers), fixed=fixed))
    agents = tuple(Agent(a, draw(st.integers(0, 2)), (("robots", draw(st.integers(0, 4))),))
                   for a in AGENTS) + (Agent("own", None),)
    pairs = draw(st.lists(st.tuples(st.sampled_from(AGENTS + ["own"]), st.sampled_from(AGENTS),
                                    st.integers(1, 15)), max_size=6))
    bonuses = tuple(PairBonus(a, b, s) for a, b, s in pairs if a != b)
    conflicts = tuple((a, b) for a, b in draw(st.lists(
        st.tuples(st.sampled_from(AGENTS), st.sampled_from(AGENTS)), max_size=2)) if a != b)
    return Problem(groups=tuple(groups), agents=agents, conflicts=conflicts,
                   pair_bonuses=bonuses)


def _valid(problem: Problem, assignment: Assignment) -> bool:
    caps = {a.id: a.max_groups for a in problem.agents}
    res = {a.id: dict(a.resources) for a in problem.agents}
    bad = {frozenset(c) for c in problem.conflicts}
    used: dict[str, int] = defaultdict(int)
    load: dict[str, int] = defaultdict(int)
    groups = {g.id: g for g in problem.groups}
    for gid, slots in assignment.items():
        g = groups[gid]
        members = set(slots.values()) | set(g.fixed)
        if any(frozenset((a, b)) in bad for a in members for b in members if a != b):
            return False
        if any(not any(slots.get(k) == a for k, a in cv.options) for cv in g.covers):
            return False
        for a in set(slots.values()) - set(g.fixed):
            used[a] += 1
        for s in g.slots:
            for c in s.candidates:
                if c.agent == slots[s.key]:
                    load[c.agent] += dict(c.loads).get("robots", 0)
    return (all(caps[a] is None or n <= caps[a] for a, n in used.items())
            and all(n <= res[a].get("robots", 0) for a, n in load.items()))


def _score(problem: Problem, assignment: Assignment) -> int:
    """Base + member scores + each pair's bonuses (added up when given more than once) once
    per group among all members, owner included."""
    best_pair: dict[frozenset[str], int] = defaultdict(int)
    for b in problem.pair_bonuses:
        if b.a != b.b:
            best_pair[frozenset((b.a, b.b))] += b.score
    groups = {g.id: g for g in problem.groups}
    total = 0
    for gid, slots in assignment.items():
        g = groups[gid]
        total += g.base_score + sum(c.score for s in g.slots for c in s.candidates
                                    if slots[s.key] == c.agent)
        members = sorted(set(slots.values()) | set(g.fixed))
        total += sum(best_pair.get(frozenset((a, b)), 0)
                     for a, b in itertools.combinations(members, 2))
    return total


def _all_assignments(problem: Problem):
    per_group = []
    for g in problem.groups:
        options: list[dict[str, str] | None] = [None]
        for combo in itertools.product(*(s.candidates for s in g.slots)):
            options.append({s.key: c.agent for s, c in zip(g.slots, combo, strict=True)})
        per_group.append(options)
    for choice in itertools.product(*per_group):
        yield {g.id: slots for g, slots in zip(problem.groups, choice, strict=True) if slots}


def _brute_best(problem: Problem) -> int:
    return max(_score(problem, a) for a in _all_assignments(problem) if _valid(problem, a))


def _priced_best(problem: Problem, lam: np.ndarray, mu: np.ndarray, at: dict[str, int]) -> float:
    """The first group's best member choice at prices, by enumeration (0: leaving it out):
    its score (pairs once), minus each limited member's group price once and each slot's
    resource price; choices breaking a cover or a conflict are skipped."""
    g = problem.groups[0]
    limits = {a.id: a.max_groups for a in problem.agents}
    bad = {frozenset(c) for c in problem.conflicts}
    best = 0.0
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


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(problems(), st.randoms(use_true_random=False))
def test_exact_group_bound_holds_for_any_prices_and_is_never_above_the_relaxed(problem, rng):
    groups = [g for g in problem.groups]
    cols = build_columns(problem, groups)
    best = _brute_best(problem)
    n = len(cols.agent_ids)
    for lam, mu in ((np.zeros(n), np.zeros(n)),
                    (np.array([rng.uniform(0, 30) for _ in range(n)]),
                     np.array([rng.uniform(0, 10) for _ in range(n)]))):
        prices = Lagrangian(0.0, lam, mu, 0.0, 0)
        exact = exact_bound(cols, problem, prices, col_weight=1.0, value_weight=0.0,
                            base_weight=1.0, slack=0.0)
        relaxed = lagrangian(cols, col_weight=1.0, value_weight=0.0, base_weight=1.0,
                             iterations=1, start=prices).bound
        assert exact >= best - 1e-6, (exact, best)
        assert exact <= relaxed + 1e-6, (exact, relaxed)


@SETTINGS
@given(problems())
def test_exact_group_bound_is_exact_when_nothing_is_priced_or_shared(problem):
    # With one group, zero prices and no agent able to fill two of its slots, the bound is
    # the group's best complete member choice (when it is worth anything) — the search is
    # exact, not merely an upper bound. (An agent in two slots has its pairs with the owner
    # credited per slot: still a bound, no longer exact.)
    g = replace(problem.groups[0], fixed=("own",))
    seen: set[str] = set()
    slots = []
    for s in g.slots:
        slots.append(Slot(s.key, tuple(c for c in s.candidates if c.agent not in seen)))
        seen |= {c.agent for c in s.candidates}
    assume(all(s.candidates for s in slots))
    g = replace(g, slots=tuple(slots))
    single = Problem(groups=(g,), agents=tuple(
        Agent(a.id, None, (("robots", 99),)) for a in problem.agents),
        conflicts=problem.conflicts, pair_bonuses=problem.pair_bonuses)
    cols = build_columns(single, [g])
    n = len(cols.agent_ids)
    prices = Lagrangian(0.0, np.zeros(n), np.zeros(n), 0.0, 0)
    exact = exact_bound(cols, single, prices, col_weight=1.0, value_weight=0.0,
                        base_weight=1.0, slack=0.0)
    assert abs(exact - max(0, _brute_best(single))) <= 1e-6


@SETTINGS
@given(problems(), st.randoms(use_true_random=False))
def test_exact_group_search_charges_an_agent_once_per_group(problem, rng):
    # One group, any prices, no conflicts: the exact bound is the Lagrangian itself -- the
    # group's best choice with each agent's price paid once and each pair bonus counted once
    # however many of its slots an agent fills (the relaxation's 1/m per slot would pay
    # less; counting a member's pairs again per slot would add more).
    g = problem.groups[0]
    single = Problem(groups=(g,), agents=problem.agents, pair_bonuses=problem.pair_bonuses)
    cols = build_columns(single, [g])
    n = len(cols.agent_ids)
    lam = np.array([rng.uniform(0, 30) for _ in range(n)])
    mu = np.array([rng.uniform(0, 10) for _ in range(n)])
    best = _priced_best(single, lam, mu, {a: i for i, a in enumerate(cols.agent_ids)})
    limited = cols.cap < 1e17
    constant = lam[limited] @ cols.cap[limited] + mu @ cols.res_cap
    exact = exact_bound(cols, single, Lagrangian(0.0, lam, mu, 0.0, 0), col_weight=1.0,
                        value_weight=0.0, base_weight=1.0, slack=0.0)
    assert abs(exact - (constant + best)) <= 1e-6, (exact, constant + best)


@SETTINGS
@given(problems())
def test_the_whole_problem_score_bound_holds(problem):
    # What a run reports, end to end: the flow and Lagrangian value bounds, prices from the
    # two subgradient runs, and the exact group search at those prices -- never below brute
    # force.
    import time

    from matching.solve import SolveOptions, _full_bounds, prepare

    best = _brute_best(problem)
    prepared = prepare(problem, SolveOptions(time_limit=5, workers=1))
    _, score_bound, info = _full_bounds(problem, prepared, 0, 0, time.perf_counter() + 2)
    assert score_bound >= best - 1e-6, (score_bound, best, info)


@SETTINGS
@given(problems())
def test_relaxed_bound_keeps_the_covers_and_is_exact_without_pairs_or_limits(problem):
    # With no pair bonuses, conflicts or binding limits, the relaxed subproblem at zero prices
    # is each group's best member choice that passes its covers (covers span two slots at
    # most here): a cover no longer counts as met by a candidate that does not meet it.
    free = replace(problem, pair_bonuses=(), conflicts=(), agents=tuple(
        Agent(a.id, None, (("robots", 99),)) for a in problem.agents))
    cols = build_columns(free, list(free.groups))
    n = len(cols.agent_ids)
    relaxed = lagrangian(cols, col_weight=1.0, value_weight=0.0, base_weight=1.0, iterations=1,
                         start=Lagrangian(0.0, np.zeros(n), np.zeros(n), 0.0, 0)).bound
    assert abs(relaxed - _brute_best(free)) <= 1e-6


def test_a_scarce_skill_is_not_counted_by_the_relaxed_bound():
    # The best lead and the best algorithm supplier both lack the skill; one of the two that
    # have it must be chosen. Each slot's best on its own would say 50 + 50.
    g = Group("g", (Slot("lead", (Candidate("L1", 50), Candidate("L2", 10))),
                    Slot("alg", (Candidate("A1", 50), Candidate("A2", 5)))),
              covers=(Cover("skill", (("lead", "L2"), ("alg", "A2"))),))
    problem = Problem(groups=(g,), agents=tuple(Agent(a, 1) for a in ("L1", "L2", "A1", "A2")))
    cols = build_columns(problem, [g])
    n = len(cols.agent_ids)
    zero = Lagrangian(0.0, np.zeros(n), np.zeros(n), 0.0, 0)
    assert lagrangian(cols, col_weight=1.0, value_weight=0.0, base_weight=1.0, iterations=1,
                      start=zero).bound == 60  # L2 + A1
    assert cols.trivial_bound == 60
    # A cover no candidate can meet: the group is never selected, the bound says 0.
    blocked = replace(g, covers=(Cover("skill", (("lead", "nobody"),)),))
    cols = build_columns(replace(problem, groups=(blocked,)), [blocked])
    assert cols.trivial_bound == 0
    elsewhere = replace(g, covers=(Cover("skill", (("no such slot", "L1"),)),))
    cols = build_columns(replace(problem, groups=(elsewhere,)), [elsewhere])
    assert cols.trivial_bound == 0


def _with_values(problem: Problem, rng) -> Problem:
    return replace(problem, groups=tuple(replace(g, value=rng.randint(1, 3))
                                         for g in problem.groups))


def _value(problem: Problem, assignment: Assignment) -> int:
    return sum(g.value for g in problem.groups if g.id in assignment)


@SETTINGS
@given(problems(), st.randoms(use_true_random=False))
def test_slot_flow_bound_holds_and_is_exact_for_one_slot(problem, rng):
    problem = _with_values(problem, rng)
    cols = build_columns(problem, list(problem.groups))
    bound, _ = slot_flow_bound(cols)
    best = max(_value(problem, a) for a in _all_assignments(problem) if _valid(problem, a))
    assert bound >= best - 1e-6
    # One slot, no covers, conflicts or robots: the b-matching is the whole problem.
    single = Problem(
        groups=tuple(replace(g, slots=g.slots[:1], covers=()) for g in problem.groups),
        agents=tuple(Agent(a.id, a.max_groups, (("robots", 99),)) for a in problem.agents))
    cols = build_columns(single, list(single.groups))
    best = max(_value(single, a) for a in _all_assignments(single) if _valid(single, a))
    assert slot_flow_bound(cols)[0] == best


@SETTINGS
@given(problems(), st.randoms(use_true_random=False))
def test_score_bounds_hold_between_a_value_floor_and_ceiling(problem, rng):
    # The bound given min_value <= value <= max_value holds for every valid solution in that
    # window, for any prices (tau on the floor, rho on the ceiling), relaxed and exact.
    problem = _with_values(problem, rng)
    valid = [a for a in _all_assignments(problem) if _valid(problem, a)]
    values = sorted({_value(problem, a) for a in valid})
    lo = rng.choice(values)
    hi = rng.choice([v for v in values if v >= lo])
    best = max(_score(problem, a) for a in valid if lo <= _value(problem, a) <= hi)
    cols = build_columns(problem, list(problem.groups))
    n = len(cols.agent_ids)
    prices = Lagrangian(0.0, np.array([rng.uniform(0, 30) for _ in range(n)]),
                        np.array([rng.uniform(0, 10) for _ in range(n)]),
                        rng.uniform(0, 40), 0, rng.uniform(0, 40))
    relaxed = lagrangian(cols, col_weight=1.0, value_weight=0.0, base_weight=1.0,
                         min_value=lo, max_value=hi, iterations=1, start=prices).bound
    exact = exact_bound(cols, problem, prices, col_weight=1.0, value_weight=0.0,
                        base_weight=1.0, min_value=lo, max_value=hi, slack=0.0)
    assert relaxed >= best - 1e-6
    assert exact >= best - 1e-6
    # And the subgradient's best never goes below it either.
    searched = lagrangian(cols, col_weight=1.0, value_weight=0.0, base_weight=1.0,
                          min_value=lo, max_value=hi, best_known=best, iterations=50)
    assert searched.bound >= best - 1e-6


@SETTINGS
@given(problems(), st.randoms(use_true_random=False))
def test_polish_keeps_the_groups_and_validity_and_never_loses_score(problem, rng):
    groups = list(problem.groups)
    valid = [a for a in _all_assignments(problem) if a and _valid(problem, a)]
    if not valid:
        return
    start = rng.choice(valid)
    scorer = Scorer(problem, groups)
    out = polish(problem, groups, start, scorer=scorer)
    assert set(out) == set(start)
    assert _valid(problem, out)
    assert scorer.score(out) >= scorer.score(start)
    # Polishing a key at a time can only reach the best assignment of these groups.
    same = [a for a in valid if set(a) == set(start)]
    assert scorer.score(out) <= max(scorer.score(a) for a in same)


@SETTINGS
@given(problems(), st.randoms(use_true_random=False))
def test_insertion_keeps_every_group_stays_valid_and_never_loses(problem, rng):
    groups = list(problem.groups)
    valid = [a for a in _all_assignments(problem) if _valid(problem, a)]
    start = rng.choice(valid)  # the empty assignment is always valid
    scorer = Scorer(problem, groups)
    out = insert(problem, groups, start, scorer=scorer)
    assert set(start) <= set(out)
    assert _valid(problem, out)
    assert (len(out), _score(problem, out)) >= (len(start), _score(problem, start))
    assert len(out) <= max(len(a) for a in valid)


def test_insertion_adds_a_group_by_a_chain_of_swaps():
    # g1 holds maker A, the only lead g2 can have; g1 could move to B, which has room.
    # Nothing g2 can do alone gets it in; moving g1 first does, unless B cannot carry g1's
    # robots.
    def problem_with(b_robots: int) -> Problem:
        lead1 = Slot("lead", (Candidate("A", 9, (("robots", 3),)),
                              Candidate("B", 5, (("robots", 3),))))
        lead2 = Slot("lead", (Candidate("A", 4, (("robots", 3),)),))
        alg = Slot("alg", (Candidate("X", 1), Candidate("Y", 1)))
        return Problem(
            groups=(Group("g1", (lead1, alg), fixed=("o1",)),
                    Group("g2", (lead2, alg), fixed=("o2",))),
            agents=(Agent("A", 1, (("robots", 10),)), Agent("B", 2, (("robots", b_robots),)),
                    Agent("X", 3), Agent("Y", 3), Agent("o1", None), Agent("o2", None)))

    start = {"g1": {"lead": "A", "alg": "X"}}
    problem = problem_with(5)
    groups = list(problem.groups)
    scorer = Scorer(problem, groups)
    assert polish(problem, groups, start, scorer=scorer) == start  # same groups: nothing to do
    out = insert(problem, groups, start, scorer=scorer)
    assert out["g1"]["lead"] == "B" and out["g2"]["lead"] == "A"
    assert _valid(problem, out)

    problem = problem_with(2)  # B cannot take g1's 3 robots: no chain
    groups = list(problem.groups)
    assert insert(problem, groups, start, scorer=Scorer(problem, groups)) == start


def test_insertion_meets_a_counting_rule_before_adding_value():
    # One maker, two groups that want it: g_rich is worth more, but g_short's plan needs a
    # group to meet its rule, which comes first.
    from matching.problem import CountRule

    lead = Slot("lead", (Candidate("L", 5),))
    problem = Problem(
        groups=(Group("g_rich", (lead,), value=5, cluster="Q", fixed=("o1",)),
                Group("g_short", (lead,), value=1, cluster="P", fixed=("o2",))),
        agents=(Agent("L", 1), Agent("o1", None), Agent("o2", None)),
        rules=(CountRule("P", 1),))
    groups = list(problem.groups)
    out = insert(problem, groups, {}, scorer=Scorer(problem, groups))
    assert out == {"g_short": {"lead": "L"}}


def test_a_group_with_nothing_to_choose_keeps_its_value_in_the_exact_bound():
    only_fixed = Group("g0", (), base_score=7, fixed=("own",))
    chosen = Group("g1", (Slot("lead", (Candidate("a0", 5),)),), base_score=1, fixed=("own",))
    problem = Problem(groups=(only_fixed, chosen), agents=(Agent("a0", 1), Agent("own", None)))
    cols = build_columns(problem, list(problem.groups))
    n = len(cols.agent_ids)
    prices = Lagrangian(0.0, np.zeros(n), np.zeros(n), 0.0, 0)
    assert exact_bound(cols, problem, prices, col_weight=1.0, value_weight=0.0,
                       base_weight=1.0, slack=0.0) == 7 + 1 + 5


@SETTINGS
@given(problems())
def test_scorer_counts_exactly_what_the_model_counts(problem):
    # Duplicate and reversed pair bonuses included: one definition (problem.pair_scores)
    # feeds the model, the bound and the polish, so their scores agree.
    from matching.solve import SolveOptions, solve

    solution = solve(problem, SolveOptions(time_limit=5, workers=1))
    if not solution.assignment:
        return
    assert _valid(problem, solution.assignment)
    scorer = Scorer(problem, list(problem.groups))
    assert scorer.score(solution.assignment) == solution.score


def _scarce_leads() -> Problem:
    """12 groups each need a lead from 4 makers that join 2 groups each (at most 8 can be
    matched); the makers can also fill the algorithm slot."""
    makers = [f"m{i}" for i in range(4)]
    algs = [f"a{i}" for i in range(8)]
    groups = tuple(
        Group(f"g{j}", (Slot("lead", tuple(Candidate(m, 10 + i) for i, m in enumerate(makers))),
                        Slot("alg", tuple(Candidate(a, 5 + (i * j) % 7)
                                          for i, a in enumerate(makers + algs)))), value=1)
        for j in range(12))
    return Problem(groups=groups, agents=tuple(Agent(m, 2) for m in makers)
                   + tuple(Agent(a, 3) for a in algs))


def test_a_scarce_role_bounds_the_matched_value_of_a_pruned_run():
    # 12 groups each need a lead from 4 makers that join 2 groups each: at most 8 can be
    # matched. The makers can also fill the algorithm slot, so the Lagrangian charges them
    # half a price per slot and cannot see it; the per-slot flow bound proves 8.
    from matching.solve import SolveOptions, solve

    problem = _scarce_leads()
    groups = problem.groups
    relaxed = lagrangian(build_columns(problem, list(groups)), col_weight=0.0,
                         value_weight=1.0, base_weight=0.0, best_known=8, iterations=500)
    assert relaxed.bound > 8.5  # what the bound was before the flow
    solution = solve(problem, SolveOptions(time_limit=5, workers=1, column_budget=40))
    assert solution.pruned > 0
    assert _valid(problem, solution.assignment)
    assert solution.primary == 8
    assert solution.primary_bound == 8
    bound_stage = next(s for s in solution.stages if s["stage"] == "bound")
    assert bound_stage["value_bound_key"] == "lead"


def test_a_pruned_run_reports_its_insertion_before_the_search():
    from matching.solve import SolveOptions, solve

    problem = _scarce_leads()
    seen = []
    solution = solve(problem, SolveOptions(time_limit=5, workers=1, column_budget=40,
                                           on_progress=seen.append))
    stages = [p.stage for p in seen]
    assert "insert" in stages and stages.index("insert") < min(
        (stages.index(s) for s in ("A", "B", "done") if s in stages), default=len(stages))
    inserted = next(p for p in seen if p.stage == "insert")
    recorded = next(s for s in solution.stages if s["stage"] == "insert")
    assert inserted.objective == recorded["objective"] <= solution.primary
    assert inserted.bound != inserted.bound  # NaN: no bound yet


def test_insertion_counts_the_resources_of_an_organisation_filling_two_slots():
    # A already leads S (3 of its 5 robots). N1 could take A as algorithm supplier and lead,
    # but not A's robots (3 more): the newcomer must not take it, or the move that also
    # brings N2 in (S2 moving its component to W) fails the exact check and N2 never gets in.
    def cand(a: str, score: int, robots: int = 0) -> Candidate:
        return Candidate(a, score, (("robots", robots),) if robots else ())

    groups = (
        Group("S", (Slot("lead", (cand("A", 10, 3),)), Slot("alg", (cand("A", 10),)),
                    Slot("comp", (cand("Z1", 1),)))),
        Group("S2", (Slot("lead", (cand("R", 1, 1),)), Slot("alg", (cand("R2", 1),)),
                     Slot("comp", (cand("Y", 10), cand("W", 5))))),
        Group("N2", (Slot("lead", (cand("Q", 1, 1),)), Slot("alg", (cand("Q2", 1),)),
                     Slot("comp", (cand("Y", 10),))), value=5),
        Group("N1", (Slot("lead", (cand("A", 20, 3),)), Slot("alg", (cand("A", 20),)),
                     Slot("comp", (cand("V", 1),))), covers=(Cover("skill", (("alg", "A"),)),)),
    )
    problem = Problem(groups, tuple(Agent(a, 2 if a == "A" else 1, (("robots", 5),))
                                    for a in ["A", "R", "R2", "Y", "W", "Q", "Q2", "Z1", "V"]))
    start = {"S": {"lead": "A", "alg": "A", "comp": "Z1"}, "S2": {"lead": "R", "alg": "R2", "comp": "Y"}}
    out = insert(problem, list(groups), start, scorer=Scorer(problem, list(groups)))
    assert "N2" in out and "N1" not in out
    assert _valid(problem, out)


def test_a_pruned_run_with_no_time_to_search_keeps_its_insertion_and_polish():
    from matching.solve import SolveOptions, solve

    problem = _scarce_leads()
    groups = problem.groups
    solution = solve(problem, SolveOptions(time_limit=2, workers=1, column_budget=40))
    stage_a = next(s for s in solution.stages if s["stage"] == "A")
    assert stage_a["status"] == "SKIPPED"
    assert _valid(problem, solution.assignment)
    assert solution.primary == len(solution.assignment) == 8  # the insertion's flow finds 8
    assert solution.score == Scorer(problem, list(groups)).score(solution.assignment)
    assert solution.primary_bound == 8


def test_a_fixed_agent_brings_no_pair_bonus_by_filling_a_slot():
    # Its pairs count whether it fills a slot or not (the model's rule), so the flows of the
    # polish and the insertion must not see a gain in choosing it for one.
    from matching.polish import _joining_bonus

    g = Group("g", (Slot("lead", (Candidate("own", 5), Candidate("L", 5))),
                    Slot("alg", (Candidate("A", 1),))), fixed=("own",))
    bonus = _joining_bonus(g, {"alg": "A"}, {"A": {"own": 9, "L": 4}, "own": {"A": 9, "L": 3}})
    assert "own" not in bonus and bonus["L"] == 4 + 3


@SETTINGS
@given(problems(), st.lists(st.tuples(st.sampled_from(AGENTS + ["own", "gone"]),
                                      st.sampled_from(AGENTS + ["own"]),
                                      st.integers(-20, 25)), max_size=8))
def test_column_pair_arrays_match_their_definition(problem, signed):
    # Bonuses of either sign, zero, given twice for one pair, or naming an organisation with
    # no slot anywhere: the arrays the bound prices, against their definition per column.
    problem = replace(problem, pair_bonuses=tuple(PairBonus(a, b, s) for a, b, s in signed))
    bonus: dict[tuple[str, str], int] = defaultdict(int)
    for b in problem.pair_bonuses:
        if b.a != b.b:
            bonus[(b.a, b.b)] += b.score
            bonus[(b.b, b.a)] += b.score
    limits = {a.id: a.max_groups for a in problem.agents}
    in_conflict = {a for pair in problem.conflicts for a in pair}
    cols = build_columns(problem, list(problem.groups))
    col = 0
    for g in problem.groups:
        fixed = set(g.fixed)
        for slot in g.slots:
            for c in slot.candidates:
                a = c.agent
                mult = sum(any(o.agent == a for o in s.candidates) for s in g.slots)
                others = [s for s in g.slots if s.key != slot.key]
                exact = sum(bonus.get((a, f), 0) for f in fixed if f != a)
                halves = sum(max([0] + [bonus.get((a, o.agent), 0) for o in s.candidates])
                             for s in others) / 2
                ub = exact + halves - (exact if exact < 0 and mult > 1 else 0)
                linked = (any(bonus.get((a, o.agent), 0) != 0 for s in others
                              for o in s.candidates)
                          or exact < 0 or mult > 1 or a in in_conflict)
                limited = limits[a] is not None and a not in fixed
                assert cols.agent_ids[cols.agent[col]] == a
                assert cols.pair_fixed[col] == exact, (g.id, slot.key, a)
                assert cols.pair_ub[col] == ub, (g.id, slot.key, a)
                assert bool(cols.linked[col]) == linked, (g.id, slot.key, a)
                assert cols.inv_mult[col] == (1.0 / mult if limited else 0.0)
                col += 1
    assert col == cols.n
    # The same arrays when they are built a few columns at a time (chunks end on groups).
    import matching.bound as bound_module

    chunk = bound_module.PAIR_CHUNK
    bound_module.PAIR_CHUNK = 2
    try:
        small = build_columns(problem, list(problem.groups))
    finally:
        bound_module.PAIR_CHUNK = chunk
    for name in ("pair_ub", "pair_fixed", "inv_mult", "linked"):
        assert np.array_equal(getattr(small, name), getattr(cols, name)), name


def test_search_progress_reports_the_matched_value_when_a_rule_cannot_be_met():
    # A plan asks for 10 of the 12 groups; at most 8 can be matched. Stage A maximises
    # value - penalty * shortfall; the user is shown the value (8), never the penalised
    # number, and a bound on it that is no lower.
    from dataclasses import replace as with_

    from matching.problem import CountRule
    from matching.solve import SolveOptions, solve

    base = _scarce_leads()
    problem = with_(base, groups=tuple(with_(g, cluster="P") for g in base.groups),
                    rules=(CountRule("P", 10),))
    seen = []
    solution = solve(problem, SolveOptions(time_limit=5, workers=1, column_budget=40,
                                           on_progress=seen.append))
    assert solution.primary == 8
    searched = [p for p in seen if p.stage == "A"]
    assert searched
    for p in searched:
        assert 0 <= p.objective <= 12
        assert p.bound != p.bound or p.objective <= p.bound <= 12
        assert p.shortfall == 10 - p.objective  # groups the plan still misses
    # The result's record of stage A says the same.
    record = next(s for s in solution.stages if s["stage"] == "A")
    assert record["objective"] == 8 and record["shortfall"] == 2
    assert record.get("bound", 8) >= 8


def test_a_concentration_goal_is_watched_whenever_it_can_be_broken():
    # X could fill 4 of the plan's 10 groups (4 <= 30 % x 10 + 1, so a watch list over the
    # whole plan skipped it), but only 5 groups can be matched: X in 4 of 5 breaks the goal
    # by 2. The best answer keeps X in 2 (20 + 2 x 0 = 20, against 40 - 60 = -20), and
    # both the combined and the staged search find and prove it.
    from matching.problem import Concentration
    from matching.solve import SolveOptions, solve

    groups = [Group(f"g{i}", (Slot("s", (Candidate("X", 10), Candidate(f"Y{i}", 0))),),
                    cluster="P") for i in range(4)]
    groups += [Group(f"h{i}", (Slot("s", (Candidate("Z", 0),)),), cluster="P")
               for i in range(6)]
    problem = Problem(tuple(groups),
                      (Agent("X", None), Agent("Z", 1), *(Agent(f"Y{i}", 1) for i in range(4))),
                      concentrations=(Concentration(0.3, 30, "", "concentration"),))
    for budget in (60_000, 10):
        solution = solve(problem, SolveOptions(time_limit=10, workers=1, column_budget=budget))
        assert solution.primary == 5
        assert sum(s["s"] == "X" for s in solution.assignment.values()) == 2
        assert solution.score == 20 and solution.status == "optimal"


def test_duplicate_agent_ids_do_not_mix_up_the_pair_arrays():
    # "ghost" (only in a pair bonus) must not take the index of a real agent.
    problem = Problem(
        groups=(Group("g", (Slot("s", (Candidate("C", 5),)),), fixed=("F",)),),
        agents=(Agent("A"), Agent("A"), Agent("C")),
        pair_bonuses=(PairBonus("ghost", "F", -10),))
    cols = build_columns(problem, list(problem.groups))
    assert cols.pair_fixed.tolist() == [0.0] and cols.pair_fixed.dtype == np.float64
    assert cols.trivial_bound == 5


def test_an_infeasible_part_makes_the_whole_problem_infeasible():
    # Two independent parts; the first has a required group no choice completes.
    from matching.solve import SolveOptions, solve

    problem = Problem(
        (Group("g1", (Slot("s", (Candidate("A", 1),)),), required=True,
               covers=(Cover("c", (("s", "Q"),)),)),
         Group("g2", (Slot("s", (Candidate("B", 1), Candidate("C", 2))),
                      Slot("t", (Candidate("C", 1),))))),
        (Agent("A"), Agent("B"), Agent("C")))
    solution = solve(problem, SolveOptions(time_limit=2, workers=1))
    assert solution.status == "infeasible" and solution.assignment == {}
    assert "g1" in solution.stages[-1]["note"]


@SETTINGS
@given(problems())
def test_an_exact_bound_asked_after_a_cancel_returns_at_once_and_still_holds(problem):
    from core.progress import CancelToken

    cols = build_columns(problem, list(problem.groups))
    n = len(cols.agent_ids)
    prices = Lagrangian(0.0, np.zeros(n), np.zeros(n), 0.0, 0)
    token = CancelToken()
    token.cancel()
    stopped = exact_bound(cols, problem, prices, col_weight=1.0, value_weight=0.0,
                          base_weight=1.0, cancel=token)
    searched = exact_bound(cols, problem, prices, col_weight=1.0, value_weight=0.0,
                           base_weight=1.0)
    assert stopped >= searched - 1e-6 and stopped >= _brute_best(problem) - 1e-6


def test_an_agent_counted_in_several_slots_of_a_group_is_watched_and_bounded():
    # With a slot prefix, an agent is counted once per slot it fills: A in both lead slots of
    # the one group is 2 of 1 at a 60 % share (one over the share plus one). The model must
    # watch it (10 + 10 - 100 against 10 + 0), and a penalty larger than one per group must
    # not break the value-first order (the group is still selected, at -2000).
    from matching.problem import Concentration
    from matching.solve import SolveOptions, solve

    two = Group("g1", (Slot("lead1", (Candidate("A", 10), Candidate("B", 0))),
                       Slot("lead2", (Candidate("A", 10), Candidate("B", 0)))), cluster="c")
    problem = Problem((two,), (Agent("A", None), Agent("B", None)),
                      concentrations=(Concentration(0.6, 100, "lead", "conc"),))
    solution = solve(problem, SolveOptions(time_limit=5, workers=1))
    assert solution.status == "optimal" and solution.score == 10
    assert sorted(solution.assignment["g1"].values()) == ["A", "B"]

    three = Group("g1", tuple(Slot(f"lead{i}", (Candidate("A", 0),)) for i in range(3)),
                  cluster="c")
    problem = Problem((three,), (Agent("A", 1),),
                      concentrations=(Concentration(0.0, 1000, "lead", "conc"),))
    solution = solve(problem, SolveOptions(time_limit=5, workers=1))
    assert solution.primary == 1 == solution.primary_bound and solution.score == -2000

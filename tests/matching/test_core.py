"""The domain-free core on its own: flow path, GAP instances, pruning safety."""

from dataclasses import replace
from pathlib import Path

import pytest

from bench.matching_bench import gap_problem, lead_problem
from matching.solve import SolveOptions, is_flow, solve


def test_flow_path_agrees_with_cp_sat():
    problem = lead_problem(scenes=40, makers=12, seed=5, per_scene=5)
    assert is_flow(problem)
    flow = solve(problem)
    # A conflict that can never bind (one slot per group) sends the same problem to CP-SAT.
    cp = solve(replace(problem, conflicts=(("M0", "M1"),)), SolveOptions(time_limit=20))
    assert flow.status == cp.status == "optimal"
    assert (flow.primary, flow.score) == (cp.primary, cp.score)
    assert flow.stages[0]["stage"] == "min-cost flow"


DATA = Path(__file__).parent / "data"


# Minimisation optima from the published data.csv (see data/README.md).
@pytest.mark.parametrize(("name", "optimum"), [("gap1-0", 261), ("gap5-0", 403)])
def test_public_gap_instances_reach_the_published_optimum(name, optimum):
    problem, shift = gap_problem(DATA / name)
    solution = solve(problem, SolveOptions(time_limit=20))
    assert solution.status == "optimal"
    assert len(solution.assignment) == len(problem.groups)
    assert shift - solution.score == optimum


def test_independent_parts_are_solved_apart_and_merged():
    a = lead_problem(scenes=20, makers=6, seed=1, per_scene=3)
    b = lead_problem(scenes=20, makers=6, seed=2, per_scene=3)
    # Rename b's groups and agents so the two share nothing; a conflict keeps CP-SAT in play.
    b_groups = tuple(replace(g, id="B" + g.id, slots=tuple(
        replace(s, candidates=tuple(replace(c, agent="B" + c.agent) for c in s.candidates))
        for s in g.slots)) for g in b.groups)
    b_agents = tuple(replace(ag, id="B" + ag.id) for ag in b.agents)
    both = replace(a, groups=a.groups + b_groups, agents=a.agents + b_agents,
                   conflicts=(("M0", "M1"),))
    from matching.solve import components

    assert len(components(both)) >= 2
    whole = solve(both, SolveOptions(time_limit=20))
    part_a = solve(replace(a, conflicts=(("M0", "M1"),)), SolveOptions(time_limit=20))
    part_b = solve(replace(b, groups=b_groups, agents=b_agents), SolveOptions(time_limit=20))
    assert whole.status == "optimal"
    assert whole.primary == part_a.primary + part_b.primary
    assert whole.score == part_a.score + part_b.score


def _two_groups_one_agent(required: tuple[bool, bool]):
    from matching.problem import Agent, Candidate, Group, Problem, Slot

    groups = tuple(
        Group(gid, (Slot("lead", (Candidate("M", score),)),), value=value, required=req,
              covers=())
        for gid, value, score, req in (("G1", 2, 10, required[0]), ("G2", 1, 50, required[1]))
    )
    # A conflict with nobody keeps the problem away from the flow shortcut.
    return Problem(groups=groups, agents=(Agent("M", 1), Agent("X", 1)), conflicts=(("M", "X"),))


def test_required_group_is_selected_even_against_value():
    solution = solve(_two_groups_one_agent((False, True)), SolveOptions(time_limit=10))
    assert solution.status == "optimal"
    assert set(solution.assignment) == {"G2"}  # G1 has more value, but G2 is required


def test_required_groups_that_cannot_all_be_formed_are_infeasible():
    solution = solve(_two_groups_one_agent((True, True)), SolveOptions(time_limit=10))
    assert solution.status == "infeasible" and solution.assignment == {}
    assert "cannot all be selected" in str(solution.stages[0]["note"])

"""Matching benches: catalogue instances, a pure lead assignment against min-cost flow and
greedy, and the public GAP instances fed through the domain-free core."""

from __future__ import annotations

import random
import resource
import time
from pathlib import Path
from typing import Any

from matching.problem import Agent, Candidate, Group, Problem, Slot
from matching.solve import SolveOptions, solve
from matching.warm_start import greedy

GAP_DIR = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "gap" / "data"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def catalogue_instance(name: str, save: str | None = None) -> dict[str, Any]:
    """Run the engine on a named catalogue (in a fresh process, for its peak memory);
    ``save``: also write the result document there (the reports bench reuses it)."""
    from core.demo import demo_catalogue
    from core.generate import GenerateSpec, generate
    from matching.engine import MatchParams, match

    if name == "demo":
        catalogue, limit = demo_catalogue(), 30.0
    elif name == "province":
        catalogue, limit = generate(GenerateSpec(60, 400, seed=1, provinces=1, soes=0)), 30.0
    else:  # national, at 60 s (the target) or at 300 s ("national-300")
        catalogue = generate(GenerateSpec(2000, 3000, seed=1))
        limit = 300.0 if name == "national-300" else 60.0
    # OR-Tools (and the pandas it imports) loads once per process, on the first run: timed
    # on its own, so the row says what a coordinator's every run costs and what the first adds.
    started = time.perf_counter()
    from ortools.sat.python import cp_model  # noqa: F401 - loaded for its side effect

    load = time.perf_counter() - started
    started = time.perf_counter()
    doc = match(catalogue, MatchParams(time_limit=limit)).to_dict()
    if save:
        import json

        Path(save).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return {
        "scenes": len(catalogue.scenes), "orgs": len(catalogue.organizations),
        "status": doc["status"], "matched": len(doc["consortia"]),
        "priority": doc["matched_priority"], "priority_bound": doc["matched_priority_bound"],
        "gap": doc["gap"], "seconds": time.perf_counter() - started, "peak_mb": _peak_mb(),
        "load_seconds": load,
    }


def lead_problem(scenes: int = 2000, makers: int = 500, seed: int = 1,
                 per_scene: int = 40) -> Problem:
    """Pure lead assignment: each scene needs one maker; makers have consortium limits."""
    rng = random.Random(seed)
    agents = tuple(Agent(f"M{i}", rng.randint(3, 6)) for i in range(makers))
    groups = []
    for s in range(scenes):
        chosen = rng.sample(range(makers), min(per_scene, makers))
        cands = tuple(Candidate(f"M{i}", rng.randint(10, 100)) for i in chosen)
        groups.append(Group(f"S{s}", (Slot("lead", cands),)))
    return Problem(groups=tuple(groups), agents=agents)


def min_cost_flow(problem: Problem) -> tuple[int, int, float]:
    """Most scenes matched, then most score, by OR-Tools' SimpleMinCostFlow."""
    from ortools.graph.python import min_cost_flow as mcf

    started = time.perf_counter()
    flow = mcf.SimpleMinCostFlow()
    n = len(problem.groups)
    agent_node = {a.id: n + 2 + i for i, a in enumerate(problem.agents)}
    source, sink = n, n + 1
    big = 1 + max(c.score for g in problem.groups for c in g.slots[0].candidates)
    for gi, g in enumerate(problem.groups):
        flow.add_arc_with_capacity_and_unit_cost(source, gi, 1, 0)
        for c in g.slots[0].candidates:
            flow.add_arc_with_capacity_and_unit_cost(gi, agent_node[c.agent], 1, -(big + c.score))
    for a in problem.agents:
        flow.add_arc_with_capacity_and_unit_cost(agent_node[a.id], sink, a.max_groups or n, 0)
    flow.add_arc_with_capacity_and_unit_cost(source, sink, n, 0)  # a scene may stay unmatched
    flow.set_node_supply(source, n)
    flow.set_node_supply(sink, -n)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow: {status}")
    matched = score = 0
    for arc in range(flow.num_arcs()):
        if flow.flow(arc) and flow.tail(arc) < n and flow.head(arc) >= n + 2:
            matched += 1
            score += -flow.unit_cost(arc) - big
    return matched, score, time.perf_counter() - started


def lead_assignment() -> list[dict[str, Any]]:
    """CP-SAT (the engine's solver), min-cost flow and greedy on the same lead assignment."""
    problem = lead_problem()
    rows = []
    started = time.perf_counter()
    sol = solve(problem, SolveOptions(time_limit=30))
    rows.append({"method": "SceneMatch solve", "matched": len(sol.assignment), "score": sol.score,
                 "status": sol.status, "seconds": time.perf_counter() - started})
    matched, score, seconds = min_cost_flow(problem)
    rows.append({"method": "min-cost flow", "matched": matched, "score": score,
                 "status": "optimal", "seconds": seconds})
    started = time.perf_counter()
    warm = greedy(problem, list(problem.groups))
    scores = {(g.id, c.agent): c.score for g in problem.groups for c in g.slots[0].candidates}
    rows.append({"method": "greedy", "matched": len(warm),
                 "score": sum(scores[(g, s["lead"])] for g, s in warm.items()),
                 "status": "heuristic", "seconds": time.perf_counter() - started})
    return rows


def read_gap(path: Path) -> tuple[int, int, list[list[int]], list[list[int]], list[int]]:
    """An OR-Library GAP file: m agents, n jobs, cost and resource matrices, capacities."""
    numbers = [int(x) for x in path.read_text().split()]
    m, n = numbers[0], numbers[1]
    pos = 2
    cost = [numbers[pos + i * n: pos + (i + 1) * n] for i in range(m)]
    pos += m * n
    res = [numbers[pos + i * n: pos + (i + 1) * n] for i in range(m)]
    pos += m * n
    caps = numbers[pos: pos + m]
    return m, n, cost, res, caps


def gap_problem(path: Path) -> tuple[Problem, int]:
    """A GAP instance as a Problem: jobs are groups with one slot, agents carry a resource.

    Minimising cost becomes maximising ``offset - cost`` with every job assigned first.
    """
    m, n, cost, res, caps = read_gap(path)
    offset = max(max(row) for row in cost) + 1
    agents = tuple(Agent(f"A{i}", None, (("cap", caps[i]),)) for i in range(m))
    groups = tuple(
        Group(f"J{j}", (Slot("agent", tuple(
            Candidate(f"A{i}", offset - cost[i][j], (("cap", res[i][j]),)) for i in range(m))),))
        for j in range(n)
    )
    return Problem(groups=groups, agents=agents), offset * n


def gap_instances(names: list[str], time_limit: float = 20.0) -> list[dict[str, Any]]:
    """Solve GAP instances; compare with the published optimum (data.csv)."""
    import csv

    optimum: dict[str, int] = {}
    with open(GAP_DIR / "data.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["Optimum"]:
                optimum[row["Path"]] = int(float(row["Optimum"]))
    rows = []
    for name in names:
        path = GAP_DIR / name
        if not path.exists():
            continue
        problem, shift = gap_problem(path)
        started = time.perf_counter()
        sol = solve(problem, SolveOptions(time_limit=time_limit))
        all_assigned = len(sol.assignment) == len(problem.groups)
        found = shift - sol.score if all_assigned else None
        rows.append({"instance": name, "jobs": len(problem.groups), "agents": len(problem.agents),
                     "cost": found, "optimum": optimum.get(name), "status": sol.status,
                     "seconds": time.perf_counter() - started})
    return rows


def cancel_latency(delays: tuple[float, ...] = (1.0, 6.0, 12.0, 25.0, 42.0, 50.0)) -> dict[str, Any]:
    """Seconds from cancel() to match() returning, on the national catalogue, at several
    moments of a 60 s run (model building, warm start, search, polish, bounds)."""
    import threading

    from core.generate import GenerateSpec, generate
    from core.progress import CancelToken
    from matching.engine import MatchParams, match

    catalogue = generate(GenerateSpec(2000, 3000, seed=1))
    latencies = []
    for delay in delays:
        token = CancelToken()
        returned: list[Any] = []

        def run(token: CancelToken = token, returned: list[Any] = returned) -> None:
            # Like the GUI's worker: the result is kept (and shown), so the time to free it
            # is not part of the wait; the moment match() returns is.
            result = match(catalogue, MatchParams(time_limit=60, cancel=token))
            returned.append((time.perf_counter(), result))

        worker = threading.Thread(target=run)
        worker.start()
        time.sleep(delay)
        cancelled = time.perf_counter()
        token.cancel()
        worker.join()
        latencies.append(returned[0][0] - cancelled)
    return {"delays": delays, "latencies": latencies}

"""A domain-free group-formation problem.

Groups (consortia) are selected or not; a selected group fills each of its
slots (roles) with exactly one candidate agent. Agents have a limit on the
groups they join (counted once per group, however many slots they fill
there) and capacities of named resources that candidates load. Covers say
"at least one of these (slot, agent) choices" (e.g. a skill that either the
lead or the algorithm supplier must reach). Conflicting agents never share a
group; pins fix a slot's agent; pair bonuses reward two agents sharing a
group; counting rules ask each cluster (plan) for a minimum of selected
groups and of distinct tags (fields); concentration goals penalise an agent
taking more than a share of a cluster's groups.

Objective, lexicographic: (1) least shortfall against the counting rules,
(2) most summed ``value`` of selected groups, (3) most summed score (base
scores, candidate scores, pair bonuses, minus soft-goal penalties).

Nothing here knows about robots: ``matching.adapter`` builds a Problem from a
catalogue, and standard assignment benchmarks can be fed to it directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Candidate:
    """An agent that may fill a slot, with the score it brings and the resources it uses."""

    agent: str
    score: int
    loads: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Slot:
    """A role within a group, filled by exactly one candidate when the group is selected."""

    key: str
    candidates: tuple[Candidate, ...]


@dataclass(frozen=True)
class Cover:
    """At least one of ``options`` (slot key, agent) is chosen whenever the group is selected."""

    label: str
    options: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Group:
    """A group that may be selected. ``fixed`` agents are always in it (they use no capacity);
    a ``required`` group must be selected (the problem is infeasible if it cannot be)."""

    id: str
    slots: tuple[Slot, ...]
    value: int = 1
    base_score: int = 0
    cluster: str = ""
    tag: str = ""
    covers: tuple[Cover, ...] = ()
    fixed: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class Agent:
    """An agent's limits: groups it may join (None: unlimited) and resource capacities."""

    id: str
    max_groups: int | None = 1
    resources: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class PairBonus:
    """Score added when agents ``a`` and ``b`` are both in one selected group."""

    a: str
    b: str
    score: int


@dataclass(frozen=True)
class CountRule:
    """A cluster wants at least ``min_groups`` selected groups with ``min_tags`` distinct tags."""

    cluster: str
    min_groups: int
    min_tags: int = 0


@dataclass(frozen=True)
class Concentration:
    """Soft goal: no agent in more than ``max_share`` of a cluster's selected groups in
    slots whose key starts with ``slot_prefix`` (empty: any slot); ``penalty`` per excess group."""

    max_share: float
    penalty: int
    slot_prefix: str = ""
    label: str = ""


@dataclass(frozen=True)
class Pin:
    """Slot ``slot`` of group ``group`` is filled by ``agent`` whenever the group is selected."""

    group: str
    slot: str
    agent: str


@dataclass(frozen=True)
class Problem:
    """The whole instance."""

    groups: tuple[Group, ...]
    agents: tuple[Agent, ...]
    conflicts: tuple[tuple[str, str], ...] = ()
    pair_bonuses: tuple[PairBonus, ...] = ()
    pins: tuple[Pin, ...] = ()
    rules: tuple[CountRule, ...] = ()
    concentrations: tuple[Concentration, ...] = ()


def pair_scores(problem: Problem) -> dict[str, dict[str, int]]:
    """Pair bonuses by agent: agent -> partner -> score, both directions; bonuses given more
    than once for one pair add up (as the exact model counts them), and an agent has none
    with itself. Every solver part reads pair bonuses through this one definition."""
    out: dict[str, dict[str, int]] = {}
    for b in problem.pair_bonuses:
        if b.a == b.b:
            continue
        out.setdefault(b.a, {})[b.b] = out.get(b.a, {}).get(b.b, 0) + b.score
        out.setdefault(b.b, {})[b.a] = out.get(b.b, {}).get(b.a, 0) + b.score
    return out


Assignment = dict[str, dict[str, str]]
"""Selected groups: group id -> slot key -> agent id."""


def pair_total(pairs: dict[str, dict[str, int]], fixed: tuple[str, ...] | set[str],
               present: set[str]) -> int:
    """A group's pair bonuses (``pairs`` from :func:`pair_scores`): each pair of members
    in its slots once, and each member with each fixed agent (a fixed agent in a slot is
    counted from its partners' side only, as the model counts it)."""
    total = 0
    for agent in present:
        if agent in fixed:
            continue
        for other, score in pairs.get(agent, {}).items():
            if other in fixed:
                total += score
            elif other in present and agent < other:
                total += score
    return total


@dataclass(frozen=True)
class Excess:
    """An agent over its share in one cluster: ``groups`` of the ``of`` selected groups
    (in slots of the concentration's prefix, each such slot counted), ``excess`` groups
    beyond the share plus the one always allowed, each costing ``penalty``."""

    label: str
    cluster: str
    agent: str
    groups: int
    of: int
    share: float
    excess: int
    penalty: int


def concentration_excess(problem: Problem, assignment: Assignment,
                         groups: dict[str, Group] | None = None) -> list[Excess]:
    """Every concentration goal ``assignment`` breaks, by the goal's definition: in each
    cluster, an agent counted in more than ``max_share`` of the selected groups plus one.
    The score subtracts ``penalty × excess`` for each (the CP-SAT model watches the agents
    able to break it: one in k groups only if k > share × k + 1)."""
    by_id = groups if groups is not None else {g.id: g for g in problem.groups}
    by_cluster: dict[str, list[str]] = {}
    for gid in assignment:
        by_cluster.setdefault(by_id[gid].cluster, []).append(gid)
    out: list[Excess] = []
    for conc in problem.concentrations:
        share = int(round(conc.max_share * 100))
        prefix = conc.slot_prefix
        for cluster, chosen in sorted(by_cluster.items()):
            counts: dict[str, int] = {}
            for gid in chosen:
                slots = assignment[gid]
                agents = ([a for k, a in slots.items() if k.startswith(prefix)] if prefix
                          else set(slots.values()))
                for a in agents:
                    counts[a] = counts.get(a, 0) + 1
            for agent, count in sorted(counts.items()):
                over = 100 * count - share * len(chosen) - 100
                if over > 0:
                    out.append(Excess(conc.label, cluster, agent, count, len(chosen),
                                      conc.max_share, -(-over // 100), conc.penalty))
    return out


@dataclass
class Solution:
    """What a solve returns. Bounds hold for the whole problem, not only what was kept after pruning."""

    status: str  # optimal | feasible | infeasible | timeout | cancelled
    assignment: Assignment
    primary: int  # summed value of selected groups
    primary_bound: int
    score: int  # stage-3 objective (scores, bonuses, penalties, stability)
    score_bound: float
    shortfall: int = 0
    seconds: float = 0.0
    pruned: int = 0  # candidates set aside before the exact model
    kept: int = 0
    stages: list[dict[str, object]] = field(default_factory=list)

    @property
    def gap(self) -> float:
        """Relative gap of the score to its bound (0.01 = 1 %)."""
        if self.score_bound <= 0 or self.score >= self.score_bound:
            return 0.0
        return (self.score_bound - self.score) / max(abs(self.score_bound), 1e-9)

"""Polish: improve an assignment's score over *every* candidate, keeping its groups.

The exact search sees only the candidates kept after pruning. Polishing goes back to the
full candidate set one slot key at a time: with every other slot of every selected group
held, the members of one key (all leads, then all algorithm suppliers, …) are re-chosen
together by one min-cost flow — exact for that key, since with the other members fixed a
candidate's gain (its score, the pair bonuses it forms, its stability reward) no longer
depends on the rest, and covers and conflicts reduce to which candidates are allowed. A
move is kept only when the whole assignment's exact score (penalties included) rises, so
polishing never loses score, never drops a group and never breaks a rule: coordinate
ascent over slot keys, repeated while it gains and time remains.
"""

from __future__ import annotations

import heapq
import time
from collections import defaultdict
from collections.abc import Callable

from core.progress import CancelToken
from matching.problem import Assignment, Candidate, Group, Problem, pair_scores
from matching.warm_start import _conflicts, _limits, _position_flow

POLISH_ARCS = 32  # best allowed candidates per task in a key's flow
_BIG = 1 << 40  # every group refilled before any gain counts


class Scorer:
    """Scores and checks assignments of ``groups`` exactly as the CP-SAT model counts them."""

    def __init__(self, problem: Problem, groups: list[Group],
                 keep_bonus: dict[tuple[str, str, str], int] | None = None) -> None:
        self.problem = problem
        self.groups = {g.id: g for g in groups}
        self.keep_bonus = keep_bonus or {}
        self.pairs = pair_scores(problem)
        self.caps, self.resources = _limits(problem)
        self.conflicts = _conflicts(problem)
        self._slots: dict[tuple[str, str], dict[str, Candidate]] = {}
        self._covers: dict[str, list[dict[str, frozenset[str]]]] = {}
        self._parts: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[int, bool]] = {}
        # Per concentration and cluster: the agents that could ever exceed their share.
        self.watched: list[tuple[int, int, str, dict[str, set[str]]]] = []
        members_of: dict[str, list[Group]] = defaultdict(list)
        for g in groups:
            members_of[g.cluster].append(g)
        for conc in problem.concentrations:
            share = int(round(conc.max_share * 100))
            watch: dict[str, set[str]] = {}
            for cluster, everyone in members_of.items():
                possible: dict[str, int] = defaultdict(int)
                for g in everyone:
                    if conc.slot_prefix:
                        for slot in g.slots:
                            if slot.key.startswith(conc.slot_prefix):
                                for c in slot.candidates:
                                    possible[c.agent] += 1
                    else:
                        for a in {c.agent for s in g.slots for c in s.candidates}:
                            possible[a] += 1
                watch[cluster] = {a for a, n in possible.items()
                                  if n > 1 and 100 * n > share * len(everyone) + 100}
            self.watched.append((share, conc.penalty, conc.slot_prefix, watch))

    def covers(self, g: Group) -> list[dict[str, frozenset[str]]]:
        """``g``'s covers as slot key -> agents that satisfy it there."""
        found = self._covers.get(g.id)
        if found is None:
            found = []
            for cover in g.covers:
                by_key: dict[str, set[str]] = defaultdict(set)
                for k, a in cover.options:
                    by_key[k].add(a)
                found.append({k: frozenset(v) for k, v in by_key.items()})
            self._covers[g.id] = found
        return found

    def candidate(self, gid: str, key: str, agent: str) -> Candidate | None:
        """``agent``'s candidacy for slot ``key`` of group ``gid`` (None: not a candidate)."""
        slot = self._slots.get((gid, key))
        if slot is None:
            found = next((s for s in self.groups[gid].slots if s.key == key), None)
            slot = self._slots[(gid, key)] = ({c.agent: c for c in found.candidates}
                                              if found else {})
        return slot.get(agent)

    def score(self, assignment: Assignment) -> int:
        """Base scores, candidate scores, pair bonuses (pairs with fixed agents counted per
        present agent, pairs of present agents once) and stability rewards, less
        concentration penalties — term for term as in the CP-SAT model."""
        total = 0
        by_cluster: dict[str, list[str]] = defaultdict(list)
        for gid, slots in assignment.items():
            by_cluster[self.groups[gid].cluster].append(gid)
            total += self.group_part(gid, slots)[0]
        return total - self.penalties(assignment, by_cluster)

    def group_part(self, gid: str, slots: dict[str, str]) -> tuple[int, bool]:
        """One group's score and whether its own rules hold (slots, candidates, covers,
        conflicts); cached, since a move changes few groups."""
        token = (gid, tuple(sorted(slots.items())))
        found = self._parts.get(token)
        if found is not None:
            return found
        g = self.groups[gid]
        total = g.base_score
        ok = set(slots) == {s.key for s in g.slots}
        for key, agent in slots.items():
            cand = self.candidate(gid, key, agent)
            ok = ok and cand is not None
            total += (cand.score if cand else 0) + self.keep_bonus.get((gid, key, agent), 0)
        present = set(slots.values())
        fixed = g.fixed
        for agent in present:
            for other, score in self.pairs.get(agent, {}).items():
                if other in fixed and other != agent:
                    total += score
                elif other in present and agent < other:
                    total += score
        members = present | set(fixed)
        ok = ok and not any(self.conflicts[a] & (members - {a}) for a in members)
        ok = ok and all(any(slots.get(k) in agents for k, agents in cover.items())
                        for cover in self.covers(g))
        if len(self._parts) > 200_000:
            self._parts.clear()
        self._parts[token] = (total, ok)
        return total, ok

    def penalties(self, assignment: Assignment, by_cluster: dict[str, list[str]]) -> int:
        """Concentration penalties (an agent may always take one group beyond its share)."""
        total = 0
        for share, penalty, prefix, watch in self.watched:
            for cluster, chosen in by_cluster.items():
                watched = watch.get(cluster)
                if not watched:
                    continue
                counts: dict[str, int] = defaultdict(int)
                for gid in chosen:
                    slots = assignment[gid]
                    agents = ([a for k, a in slots.items() if k.startswith(prefix)] if prefix
                              else set(slots.values()))
                    for a in agents:
                        if a in watched:
                            counts[a] += 1
                for count in counts.values():
                    over = 100 * count - share * len(chosen) - 100
                    if over > 0:
                        total += penalty * (-(-over // 100))
        return total

    def valid(self, assignment: Assignment) -> bool:
        """Every slot, limit, resource, conflict and cover of ``assignment`` holds."""
        used: dict[str, int] = defaultdict(int)
        used_res: dict[tuple[str, str], int] = defaultdict(int)
        for gid, slots in assignment.items():
            g = self.groups[gid]
            if not self.group_part(gid, slots)[1]:
                return False
            for a in set(slots.values()) - set(g.fixed):
                used[a] += 1
            for key, agent in slots.items():
                for res, load in self.candidate(gid, key, agent).loads:  # type: ignore[union-attr]
                    used_res[(agent, res)] += load
        if any((cap := self.caps.get(a, 1)) is not None and n > cap for a, n in used.items()):
            return False
        return all(n <= self.resources.get(a, {}).get(r, 0) for (a, r), n in used_res.items())


def polish(problem: Problem, groups: list[Group], assignment: Assignment, *,
           keep_bonus: dict[tuple[str, str, str], int] | None = None,
           deadline: float | None = None, cancel: CancelToken | None = None,
           rounds: int = 4, scorer: Scorer | None = None) -> Assignment:
    """Coordinate ascent over slot keys (see the module docstring); returns an assignment of
    the same groups whose exact score is at least that of ``assignment``."""
    def out_of_time() -> bool:
        return ((deadline is not None and time.perf_counter() > deadline)
                or (cancel is not None and cancel.cancelled))

    if out_of_time():
        return assignment
    scorer = scorer or Scorer(problem, groups, keep_bonus)
    current = {gid: dict(slots) for gid, slots in assignment.items() if gid in scorer.groups}
    if not current or len(current) != len(assignment):
        return assignment
    for i, (gid, slots) in enumerate(current.items()):
        if i % 128 == 0 and out_of_time():  # the first scoring builds lookups: stay stoppable
            return assignment
        scorer.group_part(gid, slots)
    best = scorer.score(current)
    keys: dict[str, int] = defaultdict(int)
    for gid in current:
        for s in scorer.groups[gid].slots:
            keys[s.key] += 1
    order = sorted(keys, key=lambda k: (-keys[k], k))
    ranked = _Ranked({(g.id, s.key): s.candidates
                      for g in groups if g.id in current for s in g.slots})

    for _round in range(rounds):
        gained = False
        for key in order:
            if out_of_time():
                return current
            trial = _move(key, current, scorer, ranked, out_of_time)
            if trial is None:
                continue
            score = scorer.score(trial)
            if score > best and scorer.valid(trial):
                current, best, gained = trial, score, True
        if not gained:
            break
    return current


class _Ranked(dict[tuple[str, str], list[Candidate]]):
    """Each slot's candidates by score, best first, sorted when a move first needs them (a
    cancel right after the search must not wait for every slot of the country to sort)."""

    def __init__(self, slots: dict[tuple[str, str], tuple[Candidate, ...]]) -> None:
        super().__init__()
        self.slots = slots

    def __missing__(self, key: tuple[str, str]) -> list[Candidate]:
        ranked = self[key] = sorted(self.slots[key], key=lambda c: -c.score)
        return ranked


def _move(key: str, current: Assignment, scorer: Scorer,
          ranked: dict[tuple[str, str], list[Candidate]],
          stop: Callable[[], bool] | None = None) -> Assignment | None:
    """Every selected group's ``key`` member re-chosen by one flow, the rest held; None when
    the flow cannot refill every group or ``stop`` says to stop (checked as it goes)."""
    used: dict[str, int] = defaultdict(int)
    used_res: dict[tuple[str, str], int] = defaultdict(int)
    held: dict[str, dict[str, str]] = {}
    tasks: list[tuple[Group, str]] = []
    for gid, slots in current.items():
        g = scorer.groups[gid]
        rest = {k: a for k, a in slots.items() if k != key}
        for a in set(rest.values()) - set(g.fixed):
            used[a] += 1
        for k, a in rest.items():
            cand = scorer.candidate(gid, k, a)
            for res, load in cand.loads if cand else ():
                used_res[(a, res)] += load
        if key in slots:
            held[gid] = rest
            tasks.append((g, key))
    pairs, keep_bonus, conflicts = scorer.pairs, scorer.keep_bonus, scorer.conflicts
    top_keep = max(keep_bonus.values(), default=0)
    options: list[list[tuple[Candidate, int]]] = []
    for i, (g, _) in enumerate(tasks):
        if stop is not None and i % 256 == 0 and stop():
            return None
        rest = held[g.id]
        present = set(rest.values())
        members = present | set(g.fixed)
        allowed: set[str] | None = None
        for cover in scorer.covers(g):
            if any(rest.get(k) in agents for k, agents in cover.items() if k != key):
                continue
            here = cover.get(key, frozenset())
            allowed = set(here) if allowed is None else allowed & here
        # What joining brings in pair bonuses, per possible newcomer.
        bonus: dict[str, int] = defaultdict(int)
        for m in members:
            for other, score in pairs.get(m, {}).items():
                if other not in present:
                    bonus[other] += score
        slack = max(bonus.values(), default=0) + top_keep
        old = current[g.id][key]
        mine: list[tuple[int, Candidate]] = []
        floor = None
        for c in ranked[(g.id, key)]:
            if floor is not None and c.score + slack < floor:
                break  # ranked by score: no later candidate can reach the kept few
            if allowed is not None and c.agent not in allowed:
                continue
            if conflicts[c.agent] & (members - {c.agent}):
                continue
            gain = c.score + keep_bonus.get((g.id, key, c.agent), 0) + bonus.get(c.agent, 0)
            mine.append((gain, c))
            if len(mine) == POLISH_ARCS:
                floor = min(gn for gn, _ in mine)
        top = heapq.nlargest(POLISH_ARCS, mine, key=lambda gc: gc[0])
        if all(c.agent != old for _, c in top):
            # The current member always stays an option, so every group can be refilled.
            cand = scorer.candidate(g.id, key, old)
            if cand is not None:
                top.append((cand.score + keep_bonus.get((g.id, key, old), 0)
                            + bonus.get(old, 0), cand))
        options.append([(c, _BIG + gain) for gain, c in top])
    picked = _position_flow(tasks, options, held, used, used_res, scorer.caps, scorer.resources,
                            stop)
    if len(picked) != len(tasks):
        return None  # the flow could not refill every group: keep the current members
    trial = {gid: dict(slots) for gid, slots in current.items()}
    for t, c in picked.items():
        trial[tasks[t][0].id][key] = c.agent
    return trial

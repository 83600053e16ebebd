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
from collections.abc import Callable, Iterator

from core.progress import CancelToken
from matching.problem import (
    Assignment,
    Candidate,
    Group,
    Problem,
    concentration_excess,
    pair_scores,
    pair_total,
)
from matching.warm_start import _conflicts, _limits, _position_flow, rule_shortfall, rule_weights

POLISH_ARCS = 32  # best allowed candidates per task in a key's flow
_BIG = 1 << 40  # every group refilled before any gain counts


class Scorer:
    """Scores and checks assignments of ``groups`` as the objective defines them, term for
    term as the CP-SAT model counts them (concentration penalties:
    :func:`matching.problem.concentration_excess`)."""

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

    def forget(self) -> None:
        """Drop the lookups built so far (millions of small objects nationally): freed now,
        not in the middle of a cancel."""
        self._slots.clear()
        self._covers.clear()
        self._parts.clear()

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
        concentration penalties (:func:`matching.problem.concentration_excess`)."""
        total = sum(self.group_part(gid, slots)[0] for gid, slots in assignment.items())
        return total - self.penalties(assignment)

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
        total += pair_total(self.pairs, fixed, present)
        members = present | set(fixed)
        ok = ok and not any(self.conflicts[a] & (members - {a}) for a in members)
        ok = ok and all(any(slots.get(k) in agents for k, agents in cover.items())
                        for cover in self.covers(g))
        if len(self._parts) > 200_000:
            self._parts.clear()
        self._parts[token] = (total, ok)
        return total, ok

    def penalties(self, assignment: Assignment) -> int:
        """Concentration penalties (an agent may always take one group beyond its share)."""
        return sum(e.penalty * e.excess
                   for e in concentration_excess(self.problem, assignment, self.groups))

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
    hold = _Held(current, key, scorer)
    used, used_res, held, tasks = hold.used, hold.used_res, hold.held, hold.tasks
    pairs = scorer.pairs
    top_keep = max(scorer.keep_bonus.values(), default=0)
    options: list[list[tuple[Candidate, int]]] = []
    for i, (g, _) in enumerate(tasks):
        if stop is not None and i % 256 == 0 and stop():
            return None
        rest = held[g.id]
        bonus = _joining_bonus(g, rest, pairs)
        slack = max(bonus.values(), default=0) + top_keep
        old = current[g.id][key]
        mine: list[tuple[int, Candidate]] = []
        floor = None
        for gain, c in _eligible(g, key, rest, scorer, ranked, bonus):
            if floor is not None and c.score + slack < floor:
                break  # ranked by score: no later candidate can reach the kept few
            mine.append((gain, c))
            if len(mine) == POLISH_ARCS:
                floor = min(gn for gn, _ in mine)
        top = heapq.nlargest(POLISH_ARCS, mine, key=lambda gc: gc[0])
        _with_current(top, g.id, key, old, scorer, bonus)
        options.append([(c, _BIG + gain) for gain, c in top])
    keep = {t: current[g.id][key] for t, (g, _) in enumerate(tasks)}
    picked = _position_flow(tasks, options, held, used, used_res, scorer.caps, scorer.resources,
                            stop, keep)
    if len(picked) != len(tasks):
        return None  # the flow could not refill every group: keep the current members
    trial = {gid: dict(slots) for gid, slots in current.items()}
    for t, c in picked.items():
        trial[tasks[t][0].id][key] = c.agent
    return trial


INSERT_ROOM = 16  # per task, candidates with room left kept beside the best by gain
_COST_ROOM = 1 << 62  # what a flow's summed costs may reach (int64)


def insert(problem: Problem, groups: list[Group], assignment: Assignment, *,
           scorer: Scorer, deadline: float | None = None, cancel: CancelToken | None = None,
           rounds: int = 4) -> Assignment:
    """Add groups that ``assignment`` leaves out, one slot key at a time.

    For key K, each group left out (most value first) takes members for its other slots
    from the organisations with room left, choosing first those that satisfy the most of
    its covers; then one min-cost flow re-chooses the K member of every selected group
    (each must be refilled) and of these newcomers (each may be), most value first, then
    most gain. A newcomer gets in when the flow finds it a K member, possibly by moving
    selected groups to other K members: the chains of swaps that free a scarce
    organisation, which no search over one neighbourhood finds. Groups of plans still short
    of their counting rule are weighted up. A move is kept only if the exact check passes
    and (least rule shortfall, value, score) improves; selected groups are never dropped."""
    def out_of_time() -> bool:
        return ((deadline is not None and time.perf_counter() > deadline)
                or (cancel is not None and cancel.cancelled))

    current = {gid: dict(slots) for gid, slots in assignment.items()}
    if out_of_time() or any(gid not in scorer.groups for gid in current):
        return current

    for i, (gid, slots) in enumerate(current.items()):
        if i % 128 == 0 and out_of_time():  # the first scoring builds lookups: stay stoppable
            return current
        scorer.group_part(gid, slots)

    def rank(a: Assignment) -> tuple[int, int, int]:
        """Least rule shortfall, then most value, then most score (the objective's order)."""
        return (-rule_shortfall(problem, groups, a), sum(scorer.groups[gid].value for gid in a),
                scorer.score(a))

    best = rank(current)
    ranked = _Ranked({(g.id, s.key): s.candidates for g in groups for s in g.slots})
    for _round in range(rounds):
        left_out = [g for g in groups if g.id not in current]
        if not left_out:
            break
        keys: dict[str, int] = defaultdict(int)
        for g in left_out:
            for s in g.slots:
                keys[s.key] += 1
        gained = False
        for key in sorted(keys, key=lambda k: (-keys[k], k)):
            if out_of_time():
                return current
            trial = _insert_move(key, current, [g for g in groups if g.id not in current],
                                 scorer, ranked, out_of_time,
                                 rule_weights(problem, groups, current) if problem.rules else {})
            if trial is None:
                continue
            found = rank(trial)
            if found > best and scorer.valid(trial):
                gained = gained or found[:2] > best[:2]
                current, best = trial, found
        if not gained:
            break  # a round that adds no group: more score is the polish's work
    return current


def _insert_move(key: str, current: Assignment, left_out: list[Group], scorer: Scorer,
                 ranked: dict[tuple[str, str], list[Candidate]],
                 stop: Callable[[], bool], weights: dict[str, int]) -> Assignment | None:
    """One key's insertion flow (see ``insert``); ``weights``: per group, a factor on its
    value (counting rules still short); None when nothing can be tried."""
    caps, resources = scorer.caps, scorer.resources
    hold = _Held(current, key, scorer)
    used, used_res, held, tasks = hold.used, hold.used_res, hold.held, hold.tasks
    full, full_res = hold.full, hold.full_res
    required = frozenset(range(len(tasks)))

    def room(agent: str, cand: Candidate, joined: bool) -> bool:
        """Whether ``agent`` can take ``cand``'s place; ``joined``: already in the group
        (no group limit then, its resources still count)."""
        cap = caps.get(agent, 1)
        if not joined and cap is not None and full[agent] >= cap:
            return False
        return all(full_res[(agent, r)] + v <= resources.get(agent, {}).get(r, 0)
                   for r, v in cand.loads)

    # Newcomers, most (weighted) value first: every other slot filled from the organisations
    # with room left.
    for i, g in enumerate(sorted(left_out, key=lambda g: -g.value * weights.get(g.id, 1))):
        if i % 64 == 0 and stop():
            return None
        if all(s.key != key for s in g.slots):
            continue
        picks = _fill_others(g, key, scorer, ranked, room)
        if picks is None:
            continue
        for a in set(picks.values()) - set(g.fixed):
            used[a] += 1
            full[a] += 1
        for k, a in picks.items():
            for res, load in scorer.candidate(g.id, k, a).loads:  # type: ignore[union-attr]
                used_res[(a, res)] += load
                full_res[(a, res)] += load
        held[g.id] = picks
        tasks.append((g, key))
    if len(tasks) == len(required):
        return None  # no group left out can be tried with this key
    pairs = scorer.pairs
    gains: list[list[tuple[int, Candidate]]] = []
    for t, (g, _) in enumerate(tasks):
        if t % 256 == 0 and stop():
            return None
        rest = held[g.id]
        members = set(rest.values()) | set(g.fixed)
        bonus = _joining_bonus(g, rest, pairs)
        top: list[tuple[int, Candidate]] = []
        spare: list[tuple[int, Candidate]] = []
        for gain, c in _eligible(g, key, rest, scorer, ranked, bonus):
            top.append((gain, c))
            if len(spare) < INSERT_ROOM and room(c.agent, c, c.agent in members):
                spare.append((gain, c))
        best = heapq.nlargest(POLISH_ARCS, top, key=lambda gc: gc[0])
        chosen = {id(c) for _, c in best}
        best += [gc for gc in spare if id(gc[1]) not in chosen]
        if g.id in current:
            _with_current(best, g.id, key, current[g.id][key], scorer, bonus)
        gains.append(best)
    # Costs: a newcomer's (weighted) value first, then gains: the value unit above every
    # gain of the flow, unless a cost times the node count could overflow 64 bits (which
    # OR-Tools refuses).
    span = 1 + sum(max((abs(gain) for gain, _ in best), default=0) for best in gains)
    worth = [0 if t in required else g.value * weights.get(g.id, 1)
             for t, (g, _) in enumerate(tasks)]
    nodes = 2 + len(tasks) + 2 * len({c.agent for best in gains for _, c in best})
    per_arc = _COST_ROOM // (nodes + 1) - span
    unit = min(span, max(1, per_arc // max(1, max(worth))))
    options = [[(c, unit * worth[t] + gain) for gain, c in best]
               for t, best in enumerate(gains)]
    keep = {t: current[g.id][key] for t, (g, _) in enumerate(tasks) if t in required}
    picked = _position_flow(tasks, options, held, used, used_res, caps, resources, stop, keep)
    if not picked or any(t not in picked for t in required):
        return None
    # The flow's picks fit (its last solve gates every agent with resources); ``insert``
    # checks the whole trial exactly all the same.
    trial = {gid: dict(slots) for gid, slots in current.items()}
    for t, c in picked.items():
        g = tasks[t][0]
        if t in required:
            trial[g.id][key] = c.agent
        else:
            trial[g.id] = {**held[g.id], key: c.agent}
    return trial


class _Held:
    """Every selected group with its ``key`` member taken out: what the others use (the
    flow's view), what everyone uses (who has room left), and per group holding the key
    its other members, as flow tasks."""

    def __init__(self, current: Assignment, key: str, scorer: Scorer) -> None:
        self.used: dict[str, int] = defaultdict(int)
        self.used_res: dict[tuple[str, str], int] = defaultdict(int)
        self.full: dict[str, int] = defaultdict(int)
        self.full_res: dict[tuple[str, str], int] = defaultdict(int)
        self.held: dict[str, dict[str, str]] = {}
        self.tasks: list[tuple[Group, str]] = []
        for gid, slots in current.items():
            g = scorer.groups[gid]
            rest = {k: a for k, a in slots.items() if k != key}
            for a in set(rest.values()) - set(g.fixed):
                self.used[a] += 1
            for a in set(slots.values()) - set(g.fixed):
                self.full[a] += 1
            for k, a in slots.items():
                cand = scorer.candidate(gid, k, a)
                for res, load in cand.loads if cand else ():
                    self.full_res[(a, res)] += load
                    if k != key:
                        self.used_res[(a, res)] += load
            if key in slots:
                self.held[gid] = rest
                self.tasks.append((g, key))


def _eligible(g: Group, key: str, rest: dict[str, str], scorer: Scorer,
              ranked: dict[tuple[str, str], list[Candidate]], bonus: dict[str, int]
              ) -> Iterator[tuple[int, Candidate]]:
    """``key``'s candidates in ``g`` that the covers left open allow and that conflict with
    no other member, best score first, each with its gain: score, stability reward and the
    pair bonuses it would bring (``bonus``, from :func:`_joining_bonus`)."""
    members = set(rest.values()) | set(g.fixed)
    allowed = _allowed(g, key, rest, scorer)
    for c in ranked[(g.id, key)]:
        if allowed is not None and c.agent not in allowed:
            continue
        if scorer.conflicts[c.agent] & (members - {c.agent}):
            continue
        yield c.score + scorer.keep_bonus.get((g.id, key, c.agent), 0) + bonus.get(c.agent, 0), c


def _with_current(options: list[tuple[int, Candidate]], gid: str, key: str, old: str,
                  scorer: Scorer, bonus: dict[str, int]) -> None:
    """Append the current member ``old`` to a selected group's ``options`` (gain, candidate)
    when the ranking left it out: it stays an option, so every group can be refilled."""
    if all(c.agent != old for _, c in options):
        cand = scorer.candidate(gid, key, old)
        if cand is not None:
            options.append((cand.score + scorer.keep_bonus.get((gid, key, old), 0)
                            + bonus.get(old, 0), cand))


def _joining_bonus(g: Group, rest: dict[str, str], pairs: dict[str, dict[str, int]]
                   ) -> dict[str, int]:
    """What joining brings in pair bonuses with the other members, per possible newcomer
    (a fixed agent brings none: its pairs count whether it fills a slot or not)."""
    present = set(rest.values())
    fixed = set(g.fixed)
    bonus: dict[str, int] = defaultdict(int)
    for m in present | fixed:
        for other, score in pairs.get(m, {}).items():
            if other not in present and other not in fixed:
                bonus[other] += score
    return bonus


def _allowed(g: Group, key: str, rest: dict[str, str], scorer: Scorer) -> set[str] | None:
    """The agents that may fill ``key`` given the other members: those in every cover that
    the others leave open (None: any)."""
    allowed: set[str] | None = None
    for cover in scorer.covers(g):
        if any(rest.get(k) in agents for k, agents in cover.items() if k != key):
            continue
        here = cover.get(key, frozenset())
        allowed = set(here) if allowed is None else allowed & here
    return allowed


def _fill_others(g: Group, key: str, scorer: Scorer,
                 ranked: dict[tuple[str, str], list[Candidate]],
                 room: Callable[[str, Candidate, bool], bool]) -> dict[str, str] | None:
    """Members for every slot of ``g`` but ``key``, from agents with room: per slot the one
    that satisfies the most covers still open (then the best score); None when some slot has
    no such agent or no ``key`` member could then satisfy the covers left."""
    covers = scorer.covers(g)
    picks: dict[str, str] = {}
    members = set(g.fixed)
    open_covers = list(range(len(covers)))
    for s in sorted(g.slots, key=lambda s: -sum(s.key in cv for cv in covers)):
        if s.key == key:
            continue
        best: tuple[int, Candidate] | None = None
        for c in ranked[(g.id, s.key)]:  # by score: the first with most covers wins ties
            if not room(c.agent, c, c.agent in members):
                continue
            if scorer.conflicts[c.agent] & (members - {c.agent}):
                continue
            n = sum(1 for i in open_covers if c.agent in covers[i].get(s.key, ()))
            if best is None or n > best[0]:
                best = (n, c)
        if best is None:
            return None
        agent = best[1].agent
        picks[s.key] = agent
        members.add(agent)
        open_covers = [i for i in open_covers if agent not in covers[i].get(s.key, ())]
    for i in open_covers:
        if not covers[i].get(key):
            return None
    allowed = _allowed(g, key, picks, scorer)
    if allowed is not None and not allowed:
        return None
    return picks

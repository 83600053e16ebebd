"""Opportunities for one organisation: every scene slot it could fill, ranked by fit.

For an enterprise or institute: which scenes fit it, in which slot, with the same member
points the matcher gives it (:func:`matching.adapter.Index.points`), and — for the slots it
has the role for but may not take — the hard rules that block it
(:func:`matching.adapter.hard_rule_problems`). Eligible opportunities come first by
descending fit, blocked ones after with their reasons. Also: the consortia a result
document proposes it for and its would-be partners there. No Qt.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from core.model import Catalogue, Role
from matching.adapter import Index, hard_rule_problems, make_index, scene_slots, slot_roles
from matching.fit import Weights, pair_points


@dataclass(frozen=True)
class Opportunity:
    """One slot of one scene for the organisation."""

    scene: str
    slot: str  # the adapter's slot key: lead, algorithm, institute, component:<category>
    roles: tuple[Role, ...]  # the organisation's roles that fill the slot
    eligible: bool
    points: float  # member points (what the matcher scores, before pair bonuses)
    terms: dict[str, float]  # points per fit term
    owner_partnership: float  # pair bonus points with the scene's owner (prior partnership)
    problems: tuple[str, ...]  # the hard rules it breaks (empty when eligible)


def opportunities(catalogue: Catalogue, org_id: str, weights: Weights | None = None,
                  index: Index | None = None) -> list[Opportunity]:
    """Every slot of every scene ``org_id`` has a role for: eligible first by descending
    points, then the blocked ones (fewest problems first, then by points).

    Slots the organisation has no role for are left out, and so is the user-unit place of
    its own scenes (that is not a slot). Raises ``KeyError`` for an unknown organisation.
    """
    index = index or make_index(catalogue, weights or Weights())
    org = index.orgs[org_id]
    roles = set(org.roles)
    out: list[Opportunity] = []
    for scene in catalogue.scenes:
        for key in scene_slots(scene):
            fills = roles & slot_roles(key)
            if not fills:
                continue
            problems = tuple(hard_rule_problems(scene, org, key, index))
            terms = {k: round(v, 4) for k, v in index.terms(scene.id, key, org_id).items()}
            strength = index.strength.get(frozenset((org_id, scene.owner)), 0.0)
            bonus = pair_points(strength, index.weights) if org_id != scene.owner else 0.0
            out.append(Opportunity(
                scene=scene.id, slot=key, roles=tuple(r for r in Role if r in fills),
                eligible=not problems, points=index.points(scene.id, key, org_id), terms=terms,
                owner_partnership=bonus, problems=problems,
            ))
    out.sort(key=lambda o: (not o.eligible, len(o.problems), -o.points, o.scene, o.slot))
    return out


@dataclass(frozen=True)
class Proposal:
    """A consortium of a result document the organisation is a member of."""

    scene: str
    role: str
    category: str | None
    fit: float
    partners: tuple[tuple[str, str], ...]  # (org id, role) of the other members


def proposals(result: dict[str, Any] | None, org_id: str) -> list[Proposal]:
    """The consortia of ``result`` (a ``scenematch.result`` document) that ``org_id`` is in."""
    out: list[Proposal] = []
    for c in (result or {}).get("consortia", []):
        mine = [m for m in c["members"] if m["org"] == org_id]
        if not mine:
            continue
        others = tuple((m["org"], m["role"]) for m in c["members"] if m["org"] != org_id)
        for m in mine:
            out.append(Proposal(c["scene"], m["role"], m.get("category"), float(c.get("fit", 0.0)),
                                others))
    return out


def partners(result: dict[str, Any] | None, org_id: str) -> list[tuple[str, int]]:
    """Would-be partners of ``org_id``: the other members of its consortia, with how many
    consortia each shares with it (most first)."""
    counts: Counter[str] = Counter()
    for c in (result or {}).get("consortia", []):
        ids = {m["org"] for m in c["members"]}
        if org_id in ids:
            counts.update(ids - {org_id})
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

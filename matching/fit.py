"""Fit: an explainable sum of named terms with editable weights.

Each term is a value in 0..1 for one member of one consortium (or for the
scene itself), multiplied by the term's weight in points. A consortium's fit
is the sum over its members and the scene; its breakdown is that sum per term.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

from core.model import Organization, Scene
from core.taxonomy import taxonomy

TERMS = ("capability", "experience", "locality", "partnership", "readiness", "spare_capacity")
# Display labels (zh, en) of every term; the taxonomy is their one home (reports use it too).
TERM_LABELS = {t.value: (t.zh, t.en) for t in taxonomy().terms("fit_terms")}
SCALE = 100  # solver integers are points × SCALE


@dataclass(frozen=True)
class Weights:
    """Weights of the fit terms (points for a full 1.0) and of the soft goals."""

    capability: float = 40.0
    experience: float = 20.0
    locality: float = 15.0
    partnership: float = 15.0
    readiness: float = 10.0
    spare_capacity: float = 10.0
    # Soft goals: no organisation in more than this share of one plan's consortia …
    concentration_share: float = 0.30
    concentration_penalty: float = 30.0  # … points per consortium over the share
    # … and no lead (maker / service provider) leading more than this share.
    lead_share: float = 0.25
    lead_penalty: float = 20.0
    # Re-matching: points lost per membership changed against the previous run.
    change_penalty: float = 50.0

    def as_dict(self) -> dict[str, float]:
        """The weights by name."""
        return asdict(self)

    def check(self) -> None:
        """Raise ``ValueError`` naming a weight below 0 (or not finite), or a share outside
        0..1: a negative weight would turn the objective against the plan (measured: a
        share of -1 left 37 of 45 demo scenes unmatched)."""
        for name, value in self.as_dict().items():
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name}={value:g}: 应为非负数 / must be 0 or more")
            if name.endswith("_share") and value > 1:
                raise ValueError(f"{name}={value:g}: 份额应在 0 到 1 之间 / a share lies in 0..1")

    @classmethod
    def from_dict(cls, data: dict[str, float]) -> Weights:
        """Weights from a mapping; unknown names are ignored, missing ones keep the default."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: float(v) for k, v in data.items() if k in names})


@dataclass(frozen=True)
class Profile:
    """What the fit terms need of an organisation, computed once per organisation."""

    skills: dict[str, int]
    province: str
    dims: float  # mean of the six capability dimensions, 0..1 (0.5 when unstated)
    spare_other: float  # spare consortia headroom, 0..1
    robot_capacity: int
    experience: dict[str, int]  # robots deployed per scene category


def profile(org: Organization) -> Profile:
    """The organisation's fit profile."""
    dims = sum(org.capabilities.values()) / (5 * len(org.capabilities)) if org.capabilities else 0.5
    experience: dict[str, int] = {}
    for d in org.deployments:
        experience[d.category] = experience.get(d.category, 0) + (d.robots or 1)
    return Profile(dict(org.skills), org.province, dims,
                   max(0.0, min(1.0, (org.max_consortia - 1) / 3)), org.robot_capacity, experience)


def member_values(p: Profile, scene: Scene, kind: str) -> tuple[float, float, float, float]:
    """Capability, experience, locality and spare capacity (each 0..1) of a member.

    ``kind`` is the slot kind: lead, algorithm, component or institute.
    Capability: how far skills exceed the scene's levels (level = need counts 1/3, need+2
    counts 1); a lead also brings its six capability dimensions (30 %). Experience: robots
    deployed in the scene's category relative to the robots needed. Locality: same
    province. Spare capacity: robot headroom after this scene for a lead, consortium
    headroom for the others.
    """
    if kind == "component":
        capability_value = 0.0
    else:
        if scene.skills:
            total = 0.0
            for skill, need in scene.skills.items():
                total += min(1.0, max(0.0, (p.skills.get(skill, 0) - need + 1) / 3))
            margin: float | None = total / len(scene.skills)
        else:
            margin = None
        if kind == "lead":
            capability_value = 0.7 * (0.5 if margin is None else margin) + 0.3 * p.dims
        elif kind == "institute":
            capability_value = 0.3 if margin is None or not p.skills else margin
        else:
            capability_value = 0.5 if margin is None else margin
    robots = p.experience.get(scene.category, 0)
    experience_value = 0.0 if robots == 0 else 0.5 + 0.5 * min(1.0, robots / max(1, scene.robots))
    locality_value = 1.0 if p.province == scene.province else 0.0
    if kind == "lead":
        spare = 0.0 if p.robot_capacity <= 0 else max(
            0.0, min(1.0, (p.robot_capacity - scene.robots) / p.robot_capacity))
    else:
        spare = p.spare_other
    return capability_value, experience_value, locality_value, spare


def member_points(values: tuple[float, float, float, float], weights: Weights) -> float:
    """The points of a member's values under ``weights``."""
    cap, exp, loc, spare = values
    return (weights.capability * cap + weights.experience * exp + weights.locality * loc
            + weights.spare_capacity * spare)


def terms_of(values: tuple[float, float, float, float], weights: Weights) -> dict[str, float]:
    """Points per term of a member's values (:func:`member_values`) under ``weights``."""
    cap, exp, loc, spare = values
    return {
        "capability": weights.capability * cap,
        "experience": weights.experience * exp,
        "locality": weights.locality * loc,
        "spare_capacity": weights.spare_capacity * spare,
    }


def readiness(scene: Scene) -> float:
    """The scene's readiness on the four selection criteria (unknown counts as 3 of 5)."""
    values = [v if v is not None else 3 for v in (
        scene.readiness.demand, scene.readiness.conditions,
        scene.readiness.standardisation, scene.readiness.economics)]
    return sum(values) / 20


def pair_points(strength: float, weights: Weights) -> float:
    """Points for two members of one consortium (the owner included) that worked together."""
    return weights.partnership * strength / 2


def to_int(points: float) -> int:
    """Points as the solver's integers."""
    return int(round(points * SCALE))

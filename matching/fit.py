"""Fit: an explainable sum of named terms with editable weights.

Each term is a value in 0..1 for one member of one consortium (or for the
scene itself), multiplied by the term's weight in points. A consortium's fit
is the sum over its members and the scene; its breakdown is that sum per term.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from core.model import Organization, Scene

TERMS = ("capability", "experience", "locality", "partnership", "readiness", "spare_capacity")
TERM_LABELS = {
    "capability": ("能力裕度", "Capability margin"),
    "experience": ("类别经验", "Experience in the category"),
    "locality": ("本地化", "Locality"),
    "partnership": ("既往合作", "Prior partnership"),
    "readiness": ("场景成熟度", "Scene readiness"),
    "spare_capacity": ("富余能力", "Spare capacity"),
    "concentration": ("集中度惩罚", "Concentration penalty"),
    "lead_spread": ("整机分散度惩罚", "Lead spread penalty"),
}
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

    @classmethod
    def from_dict(cls, data: dict[str, float]) -> Weights:
        """Weights from a mapping; unknown names are ignored, missing ones keep the default."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: float(v) for k, v in data.items() if k in names})


def _skill_margin(org: Organization, scene: Scene) -> float | None:
    if not scene.skills:
        return None
    margins = [
        min(1.0, max(0.0, (org.skills.get(skill, 0) - need + 1) / 3))
        for skill, need in scene.skills.items()
    ]
    return sum(margins) / len(margins)


def capability(org: Organization, scene: Scene, slot: str) -> float:
    """How far the member's skills exceed the scene's requirements (leads also: the six
    capability dimensions)."""
    if slot.startswith("component"):
        return 0.0
    margin = _skill_margin(org, scene)
    if slot == "lead":
        dims = sum(org.capabilities.values()) / (5 * len(org.capabilities)) if org.capabilities else 0.5
        return 0.7 * (0.5 if margin is None else margin) + 0.3 * dims
    if slot == "institute":
        return 0.3 if margin is None or not org.skills else margin
    return 0.5 if margin is None else margin


def experience(org: Organization, scene: Scene) -> float:
    """Past deployments in the scene's category, relative to the robots it needs."""
    robots = sum(d.robots or 1 for d in org.deployments if d.category == scene.category)
    if robots == 0:
        return 0.0
    return 0.5 + 0.5 * min(1.0, robots / max(1, scene.robots))


def locality(org: Organization, scene: Scene) -> float:
    """1 when the organisation is in the scene's province."""
    return 1.0 if org.province == scene.province else 0.0


def spare_capacity(org: Organization, scene: Scene, slot: str) -> float:
    """Headroom left after this scene: robots for a lead, consortia for the others."""
    if slot == "lead":
        if org.robot_capacity <= 0:
            return 0.0
        return max(0.0, min(1.0, (org.robot_capacity - scene.robots) / org.robot_capacity))
    return max(0.0, min(1.0, (org.max_consortia - 1) / 3))


def readiness(scene: Scene) -> float:
    """The scene's readiness on the four selection criteria (unknown counts as 3 of 5)."""
    values = [v if v is not None else 3 for v in (
        scene.readiness.demand, scene.readiness.conditions,
        scene.readiness.standardisation, scene.readiness.economics)]
    return sum(values) / 20


def member_terms(org: Organization, scene: Scene, slot: str, weights: Weights) -> dict[str, float]:
    """Points per term that ``org`` brings to ``scene`` in ``slot`` (partnership is pairwise)."""
    return {
        "capability": weights.capability * capability(org, scene, slot),
        "experience": weights.experience * experience(org, scene),
        "locality": weights.locality * locality(org, scene),
        "spare_capacity": weights.spare_capacity * spare_capacity(org, scene, slot),
    }


def pair_points(strength: float, weights: Weights) -> float:
    """Points for two members of one consortium (the owner included) that worked together."""
    return weights.partnership * strength / 2


def to_int(points: float) -> int:
    """Points as the solver's integers."""
    return int(round(points * SCALE))

"""The SceneMatch domain: organisations, scenes and the rules between them.

Frozen dataclasses and enums only; no storage, no Qt. The field names follow
the catalogue format (docs/catalogue-format.md) so that conversion is direct.
Mappings (skills, readiness …) are plain dicts by convention never mutated
after construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from enum import StrEnum
from typing import Any


class Field(StrEnum):
    """The programme's three fields (领域)."""

    INDUSTRIAL = "industrial"
    SERVICE = "service"
    SPECIAL = "special"


class Role(StrEnum):
    """What an organisation can be in a consortium."""

    USER_UNIT = "user_unit"
    MAKER = "maker"
    SERVICE_PROVIDER = "service_provider"
    ALGORITHM = "algorithm"
    COMPONENT = "component"
    INSTITUTE = "institute"


LEAD_ROLES = frozenset({Role.MAKER, Role.SERVICE_PROVIDER})


class Ownership(StrEnum):
    """Ownership type of an organisation."""

    CENTRAL_SOE = "central_soe"
    LOCAL_SOE = "local_soe"
    PRIVATE = "private"
    FOREIGN = "foreign"
    PUBLIC_INSTITUTION = "public_institution"


class Status(StrEnum):
    """Lifecycle of a scene, in order."""

    CANDIDATE = "candidate"
    SELECTED = "selected"
    CONSORTIUM_FORMED = "consortium_formed"
    TRAINING = "training"
    VALIDATED = "validated"
    DEPLOYED = "deployed"


class PlanChoice(StrEnum):
    """Whether a scene is in its coordinator's plan.

    ``include``: in the plan's candidate pool, the matcher may choose it;
    ``exclude``: not in the plan, never matched; ``require``: must get a consortium.
    """

    INCLUDE = "include"
    EXCLUDE = "exclude"
    REQUIRE = "require"


class PlanKind(StrEnum):
    """Who owns a plan: a province or a central SOE."""

    PROVINCE = "province"
    CENTRAL_SOE = "central_soe"


class Setting(StrEnum):
    """Where a scene's work happens."""

    INDOOR = "indoor"
    OUTDOOR = "outdoor"
    MIXED = "mixed"
    UNDERGROUND = "underground"


READINESS_CRITERIA = ("demand", "conditions", "standardisation", "economics")
REQUIREMENT_DIMENSIONS = ("perception", "manipulation", "interaction", "adaptability", "reliability")
CAPABILITY_DIMENSIONS = (
    "scene_understanding",
    "task_planning",
    "execution",
    "collaboration",
    "learning",
    "reliable_operation",
)


@dataclass(frozen=True)
class Product:
    """A robot product a maker or service provider offers."""

    name: str
    form_factor: str = ""
    payload_kg: float | None = None
    ip_rating: str = ""
    ex_rating: str = ""
    price_wan: float | None = None


@dataclass(frozen=True)
class Deployment:
    """A past deployment: evidence of experience in a scene category."""

    category: str
    year: int | None = None
    robots: int | None = None
    description: str = ""


@dataclass(frozen=True)
class Organization:
    """An enterprise, institute or user unit in the catalogue."""

    id: str
    name: str
    roles: tuple[Role, ...]
    province: str
    uscc: str | None = None
    city: str = ""
    ownership: Ownership | None = None
    max_consortia: int = 1
    robot_capacity: int = 0
    form_factors: tuple[str, ...] = ()
    skills: dict[str, int] = dc_field(default_factory=dict)
    certifications: tuple[str, ...] = ()
    component_categories: tuple[str, ...] = ()
    capabilities: dict[str, int] = dc_field(default_factory=dict)
    products: tuple[Product, ...] = ()
    deployments: tuple[Deployment, ...] = ()
    description: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Readiness:
    """Readiness against the four selection criteria, each 1..5 or unknown."""

    demand: int | None = None
    conditions: int | None = None
    standardisation: int | None = None
    economics: int | None = None

    def as_dict(self) -> dict[str, int]:
        """The criteria that are set, by name."""
        return {k: v for k in READINESS_CRITERIA if (v := getattr(self, k)) is not None}


@dataclass(frozen=True)
class Requirements:
    """The notice's five requirement dimensions, as the user unit states them."""

    perception: str = ""
    manipulation: str = ""
    interaction: str = ""
    adaptability: str = ""
    reliability: str = ""

    def as_dict(self) -> dict[str, str]:
        """The dimensions that are stated, by name."""
        return {k: v for k in REQUIREMENT_DIMENSIONS if (v := getattr(self, k))}


@dataclass(frozen=True)
class Goals:
    """Quantified deployment goals; ``None`` where not stated."""

    success_rate: float | None = None
    cycle_time_s: float | None = None
    continuous_hours: float | None = None
    payload_kg: float | None = None
    availability: float | None = None


@dataclass(frozen=True)
class Environment:
    """Working environment and its constraints."""

    setting: Setting | None = None
    temp_min_c: float | None = None
    temp_max_c: float | None = None
    ip_rating: str = ""
    explosion_protection: str = ""
    hazards: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scene:
    """A scene unit (场景单元) offered for robot training and deployment."""

    id: str
    name: str
    owner: str
    coordinator: str
    field: Field
    category: str
    province: str
    form_factors: tuple[str, ...]
    robots: int
    skills: dict[str, int] = dc_field(default_factory=dict)
    certifications: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    needs_institute: bool = False
    needs_algorithm: bool = True
    readiness: Readiness = Readiness()
    priority: float = 1.0
    city: str = ""
    sector: str = ""
    description: str = ""
    requirements: Requirements = Requirements()
    goals: Goals = Goals()
    environment: Environment = Environment()
    budget_wan: float | None = None
    start: str = ""
    end: str = ""
    status: Status = Status.CANDIDATE
    robots_deployed: int = 0
    tags: tuple[str, ...] = ()
    plan: PlanChoice = PlanChoice.INCLUDE

    @property
    def in_plan(self) -> bool:
        """True unless the scene is excluded from its coordinator's plan."""
        return self.plan is not PlanChoice.EXCLUDE


@dataclass(frozen=True)
class Partnership:
    """Prior collaboration between two organisations (undirected)."""

    a: str
    b: str
    strength: float = 1.0
    note: str = ""


@dataclass(frozen=True)
class Exclusion:
    """Two organisations that must never be in one consortium."""

    a: str
    b: str
    reason: str = ""


@dataclass(frozen=True)
class Pin:
    """A choice the coordinator fixed by hand: ``org`` fills ``role`` in ``scene``."""

    scene: str
    org: str
    role: Role
    category: str | None = None


@dataclass(frozen=True)
class PlanRule:
    """A coordinator's plan rule: at least ``min_scenes`` scenes in ``min_fields`` fields."""

    coordinator: str
    kind: PlanKind
    min_scenes: int
    min_fields: int


@dataclass(frozen=True)
class MatchRun:
    """A stored matchmaking run: what was asked, what came back, how long it took."""

    id: int
    created: str
    coordinator: str | None
    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    seconds: float
    params: dict[str, Any] = dc_field(default_factory=dict)
    result: dict[str, Any] = dc_field(default_factory=dict)


@dataclass(frozen=True)
class Catalogue:
    """A whole catalogue in memory: what an import brings or an export writes."""

    name: str = ""
    organizations: tuple[Organization, ...] = ()
    scenes: tuple[Scene, ...] = ()
    partnerships: tuple[Partnership, ...] = ()
    exclusions: tuple[Exclusion, ...] = ()
    pins: tuple[Pin, ...] = ()
    plans: tuple[PlanRule, ...] = ()

    def org_by_id(self) -> dict[str, Organization]:
        """Organisations keyed by id."""
        return {o.id: o for o in self.organizations}

    def scene_by_id(self) -> dict[str, Scene]:
        """Scenes keyed by id."""
        return {s.id: s for s in self.scenes}

    def coordinators(self) -> list[str]:
        """Every coordinator named by a scene or a plan rule, sorted."""
        names = {s.coordinator for s in self.scenes} | {p.coordinator for p in self.plans}
        return sorted(names)

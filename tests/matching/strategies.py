"""Hypothesis strategies: random valid catalogues small enough for brute force."""

from __future__ import annotations

from hypothesis import strategies as st

from core.model import Catalogue, Exclusion, Field, Organization, Partnership, Pin, Role, Scene

FORMS = ("双足人形", "轮式人形", "四足")
SKILLS = ("搬运", "分拣", "巡检识别")
CERTS = ("IP65", "Ex")
CATEGORIES = ("减速器", "灵巧手")
COORDINATOR = "测试省"
SLOT_ROLES = (Role.MAKER, Role.SERVICE_PROVIDER, Role.ALGORITHM, Role.COMPONENT, Role.INSTITUTE)


def _subset(draw: st.DrawFn, pool: tuple[str, ...], min_size: int = 0) -> tuple[str, ...]:
    chosen = draw(st.sets(st.sampled_from(pool), min_size=min_size, max_size=len(pool)))
    return tuple(x for x in pool if x in chosen)


def _skills(draw: st.DrawFn) -> dict[str, int]:
    return {s: draw(st.integers(1, 5)) for s in _subset(draw, SKILLS)}


def _few(draw: st.DrawFn, pool: tuple[str, ...]) -> tuple[str, ...]:
    """A subset of ``pool``, empty half of the time (keeps many scenes matchable)."""
    return _subset(draw, pool) if draw(st.booleans()) else ()


@st.composite
def organizations(draw: st.DrawFn, index: int, user_unit: bool = False) -> Organization:
    roles = set(draw(st.sets(st.sampled_from(list(Role)), min_size=1, max_size=4)))
    if user_unit:
        roles.add(Role.USER_UNIT)
    return Organization(
        id=f"O{index}",
        name=f"组织{index}",
        roles=tuple(r for r in Role if r in roles),
        province=COORDINATOR,
        max_consortia=draw(st.integers(0, 2)),
        robot_capacity=draw(st.integers(0, 20)),
        form_factors=_subset(draw, FORMS),
        skills=_skills(draw),
        certifications=_subset(draw, CERTS),
        component_categories=_subset(draw, CATEGORIES),
    )


@st.composite
def small_catalogues(draw: st.DrawFn) -> Catalogue:
    """1–4 scenes, 3–9 organisations, random rules; no plans."""
    n_orgs = draw(st.integers(3, 9))
    orgs = [draw(organizations(i, user_unit=(i == 0))) for i in range(n_orgs)]
    owners = [o.id for o in orgs if Role.USER_UNIT in o.roles]
    ids = [o.id for o in orgs]

    scenes = []
    for i in range(draw(st.integers(1, 4))):
        scenes.append(
            Scene(
                id=f"S{i}",
                name=f"场景{i}",
                owner=draw(st.sampled_from(owners)),
                coordinator=COORDINATOR,
                field=draw(st.sampled_from(list(Field))),
                category="生产制造",
                province=COORDINATOR,
                form_factors=_subset(draw, FORMS, min_size=1),
                robots=draw(st.integers(1, 10)),
                skills={k: v for k, v in _skills(draw).items() if draw(st.booleans())},
                certifications=_few(draw, CERTS),
                components=_few(draw, CATEGORIES),
                needs_institute=draw(st.booleans()),
                needs_algorithm=draw(st.booleans()),
                priority=draw(st.sampled_from([1.0, 1.5, 2.0])),
            )
        )

    pair = st.lists(st.sampled_from(ids), min_size=2, max_size=2, unique=True)
    exclusions = [Exclusion(a, b, "测试") for a, b in draw(st.lists(pair, max_size=2))]
    partnerships = [
        Partnership(a, b, draw(st.floats(0.1, 1.0, allow_nan=False)))
        for a, b in draw(st.lists(pair, max_size=3))
    ]

    pins = []
    if draw(st.booleans()):
        scene = draw(st.sampled_from(scenes))
        role = draw(st.sampled_from(SLOT_ROLES))
        category = None
        if role == Role.COMPONENT and draw(st.booleans()):
            category = draw(st.sampled_from(scene.components or CATEGORIES))
        eligible = [
            o.id
            for o in orgs
            if role in o.roles and (category is None or category in o.component_categories)
        ]
        if bool(eligible) and draw(st.booleans()):
            oid = draw(st.sampled_from(eligible))
        else:
            oid = draw(st.sampled_from(ids))
        pins.append(Pin(scene.id, oid, role, category))

    return Catalogue(
        name="随机测试目录",
        organizations=tuple(orgs),
        scenes=tuple(scenes),
        partnerships=tuple(partnerships),
        exclusions=tuple(exclusions),
        pins=tuple(pins),
        plans=(),
    )

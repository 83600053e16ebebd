"""Synthetic catalogues of any size, seeded and reproducible (benchmarks, tests).

The shape follows the programme: 31 provinces and 40+ central SOEs at national
scale, each with its own plan; organisations in all six roles with skills,
certifications (Ex and MA scarce), capacities that bind, partnerships
clustered by province, and a few exclusions.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from core.model import (
    Catalogue,
    Deployment,
    Environment,
    Exclusion,
    Goals,
    Organization,
    Ownership,
    Partnership,
    PlanKind,
    PlanRule,
    Product,
    Readiness,
    Role,
    Scene,
    Setting,
    Status,
)
from core.model import Field as SceneField
from core.taxonomy import taxonomy
from core.uscc import ALPHABET, make_uscc

REGION_CODES = (
    "110000 120000 130000 140000 150000 210000 220000 230000 310000 320000 330000 340000 350000 "
    "360000 370000 410000 420000 430000 440000 450000 460000 500000 510000 520000 530000 540000 "
    "610000 620000 630000 640000 650000"
).split()

_BRAND = "华 星 智 衡 远 辰 澜 拓 启 泰 安 创 恒 嘉 博 越 明 达 睿 科 联 瑞 弘 卓 擎 宸 骏 锐 峰 翔 云 海 川 岳 鼎 朗".split()
_SOE_STEMS = "能源 电力 钢铁 化工 航天 船舶 建工 交通 通信 矿业 石化 电网 核电 港口 铁路 装备 物流 冶金 水利 燃气".split()

# Skills that a category's scenes usually ask for.
_CATEGORY_SKILLS = {
    "生产制造": ["上下料", "精细装配", "抓取放置", "双臂协同", "搬运"],
    "检测分析": ["巡检识别", "抓取放置", "读表测温", "移动导航"],
    "维修维护": ["开关柜操作", "阀门操作", "精细装配", "巡检识别"],
    "仓储物流": ["搬运", "分拣", "移动导航", "多机协同", "自主充换电"],
    "电力巡检": ["巡检识别", "读表测温", "开关柜操作", "移动导航", "攀爬越障"],
    "餐饮零售": ["人机交互", "抓取放置", "移动导航", "清洁作业"],
    "医疗康养": ["护理辅助", "人机交互", "移动导航", "搬运"],
    "科研教育": ["人机交互", "抓取放置", "双臂协同"],
    "家庭服务": ["清洁作业", "人机交互", "抓取放置"],
    "养老助老": ["护理辅助", "人机交互", "移动导航"],
    "商业服务": ["人机交互", "移动导航", "分拣"],
    "安全生产": ["巡检识别", "气体检测", "移动导航", "攀爬越障"],
    "应急救援": ["攀爬越障", "移动导航", "搬运", "气体检测"],
    "防灾减灾": ["巡检识别", "攀爬越障", "移动导航"],
    "矿山作业": ["巡检识别", "气体检测", "攀爬越障", "搬运"],
    "危化作业": ["阀门操作", "气体检测", "巡检识别", "读表测温"],
}
_USER_KINDS = {
    SceneField.INDUSTRIAL: ["制造有限公司", "汽车有限公司", "电子有限公司", "钢铁有限公司", "供电公司"],
    SceneField.SERVICE: ["人民医院", "养老服务中心", "商业集团", "大学附属医院", "连锁超市有限公司"],
    SceneField.SPECIAL: ["应急管理中心", "矿业有限公司", "化工有限公司", "消防救援支队", "石化有限公司"],
}
_ROLE_SUFFIX = {
    Role.MAKER: "机器人科技有限公司",
    Role.SERVICE_PROVIDER: "智能系统集成有限公司",
    Role.ALGORITHM: "智能科技有限公司",
    Role.COMPONENT: "精密科技有限公司",
    Role.INSTITUTE: "智能研究院",
}


@dataclass(frozen=True)
class GenerateSpec:
    """How big a catalogue to generate."""

    scenes: int
    orgs: int
    seed: int = 1
    provinces: int = 31
    soes: int = 40


class _Names:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def unique(self, make: str) -> str:
        name = make
        n = 2
        while name in self.used:
            name = f"{make}（{n}）"
            n += 1
        self.used.add(name)
        return name

    def brand(self) -> str:
        return "".join(self.rng.sample(_BRAND, 2))


def _pick_levels(rng: random.Random, skills: list[str], lo: int, hi: int) -> dict[str, int]:
    return {s: rng.randint(lo, hi) for s in skills}


def generate(spec: GenerateSpec) -> Catalogue:
    """A synthetic catalogue for ``spec``; the same spec always gives the same catalogue."""
    rng = random.Random(spec.seed)
    tax = taxonomy()
    provinces = tax.values("provinces")[: max(1, min(spec.provinces, 31))]
    categories = tax.terms("categories")
    form_factors = tax.values("form_factors")[:4]
    components = tax.values("component_categories")
    all_skills = tax.values("skills")
    names = _Names(rng)
    coordinators: list[tuple[str, PlanKind, str]] = [(p, PlanKind.PROVINCE, p) for p in provinces]
    for i in range(spec.soes):
        stem = _SOE_STEMS[i % len(_SOE_STEMS)]
        name = f"中国{names.brand()}{stem}集团（模拟）"
        coordinators.append((names.unique(name), PlanKind.CENTRAL_SOE, rng.choice(provinces)))

    counter = 0

    def uscc(province: str, institute: bool) -> str:
        nonlocal counter
        counter += 1
        region = REGION_CODES[provinces.index(province) % len(REGION_CODES)] if province in provinces \
            else REGION_CODES[0]
        head = "12" if institute else "91"
        body = "".join(rng.choice(ALPHABET) for _ in range(4)) + f"{counter:05d}"
        return make_uscc(head + region + body)

    # --- organisations -----------------------------------------------------
    n_scenes = max(0, spec.scenes)
    n_users = max(1, min(spec.orgs // 4, max(1, n_scenes // 2))) if n_scenes else spec.orgs // 4
    remaining = max(0, spec.orgs - n_users)
    mix = [
        (Role.MAKER, 0.17),
        (Role.SERVICE_PROVIDER, 0.06),
        (Role.ALGORITHM, 0.12),
        (Role.COMPONENT, 0.53),
        (Role.INSTITUTE, 0.12),
    ]
    orgs: list[Organization] = []
    user_units_by_coord: dict[str, list[str]] = {}
    for i in range(n_users):
        coord, kind, home = coordinators[i % len(coordinators)]
        province = home if kind is PlanKind.CENTRAL_SOE and rng.random() < 0.5 else (
            rng.choice(provinces) if kind is PlanKind.CENTRAL_SOE else coord)
        field = rng.choice(list(SceneField))
        if kind is PlanKind.CENTRAL_SOE:
            name = f"{coord.removesuffix('（模拟）')}{names.brand()}分公司"
        else:
            name = f"{province[:2]}{names.brand()}{rng.choice(_USER_KINDS[field])}"
        oid = f"U{i + 1:05d}"
        orgs.append(Organization(
            id=oid, name=names.unique(name), roles=(Role.USER_UNIT,), province=province,
            uscc=uscc(province, False),
            ownership=Ownership.CENTRAL_SOE if kind is PlanKind.CENTRAL_SOE else rng.choice(
                [Ownership.LOCAL_SOE, Ownership.PRIVATE, Ownership.PUBLIC_INSTITUTION]),
            max_consortia=0, description=f"{coord}的场景提供单位",
        ))
        user_units_by_coord.setdefault(coord, []).append(oid)

    index = 0
    for role, share in mix:
        count = round(remaining * share) if role is not Role.INSTITUTE else remaining - index
        for _ in range(max(0, count)):
            index += 1
            province = rng.choice(provinces)
            roles = [role]
            if role is Role.MAKER and rng.random() < 0.15:
                roles.append(Role.ALGORITHM)
            if role is Role.INSTITUTE and rng.random() < 0.3:
                roles.append(Role.ALGORITHM)
            skills: dict[str, int] = {}
            certs: list[str] = []
            forms: list[str] = []
            comps: list[str] = []
            capacity = 0
            products: list[Product] = []
            max_c = 1
            if role in (Role.MAKER, Role.SERVICE_PROVIDER):
                forms = rng.sample(form_factors, rng.choice((1, 1, 2, 3)))
                skills = _pick_levels(rng, rng.sample(all_skills, rng.randint(4, 9)), 1, 5)
                certs = ["IP54"]
                if rng.random() < 0.5:
                    certs.append("IP65")
                if rng.random() < 0.2:
                    certs.append("IP67")
                if rng.random() < 0.07:
                    certs.append("Ex")
                if rng.random() < 0.04:
                    certs.append("MA")
                if rng.random() < 0.3:
                    certs.append("CR")
                capacity = rng.choice((20, 30, 50, 80, 120, 200, 400))
                max_c = rng.randint(1, 6)
                products = [Product(f"{names.brand()}-{rng.randint(1, 9)}", f, rng.choice((5, 10, 20, 30)),
                                    "IP65" if "IP65" in certs else "IP54", "Ex" if "Ex" in certs else "",
                                    rng.choice((25, 40, 68, 99, 150))) for f in forms]
            if Role.ALGORITHM in roles:
                skills.update(_pick_levels(rng, rng.sample(all_skills, rng.randint(3, 8)), 2, 5))
                max_c = max(max_c, rng.randint(2, 8))
            if role is Role.COMPONENT:
                comps = rng.sample(components, rng.choice((1, 1, 1, 2, 3)))
                max_c = rng.randint(2, 12)
            if role is Role.INSTITUTE:
                max_c = rng.randint(1, 5)
            cats = rng.sample([c.value for c in categories], rng.randint(0, 3))
            orgs.append(Organization(
                id=f"E{index:05d}",
                name=names.unique(f"{province[:2]}{names.brand()}{_ROLE_SUFFIX[role]}"),
                roles=tuple(roles), province=province, uscc=uscc(province, role is Role.INSTITUTE),
                ownership=Ownership.PUBLIC_INSTITUTION if role is Role.INSTITUTE else rng.choice(
                    [Ownership.PRIVATE] * 6 + [Ownership.LOCAL_SOE, Ownership.CENTRAL_SOE,
                                                Ownership.FOREIGN]),
                max_consortia=max_c, robot_capacity=capacity, form_factors=tuple(forms),
                skills=skills, certifications=tuple(certs), component_categories=tuple(comps),
                capabilities={d: rng.randint(1, 5) for d in tax.values("capability_dimensions")}
                if role in (Role.MAKER, Role.SERVICE_PROVIDER) else {},
                products=tuple(products),
                deployments=tuple(Deployment(c, rng.randint(2021, 2025), rng.randint(1, 30)) for c in cats),
                tags=tuple(cats[:1]),
            ))

    # --- scenes ---------------------------------------------------------------
    scenes: list[Scene] = []
    weights = [3 if k is PlanKind.PROVINCE else 1 for _, k, _ in coordinators]
    assignment = [coordinators[i % len(coordinators)] for i in range(min(n_scenes, len(coordinators)))]
    assignment += rng.choices(coordinators, weights=weights, k=max(0, n_scenes - len(assignment)))
    owners = {o.id: o for o in orgs[:n_users]}
    for i, (coord, _kind, _home) in enumerate(assignment):
        users = user_units_by_coord.get(coord) or [o.id for o in orgs if Role.USER_UNIT in o.roles]
        owner_id = rng.choice(users)
        owner = owners[owner_id]
        cat = rng.choice(categories)
        field = SceneField(cat.get("field"))
        skill_pool = _CATEGORY_SKILLS.get(cat.value, all_skills)
        skills = {s: rng.choice((2, 2, 3, 3, 3, 4, 4, 5)) for s in rng.sample(
            skill_pool, min(len(skill_pool), rng.randint(2, 3)))}
        needs: list[str] = []
        setting = rng.choice(list(Setting)[:3])
        if cat.value == "矿山作业":
            needs, setting = ["MA"], Setting.UNDERGROUND
        elif cat.value == "危化作业":
            needs = ["Ex"]
        elif setting is not Setting.INDOOR and rng.random() < 0.6:
            needs = [rng.choice(("IP65", "IP65", "IP67"))]
        robots = rng.choice((2, 3, 5, 8, 10, 12, 20, 30))
        scenes.append(Scene(
            id=f"S{i + 1:05d}",
            name=f"{owner.name.removesuffix('有限公司')}{cat.value}场景{i + 1}",
            owner=owner_id, coordinator=coord, field=field, category=cat.value,
            province=owner.province, form_factors=tuple(rng.sample(form_factors, rng.randint(1, 3))),
            robots=robots, skills=skills, certifications=tuple(needs),
            components=tuple(rng.sample(components, rng.randint(1, 3))),
            needs_institute=rng.random() < 0.3, needs_algorithm=rng.random() < 0.9,
            readiness=Readiness(*(rng.randint(2, 5) for _ in range(4))),
            priority=rng.choice((1.0, 1.0, 1.0, 1.5, 2.0)),
            description=f"{owner.name}的{cat.value}场景，计划部署 {robots} 台机器人，合成数据。",
            goals=Goals(success_rate=rng.choice((0.9, 0.95, 0.98)), continuous_hours=rng.choice((8, 16, 24)),
                        payload_kg=rng.choice((5, 10, 20, 30))),
            environment=Environment(setting=setting, ip_rating=next(
                (c for c in needs if c.startswith("IP")), "")),
            budget_wan=float(robots * rng.choice((30, 50, 80))),
            start="2026-03", end="2026-12",
            status=rng.choice([Status.CANDIDATE] * 6 + [Status.SELECTED, Status.TRAINING]),
        ))

    # --- relations ------------------------------------------------------------
    partner_ids = [o.id for o in orgs[n_users:]]
    by_province: dict[str, list[str]] = {}
    province_of = {o.id: o.province for o in orgs}
    for o in orgs[n_users:]:
        by_province.setdefault(o.province, []).append(o.id)
    pairs: set[tuple[str, str]] = set()
    for _ in range(int(len(partner_ids) * 1.5)):
        a = rng.choice(partner_ids)
        # Most prior collaboration is local.
        pool = by_province[province_of[a]] if rng.random() < 0.7 else partner_ids
        b = rng.choice(pool)
        if a != b:
            pairs.add(tuple(sorted((a, b))))  # type: ignore[arg-type]
    partnerships = [Partnership(a, b, round(rng.uniform(0.2, 1.0), 2)) for a, b in sorted(pairs)]
    excl: set[tuple[str, str]] = set()
    for _ in range(max(1, len(partner_ids) // 200)) if partner_ids else ():
        a, b = rng.sample(partner_ids, 2)
        excl.add(tuple(sorted((a, b))))  # type: ignore[arg-type]
    exclusions = [Exclusion(a, b, "模拟：存在利益冲突") for a, b in sorted(excl) if (a, b) not in pairs]
    used = {s.coordinator for s in scenes}
    plans = []
    for coord, kind, _ in coordinators:
        if coord not in used:
            continue
        base = next(t for t in tax.terms("plan_kinds") if t.value == kind.value)
        plans.append(PlanRule(coord, kind, int(base.get("min_scenes")), int(base.get("min_fields"))))
    return Catalogue(
        name=f"合成目录 synthetic ({n_scenes} scenes, {len(orgs)} organisations, seed {spec.seed})",
        organizations=tuple(orgs), scenes=tuple(scenes), partnerships=tuple(partnerships),
        exclusions=tuple(exclusions), plans=tuple(plans),
    )


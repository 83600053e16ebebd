"""The catalogue's tables and columns, as every reader, writer and check sees them.

One spec drives the JSON validator, the Excel template (headers, drop-downs,
instructions), the Excel/CSV readers and the exporters, so a column is added
in one place. Nested JSON objects (``goals``, ``readiness`` …) are flattened
to dotted keys (``goals.success_rate``) in spreadsheets.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.model import Field as SceneField
from core.model import Ownership, PlanChoice, PlanKind, Role, Setting, Status


class Kind(StrEnum):
    """How a cell is read and checked."""

    STR = "str"  # short text, one line
    TEXT = "text"  # long text
    INT = "int"
    FLOAT = "float"
    RATE = "rate"  # 0..1
    LEVEL = "level"  # 1..5
    BOOL = "bool"
    LIST = "list"  # list of short texts
    LEVELS = "levels"  # {text: level 1..5}
    CODE = "code"  # one value of an enum
    CODES = "codes"  # list of enum values
    USCC = "uscc"
    MONTH = "month"  # YYYY-MM


@dataclass(frozen=True)
class Column:
    """One column of a table: its key, Chinese header, kind and constraints."""

    key: str
    zh: str
    kind: Kind = Kind.STR
    required: bool = False
    enum: type[StrEnum] | None = None
    suggest: str = ""  # taxonomy kind whose values the template offers
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    note: str = ""

    @property
    def header(self) -> str:
        """The spreadsheet header: Chinese name with the key in brackets."""
        return f"{self.zh} ({self.key})"


@dataclass(frozen=True)
class Table:
    """A catalogue table: its JSON key, sheet name and columns."""

    key: str
    sheet: str
    columns: tuple[Column, ...]
    note: str = ""

    def column(self, key: str) -> Column | None:
        """The column with ``key``, if any."""
        for c in self.columns:
            if c.key == key:
                return c
        return None


C = Column
K = Kind

ORGANIZATIONS = Table(
    "organizations",
    "组织",
    (
        C("id", "编号", required=True, note="唯一编号，例如 O001"),
        C("name", "名称", required=True),
        C("uscc", "统一社会信用代码", K.USCC, note="18 位，校验位按 GB 32100-2015 检查"),
        C("roles", "角色", K.CODES, required=True, enum=Role, suggest="roles"),
        C("province", "省份", required=True, suggest="provinces"),
        C("city", "城市"),
        C("ownership", "所有制", K.CODE, enum=Ownership, suggest="ownership"),
        C("max_consortia", "可参与联合体数", K.INT, minimum=0, note="默认 1；作为用户单位的自有场景不计"),
        C("robot_capacity", "年交付能力(台)", K.INT, minimum=0),
        C("form_factors", "机器人形态", K.LIST, suggest="form_factors"),
        C("skills", "技能及等级", K.LEVELS, suggest="skills", note="如 抓取放置:4; 搬运:3"),
        C("certifications", "认证", K.LIST, suggest="certifications"),
        C("component_categories", "供应零部件", K.LIST, suggest="component_categories"),
        C("capabilities.scene_understanding", "场景理解", K.LEVEL),
        C("capabilities.task_planning", "任务规划", K.LEVEL),
        C("capabilities.execution", "操作执行", K.LEVEL),
        C("capabilities.collaboration", "人机协同", K.LEVEL),
        C("capabilities.learning", "持续学习", K.LEVEL),
        C("capabilities.reliable_operation", "可靠运行", K.LEVEL),
        C("description", "简介", K.TEXT),
        C("tags", "标签", K.LIST),
    ),
)

PRODUCTS = Table(
    "products",
    "产品",
    (
        C("org", "组织编号", required=True),
        C("name", "产品名称", required=True),
        C("form_factor", "形态", suggest="form_factors"),
        C("payload_kg", "负载(kg)", K.FLOAT, minimum=0),
        C("ip_rating", "防护等级"),
        C("ex_rating", "防爆等级"),
        C("price_wan", "单价(万元)", K.FLOAT, minimum=0),
    ),
    note="整机企业与应用服务商的机器人产品，每行一个产品",
)

DEPLOYMENTS = Table(
    "deployments",
    "应用案例",
    (
        C("org", "组织编号", required=True),
        C("category", "场景类别", required=True, suggest="categories"),
        C("year", "年份", K.INT, minimum=1990, maximum=2100),
        C("robots", "部署台数", K.INT, minimum=0),
        C("description", "说明", K.TEXT),
    ),
    note="以往的部署案例，用于计算类别经验",
)

SCENES = Table(
    "scenes",
    "场景",
    (
        C("id", "编号", required=True, note="唯一编号，例如 S001"),
        C("name", "场景名称", required=True),
        C("owner", "用户单位编号", required=True, note="须为“组织”表中角色含用户单位的编号"),
        C("coordinator", "组织单位", required=True, note="所属方案：省份或央企名称"),
        C("field", "领域", K.CODE, required=True, enum=SceneField, suggest="fields"),
        C("category", "场景类别", required=True, suggest="categories"),
        C("province", "省份", required=True, suggest="provinces"),
        C("city", "城市"),
        C("sector", "行业"),
        C("description", "场景描述", K.TEXT),
        C("form_factors", "可接受形态", K.LIST, required=True, suggest="form_factors"),
        C("skills", "技能要求", K.LEVELS, suggest="skills", note="最低等级，如 上下料:3"),
        C("certifications", "认证要求", K.LIST, suggest="certifications"),
        C("components", "零部件类别", K.LIST, suggest="component_categories"),
        C("needs_institute", "需要科研院所", K.BOOL),
        C("needs_algorithm", "需要模型算法", K.BOOL, note="默认 是"),
        C("robots", "部署台数", K.INT, required=True, minimum=1),
        C("readiness.demand", "目标需求明确", K.LEVEL),
        C("readiness.conditions", "工作状况清晰", K.LEVEL),
        C("readiness.standardisation", "标准化程度", K.LEVEL),
        C("readiness.economics", "经济可行性", K.LEVEL),
        C("priority", "优先级", K.FLOAT, minimum=0, exclusive_minimum=True, note="默认 1"),
        C("requirements.perception", "感知决策要求", K.TEXT),
        C("requirements.manipulation", "操作执行要求", K.TEXT),
        C("requirements.interaction", "交互协作要求", K.TEXT),
        C("requirements.adaptability", "环境适应性要求", K.TEXT),
        C("requirements.reliability", "可靠性要求", K.TEXT),
        C("goals.success_rate", "作业成功率", K.RATE, note="0 到 1，如 0.95"),
        C("goals.cycle_time_s", "作业节拍(秒)", K.FLOAT, minimum=0),
        C("goals.continuous_hours", "连续作业(小时)", K.FLOAT, minimum=0),
        C("goals.payload_kg", "负载(kg)", K.FLOAT, minimum=0),
        C("goals.availability", "可用率", K.RATE, note="0 到 1"),
        C("environment.setting", "作业环境", K.CODE, enum=Setting, suggest="settings"),
        C("environment.temp_min_c", "最低温度(℃)", K.FLOAT),
        C("environment.temp_max_c", "最高温度(℃)", K.FLOAT),
        C("environment.ip_rating", "防护等级要求"),
        C("environment.explosion_protection", "防爆要求"),
        C("environment.hazards", "危险因素", K.LIST),
        C("budget_wan", "预算(万元)", K.FLOAT, minimum=0),
        C("start", "开始(年-月)", K.MONTH),
        C("end", "结束(年-月)", K.MONTH),
        C("status", "状态", K.CODE, enum=Status, suggest="statuses"),
        C("robots_deployed", "已部署台数", K.INT, minimum=0),
        C("tags", "标签", K.LIST),
        C("plan", "计划选择", K.CODE, enum=PlanChoice, suggest="plan_choices",
          note="纳入（默认，可由匹配选中）、排除（不在计划中，不参与匹配）、必选（必须组建联合体）"),
    ),
)

PARTNERSHIPS = Table(
    "partnerships",
    "合作关系",
    (
        C("a", "组织编号A", required=True),
        C("b", "组织编号B", required=True),
        C("strength", "合作强度", K.RATE, note="0 到 1，默认 1"),
        C("note", "说明", K.TEXT),
    ),
    note="以往的合作，匹配时作为加分项",
)

EXCLUSIONS = Table(
    "exclusions",
    "排斥关系",
    (
        C("a", "组织编号A", required=True),
        C("b", "组织编号B", required=True),
        C("reason", "原因", K.TEXT),
    ),
    note="不得出现在同一联合体中的两个组织",
)

PINS = Table(
    "pins",
    "固定选择",
    (
        C("scene", "场景编号", required=True),
        C("org", "组织编号", required=True),
        C("role", "角色", K.CODE, required=True, enum=Role, suggest="roles"),
        C("category", "零部件类别", suggest="component_categories", note="角色为零部件时可填；不填即供应该场景所需的任一类别"),
    ),
    note="人工指定：某组织在某场景中担任某角色",
)

PLANS = Table(
    "plans",
    "方案规则",
    (
        C("coordinator", "组织单位", required=True),
        C("kind", "类型", K.CODE, required=True, enum=PlanKind, suggest="plan_kinds"),
        C("min_scenes", "最少场景数", K.INT, required=True, minimum=0),
        C("min_fields", "最少领域数", K.INT, required=True, minimum=0, maximum=3),
    ),
    note="省级地区不少于 20 个场景、覆盖至少两个领域；央企不少于 10 个场景",
)

TABLES: tuple[Table, ...] = (
    ORGANIZATIONS,
    PRODUCTS,
    DEPLOYMENTS,
    SCENES,
    PARTNERSHIPS,
    EXCLUSIONS,
    PINS,
    PLANS,
)
TABLE_BY_KEY = {t.key: t for t in TABLES}

# Nested objects of the JSON form and the keys they allow.
NESTED = {
    "capabilities": ("organizations",),
    "readiness": ("scenes",),
    "requirements": ("scenes",),
    "goals": ("scenes",),
    "environment": ("scenes",),
}

MAX_SHORT = 500
MAX_TEXT = 20_000

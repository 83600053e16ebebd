"""Turn raw records from any reader into domain objects, listing every problem.

Readers (JSON, Excel, CSV) produce a :class:`RawCatalogue`: per table, a list
of records (dicts) each tagged with where it came from. :func:`validate`
checks every cell and every cross-reference against the incoming data and the
existing catalogue, de-duplicates organisations (USCC, then exact name) and
returns the domain objects — or raises :class:`InputError` with all problems.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from core.model import (
    Catalogue,
    Deployment,
    Exclusion,
    Organization,
    Partnership,
    Pin,
    PlanKind,
    PlanRule,
    Product,
    Role,
    Scene,
)
from core.problems import InputError, Problem, Where, at
from core.serialize import org_from_dict, scene_from_dict
from core.tables import MAX_SHORT, MAX_TEXT, NESTED, TABLES, Column, Kind, Table
from core.taxonomy import taxonomy
from core.uscc import uscc_problem

MISSING: Any = None


class FormulaCell:
    """A spreadsheet cell holding a formula instead of a value."""

    def __init__(self, text: str) -> None:
        self.text = text


@dataclass
class RawRecord:
    """One row or JSON object as read, before any check."""

    data: dict[str, Any]
    where: Where


@dataclass
class RawCatalogue:
    """What a reader produced: records per table, plus problems the reader saw."""

    name: str = ""
    tables: dict[str, list[RawRecord]] = field(default_factory=lambda: defaultdict(list))
    problems: list[Problem] = field(default_factory=list)

    def extend(self, other: RawCatalogue) -> None:
        """Add another reader's output (several files imported at once)."""
        self.name = self.name or other.name
        for key, records in other.tables.items():
            self.tables[key].extend(records)
        self.problems.extend(other.problems)


@dataclass(frozen=True)
class Validated:
    """A valid import: the objects to write and the warnings to show."""

    catalogue: Catalogue
    warnings: list[Problem]
    merged: dict[str, str]  # incoming org id -> existing id it was merged into


class _CellError(Exception):
    pass


# Full-width letters, digits and the ideographic space fold to ASCII (a USCC or an
# "IP65" typed with a Chinese input method); Chinese punctuation such as （） is kept,
# because it is part of official names.
_FOLD: dict[int, int] = {0x3000: 0x20}
for _start, _stop in ((0xFF10, 0xFF1A), (0xFF21, 0xFF3B), (0xFF41, 0xFF5B)):
    _FOLD.update({c: c - 0xFEE0 for c in range(_start, _stop)})


def normalise_text(value: str) -> str:
    """NFC, full-width letters and digits folded to ASCII, surrounding white space removed."""
    return unicodedata.normalize("NFC", value).translate(_FOLD).strip()


_LIST_SPLIT = re.compile(r"[;；,，、\n]+")
_LEVEL_PAIR = re.compile(r"^(.+?)\s*[:：=]\s*(\S+)$")
_MONTH = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")
_TRUE = {"true", "yes", "y", "1", "是", "需要", "√", "✓", "t"}
_FALSE = {"false", "no", "n", "0", "否", "不需要", "×", "✗", "f"}


def _describe(value: Any) -> str:
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:40] + "…"
        return f"文本 text “{shown}”"
    if isinstance(value, bool):
        return f"布尔值 boolean {value}"
    if isinstance(value, (int, float)):
        return f"数字 number {value}"
    if isinstance(value, list):
        return "列表 list"
    if isinstance(value, dict):
        return "对象 object"
    return type(value).__name__


def _text(value: Any, strict: bool, limit: int) -> str:
    if isinstance(value, str):
        text = value
    elif not strict and isinstance(value, bool):
        text = "是" if value else "否"
    elif not strict and isinstance(value, int):
        text = str(value)
    elif not strict and isinstance(value, float):
        text = str(int(value)) if value.is_integer() else str(value)
    elif not strict and isinstance(value, (dt.date, dt.datetime)):
        text = value.isoformat()
    else:
        raise _CellError(f"应为文本 / expected text, got {_describe(value)}")
    if len(text) > limit:
        raise _CellError(
            f"文本过长：{len(text):,} 个字符，最多 {limit:,} / text too long: "
            f"{len(text):,} characters, at most {limit:,}"
        )
    return normalise_text(text)


def _number(value: Any, strict: bool, *, percent: bool = False) -> float:
    if isinstance(value, bool):
        raise _CellError(f"应为数字 / expected a number, got {_describe(value)}")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str) and not strict:
        text = normalise_text(value).replace(",", "").replace("％", "%")
        divisor = 1.0
        if percent and text.endswith("%"):
            text, divisor = text[:-1].strip(), 100.0
        try:
            number = float(text) / divisor
        except ValueError:
            raise _CellError(
                f"应为数字 / expected a number, got {_describe(value)}"
            ) from None
    else:
        raise _CellError(f"应为数字 / expected a number, got {_describe(value)}")
    if not math.isfinite(number):
        raise _CellError("应为有限数字 / expected a finite number")
    return number


def _integer(value: Any, strict: bool) -> int:
    number = _number(value, strict)
    if not number.is_integer():
        raise _CellError(f"应为整数 / expected a whole number, got {number:g}")
    return int(number)


def _check_range(col: Column, number: float) -> None:
    lo, hi = col.minimum, col.maximum
    if lo is not None and (number < lo or (col.exclusive_minimum and number <= lo)):
        op = ">" if col.exclusive_minimum else "≥"
        raise _CellError(f"应 {op} {lo:g}，实为 {number:g} / must be {op} {lo:g}, got {number:g}")
    if hi is not None and number > hi:
        raise _CellError(f"应 ≤ {hi:g}，实为 {number:g} / must be ≤ {hi:g}, got {number:g}")


def _level(value: Any, strict: bool) -> int:
    level = _integer(value, strict)
    if not 1 <= level <= 5:
        raise _CellError(f"等级应在 1 到 5 之间，实为 {level} / level must be 1..5, got {level}")
    return level


def _code(enum: type[StrEnum], value: Any, strict: bool, suggest: str) -> str:
    text = _text(value, strict, MAX_SHORT)
    codes = {e.value for e in enum}
    if text in codes:
        return text
    if not strict:
        for term in taxonomy().terms(suggest):
            if text in (term.zh, term.en) or text.lower() == term.en.lower():
                return term.value
    allowed = ", ".join(sorted(codes))
    raise _CellError(f"未知取值 “{text}”，可选 / unknown value {text!r}; allowed: {allowed}")


def _list(value: Any, strict: bool) -> list[str]:
    if isinstance(value, list):
        items = [_text(v, strict, MAX_SHORT) for v in value]
    elif not strict and isinstance(value, str):
        items = [p for p in (normalise_text(x) for x in _LIST_SPLIT.split(value)) if p]
        items = [_text(p, strict, MAX_SHORT) for p in items]
    else:
        raise _CellError(f"应为列表 / expected a list, got {_describe(value)}")
    seen: dict[str, None] = {}
    for item in items:
        if item:
            seen.setdefault(item, None)
    return list(seen)


def _levels(value: Any, strict: bool) -> dict[str, int]:
    result: dict[str, int] = {}
    if isinstance(value, dict):
        for name, level in value.items():
            key = _text(name, True, MAX_SHORT)
            try:
                result[key] = _level(level, strict)
            except _CellError as exc:
                raise _CellError(f"“{key}”: {exc}") from None
        return result
    if not strict and isinstance(value, str):
        for part in _LIST_SPLIT.split(value):
            part = normalise_text(part)
            if not part:
                continue
            m = _LEVEL_PAIR.match(part)
            if not m:
                raise _CellError(
                    f"“{part}” 缺少等级，应写作 技能:等级 / missing level, write skill:level"
                )
            try:
                result[normalise_text(m.group(1))] = _level(m.group(2), False)
            except _CellError as exc:
                raise _CellError(f"“{m.group(1)}”: {exc}") from None
        return result
    raise _CellError(f"应为 技能:等级 的映射 / expected a skill-to-level mapping, got {_describe(value)}")


def _bool(value: Any, strict: bool) -> bool:
    if isinstance(value, bool):
        return value
    if not strict:
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            text = normalise_text(value).lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
    raise _CellError(f"应为 是/否 / expected yes/no (true/false), got {_describe(value)}")


def _month(value: Any, strict: bool) -> str:
    if not strict and isinstance(value, (dt.date, dt.datetime)):
        return f"{value.year:04d}-{value.month:02d}"
    text = _text(value, strict, MAX_SHORT)
    m = _MONTH.match(text)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise _CellError(f"应为 年-月，如 2026-03 / expected YYYY-MM, got “{text}”")
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"


def coerce(col: Column, value: Any, strict: bool) -> Any:
    """The typed value of one cell, or raise with a message saying what is wrong.

    ``strict`` (JSON) wants the JSON type itself; spreadsheets give text and
    numbers, which are parsed (lists split on ; or ；, levels as ``技能:4``,
    codes also by their Chinese or English label, rates also as ``95%``).
    """
    if isinstance(value, FormulaCell):
        raise _CellError(
            f"单元格是公式 “{value.text[:40]}”，请填写数值 / the cell holds a formula; type its value"
        )
    kind = col.kind
    if kind in (Kind.STR, Kind.TEXT):
        return _text(value, strict, MAX_TEXT if kind is Kind.TEXT else MAX_SHORT)
    if kind is Kind.INT:
        number = _integer(value, strict)
        _check_range(col, number)
        return number
    if kind is Kind.FLOAT:
        real = _number(value, strict)
        _check_range(col, real)
        return real
    if kind is Kind.RATE:
        rate = _number(value, strict, percent=True)
        if not 0 <= rate <= 1:
            raise _CellError(
                f"应在 0 到 1 之间（如 0.95 或 95%），实为 {rate:g} / must be 0..1 (0.95 or 95%)"
            )
        return rate
    if kind is Kind.LEVEL:
        return _level(value, strict)
    if kind is Kind.BOOL:
        return _bool(value, strict)
    if kind is Kind.LIST:
        return _list(value, strict)
    if kind is Kind.LEVELS:
        return _levels(value, strict)
    if kind is Kind.CODE:
        assert col.enum is not None
        return _code(col.enum, value, strict, col.suggest)
    if kind is Kind.CODES:
        assert col.enum is not None
        enum = col.enum
        return [_code(enum, v, strict, col.suggest) for v in _list(value, strict)]
    if kind is Kind.USCC:
        code = _text(value, strict, MAX_SHORT).upper()
        problem = uscc_problem(code)
        if problem:
            raise _CellError(problem)
        return code
    if kind is Kind.MONTH:
        return _month(value, strict)
    raise AssertionError(kind)


def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str) and not value.strip():
        return True
    return isinstance(value, (list, dict)) and not value


def _flatten_json(table: Table, data: dict[str, Any], where: Where, out: list[Problem]) -> dict:
    """Nested JSON objects become dotted keys; unknown keys become warnings."""
    flat: dict[str, Any] = {}
    known = {c.key for c in table.columns}
    for key, value in data.items():
        if key in NESTED and table.key in NESTED[key]:
            if value is None:
                continue
            if not isinstance(value, dict):
                out.append(at(where, key, f"应为对象 / expected an object, got {_describe(value)}"))
                continue
            for sub, subvalue in value.items():
                dotted = f"{key}.{sub}"
                if dotted in known:
                    flat[dotted] = subvalue
                else:
                    out.append(at(where, dotted, "未知字段，已忽略 / unknown key, ignored", warning=True))
        elif key in known:
            flat[key] = value
        elif not (table.key == "organizations" and key in ("products", "deployments")):
            out.append(at(where, key, "未知字段，已忽略 / unknown key, ignored", warning=True))
    return flat


def _check_record(
    table: Table, record: RawRecord, out: list[Problem]
) -> tuple[dict[str, Any], bool]:
    """Typed values of one record by column key (the good cells), and whether all were good."""
    where = record.where
    data = record.data
    if where.json:
        data = _flatten_json(table, data, where, out)
    typed: dict[str, Any] = {}
    ok = True
    for col in table.columns:
        value = data.get(col.key, MISSING)
        if _is_blank(value):
            if col.required:
                out.append(at(where, col.key, "必填项为空 / required value is missing"))
                ok = False
            continue
        try:
            typed[col.key] = coerce(col, value, strict=where.json)
        except _CellError as exc:
            out.append(at(where, col.key, str(exc)))
            ok = False
    if ok and table.column("form_factors") and table.key == "scenes" and not typed.get("form_factors"):
        out.append(at(where, "form_factors", "至少填写一种可接受形态 / at least one form factor"))
        ok = False
    return typed, ok


def _nest(typed: dict[str, Any]) -> dict[str, Any]:
    """Dotted keys (``goals.success_rate``) back into nested objects."""
    out: dict[str, Any] = {}
    for key, value in typed.items():
        if "." in key:
            outer, inner = key.split(".", 1)
            out.setdefault(outer, {})[inner] = value
        else:
            out[key] = value
    return out


def _roles(values: list[str]) -> tuple[Role, ...]:
    order = list(Role)
    return tuple(sorted({Role(v) for v in values}, key=order.index))


def _json_children(raw: RawCatalogue, out: list[Problem]) -> None:
    """Products and deployments nested in JSON organisations become records of their own."""
    for record in raw.tables.get("organizations", []):
        if not record.where.json:
            continue
        for key in ("products", "deployments"):
            items = record.data.get(key)
            if items is None:
                continue
            if not isinstance(items, list):
                out.append(at(record.where, key, f"应为列表 / expected a list, got {_describe(items)}"))
                continue
            owner = record.data.get("id")
            base = f"{record.where.sheet}[{record.where.row}].{key}"
            for i, item in enumerate(items):
                where = Where(record.where.file, base, i, json=True)
                if not isinstance(item, dict):
                    out.append(at(where, "", f"应为对象 / expected an object, got {_describe(item)}"))
                    continue
                raw.tables[key].append(RawRecord({**item, "org": owner}, where))


def validate(raw: RawCatalogue, existing: Catalogue | None = None) -> Validated:
    """Check every record of ``raw`` against itself and ``existing``.

    Returns the incoming objects (organisations merged by USCC or exact name
    into existing ones, references rewritten) and the warnings; raises
    :class:`InputError` listing every problem if there is any error.
    """
    existing = existing or Catalogue()
    problems: list[Problem] = list(raw.problems)
    _json_children(raw, problems)

    typed: dict[str, list[tuple[dict[str, Any], Where]]] = defaultdict(list)
    # Ids of rows that have errors of their own: references to them are not reported again.
    broken: dict[str, set[str]] = defaultdict(set)
    for table in TABLES:
        for record in raw.tables.get(table.key, []):
            if not isinstance(record.data, dict):
                problems.append(at(record.where, "", "应为对象 / expected an object"))
                continue
            values, ok = _check_record(table, record, problems)
            if ok:
                typed[table.key].append((values, record.where))
            elif "id" in values:
                broken[table.key].add(values["id"])

    # Duplicate ids within the input.
    for key in ("organizations", "scenes"):
        first: dict[str, Where] = {}
        for values, where in typed[key]:
            if values["id"] in first:
                prev = first[values["id"]]
                problems.append(at(where, "id", f"编号 “{values['id']}” 重复（首次出现于 {_short(prev)}） "
                                   f"/ duplicate id {values['id']!r}"))
            else:
                first[values["id"]] = where

    # Organisations: de-duplicate by USCC, then by exact name.
    existing_orgs = existing.org_by_id()
    by_uscc = {o.uscc: o.id for o in existing.organizations if o.uscc}
    by_name = {o.name: o.id for o in existing.organizations}
    alias: dict[str, str] = {}
    incoming: dict[str, Organization] = {}
    for values, where in typed["organizations"]:
        org = org_from_dict(_nest(values))
        target = None
        if org.uscc and by_uscc.get(org.uscc, org.id) != org.id:
            target = by_uscc[org.uscc]
            how = f"统一社会信用代码相同 same USCC {org.uscc}"
        elif org.id not in existing_orgs and org.id not in incoming and by_name.get(org.name):
            candidate = by_name[org.name]
            other = incoming.get(candidate) or existing_orgs.get(candidate)
            if candidate != org.id and not (org.uscc and other and other.uscc):
                target = candidate
                how = f"名称相同 same name “{org.name}”"
        if target is not None:
            alias[org.id] = target
            problems.append(at(where, "id", f"与已有组织 “{target}” 合并（{how}） / merged into {target!r}",
                               warning=True))
            base = incoming.get(target) or existing_orgs[target]
            org = replace(org, id=target, roles=_roles([*base.roles, *org.roles]))
        incoming[org.id] = org
        if org.uscc:
            by_uscc.setdefault(org.uscc, org.id)
        by_name.setdefault(org.name, org.id)

    def resolve(org_id: str) -> str:
        return alias.get(org_id, org_id)

    def org_roles(org_id: str) -> tuple[Role, ...] | None:
        org = incoming.get(org_id) or existing_orgs.get(org_id)
        return org.roles if org else None

    def need_org(values: dict[str, Any], key: str, where: Where) -> bool:
        values[key] = resolve(values[key])
        if values[key] in broken["organizations"]:
            return False
        if org_roles(values[key]) is None:
            problems.append(at(where, key, f"组织编号 “{values[key]}” 不存在 / unknown organisation id"))
            return False
        return True

    # Products and deployments replace the lists of the organisation they name.
    children: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for key, make in (("products", Product), ("deployments", Deployment)):
        for values, where in typed[key]:
            if need_org(values, "org", where):
                args = {k: v for k, v in values.items() if k != "org"}
                children[values["org"]][key].append(make(**args))
    # An organisation keeps its stored products/deployments unless the input lists some for it.
    for org_id in [*incoming, *(k for k in children if k not in incoming)]:
        base = incoming.get(org_id) or existing_orgs[org_id]
        old = existing_orgs.get(org_id)
        lists = children.get(org_id, {})
        incoming[org_id] = replace(
            base,
            products=tuple(lists.get("products", old.products if old else ())),
            deployments=tuple(lists.get("deployments", old.deployments if old else ())),
        )

    scenes: list[Scene] = []
    scene_ids = {s.id for s in existing.scenes}
    for values, where in typed["scenes"]:
        scene_ids.add(values["id"])
        if not need_org(values, "owner", where):
            continue
        roles = org_roles(values["owner"]) or ()
        if Role.USER_UNIT not in roles:
            problems.append(at(where, "owner", f"“{values['owner']}” 不是用户单位 / the owner must have "
                                                f"role user_unit"))
            continue
        scenes.append(scene_from_dict(_nest(values)))

    partnerships: list[Partnership] = []
    exclusions: list[Exclusion] = []
    for key in ("partnerships", "exclusions"):
        seen: set[tuple[str, str]] = set()
        for values, where in typed[key]:
            if not (need_org(values, "a", where) & need_org(values, "b", where)):
                continue
            if values["a"] == values["b"]:
                problems.append(at(where, "b", "两个组织相同 / a and b are the same organisation"))
                continue
            a, b = sorted((values["a"], values["b"]))
            if (a, b) in seen:
                problems.append(at(where, "b", f"重复的组织对 {a}–{b} / duplicate pair", warning=True))
                continue
            seen.add((a, b))
            if key == "partnerships":
                partnerships.append(Partnership(a, b, values.get("strength", 1.0), values.get("note", "")))
            else:
                exclusions.append(Exclusion(a, b, values.get("reason", "")))

    pins: list[Pin] = []
    pinned_slots: dict[tuple[str, Role, str | None], str] = {}  # one organisation per slot
    for values, where in typed["pins"]:
        if values["scene"] in broken["scenes"]:
            continue
        if values["scene"] not in scene_ids:
            problems.append(at(where, "scene", f"场景编号 “{values['scene']}” 不存在 / unknown scene id"))
            continue
        if not need_org(values, "org", where):
            continue
        role = Role(values["role"])
        if role not in (org_roles(values["org"]) or ()):
            problems.append(at(where, "role", f"组织 “{values['org']}” 没有角色 {role.value} / the "
                                              f"organisation does not have this role"))
            continue
        # FORMATS.md: ``category?``. A component pin without one means "supplies one of
        # the scene's categories" (the matching adapter places it).
        category = values.get("category") or None
        slot = (values["scene"], role, category if role is Role.COMPONENT else None)
        if slot in pinned_slots:
            if pinned_slots[slot] != values["org"]:
                problems.append(at(where, "category" if role is Role.COMPONENT else "role",
                                   f"该场景的这一席位已固定为 “{pinned_slots[slot]}” / this slot is "
                                   f"already pinned to {pinned_slots[slot]}"
                                   + ("；请为每个零部件固定选择填写类别 / give each component pin "
                                      "its category" if role is Role.COMPONENT else "")))
            continue  # the same pin twice: once is enough
        pinned_slots[slot] = values["org"]
        pins.append(Pin(values["scene"], values["org"], role, category if role is Role.COMPONENT else None))

    plans: list[PlanRule] = []
    seen_coordinators: set[str] = set()
    for values, where in typed["plans"]:
        if values["coordinator"] in seen_coordinators:
            problems.append(at(where, "coordinator", f"组织单位 “{values['coordinator']}” 重复 / "
                                                     f"duplicate plan rule"))
            continue
        seen_coordinators.add(values["coordinator"])
        plans.append(PlanRule(values["coordinator"], PlanKind(values["kind"]), values["min_scenes"],
                              values["min_fields"]))

    if any(not p.warning for p in problems):
        raise InputError(problems)
    catalogue = Catalogue(
        name=raw.name,
        organizations=tuple(incoming.values()),
        scenes=tuple(scenes),
        partnerships=tuple(partnerships),
        exclusions=tuple(exclusions),
        pins=tuple(pins),
        plans=tuple(plans),
    )
    return Validated(catalogue, [p for p in problems if p.warning], alias)


def _short(where: Where) -> str:
    if where.json:
        return f"{where.sheet}[{where.row}]"
    return f"第 {where.row} 行 row {where.row}"


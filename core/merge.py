"""The national merge: submission packages from many coordinators into one catalogue.

Every package is verified first (:func:`core.package.verify_package`); only when all of
them pass is anything written, and then in one transaction. The rules (docs/package.md):

- **Organisations** are the same organisation when they have the same USCC, or — when
  at most one of the two has a USCC — exactly the same name (the rule of an ordinary
  import). The record already in the catalogue (or merged earlier in the same batch)
  keeps its id, name and stated attributes; an empty attribute is filled from the
  newcomer; roles, form factors, certifications, component categories, tags, products
  and deployments are united; skill and capability levels take the higher value;
  ``max_consortia`` and ``robot_capacity`` take the higher value (the same firm's
  capacity, stated twice, is not doubled).
- A **different** organisation whose id is already taken gets a new id (``<id>-2``,
  ``-3`` …); its scenes, pins, exclusions, partnerships and the result follow.
- **Scenes** keep their coordinator. A scene id taken by another coordinator's scene gets a
  new id the same way. Re-merging a coordinator's package replaces that coordinator's
  scenes, pins, plan rule and packaged run: scenes the new package no longer has are
  removed, unchanged rows are not touched, so merging the same package twice changes
  nothing.
- Each package's result is stored as a run of its coordinator, ids rewritten; the run's
  ``params`` carry ``package`` (the manifest's digest, file name, creation time and the
  run id in the coordinator's own catalogue).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from core.model import (
    Catalogue,
    Exclusion,
    Organization,
    Partnership,
    Pin,
    PlanRule,
    Role,
    Scene,
)
from core.package import Limits, Package, remap_result, verify_package
from core.problems import InputError, Problem
from core.progress import CancelToken, ProgressCallback, no_progress
from core.store import CatalogueStore, WriteSummary

T = TypeVar("T")


@dataclass
class MergedPackage:
    """What merging one package did."""

    path: Path
    coordinator: str
    scenes: int = 0
    organizations_added: int = 0
    organizations_merged: dict[str, str] = field(default_factory=dict)  # package id -> existing id
    organizations_renamed: dict[str, str] = field(default_factory=dict)  # package id -> new id
    scenes_renamed: dict[str, str] = field(default_factory=dict)  # package id -> new id
    scenes_removed: list[str] = field(default_factory=list)  # the coordinator's old scenes dropped
    run_id: int | None = None  # the run stored for it (None: identical run already stored)
    skipped: str = ""  # why it was not merged (a duplicate in the same batch)


@dataclass
class MergeSummary:
    """What a merge wrote: per package, and the rows per table."""

    packages: list[MergedPackage]
    write: WriteSummary | None
    warnings: list[Problem] = field(default_factory=list)

    def text(self) -> str:
        """A short bilingual account for the user."""
        lines = []
        for p in self.packages:
            if p.skipped:
                lines.append(f"{p.path.name}: 已跳过 skipped — {p.skipped}")
                continue
            run = f"第 {p.run_id} 次运行 run {p.run_id}" if p.run_id is not None else \
                "运行未变 run unchanged"
            lines.append(
                f"{p.path.name}: {p.coordinator} — {p.scenes} 个场景 scenes，新增组织 "
                f"{p.organizations_added} organisations added，合并组织 {len(p.organizations_merged)} "
                f"merged，改编号 {len(p.organizations_renamed) + len(p.scenes_renamed)} renumbered，"
                f"移除旧场景 {len(p.scenes_removed)} old scenes removed；{run}")
            for old, new in sorted(p.organizations_merged.items()):
                if old != new:
                    lines.append(f"    组织 org {old} → {new}（同一组织 same organisation）")
            for old, new in sorted(p.organizations_renamed.items()):
                lines.append(f"    组织 org {old} → {new}（编号已被占用 id taken）")
            for old, new in sorted(p.scenes_renamed.items()):
                lines.append(f"    场景 scene {old} → {new}（编号已被占用 id taken）")
        if self.write is not None:
            s = self.write
            for table in s.added:
                if s.added[table] or s.changed[table]:
                    lines.append(f"{table}: 新增 added {s.added[table]}, 更新 changed "
                                 f"{s.changed[table]}, 未变 unchanged {s.unchanged[table]}")
        lines.extend(str(w) for w in self.warnings)
        return "\n".join(lines)


def _union(first: Iterable[T], second: Iterable[T]) -> tuple[T, ...]:
    out = list(first)
    out += [x for x in second if x not in out]
    return tuple(out)


def _max_levels(first: dict[str, int], second: dict[str, int]) -> dict[str, int]:
    out = dict(first)
    for key, level in second.items():
        out[key] = max(out.get(key, level), level)
    return out


def combine_organizations(kept: Organization, other: Organization) -> Organization:
    """One organisation from two records of it: ``kept`` wins, ``other`` fills and adds.

    Idempotent: ``combine(combine(a, b), b) == combine(a, b)`` and ``combine(a, a) == a``.
    """
    return replace(
        kept,
        uscc=kept.uscc or other.uscc,
        roles=tuple(r for r in Role if r in kept.roles or r in other.roles),
        province=kept.province or other.province,
        city=kept.city or other.city,
        ownership=kept.ownership or other.ownership,
        max_consortia=max(kept.max_consortia, other.max_consortia),
        robot_capacity=max(kept.robot_capacity, other.robot_capacity),
        form_factors=_union(kept.form_factors, other.form_factors),
        skills=_max_levels(kept.skills, other.skills),
        certifications=_union(kept.certifications, other.certifications),
        component_categories=_union(kept.component_categories, other.component_categories),
        capabilities=_max_levels(kept.capabilities, other.capabilities),
        products=_union(kept.products, other.products),
        deployments=_union(kept.deployments, other.deployments),
        description=kept.description or other.description,
        tags=_union(kept.tags, other.tags),
    )


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def _fresh(base: str, taken: set[str]) -> str:
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


class _Planner:
    """The merged catalogue, built in memory one package at a time."""

    def __init__(self, existing: Catalogue) -> None:
        self.existing = existing
        self.orgs: dict[str, Organization] = existing.org_by_id()
        self.scenes: dict[str, Scene] = existing.scene_by_id()
        # Pairs are undirected: keyed sorted, stored as first written.
        self.partnerships = {_pair(p.a, p.b): p for p in existing.partnerships}
        self.exclusions = {_pair(e.a, e.b): e for e in existing.exclusions}
        self.pins = {(p.scene, p.role, p.category or ""): p for p in existing.pins}
        self.plans = {p.coordinator: p for p in existing.plans}
        self.by_uscc: dict[str, str] = {}
        self.by_name: dict[str, str] = {}
        for o in existing.organizations:
            self._register(o)

    def _register(self, org: Organization) -> None:
        if org.uscc:
            self.by_uscc.setdefault(org.uscc, org.id)
        self.by_name.setdefault(org.name, org.id)

    def _same(self, org: Organization) -> str | None:
        if org.uscc and org.uscc in self.by_uscc:
            return self.by_uscc[org.uscc]
        candidate = self.by_name.get(org.name)
        if candidate is not None:
            other = self.orgs[candidate]
            if not (org.uscc and other.uscc):
                return candidate
        return None

    def add(self, package: Package, report: MergedPackage) -> tuple[dict[str, str], dict[str, str]]:
        """Merge one package; returns its organisation and scene id maps."""
        cat = package.catalogue
        coordinator = package.coordinator
        own_org_ids = {o.id for o in cat.organizations}
        org_map: dict[str, str] = {}
        for org in cat.organizations:
            target = self._same(org)
            if target is not None:
                self.orgs[target] = combine_organizations(self.orgs[target], org)
                self._register(self.orgs[target])  # it may have gained a USCC
                report.organizations_merged[org.id] = target
                org_map[org.id] = target
                continue
            new_id = org.id
            if new_id in self.orgs:
                new_id = _fresh(org.id, set(self.orgs) | own_org_ids)
                report.organizations_renamed[org.id] = new_id
            else:
                report.organizations_added += 1
            org_map[org.id] = new_id
            self.orgs[new_id] = replace(org, id=new_id)
            self._register(self.orgs[new_id])

        # The coordinator's previous scenes and pins are replaced by the package's.
        old_scenes = {sid for sid, s in self.scenes.items() if s.coordinator == coordinator}
        for sid in old_scenes:
            del self.scenes[sid]
        self.pins = {k: p for k, p in self.pins.items() if p.scene not in old_scenes}
        own_scene_ids = {s.id for s in cat.scenes}
        scene_map: dict[str, str] = {}
        for scene in cat.scenes:
            new_id = scene.id
            if new_id in self.scenes:  # another coordinator's scene
                new_id = _fresh(scene.id, set(self.scenes) | own_scene_ids)
                report.scenes_renamed[scene.id] = new_id
            scene_map[scene.id] = new_id
            self.scenes[new_id] = replace(scene, id=new_id, owner=org_map[scene.owner])
        report.scenes = len(cat.scenes)
        report.scenes_removed = sorted(old_scenes - set(self.scenes))

        for pin in cat.pins:
            p = Pin(scene_map[pin.scene], org_map[pin.org], pin.role, pin.category)
            self.pins[(p.scene, p.role, p.category or "")] = p
        for pr in cat.partnerships:
            key = _pair(org_map[pr.a], org_map[pr.b])
            if key[0] == key[1]:
                continue  # two records of one organisation
            old = self.partnerships.get(key)
            self.partnerships[key] = (
                replace(old, strength=max(old.strength, pr.strength), note=old.note or pr.note)
                if old else Partnership(*key, pr.strength, pr.note))
        for ex in cat.exclusions:
            key = _pair(org_map[ex.a], org_map[ex.b])
            if key[0] == key[1]:
                continue
            old_ex = self.exclusions.get(key)
            self.exclusions[key] = (replace(old_ex, reason=old_ex.reason or ex.reason)
                                    if old_ex else Exclusion(*key, ex.reason))
        for rule in cat.plans:
            self.plans[rule.coordinator] = PlanRule(rule.coordinator, rule.kind, rule.min_scenes,
                                                    rule.min_fields)
        return org_map, scene_map

    def catalogue(self) -> Catalogue:
        """The merged catalogue (the existing name kept)."""
        return Catalogue(
            name=self.existing.name,
            organizations=tuple(self.orgs.values()),
            scenes=tuple(self.scenes.values()),
            partnerships=tuple(self.partnerships.values()),
            exclusions=tuple(self.exclusions.values()),
            pins=tuple(self.pins.values()),
            plans=tuple(self.plans.values()),
        )


def _verify_all(paths: Sequence[str | Path], limits: Limits, on_progress: ProgressCallback,
                cancel: CancelToken) -> list[Package]:
    packages: list[Package] = []
    problems: list[Problem] = []
    for index, path in enumerate(paths):
        on_progress(0.6 * index / len(paths), f"校验 verifying {Path(path).name}")
        try:
            packages.append(verify_package(path, limits))
        except InputError as exc:
            problems += exc.problems
        cancel.raise_if_cancelled()
    # Two different packages of one coordinator: which one is the plan? Refuse to guess.
    first: dict[str, Package] = {}
    for package in packages:
        prev = first.setdefault(package.coordinator, package)
        if prev is not package and prev.digest != package.digest:
            problems.append(Problem(
                str(package.path),
                f"与 {prev.path.name} 属于同一组织单位 “{package.coordinator}” 但内容不同；请只合并其中一个 / "
                f"another package of the same coordinator ({prev.path.name}) differs from this one; "
                f"merge only one of them"))
    if any(not p.warning for p in problems):
        raise InputError(problems)
    return packages


def merge_packages(store: CatalogueStore, paths: Sequence[str | Path], *,
                   on_progress: ProgressCallback = no_progress, cancel: CancelToken | None = None,
                   limits: Limits | None = None) -> MergeSummary:
    """Verify every package of ``paths``, then merge them all into ``store`` in one transaction.

    All or nothing: any refused package raises :class:`InputError` (every problem of every
    package listed) before anything is written; cancelling before the write leaves the
    catalogue untouched. The same package given twice is merged once.
    """
    cancel = cancel or CancelToken()
    if not paths:
        raise InputError([Problem("", "没有要合并的材料包 / no package to merge")])
    packages = _verify_all(paths, limits or Limits(), on_progress, cancel)
    on_progress(0.6, "合并 merging")
    # Read, plan and write in one IMMEDIATE transaction: a write from another connection (the
    # GUI, another merge) cannot slip in between the read and the write and be overwritten.
    conn = store.db.conn
    if conn.in_transaction:  # pragma: no cover - callers do not hold a transaction here
        raise RuntimeError("merge_packages needs the connection outside a transaction")
    conn.execute("BEGIN IMMEDIATE")
    try:
        summary, reports, warnings = _plan_and_write(store, packages, on_progress, cancel)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    on_progress(1.0, "完成 done")
    return MergeSummary(reports, summary, warnings)


def _plan_and_write(store: CatalogueStore, packages: list[Package], on_progress: ProgressCallback,
                    cancel: CancelToken) -> tuple[Any, list[MergedPackage], list[Problem]]:
    """The merge proper, inside :func:`merge_packages`' transaction."""
    existing = store.load()
    planner = _Planner(existing)
    reports: list[MergedPackage] = []
    runs: list[tuple[MergedPackage, Package, dict[str, Any]]] = []
    merged_digests: dict[str, Path] = {}
    warnings: list[Problem] = []
    for package in packages:
        report = MergedPackage(package.path, package.coordinator)
        reports.append(report)
        if package.digest in merged_digests:
            report.skipped = (f"与 {merged_digests[package.digest].name} 相同 / identical to "
                              f"{merged_digests[package.digest].name}")
            continue
        merged_digests[package.digest] = package.path
        warnings += package.warnings
        org_map, scene_map = planner.add(package, report)
        runs.append((report, package, remap_result(package.result, scene_map, org_map)))
    merged = planner.catalogue()
    cancel.raise_if_cancelled()

    on_progress(0.8, "写入 writing")
    stored = store.runs()
    old_pins = {(p.scene, p.role.value, p.category or "") for p in existing.pins}
    new_pins = {(p.scene, p.role.value, p.category or "") for p in merged.pins}
    # Scenes and pins of re-merged coordinators the new packages no longer hold.
    store.delete(scenes=[s.id for s in existing.scenes if s.id not in planner.scenes],
                 pins=sorted(old_pins - new_pins))
    summary = store.write(merged)
    for report, package, result in runs:
        # The run now speaks for this coordinator only (a package holds no other's scenes),
        # whatever scope the original run had; that scope stays under "package".
        params = {**result.get("params", {}), "coordinator": package.coordinator,
                  "package": {"scope": result.get("params", {}).get("coordinator"),
                              "digest": package.digest, "file": package.path.name,
                              "created": package.manifest.get("created", ""),
                              "source_run_id": package.run_id}}
        previous = [r for r in stored if r.coordinator == package.coordinator
                    and isinstance(r.params.get("package"), dict)]
        if any(r.params == params and r.result == result for r in previous):
            continue  # this very package is stored already
        for r in previous:
            store.db.execute("DELETE FROM runs WHERE id = ?", [r.id])
        report.run_id = store.save_run(
            coordinator=package.coordinator, status=str(result.get("status", "")),
            objective=result.get("objective"), bound=result.get("bound"), gap=result.get("gap"),
            seconds=float(result.get("seconds") or 0.0), params=params, result=result)
    return summary, reports, warnings

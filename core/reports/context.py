"""What every report reads: the catalogue, one match result, and lookups over both.

Reports live in core/ and never import matching/: everything they need from a run is in the
stored ``scenematch.result`` document (consortia with breakdown and alternates, unmatched
scenes with reasons, plans, parameters, bound and gap). The caller picks the run
(:func:`context_from_store`) and, for the opportunity sheet, hands in the ranking it
computed with ``matching.opportunities`` as plain data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from core.model import Catalogue, MatchRun, Organization, Partnership, Role, Scene
from core.problems import CatalogueError
from core.reports.pdf import DocInfo
from core.taxonomy import taxonomy


def label(kind: str, value: object, lang: str = "zh") -> str:
    """The display label of a taxonomy value (the value itself when unknown)."""
    text = getattr(value, "value", value)
    return taxonomy().label(kind, str(text), lang) if text is not None else ""


def role_label(role: str | Role, category: str | None = None, lang: str = "zh") -> str:
    """"零部件企业（灵巧手）" for a component member, the role's label otherwise."""
    text = label("roles", role, lang)
    if category:
        text += f"（{category}）" if lang == "zh" else f" ({category})"
    return text


def term_label(term: str, lang: str = "zh") -> str:
    """The label of a fit term (capability, locality …)."""
    return label("fit_terms", term, lang)


def slot_label(slot: str, lang: str = "zh") -> str:
    """The label of an adapter slot key: lead, algorithm, institute, component:<category>."""
    if slot == "lead":
        return "牵头整机/服务商" if lang == "zh" else "Lead (maker / service provider)"
    if slot.startswith("component:"):
        return role_label("component", slot.partition(":")[2], lang)
    return label("roles", slot, lang)


@dataclass
class ReportContext:
    """A catalogue and (optionally) one match result, with the lookups reports need."""

    catalogue: Catalogue
    result: dict[str, Any] | None = None  # a scenematch.result document
    run_id: int | None = None
    run_created: str = ""  # ISO time the run was stored
    catalogue_name: str = ""
    date: dt.date = field(default_factory=dt.date.today)
    # Per-context caches of the report writers (e.g. the proposals' short names).
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    # -- lookups ---------------------------------------------------------------
    @cached_property
    def orgs(self) -> dict[str, Organization]:
        """Organisations by id."""
        return self.catalogue.org_by_id()

    @cached_property
    def scenes(self) -> dict[str, Scene]:
        """Scenes by id."""
        return self.catalogue.scene_by_id()

    def org_name(self, org_id: str) -> str:
        """The organisation's name, or its id when it is not in the catalogue."""
        org = self.orgs.get(org_id)
        return org.name if org else org_id

    @cached_property
    def _consortia(self) -> dict[str, dict[str, Any]]:
        return {c["scene"]: c for c in (self.result or {}).get("consortia", [])}

    @cached_property
    def _unmatched(self) -> dict[str, dict[str, Any]]:
        return {u["scene"]: u for u in (self.result or {}).get("unmatched", [])}

    @cached_property
    def partnerships_by_pair(self) -> dict[frozenset[str], Partnership]:
        """The strongest recorded prior partnership of each pair of organisations."""
        out: dict[frozenset[str], Partnership] = {}
        for p in self.catalogue.partnerships:
            pair = frozenset((p.a, p.b))
            if pair not in out or p.strength > out[pair].strength:
                out[pair] = p
        return out

    @cached_property
    def consortia_of(self) -> dict[str, list[str]]:
        """Organisation -> the scenes of the run where it holds a slot (the owner's own place
        not counted)."""
        out: dict[str, list[str]] = {}
        for c in self._consortia.values():
            scene = self.scenes.get(c["scene"])
            owner = scene.owner if scene else None
            for org in dict.fromkeys(m["org"] for m in c["members"]
                                     if m["org"] != owner and m["role"] != Role.USER_UNIT.value):
                out.setdefault(org, []).append(c["scene"])
        return out

    @cached_property
    def robots_led(self) -> dict[str, int]:
        """Lead organisation -> robots over the scenes it leads in the run."""
        out: dict[str, int] = {}
        for c in self._consortia.values():
            scene = self.scenes.get(c["scene"])
            lead = self.lead_of(c)
            if scene is not None and lead is not None:
                out[lead] = out.get(lead, 0) + scene.robots
        return out

    def consortium(self, scene_id: str) -> dict[str, Any] | None:
        """The result's consortium for ``scene_id`` (None when unmatched or not in the run)."""
        return self._consortia.get(scene_id)

    def unmatched_reason(self, scene_id: str) -> str | None:
        """Why the run left ``scene_id`` without a consortium (None when it has one or the
        run did not cover it)."""
        u = self._unmatched.get(scene_id)
        return u.get("reason", "") if u else None

    def coordinator_scenes(self, coordinator: str) -> list[Scene]:
        """The catalogue's scenes of ``coordinator``, in catalogue order."""
        return [s for s in self.catalogue.scenes if s.coordinator == coordinator]

    def consortia(self, coordinator: str | None = None) -> list[dict[str, Any]]:
        """The result's consortia, only those of ``coordinator``'s scenes when given."""
        out = list(self._consortia.values())
        if coordinator is not None:
            out = [c for c in out if self._coordinator_of(c["scene"]) == coordinator]
        return out

    def unmatched(self, coordinator: str | None = None) -> list[dict[str, Any]]:
        """The result's unmatched scenes (with reasons), only ``coordinator``'s when given."""
        out = list(self._unmatched.values())
        if coordinator is not None:
            out = [u for u in out if self._coordinator_of(u["scene"]) == coordinator]
        return out

    def plan_entry(self, coordinator: str) -> dict[str, Any] | None:
        """The result's ``plans`` entry of ``coordinator``."""
        for p in (self.result or {}).get("plans", []):
            if p.get("coordinator") == coordinator:
                return dict(p)
        return None

    def _coordinator_of(self, scene_id: str) -> str | None:
        scene = self.scenes.get(scene_id)
        return scene.coordinator if scene else None

    def lead_of(self, consortium: dict[str, Any]) -> str | None:
        """The lead member's org id of a consortium."""
        for m in consortium["members"]:
            if m["role"] in (Role.MAKER.value, Role.SERVICE_PROVIDER.value):
                return str(m["org"])
        return None

    def info(self, title: str, subject: str = "") -> DocInfo:
        """Header/metadata for a document of this context."""
        return DocInfo(title=title, catalogue=self.catalogue_name or self.catalogue.name or "SceneMatch",
                       date=self.date, subject=subject)


def pick_run(runs: Iterable[MatchRun], run_id: int | None = None,
             coordinator: str | None = None) -> MatchRun | None:
    """The run a report is about: ``run_id`` when given (``CatalogueError`` if unknown);
    else the newest run that covers ``coordinator`` (a run of all coordinators or of that
    one); else the newest run; None when there is none."""
    runs = list(runs)  # newest first, as the store returns them
    if run_id is not None:
        for r in runs:
            if r.id == run_id:
                return r
        known = "、".join(str(r.id) for r in runs) or "—"
        raise CatalogueError(f"没有第 {run_id} 次运行 / no run {run_id} (stored runs: {known})")
    if coordinator is not None:
        for r in runs:
            if r.coordinator in (None, coordinator):
                return r
        return None
    return runs[0] if runs else None


def context_from_store(store: Any, run_id: int | None = None,
                       coordinator: str | None = None) -> ReportContext:
    """A :class:`ReportContext` over an open ``CatalogueStore``'s catalogue and the run
    :func:`pick_run` chooses (no run: a context without a result)."""
    catalogue = store.load()
    run = pick_run(store.runs(), run_id, coordinator)
    return ReportContext(
        catalogue=catalogue,
        result=run.result if run else None,
        run_id=run.id if run else None,
        run_created=run.created if run else "",
        catalogue_name=store.name or (store.path.stem if store.path else "SceneMatch"),
    )

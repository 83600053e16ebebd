"""Plan rules: does a coordinator's plan meet the programme's minimums?

Rules are data (the ``plans`` table); a coordinator without a rule gets the
taxonomy's default for its kind (a province when its name is a province,
else a central SOE).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from core.model import Catalogue, PlanChoice, PlanKind, PlanRule, Scene
from core.taxonomy import taxonomy


@dataclass(frozen=True)
class PlanStatus:
    """One coordinator's plan against its rule."""

    rule: PlanRule
    default_rule: bool
    scenes: int
    fields: tuple[str, ...]
    robots: int
    required: int = 0  # of ``scenes``, how many are required
    excluded: int = 0  # the coordinator's scenes left out of the plan (not in ``scenes``)

    @property
    def missing_scenes(self) -> int:
        """Scenes still needed to reach ``min_scenes``."""
        return max(0, self.rule.min_scenes - self.scenes)

    @property
    def missing_fields(self) -> int:
        """Fields still to cover to reach ``min_fields``."""
        return max(0, self.rule.min_fields - len(self.fields))

    @property
    def compliant(self) -> bool:
        """True when both minimums are met."""
        return self.missing_scenes == 0 and self.missing_fields == 0

    def shortfalls(self, lang: str = "zh") -> list[str]:
        """What is missing, as sentences for the user."""
        out = []
        if self.missing_scenes:
            out.append(
                f"还差 {self.missing_scenes} 个场景（{self.scenes}/{self.rule.min_scenes}）"
                if lang == "zh"
                else f"{self.missing_scenes} more scenes needed ({self.scenes}/{self.rule.min_scenes})"
            )
        if self.missing_fields:
            have = "、".join(taxonomy().label("fields", f, lang) for f in self.fields) or "—"
            out.append(
                f"还需覆盖 {self.missing_fields} 个领域（已有：{have}）"
                if lang == "zh"
                else f"{self.missing_fields} more fields to cover (have: {have})"
            )
        return out


def default_rule(coordinator: str) -> PlanRule:
    """The programme's rule for a coordinator that has none in the catalogue."""
    kind = PlanKind.PROVINCE if coordinator in taxonomy().values("provinces") else PlanKind.CENTRAL_SOE
    term = next(t for t in taxonomy().terms("plan_kinds") if t.value == kind.value)
    return PlanRule(coordinator, kind, int(term.get("min_scenes")), int(term.get("min_fields")))


def plan_status(catalogue: Catalogue, coordinator: str,
                scenes: Iterable[Scene] | None = None) -> PlanStatus:
    """One coordinator's status, counting its ``scenes`` (default: the catalogue's) that
    are in the plan (scenes whose plan choice is ``exclude`` do not count)."""
    rule = next((p for p in catalogue.plans if p.coordinator == coordinator), None)
    chosen = [s for s in (catalogue.scenes if scenes is None else scenes)
              if s.coordinator == coordinator]
    mine = [s for s in chosen if s.in_plan]
    fields = tuple(sorted({s.field.value for s in mine}))
    return PlanStatus(rule or default_rule(coordinator), rule is None, len(mine), fields,
                      sum(s.robots for s in mine),
                      required=sum(s.plan is PlanChoice.REQUIRE for s in mine),
                      excluded=len(chosen) - len(mine))


def plan_statuses(catalogue: Catalogue, scenes: Iterable[Scene] | None = None) -> list[PlanStatus]:
    """Every coordinator's status, counting ``scenes`` (default: every scene in the catalogue)
    that are in the plan: scenes whose plan choice is ``exclude`` do not count."""
    chosen = list(catalogue.scenes if scenes is None else scenes)
    return [plan_status(catalogue, c, chosen) for c in catalogue.coordinators()]

"""Plan rules: does a coordinator's plan meet the programme's minimums?

Rules are data (the ``plans`` table); a coordinator without a rule gets the
taxonomy's default for its kind (a province when its name is a province,
else a central SOE).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from core.model import Catalogue, PlanKind, PlanRule, Scene
from core.taxonomy import taxonomy


@dataclass(frozen=True)
class PlanStatus:
    """One coordinator's plan against its rule."""

    rule: PlanRule
    default_rule: bool
    scenes: int
    fields: tuple[str, ...]
    robots: int

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


def plan_statuses(catalogue: Catalogue, scenes: Iterable[Scene] | None = None) -> list[PlanStatus]:
    """Every coordinator's status, counting ``scenes`` (default: every scene in the catalogue)."""
    rules = {p.coordinator: p for p in catalogue.plans}
    chosen = list(catalogue.scenes if scenes is None else scenes)
    out = []
    for coordinator in catalogue.coordinators():
        mine = [s for s in chosen if s.coordinator == coordinator]
        rule = rules.get(coordinator) or default_rule(coordinator)
        fields = tuple(sorted({s.field.value for s in mine}))
        out.append(PlanStatus(rule, coordinator not in rules, len(mine), fields,
                              sum(s.robots for s in mine)))
    return out

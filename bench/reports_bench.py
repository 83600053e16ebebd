"""Issue 5's report targets: a 40-scene plan summary in ≤ 3 s, every proposal of the
national generated catalogue in ≤ 60 s (2 cores), and a submission package."""

from __future__ import annotations

import json
import time
from pathlib import Path

Row = tuple[str, str, str, str, bool]


def _national_result(work: Path) -> tuple[object, dict]:
    from core.generate import GenerateSpec, generate
    from matching.engine import MatchParams, match

    catalogue = generate(GenerateSpec(2000, 3000, seed=1))
    saved = work / "national-result.json"
    if saved.exists():  # written by the matching bench, same catalogue and seed
        return catalogue, json.loads(saved.read_text(encoding="utf-8"))
    return catalogue, match(catalogue, MatchParams(time_limit=60)).to_dict()


def bench_reports(work: Path) -> list[Row]:
    """Time the reports on the generated catalogues."""
    from core.generate import GenerateSpec, generate
    from core.reports.context import ReportContext
    from core.reports.plan_summary import write_plan_summary
    from core.reports.proposal import default_workers, write_proposals
    from matching.engine import MatchParams, match

    rows: list[Row] = []
    catalogue = generate(GenerateSpec(40, 300, seed=3, provinces=1, soes=0))
    coordinator = catalogue.coordinators()[0]
    result = match(catalogue, MatchParams(time_limit=10)).to_dict()
    ctx = ReportContext(catalogue=catalogue, result=result, catalogue_name="bench")
    times = []
    for n in range(3):
        started = time.perf_counter()
        write_plan_summary(ctx, coordinator, work / f"plan-{n}.pdf")
        times.append(time.perf_counter() - started)
    scenes = sum(1 for s in catalogue.scenes if s.coordinator == coordinator)
    rows.append(("plan summary PDF", f"{scenes} scenes, {len(result['consortia'])} consortia",
                 f"{min(times):.2f} s", "≤ 3 s", min(times) <= 3))

    national, doc = _national_result(work)
    ctx = ReportContext(catalogue=national, result=doc, catalogue_name="national")  # type: ignore[arg-type]
    started = time.perf_counter()
    written = write_proposals(ctx, work / "proposals")
    seconds = time.perf_counter() - started
    pages = sum(p.stat().st_size for p in written) / max(1, len(written)) / 1024
    rows.append(("all proposals PDF (national)",
                 f"{len(written)} consortia, {default_workers()} processes",
                 f"{seconds:.1f} s ({seconds / max(1, len(written)) * 1000:.0f} ms each, "
                 f"{pages:.0f} KiB each)", "≤ 60 s", seconds <= 60))
    return rows

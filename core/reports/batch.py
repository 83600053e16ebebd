"""Which documents a report request produces, written with progress and cancel.

``scenematch report``, the GUI's Export menu and the submission package all come here:

- a coordinator: its plan summary, then one proposal per consortium of its scenes;
- an organisation: its opportunity sheet (PDF + xlsx), the ranking handed in by the caller;
- neither: every coordinator's plan summary and every proposal.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.progress import CancelToken, ProgressCallback, no_progress
from core.reports.context import ReportContext

PROPOSALS_DIR = "联合体组建方案"


def _scaled(on_progress: ProgressCallback, lo: float, hi: float) -> ProgressCallback:
    def report(fraction: float, message: str) -> None:
        on_progress(lo + (hi - lo) * max(0.0, min(1.0, fraction)), message)

    return report


def write_plan_documents(ctx: ReportContext, coordinator: str, out_dir: Path, *,
                         on_progress: ProgressCallback = no_progress,
                         cancel: CancelToken | None = None) -> list[Path]:
    """The plan summary of ``coordinator`` in ``out_dir`` and the proposals of its consortia
    in ``out_dir/联合体组建方案``; returns the files written (summary first).

    Raises ``ValueError`` for a coordinator the catalogue does not have and
    :class:`core.progress.Cancelled` when ``cancel`` is set.
    """
    from core.reports.plan_summary import plan_summary_filename, write_plan_summary
    from core.reports.proposal import write_proposals

    cancel = cancel or CancelToken()
    out_dir.mkdir(parents=True, exist_ok=True)
    on_progress(0.0, f"实训空间建设方案 {coordinator}")
    summary = out_dir / plan_summary_filename(coordinator)
    write_plan_summary(ctx, coordinator, summary)
    cancel.raise_if_cancelled()
    scene_ids = [c["scene"] for c in ctx.consortia(coordinator)]
    proposals = write_proposals(ctx, out_dir / PROPOSALS_DIR, scene_ids,
                                on_progress=_scaled(on_progress, 0.1, 1.0), cancel=cancel)
    return [summary, *proposals]


def write_all_documents(ctx: ReportContext, out_dir: Path, *,
                        on_progress: ProgressCallback = no_progress,
                        cancel: CancelToken | None = None) -> list[Path]:
    """Every coordinator's plan summary and every proposal of the run."""
    from core.reports.plan_summary import plan_summary_filename, write_plan_summary
    from core.reports.proposal import write_proposals

    cancel = cancel or CancelToken()
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    coordinators = ctx.catalogue.coordinators()
    for i, coordinator in enumerate(coordinators):
        cancel.raise_if_cancelled()
        on_progress(0.1 * i / max(1, len(coordinators)), f"实训空间建设方案 {coordinator}")
        path = out_dir / plan_summary_filename(coordinator)
        write_plan_summary(ctx, coordinator, path)
        written.append(path)
    written += write_proposals(ctx, out_dir / PROPOSALS_DIR, None,
                               on_progress=_scaled(on_progress, 0.1, 1.0), cancel=cancel)
    return written


def write_org_documents(ctx: ReportContext, org_id: str, opportunities: Sequence[Any],
                        out_dir: Path, *, on_progress: ProgressCallback = no_progress,
                        cancel: CancelToken | None = None) -> list[Path]:
    """The opportunity sheet of ``org_id`` as PDF and xlsx; ``opportunities`` is the
    ranking ``matching.opportunities.opportunities`` computed for it."""
    from core.reports.opportunity_sheet import (
        opportunity_sheet_filename,
        write_opportunity_sheet,
        write_opportunity_xlsx,
    )

    cancel = cancel or CancelToken()
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = opportunity_sheet_filename(ctx, org_id)
    on_progress(0.0, f"机会清单 {ctx.org_name(org_id)}")
    pdf_path = out_dir / f"{stem}.pdf"
    write_opportunity_sheet(ctx, org_id, opportunities, pdf_path)
    cancel.raise_if_cancelled()
    on_progress(0.6, f"机会清单 {ctx.org_name(org_id)} (xlsx)")
    xlsx_path = out_dir / f"{stem}.xlsx"
    write_opportunity_xlsx(ctx, org_id, opportunities, xlsx_path)
    on_progress(1.0, "完成 done")
    return [pdf_path, xlsx_path]

"""PDF reports and their data (reportlab; no Qt, no matching/).

- :mod:`core.reports.pdf` — the house style: embedded CJK font, escaping, Chinese line
  breaking, A4 pages with header, page numbers and table of contents.
- :mod:`core.reports.context` — the catalogue + one stored match result, with lookups.
- :mod:`core.reports.proposal` — 联合体组建方案, one per consortium.
- :mod:`core.reports.plan_summary` — 实训空间建设方案, one per coordinator.
- :mod:`core.reports.opportunity_sheet` — an organisation's opportunity sheet (PDF + xlsx).
- :mod:`core.reports.batch` — which documents a request produces, written with progress and
  cancel (what ``scenematch report`` and the GUI's Export menu call).
"""

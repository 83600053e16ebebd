"""The main window's views, one module each; ``VIEWS`` is their order in the sidebar."""

from __future__ import annotations

VIEWS: tuple[tuple[str, str, str], ...] = (
    # key, module, class
    ("dashboard", "gui.views.dashboard", "DashboardView"),
    ("scenes", "gui.views.scenes", "ScenesView"),
    ("organizations", "gui.views.organizations", "OrganizationsView"),
    ("plan", "gui.views.plan", "PlanView"),
    ("matching", "gui.views.matching", "MatchingView"),
    ("consortia", "gui.views.consortia", "ConsortiaView"),
    ("network", "gui.views.network", "NetworkView"),
    ("opportunities", "gui.views.opportunities", "OpportunitiesView"),
)

"""``scenematch --self-test``: prove an installation (or a frozen build) works end to end.

Opens the main window offscreen on the demo catalogue, runs a short match, writes a PDF to a
temporary folder, and prints one line per step. Exit code 0 when every step passed, 1 at
the first failure (with the reason). Nothing outside the temporary folder is touched.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any


def run_self_test(write: Callable[[str], Any] = print) -> int:
    """Run every step; returns the exit code."""
    if not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # the self-test needs no screen
    with tempfile.TemporaryDirectory(prefix="scenematch-selftest-") as tmp:
        state: dict[str, Any] = {"dir": Path(tmp)}
        steps: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
            ("resources", _resources),
            ("catalogue", _catalogue),
            ("window", _window),
            ("match", _match),
            ("pdf", _pdf),
        ]
        try:
            for name, step in steps:
                started = time.perf_counter()
                try:
                    detail = step(state)
                except Exception as exc:  # noqa: BLE001 - the self-test reports every failure
                    write(f"FAIL {name}: {type(exc).__name__}: {exc}")
                    traceback.print_exc(file=sys.stderr)
                    return 1
                write(f"ok   {name}: {detail} ({time.perf_counter() - started:.2f} s)")
        finally:
            window = state.get("window")
            if window is not None:
                window.close()
            store = state.get("store")
            if store is not None:
                store.close()
    write("self-test passed")
    return 0


def _resources(state: dict[str, Any]) -> str:
    from importlib import resources

    from core.taxonomy import taxonomy

    font = resources.files("resources.fonts").joinpath("SceneSans.ttf").read_bytes()
    icon = resources.files("resources.icons").joinpath("scenematch.png").read_bytes()
    demo = resources.files("resources").joinpath("demo_catalogue.json").read_bytes()
    kinds = taxonomy().kinds()
    return (f"font {len(font) // 1024} KiB, icon {len(icon) // 1024} KiB, demo "
            f"{len(demo) // 1024} KiB, taxonomy {len(kinds)} kinds")


def _catalogue(state: dict[str, Any]) -> str:
    from core.demo import install_demo
    from core.store import CatalogueStore

    store = CatalogueStore.open(state["dir"] / "self-test.scenematch.db")
    install_demo(store)
    state["store"] = store
    catalogue = store.load()
    state["catalogue"] = catalogue
    return f"{len(catalogue.scenes)} scenes, {len(catalogue.organizations)} organisations"


def _window(state: dict[str, Any]) -> str:
    from gui.app import make_app
    from gui.main_window import MainWindow

    app = make_app()
    window = MainWindow(state["store"])
    window.show()
    app.processEvents()
    state["window"] = window
    if not window.views:
        raise RuntimeError("the main window has no views")
    family = app.font().families()
    return f"{len(window.views)} views, platform {app.platformName()}, fonts {'/'.join(family)}"


def _match(state: dict[str, Any]) -> str:
    from matching.engine import MatchParams, match

    result = match(state["catalogue"], MatchParams(time_limit=5.0)).to_dict()
    if not result["consortia"]:
        raise RuntimeError(f"no consortium formed (status {result['status']})")
    state["result"] = result
    return f"{len(result['consortia'])} consortia, status {result['status']}"


def _pdf(state: dict[str, Any]) -> str:
    from core.reports.context import ReportContext
    from core.reports.plan_summary import write_plan_summary

    catalogue = state["catalogue"]
    ctx = ReportContext(catalogue=catalogue, result=state["result"], catalogue_name=catalogue.name)
    coordinator = catalogue.coordinators()[0]
    target = state["dir"] / "plan.pdf"
    write_plan_summary(ctx, coordinator, target)
    data = target.read_bytes()
    if not data.startswith(b"%PDF") or len(data) < 10_000:
        raise RuntimeError(f"the PDF looks wrong ({len(data)} bytes)")
    return f"plan summary of {coordinator}: {len(data) // 1024} KiB"

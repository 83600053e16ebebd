"""Shared fixtures: small catalogues, the CLI in a subprocess, catalogue dumps."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.uscc import make_uscc

SCRIPT = Path(sys.executable).with_name("scenematch")


def cli_command() -> list[str]:
    """How a user starts the command line: the installed script, else the module."""
    if SCRIPT.exists():
        return [str(SCRIPT)]
    found = shutil.which("scenematch")
    return [found] if found else [sys.executable, "-m", "cli.main"]


@pytest.fixture(autouse=True)
def _backups_in_tmp(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Backups taken by tests (schema migrations, the GUI) go to a temporary folder, never
    the user's data folder; subprocesses inherit the setting."""
    monkeypatch.setenv("SCENEMATCH_BACKUP_DIR", str(tmp_path_factory.mktemp("backups")))


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(*args: str | Path, check: bool = False) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONIOENCODING": "utf-8", "QT_QPA_PLATFORM": "offscreen"}
        proc = subprocess.run(
            [*cli_command(), *map(str, args)],
            capture_output=True, text=True, encoding="utf-8", cwd=tmp_path, env=env, timeout=300,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return proc

    return run


def dump(db: Path) -> list[str]:
    """The full content of a catalogue file, as SQL statements (to compare before/after)."""
    conn = sqlite3.connect(db)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def org(oid: str, roles: list[str], **extra: Any) -> dict[str, Any]:
    """A minimal valid organisation record."""
    return {"id": oid, "name": f"组织{oid}", "roles": roles, "province": "浙江省", **extra}


def scene(sid: str, owner: str, **extra: Any) -> dict[str, Any]:
    """A minimal valid scene record."""
    base = {
        "id": sid, "name": f"场景{sid}", "owner": owner, "coordinator": "浙江省",
        "field": "industrial", "category": "生产制造", "province": "浙江省",
        "form_factors": ["双足人形"], "robots": 2,
    }
    return {**base, **extra}


def small_doc() -> dict[str, Any]:
    """A small valid catalogue document in the contract format."""
    return {
        "format": "scenematch.catalogue",
        "version": 1,
        "name": "测试目录",
        "organizations": [
            org("U1", ["user_unit"], name="杭州示例汽车零部件有限公司",
                uscc=make_uscc("91330100MA2B3C4D5")),
            org("M1", ["maker"], name="星衡机器人科技有限公司", form_factors=["双足人形"],
                skills={"精细装配": 4, "搬运": 3}, certifications=["IP54"], robot_capacity=50,
                max_consortia=2, products=[{"name": "星衡 H1", "form_factor": "双足人形",
                                            "payload_kg": 15}],
                deployments=[{"category": "生产制造", "year": 2025, "robots": 6}]),
            org("A1", ["algorithm"], name="澜拓智能科技有限公司", skills={"精细装配": 5}),
            org("C1", ["component"], name="远辰精密传动有限公司", component_categories=["减速器"]),
            org("I1", ["institute", "algorithm"], name="浙东具身智能研究院", ownership="public_institution"),
        ],
        "scenes": [
            scene("S1", "U1", name="总装车间线束插接工位", description="单班8小时，节拍60秒。",
                  skills={"精细装配": 3}, components=["减速器"],
                  readiness={"demand": 5, "conditions": 4, "standardisation": 4, "economics": 3},
                  goals={"success_rate": 0.95, "cycle_time_s": 60},
                  environment={"setting": "indoor", "ip_rating": "IP54"}, tags=["汽车", "装配"]),
            scene("S2", "U1", name="成品仓库搬运", field="industrial", category="仓储物流",
                  form_factors=["轮式人形", "复合机器人"]),
        ],
        "partnerships": [{"a": "M1", "b": "A1", "strength": 0.8, "note": "2025年联合项目"}],
        "exclusions": [{"a": "M1", "b": "C1", "reason": "专利诉讼未决"}],
        "pins": [{"scene": "S1", "org": "M1", "role": "maker"}],
        "plans": [{"coordinator": "浙江省", "kind": "province", "min_scenes": 20, "min_fields": 2}],
    }


@pytest.fixture
def small_json(tmp_path: Path) -> Path:
    path = tmp_path / "small.json"
    path.write_text(json.dumps(small_doc(), ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def demo_result() -> dict[str, Any]:
    """A match result document over the whole demo catalogue (solved once per session)."""
    from core.demo import demo_catalogue
    from matching.engine import MatchParams, match

    return match(demo_catalogue(), MatchParams(time_limit=20, workers=1)).to_dict()


@pytest.fixture
def demo_db(tmp_path: Path, demo_result: dict[str, Any]) -> Path:
    """A catalogue file holding the demo catalogue and one stored run (``demo_result``)."""
    from core.demo import install_demo
    from core.store import CatalogueStore

    path = tmp_path / "demo.scenematch.db"
    with CatalogueStore.open(path) as store:
        install_demo(store)
        store.save_run(coordinator=None, status=demo_result["status"],
                       objective=demo_result["objective"], bound=demo_result["bound"],
                       gap=demo_result["gap"], seconds=demo_result["seconds"],
                       params=demo_result["params"], result=demo_result)
    return path

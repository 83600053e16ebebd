"""Kill the process (SIGKILL) at random points of a large import and of a save, 50 times
each: every time the catalogue must open, pass ``PRAGMA integrity_check`` and hold exactly
a committed state — the one before or the one after, never a mix.

Timing: one uncut run per scenario is timed; it prints a progress line just before it
starts writing, so kill times are spread relative to that moment (process start-up under
a loaded machine does not shift them): a few before the process even starts, a few during
reading and checking, most across the write and close, some around the end. The
before-file is made once and copied for every run.
"""

from __future__ import annotations

import hashlib
import os
import queue
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from core.generate import GenerateSpec, generate
from core.json_io import write_json
from core.store import CatalogueStore
from tests.conftest import cli_command

pytestmark = pytest.mark.slow

RUNS = 50
SEED = int(os.environ.get("SCENEMATCH_KILL_SEED", "20260105"))
# Two kills at a time: each is timed from its own process's progress line.
JOBS = int(os.environ.get("SCENEMATCH_KILL_JOBS", "2"))

SAVE = """
import sys
from dataclasses import replace
from core.store import CatalogueStore

# What the GUI does on a save and on a delete: Session.save -> store.write(new),
# Session.delete -> store.delete(...), each one transaction, through one connection.
store = CatalogueStore.open(sys.argv[1], create=False)
catalogue = store.load()
owners = {s.owner for s in catalogue.scenes}
edited = replace(
    catalogue,
    organizations=tuple(replace(o, max_consortia=o.max_consortia + 1, description="修改 edited")
                        for o in catalogue.organizations),
    scenes=tuple(replace(s, robots=s.robots + 1, name=s.name + "（改）") for s in catalogue.scenes),
    partnerships=(), exclusions=(), pins=(), plans=(),
)
print("写入 writing", file=sys.stderr, flush=True)
store.write(edited)
if "--save-only" in sys.argv:
    sys.exit(store.close())
print("删除 deleting", file=sys.stderr, flush=True)
store.delete(scenes=[s.id for s in catalogue.scenes[::3]],
             organizations=[o.id for o in catalogue.organizations if o.id not in owners][:100])
store.close()
print("完成 done", file=sys.stderr, flush=True)
"""


@dataclass
class Run:
    """One subprocess: when the write began (its progress line), when it ended."""

    proc: subprocess.Popen[bytes]
    started: float
    marker: float | None = None
    lines: list[str] = field(default_factory=list)

    ended: float = 0.0
    reader: threading.Thread | None = None

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace")
            self.lines.append(line)
            if self.marker is None and ("写入" in line or "writing" in line):
                self.marker = time.monotonic()
        self.ended = time.monotonic()  # stderr closes when the process ends


def _start(command: list[str], cwd: Path) -> Run:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    run = Run(proc, time.monotonic())
    run.reader = threading.Thread(target=run._read, daemon=True)
    run.reader.start()
    return run


def fingerprint(conn: sqlite3.Connection) -> dict[str, str]:
    """A digest of every table's rows (full-text index shadow tables included)."""
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%' "
        "ORDER BY name")]
    digests = {}
    for table in tables:
        rows = sorted(repr(r) for r in conn.execute(f"SELECT * FROM [{table}]"))
        digests[table] = hashlib.sha256("\n".join(rows).encode("utf-8")).hexdigest()
    return digests


def state_of(path: Path) -> dict[str, str]:
    """Open as the app does, check integrity (and the full-text indexes), fingerprint."""
    with CatalogueStore.open(path, create=False) as store:
        conn = store.db.conn
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        for table in ("organizations", "scenes"):
            conn.execute(f"INSERT INTO [{table}_fts]([{table}_fts]) VALUES ('integrity-check')")
        conn.rollback()
        return fingerprint(conn)


def _diff(state: dict[str, str], refs: dict[str, dict[str, str]]) -> str:
    return "; ".join(f"{name}: tables differing {[t for t in state if ref.get(t) != state[t]]}"
                     for name, ref in refs.items())


def _fresh(work: Path, before: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(work) + suffix).unlink(missing_ok=True)
    shutil.copyfile(before, work)


def _uncut(tmp: Path, before: Path, command: list[str], name: str) -> tuple[Run, dict[str, str]]:
    work = tmp / f"{name}.db"
    _fresh(work, before)
    run = _start([part.replace("{db}", str(work)) for part in command], tmp)
    assert run.proc.wait(120) == 0, "".join(run.lines)
    assert run.reader is not None
    run.reader.join(10)
    return run, state_of(work)


def kill_campaign(tmp: Path, before: Path, command: list[str], label: str,
                  intermediates: dict[str, list[str]] | None = None) -> Counter[str]:
    """Run ``command`` (``{db}`` stands for the catalogue, a fresh copy of ``before``) once
    uncut to time it and to get the state "after", then RUNS times killed; every outcome
    must be "before", "after" or one of ``intermediates`` (committed states between two
    transactions, each made by its own uncut command). Returns how often each came out."""
    rng = random.Random(f"{SEED}-{label}")
    refs: dict[str, dict[str, str]] = {"before": state_of(before)}
    for name, step in (intermediates or {}).items():
        refs[name] = _uncut(tmp, before, step, name)[1]
    # Timed as the campaign runs: JOBS uncut runs side by side (they must all agree).
    with ThreadPoolExecutor(JOBS) as pool:
        uncut = list(pool.map(lambda n: _uncut(tmp, before, command, f"after-{n}"), range(JOBS)))
    refs["after"] = uncut[0][1]
    assert all(state == refs["after"] for _, state in uncut), "the command is not deterministic"
    assert refs["after"] != refs["before"]
    total = statistics.mean(run.ended - run.started for run, _ in uncut)
    marker = statistics.mean((run.marker or run.started) - run.started for run, _ in uncut)
    window = statistics.mean(run.ended - (run.marker or run.started) for run, _ in uncut)
    # Kill times: (anchor, delay). "start" counts from the spawn, "write" from the line
    # printed just before writing.
    plan: list[tuple[str, float]] = []
    plan += [("start", 0.0)] * 2  # before the interpreter runs at all
    plan += [("start", rng.uniform(0, marker)) for _ in range(4)]  # reading, checking
    plan += [("write", rng.uniform(0, window)) for _ in range(RUNS - 14)]
    plan += [("write", window * rng.uniform(0.9, 1.5)) for _ in range(8)]  # around the end
    rng.shuffle(plan)
    slots: queue.Queue[Path] = queue.Queue()
    for n in range(JOBS):
        slots.put(tmp / f"work-{n}.db")

    def one(anchor: str, delay: float) -> tuple[str, bool]:
        work = slots.get()
        try:
            _fresh(work, before)
            run = _start([part.replace("{db}", str(work)) for part in command], tmp)
            if anchor == "start":
                time.sleep(delay)
            else:
                deadline = time.monotonic() + 30 + 3 * total
                while run.marker is None and run.proc.poll() is None \
                        and time.monotonic() < deadline:
                    time.sleep(0.001)
                if run.marker is not None:
                    time.sleep(max(0.0, run.marker + delay - time.monotonic()))
            run.proc.kill()  # SIGKILL on POSIX, TerminateProcess on Windows
            code = run.proc.wait(60)
            if code not in (0, -9, 1):  # (Windows reports 1 for a terminated process)
                pytest.fail(f"{label}: exit {code}\n{''.join(run.lines)}")
            state = state_of(work)
            name = next((n for n, ref in refs.items() if ref == state), None)
            if name is None:
                keep = tmp / f"mixed-{label}-{anchor}-{delay:.3f}.db"
                shutil.copyfile(work, keep)
                pytest.fail(f"{label}: a mixed state after a kill at {anchor}+{delay:.3f}s "
                            f"(kept at {keep}): {_diff(state, refs)}")
            return name, code != 0
        finally:
            slots.put(work)

    with ThreadPoolExecutor(JOBS) as pool:
        outcomes = [f.result() for f in [pool.submit(one, *p) for p in plan]]
    seen = Counter(name for name, _ in outcomes)
    killed = sum(k for _, k in outcomes)
    summary = (f"{label}: uncut {total:.2f}s (writing from {marker:.2f}s); {RUNS} runs, "
               f"{killed} killed before they ended; outcomes {dict(seen)}")
    print(summary)
    assert sum(seen.values()) == RUNS
    assert seen["before"] > 0 and seen["after"] > 0, f"miscalibrated kill window: {summary}"
    return seen


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The before-file (a small catalogue), a large import touching it, and the catalogue
    after that import (the before-file of the save)."""
    tmp = tmp_path_factory.mktemp("kill")
    before = tmp / "before.db"
    with CatalogueStore.open(before) as store:
        store.write(generate(GenerateSpec(scenes=200, orgs=80, seed=1)))
    big = tmp / "big.json"
    # Same ids as the before-file for its rows (changed) plus thousands of new ones.
    write_json(big, generate(GenerateSpec(scenes=1800, orgs=600, seed=2)))
    imported = tmp / "imported.db"
    shutil.copyfile(before, imported)
    subprocess.run([*cli_command(), "import", "--db", str(imported), str(big)], check=True,
                   cwd=tmp, capture_output=True)
    with CatalogueStore.open(imported) as store:
        assert store.count("scenes") == 1800
    return before, big, imported


def test_killing_an_import_leaves_the_state_before_or_after(files, tmp_path):
    before, big, _ = files
    kill_campaign(tmp_path, before, [*cli_command(), "import", "--db", "{db}", str(big)],
                  "import")


def test_killing_a_save_leaves_a_committed_state(files, tmp_path):
    _, _, imported = files
    # Two GUI edits in a row (a save, then a delete): the state after the save alone is
    # committed too; nothing else may come out.
    save = [sys.executable, "-c", SAVE, "{db}"]
    kill_campaign(tmp_path, imported, save, "save", {"saved only": [*save, "--save-only"]})


def test_the_fingerprint_sees_a_one_row_difference(tmp_path):
    path = tmp_path / "c.db"
    with CatalogueStore.open(path) as store:
        catalogue = generate(GenerateSpec(scenes=5, orgs=8, seed=4))
        store.write(catalogue)
        first = fingerprint(store.db.conn)
        store.write(replace(catalogue, scenes=(replace(catalogue.scenes[0], robots=99),)))
        second = fingerprint(store.db.conn)
    changed = {t for t in first if first[t] != second[t]}
    assert "scenes" in changed

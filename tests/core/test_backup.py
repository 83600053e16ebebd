"""Backups (SQLite backup API, rotation, restore) and what opening a bad file does.

Every refused file must come out byte for byte as it went in, with no -wal/-shm left
behind by the attempt; an older schema is migrated only after a backup of it is taken.
"""

import os
import random
import sqlite3
import subprocess
import sys

import pytest
import sqlite_utils

from core import backup as backups
from core.backup import (
    BACKUP_DIR_ENV,
    backup,
    backup_dir,
    check_file,
    list_backups,
    restore,
)
from core.generate import GenerateSpec, generate
from core.problems import CatalogueError
from core.store import SCHEMA_VERSION, CatalogueStore, migrations
from tests.conftest import dump


@pytest.fixture(autouse=True)
def backup_root(tmp_path, monkeypatch):
    root = tmp_path / "backups"
    monkeypatch.setenv(BACKUP_DIR_ENV, str(root))
    return root


@pytest.fixture(scope="module")
def catalogue():
    return generate(GenerateSpec(scenes=300, orgs=120, seed=3))


@pytest.fixture
def db(tmp_path, catalogue):
    path = tmp_path / "work.scenematch.db"
    with CatalogueStore.open(path) as store:
        store.write(catalogue)
    return path


def _sidecars(path):
    return sorted(p.name for p in path.parent.iterdir()
                  if p.name.startswith(path.name) and p.name != path.name)


def _refused_unchanged(path, match):
    """Opening ``path`` fails with ``match`` and leaves it exactly as it was."""
    before = path.read_bytes()
    sidecars = _sidecars(path)
    with pytest.raises(CatalogueError, match=match):
        CatalogueStore.open(path)
    assert path.read_bytes() == before
    assert _sidecars(path) == sidecars  # no -wal / -shm made by the attempt


# -- backups ---------------------------------------------------------------------


def test_backup_is_a_consistent_self_contained_copy(db, backup_root, catalogue):
    with CatalogueStore.open(db) as store:
        target = backup(store, reason="open")
        # An uncommitted change in the store's own connection is not in a later copy.
        assert target.parent == backup_dir(db)
        assert target.parent.parent == backup_root
        assert target.parent.name.startswith("work.scenematch-")
        assert (target.parent / "source.txt").read_text(encoding="utf-8").strip() == str(db.resolve())
    assert check_file(target) == []
    assert not os.path.exists(str(target) + "-wal")
    conn = sqlite3.connect(target)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()
    assert dump(target) == dump(db)
    [found] = list_backups(db)
    assert found.path == target and found.reason == "open" and found.size == target.stat().st_size


def test_backups_rotate_identical_ones_are_not_repeated_and_pinned_ones_stay(db):
    with CatalogueStore.open(db) as store:
        first = backup(store, reason="open")
        assert backup(store, reason="autosave") == first  # nothing changed: no new file
        pinned = backup(store, reason="before-migration")
        made = []
        for n in range(6):
            store.set_name(f"版本 {n}")
            made.append(backup(store, reason="autosave", keep=3))
    kept = list_backups(db)
    rotating = [b.path for b in kept if not b.pinned]
    assert rotating == made[::-1][:3]  # newest first, only the last three
    assert pinned in [b.path for b in kept]
    assert [b.created for b in kept] == sorted((b.created for b in kept), reverse=True)


def test_backups_of_same_named_catalogues_in_different_folders_are_apart(tmp_path, catalogue):
    a, b = tmp_path / "a" / "c.db", tmp_path / "b" / "c.db"
    for path in (a, b):
        path.parent.mkdir()
        CatalogueStore.open(path).close()
        backup(path)
    assert backup_dir(a) != backup_dir(b)
    assert len(list_backups(a)) == len(list_backups(b)) == 1


CRASH_AFTER_EDIT = """
import os, sys
from core.store import CatalogueStore
store = CatalogueStore.open(sys.argv[1], create=False)
store.db.execute("PRAGMA wal_autocheckpoint = 0")
store.set_name(sys.argv[2])
os._exit(0)  # no close, no checkpoint: the edit lives only in the -wal
"""


def _crash_after_edit(path, name):
    subprocess.run([sys.executable, "-c", CRASH_AFTER_EDIT, str(path), name], check=True)
    assert os.path.getsize(str(path) + "-wal") > 0


def test_restore_replaces_the_file_and_keeps_what_it_replaced(db, catalogue):
    with CatalogueStore.open(db) as store:
        good = backup(store)
        store.delete(scenes=[s.id for s in catalogue.scenes[:50]])
    good_dump = dump(good)
    _crash_after_edit(db, "未检查点的修改")  # a stale -wal that must not be replayed
    saved = restore(good, db)
    assert not os.path.exists(str(db) + "-wal")
    assert dump(db) == good_dump
    assert check_file(db) == []
    with CatalogueStore.open(db, create=False) as store:
        assert store.count("scenes") == len(catalogue.scenes)
    # What it replaced, the edit that was only in the -wal included, is kept.
    assert saved is not None
    [kept] = [b for b in list_backups(db) if b.reason == "before-restore"]
    assert kept.path == saved and kept.pinned
    with CatalogueStore.open(saved, create=False) as store:
        assert store.name == "未检查点的修改"
        assert store.count("scenes") == len(catalogue.scenes) - 50


def test_restore_refuses_a_damaged_backup_and_changes_nothing(db, tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x00" * 5000)
    before = db.read_bytes()
    with pytest.raises(CatalogueError, match="damaged"):
        restore(bad, db)
    assert db.read_bytes() == before
    assert list_backups(db) == []


def test_restore_over_an_unreadable_file_keeps_a_raw_copy(db, tmp_path):
    good = backup(db)
    wreck = bytearray(db.read_bytes())
    wreck[:100] = b"\xff" * 100  # not even an SQLite header any more
    db.write_bytes(bytes(wreck))
    saved = restore(good, db)
    assert saved is not None and saved.read_bytes() == bytes(wreck)
    assert check_file(db) == []


def test_check_file_reports_damage(db):
    assert check_file(db) == []
    data = bytearray(db.read_bytes())
    data[len(data) // 2: len(data) // 2 + 8192] = random.Random(1).randbytes(8192)
    db.write_bytes(bytes(data))
    assert check_file(db)


# -- opening bad files ------------------------------------------------------------


def test_a_text_file_and_a_foreign_sqlite_file_are_refused_unchanged(tmp_path):
    text = tmp_path / "notes.db"
    text.write_text("场景清单\n", encoding="utf-8")
    _refused_unchanged(text, "不是 SceneMatch")
    foreign = tmp_path / "foreign.db"
    conn = sqlite3.connect(foreign)
    conn.execute("PRAGMA journal_mode = WAL")  # the worst case: opening it makes -wal/-shm
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    _refused_unchanged(foreign, "not a SceneMatch catalogue")


def test_a_newer_schema_is_refused_unchanged(db):
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    _refused_unchanged(db, "newer SceneMatch")


@pytest.mark.parametrize("fraction", [0.25, 0.5, 0.9])
def test_a_truncated_catalogue_is_refused_unchanged(db, fraction):
    data = db.read_bytes()
    db.write_bytes(data[: int(len(data) * fraction)])
    _refused_unchanged(db, "损坏")


@pytest.mark.parametrize("where", [0.3, 0.5, 0.7])
def test_a_catalogue_with_garbage_in_the_middle_is_refused_unchanged(db, where):
    data = bytearray(db.read_bytes())
    page = 4096
    start = int(len(data) * where) // page * page
    data[start: start + 2 * page] = random.Random(start).randbytes(2 * page)
    db.write_bytes(bytes(data))
    _refused_unchanged(db, "损坏|damaged|corrupt")


def test_a_wrecked_schema_page_is_refused_unchanged(db):
    data = bytearray(db.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)
    db.write_bytes(bytes(data))
    _refused_unchanged(db, "损坏|corrupt")


def test_opening_a_sound_catalogue_does_not_rewrite_it(db):
    before = db.read_bytes()
    with CatalogueStore.open(db, create=False) as store:
        store.load()
    assert db.read_bytes() == before
    assert _sidecars(db) == []


# -- migrating an older schema ------------------------------------------------------


def _schema_1(path):
    """A catalogue as the first SceneMatch wrote it: migration m001 only, user_version 1."""
    db = sqlite_utils.Database(sqlite3.connect(path))
    db.enable_wal()
    migrations.apply(db, stop_before="m002_plan_choice")
    db.execute("PRAGMA user_version = 1")
    with db.atomic():
        db["organizations"].insert({"id": "U1", "name": "杭州示例汽车零部件有限公司",
                                    "roles": '["user_unit"]', "province": "浙江省"})
        db["scenes"].insert({"id": "S1", "name": "总装车间线束插接工位", "owner": "U1",
                             "coordinator": "浙江省", "field": "industrial", "category": "生产制造",
                             "province": "浙江省", "robots": 2, "form_factors": '["双足人形"]'})
    db.close()


def _columns(path, table):
    conn = sqlite3.connect(path)
    try:
        return [r[1] for r in conn.execute(f"PRAGMA table_info([{table}])")]
    finally:
        conn.close()


def test_an_older_schema_is_backed_up_then_migrated(tmp_path, caplog):
    path = tmp_path / "old.scenematch.db"
    _schema_1(path)
    old_dump = dump(path)
    assert "plan" not in _columns(path, "scenes")
    with caplog.at_level("WARNING"), CatalogueStore.open(path, create=False) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.migrated_from == 1
        saved = store.migration_backup
        assert saved is not None and saved.parent == backup_dir(path)
        assert [s.plan.value for s in store.scenes()] == ["include"]
    assert str(saved) in caplog.text  # says where the copy is
    # The backup is the schema-1 catalogue as it was: valid, complete, not migrated.
    assert check_file(saved) == []
    assert dump(saved) == old_dump
    conn = sqlite3.connect(saved)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations")] == ["m001_initial"]
    conn.close()
    assert "plan" not in _columns(saved, "scenes")
    [entry] = list_backups(path)
    assert entry.reason == "before-migration" and entry.pinned
    # ... and SceneMatch opens a copy of it (and migrates that too).
    copy = tmp_path / "copy.db"
    copy.write_bytes(saved.read_bytes())
    with CatalogueStore.open(copy, create=False) as store:
        assert store.schema_version == SCHEMA_VERSION and store.count("scenes") == 1
    # Opening the migrated file again takes no further backup.
    CatalogueStore.open(path).close()
    assert list_backups(path) == [entry]  # (the copy's own backup is in its own folder)


def test_no_migration_without_a_backup(tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    _schema_1(path)
    before = path.read_bytes()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv(BACKUP_DIR_ENV, str(blocker))  # the backup folder cannot be made
    with pytest.raises(CatalogueError, match="backup before it failed"):
        CatalogueStore.open(path)
    assert path.read_bytes() == before
    assert _sidecars(path) == []


def test_backup_of_a_path_that_is_not_there_is_an_error(tmp_path):
    with pytest.raises(CatalogueError):
        backup(tmp_path / "missing.db")
    with pytest.raises(ValueError):
        backup(CatalogueStore.memory())


def test_backup_names_sort_by_time_and_unknown_files_are_ignored(db):
    first = backup(db, reason="open")
    (first.parent / "notes.txt").write_text("x", encoding="utf-8")
    (first.parent / "x.20260101-000000-000.open.db.part").write_text("half", encoding="utf-8")
    with CatalogueStore.open(db) as store:
        store.set_name("新名字")
        second = backup(store, reason="autosave")
    assert [b.path for b in list_backups(db)] == [second, first]
    assert backups.prune(db, keep=1) == [first]
    assert [b.path for b in list_backups(db)] == [second]

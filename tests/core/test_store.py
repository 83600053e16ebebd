import sqlite3
from dataclasses import replace

import pytest

from core.json_io import parse_json
from core.problems import CatalogueError
from core.store import SCHEMA_VERSION, CatalogueStore
from core.validate import validate
from tests.conftest import small_doc


def _small():
    import json

    return validate(parse_json(json.dumps(small_doc()), "small.json")).catalogue


def test_new_catalogue_has_wal_foreign_keys_and_schema_version(tmp_path):
    path = tmp_path / "c.db"
    with CatalogueStore.open(path) as store:
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store.schema_version == SCHEMA_VERSION
        assert store.is_empty()
    with CatalogueStore.open(path, create=False) as store:
        assert store.schema_version == SCHEMA_VERSION


def test_write_then_load_round_trips_and_is_idempotent(tmp_path):
    catalogue = _small()
    with CatalogueStore.open(tmp_path / "c.db") as store:
        first = store.write(catalogue)
        assert first.added["organizations"] == 5 and first.added["scenes"] == 2
        loaded = store.load()
        assert loaded.name == catalogue.name
        assert list(loaded.organizations) == sorted(catalogue.organizations, key=lambda o: o.id)
        assert list(loaded.scenes) == sorted(catalogue.scenes, key=lambda s: s.id)
        for table in ("partnerships", "exclusions", "pins", "plans"):
            assert getattr(loaded, table) == getattr(catalogue, table)
        second = store.write(catalogue)
        assert second.total_changes() == 0
        assert second.unchanged["scenes"] == 2


def test_changed_rows_are_updated_and_partnerships_survive(tmp_path):
    catalogue = _small()
    with CatalogueStore.open(tmp_path / "c.db") as store:
        store.write(catalogue)
        maker = catalogue.org_by_id()["M1"]
        changed = replace(catalogue, organizations=(replace(maker, robot_capacity=99),))
        summary = store.write(replace(changed, scenes=(), partnerships=(), exclusions=(), pins=(),
                                      plans=()))
        assert summary.changed["organizations"] == 1
        loaded = store.load()
        assert loaded.org_by_id()["M1"].robot_capacity == 99
        assert len(loaded.partnerships) == 1  # an upsert never deletes and re-inserts


def test_write_is_one_transaction(tmp_path):
    catalogue = _small()
    path = tmp_path / "c.db"
    with CatalogueStore.open(path) as store:
        bad_scene = replace(catalogue.scenes[0], id="S9", owner="NOPE")  # violates the foreign key
        with pytest.raises(sqlite3.IntegrityError):
            store.write(replace(catalogue, scenes=(*catalogue.scenes, bad_scene)))
        assert store.is_empty()


def test_not_a_catalogue_is_refused(tmp_path):
    text = tmp_path / "notes.db"
    text.write_text("hello", encoding="utf-8")
    with pytest.raises(CatalogueError, match="不是 SceneMatch"):
        CatalogueStore.open(text)
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    before = other.read_bytes()
    with pytest.raises(CatalogueError, match="not a SceneMatch catalogue"):
        CatalogueStore.open(other)
    assert other.read_bytes() == before


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "c.db"
    CatalogueStore.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(CatalogueError, match="newer SceneMatch"):
        CatalogueStore.open(path)


def test_corrupt_file_is_refused(tmp_path):
    path = tmp_path / "c.db"
    with CatalogueStore.open(path) as store:
        store.write(_small())
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # wreck the schema page
    path.write_bytes(bytes(data))
    with pytest.raises(CatalogueError):
        CatalogueStore.open(path)


def test_runs_are_stored(tmp_path):
    with CatalogueStore.open(tmp_path / "c.db") as store:
        run_id = store.save_run(coordinator="浙江省", status="optimal", objective=3.0, bound=3.0,
                                gap=0.0, seconds=0.5, params={"time_limit": 10},
                                result={"format": "scenematch.result"})
        runs = store.runs()
        assert runs[0].id == run_id and runs[0].params == {"time_limit": 10}


def test_delete_returns_what_it_removed_and_writing_it_back_restores_the_catalogue():
    from core.demo import demo_catalogue
    from core.problems import CatalogueError

    store = CatalogueStore.memory()
    store.write(demo_catalogue())
    before = list(store.db.iterdump())
    catalogue = store.load()
    owner = catalogue.scenes[0].owner
    partnered = next(p.a for p in catalogue.partnerships)
    # An owner of scenes cannot go alone; nothing is deleted.
    with pytest.raises(CatalogueError, match="仍拥有场景"):
        store.delete(organizations=[owner])
    assert list(store.db.iterdump()) == before
    owned = [s.id for s in catalogue.scenes if s.owner == owner]
    removed = store.delete(organizations=[owner, partnered], scenes=owned)
    assert {o.id for o in removed.organizations} == {owner, partnered}
    assert removed.partnerships and all(partnered in (p.a, p.b) or owner in (p.a, p.b)
                                        for p in removed.partnerships)
    assert store.count("scenes") == len(catalogue.scenes) - len(owned)
    store.write(removed)
    assert store.load() == catalogue  # (row ids in the search index may differ)

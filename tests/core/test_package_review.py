"""Cases found in review: a merge racing another writer, a stale run packaged, crafted
result data, a USCC learnt mid-batch, one lock whatever the path spelling."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from core.lock import CatalogueLock, CatalogueLockedError
from core.merge import MergedPackage, _Planner, merge_packages
from core.model import Catalogue, Organization, Role
from core.package import RESULT_ENTRY, Package, build_package, verify_package
from core.problems import CatalogueError, InputError
from core.store import CatalogueStore
from core.uscc import make_uscc
from tests.conftest import dump
from tests.core.test_package import entries, rezip, store_with_run, two_coordinator_docs


@pytest.fixture
def packaged(tmp_path: Path) -> tuple[Path, Path]:
    """Zhejiang's catalogue (with its run) and Jiangsu's package."""
    zj, js = two_coordinator_docs()
    store_with_run(tmp_path / "zj.db", zj)
    store_with_run(tmp_path / "js.db", js)
    with CatalogueStore.open(tmp_path / "js.db") as store:
        build_package(store, "江苏省", tmp_path / "js.zip")
    return tmp_path / "zj.db", tmp_path / "js.zip"


def test_a_write_from_elsewhere_waits_for_the_merge_and_is_not_lost(packaged):
    national, package = packaged
    blocked: list[str] = []

    def progress(fraction: float, message: str) -> None:
        if fraction == 0.8:  # between the merge's read and its write
            other = sqlite3.connect(national, timeout=0)
            try:
                other.execute("UPDATE organizations SET description = '刚写的' WHERE id = 'M1'")
                other.commit()
            except sqlite3.OperationalError as exc:
                blocked.append(str(exc))
            finally:
                other.close()

    with CatalogueStore.open(national) as store:
        merge_packages(store, [package], on_progress=progress)
    assert blocked and "locked" in blocked[0]  # held off while the merge wrote …
    with CatalogueStore.open(national) as store:
        store.db.execute("UPDATE organizations SET description = '刚写的' WHERE id = 'M1'")
        store.db.conn.commit()
        assert store.load().org_by_id()["M1"].description == "刚写的"  # … and works after


def test_a_run_naming_a_deleted_organisation_is_not_packaged(packaged, tmp_path):
    national, _ = packaged
    with CatalogueStore.open(national) as store:
        member = next(m["org"] for c in store.runs()[0].result["consortia"]
                      for m in c["members"] if m["role"] == "algorithm")
        store.delete(organizations=[member])
        with pytest.raises(CatalogueError, match="run the matching again"):
            build_package(store, "浙江省", tmp_path / "stale.zip")
    assert not (tmp_path / "stale.zip").exists()
    assert not list(tmp_path.glob("stale.zip*"))  # no temp file either


@pytest.mark.parametrize("bad", [["S1"], {"id": "S1"}, 7, None])
def test_crafted_result_data_is_refused_not_a_crash(packaged, tmp_path, bad):
    _, package = packaged
    result = json.loads(entries(package)[RESULT_ENTRY])
    result["unmatched"].append({"scene": bad, "reason": "x"})
    forged = rezip(package, tmp_path / "forged.zip",
                   change={RESULT_ENTRY: json.dumps(result).encode()}, update_manifest=True)
    with pytest.raises(InputError) as caught:
        verify_package(forged)
    assert "forged.zip" in caught.value.report() and RESULT_ENTRY in caught.value.report()


def test_a_uscc_learnt_in_one_package_joins_the_next_of_the_batch():
    uscc = make_uscc("91330100MA2B3C4X5")
    planner = _Planner(Catalogue(name="国家", organizations=(
        Organization("X", "星衡机器人", (Role.MAKER,), "浙江省"),)))

    def package(org: Organization, coordinator: str) -> Package:
        return Package(Path(f"{coordinator}.zip"), {"coordinator": coordinator, "files": []},
                       coordinator, Catalogue(name="p", organizations=(org,)), {})

    planner.add(package(Organization("M1", "星衡机器人", (Role.MAKER,), "浙江省", uscc=uscc),
                        "浙江省"), MergedPackage(Path("a"), "浙江省"))
    second = MergedPackage(Path("b"), "江苏省")
    planner.add(package(Organization("M9", "星衡机器人科技有限公司", (Role.MAKER,), "江苏省",
                                     uscc=uscc), "江苏省"), second)
    assert second.organizations_merged == {"M9": "X"}
    assert [o.id for o in planner.orgs.values() if o.uscc == uscc] == ["X"]


def test_one_lock_whatever_the_path_spelling(tmp_path, monkeypatch):
    real = tmp_path / "real" / "cat.db"
    real.parent.mkdir()
    real.write_bytes(b"")
    link = tmp_path / "cat.db"
    link.symlink_to(real)
    with CatalogueLock.acquire(link.resolve()):
        with pytest.raises(CatalogueLockedError):
            CatalogueLock.acquire(link)
        monkeypatch.chdir(real.parent)
        with pytest.raises(CatalogueLockedError):
            CatalogueLock.acquire("cat.db")


def test_a_merged_run_speaks_for_its_coordinator(packaged):
    national, package = packaged
    with CatalogueStore.open(national) as store:
        before = dump(national)
        merge_packages(store, [package])
        run = next(r for r in store.runs() if r.coordinator == "江苏省")
    assert before != dump(national)
    assert run.params["coordinator"] == "江苏省"
    assert "scope" in run.params["package"]

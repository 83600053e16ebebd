"""The national merge: packages from several coordinators into one catalogue, all or nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.merge import combine_organizations, merge_packages, remap_result
from core.model import Catalogue, Organization, Role
from core.package import CATALOGUE_ENTRY, build_package, verify_package
from core.problems import InputError
from core.progress import Cancelled, CancelToken
from core.stats import catalogue_stats, format_stats
from core.store import CatalogueStore
from tests.conftest import dump
from tests.core.test_package import (
    HX,
    ZJ,
    a_pdf,
    demo_packages,
    entries,
    rezip,
    store_with_run,
    two_coordinator_docs,
)

JS = "江苏省"


@pytest.fixture(scope="module")
def packages(tmp_path_factory, demo_result) -> dict[str, Path]:
    return demo_packages(tmp_path_factory.mktemp("demo-packages"), demo_result)


@pytest.fixture(scope="module")
def provinces(tmp_path_factory) -> dict[str, Path]:
    """Packages of two provinces kept in separate catalogues (ids clash, one maker shared)."""
    root = tmp_path_factory.mktemp("provinces")
    zj_doc, js_doc = two_coordinator_docs()
    out = {}
    for doc, coordinator, name in ((zj_doc, ZJ, "zj"), (js_doc, JS, "js")):
        db = store_with_run(root / f"{name}.db", doc)
        with CatalogueStore.open(db) as store:
            build_package(store, coordinator, root / f"{name}.zip")
        out[name] = root / f"{name}.zip"
        out[f"{name}.db"] = db
    return out


@pytest.fixture
def national(tmp_path) -> Iterator[CatalogueStore]:
    store = CatalogueStore.open(tmp_path / "national.db")
    yield store
    store.close()


def _rows(c: Catalogue) -> dict[str, Any]:
    """A catalogue's content, order and title aside."""
    return {"organizations": sorted(c.organizations, key=lambda o: o.id),
            "scenes": sorted(c.scenes, key=lambda s: s.id),
            "partnerships": set(c.partnerships), "exclusions": set(c.exclusions),
            "pins": set(c.pins), "plans": set(c.plans)}


def test_round_trip_package_then_merge_gives_the_same_plan(packages, national):
    package = verify_package(packages[HX])
    summary = merge_packages(national, [packages[HX]])
    assert _rows(national.load()) == _rows(package.catalogue)
    runs = national.runs()
    assert len(runs) == 1
    run = runs[0]
    assert run.coordinator == HX and run.id == summary.packages[0].run_id
    assert run.result == package.result
    assert (run.status, run.objective, run.bound, run.gap) == (
        package.result["status"], package.result["objective"], package.result["bound"],
        package.result["gap"])
    assert run.params["package"]["digest"] == package.digest
    assert run.params["package"]["source_run_id"] == 1
    report = summary.packages[0]
    assert report.organizations_added == len(package.catalogue.organizations)
    assert not report.organizations_renamed and not report.scenes_renamed


def test_both_demo_coordinators_merge_into_the_whole_plan(packages, national):
    from core.demo import demo_catalogue

    merge_packages(national, [packages[ZJ], packages[HX]])
    merged = national.load()
    full = demo_catalogue()
    assert {s.id: s.coordinator for s in merged.scenes} == {s.id: s.coordinator for s in full.scenes}
    # Organisations named by both plans are merged (same USCC or name), not duplicated.
    assert len(merged.organizations) == len({o.id for o in merged.organizations})
    assert {o.id for o in merged.organizations} <= {o.id for o in full.organizations}
    assert {r.coordinator for r in national.runs()} == {ZJ, HX}


def test_merging_the_same_package_again_changes_nothing(packages, national):
    merge_packages(national, [packages[ZJ], packages[HX]])
    national.db.conn.commit()
    before = dump(national.path)
    summary = merge_packages(national, [packages[HX], packages[ZJ]])
    assert dump(national.path) == before
    assert [p.run_id for p in summary.packages] == [None, None]
    assert summary.write is not None and summary.write.total_changes() == 0


def test_the_same_package_twice_in_one_merge_is_merged_once(packages, national):
    summary = merge_packages(national, [packages[HX], packages[HX]])
    assert summary.packages[1].skipped and "identical" in summary.packages[1].skipped
    assert len(national.runs()) == 1


def test_two_coordinators_share_an_organisation_and_clashing_ids_are_renumbered(provinces, national):
    summary = merge_packages(national, [provinces["zj"], provinces["js"]])
    cat = national.load()
    orgs = cat.org_by_id()
    scenes = cat.scene_by_id()

    # The maker: the same USCC under ids M1 and M9 → one organisation, the first record's id.
    makers = [o for o in cat.organizations if Role.MAKER in o.roles]
    assert [o.id for o in makers] == ["M1"]
    maker = orgs["M1"]
    assert maker.roles == (Role.MAKER, Role.SERVICE_PROVIDER)
    assert maker.skills == {"搬运": 4, "分拣": 3}
    assert maker.form_factors == ("双足人形", "轮式人形")
    assert (maker.robot_capacity, maker.max_consortia) == (30, 3)
    # The reducer supplier: same name, no USCC → one organisation with both categories.
    assert [o.id for o in cat.organizations if Role.COMPONENT in o.roles] == ["C1"]
    assert orgs["C1"].component_categories == ("减速器", "关节模组")
    # Different organisations that happened to use U1 and A1 in Jiangsu get new ids.
    js = summary.packages[1]
    assert js.organizations_merged == {"M9": "M1", "C7": "C1"}
    assert js.organizations_renamed == {"U1": "U1-2", "A1": "A1-2"}
    assert orgs["U1"].name == "杭州示例汽车零部件有限公司"
    assert orgs["U1-2"].name == "苏州示例精密制造有限公司"
    assert orgs["A1-2"].name == "苏研智能算法有限公司"
    # Every scene keeps its coordinator; Jiangsu's S1 is renumbered and follows its owner.
    assert js.scenes_renamed == {"S1": "S1-2"}
    assert {sid: (s.coordinator, s.owner) for sid, s in scenes.items()} == {
        "S1": (ZJ, "U1"), "S2": (ZJ, "U1"), "S1-2": (JS, "U1-2"), "S3": (JS, "U1-2")}
    assert scenes["S1-2"].name == "精密件上下料"
    # Relations follow the new ids.
    assert {(p.a, p.b, p.strength) for p in cat.partnerships} == {("A1", "M1", 0.6),
                                                                  ("A1-2", "M1", 0.9)}
    assert {(e.a, e.b) for e in cat.exclusions} == {("A2", "C1")}
    assert {p.coordinator for p in cat.plans} == {ZJ, JS}

    # Each coordinator's run is stored with the new ids and resolves in the merged catalogue.
    runs = {r.coordinator: r for r in national.runs()}
    assert set(runs) == {ZJ, JS}
    js_run = runs[JS].result
    assert {c["scene"] for c in js_run["consortia"]} == {"S1-2", "S3"}
    for run in runs.values():
        for c in run.result["consortia"]:
            assert scenes[c["scene"]].coordinator == run.coordinator
            for m in c["members"]:
                assert Role(m["role"]) in orgs[m["org"]].roles
    members = {m["org"] for c in js_run["consortia"] for m in c["members"]}
    assert members == {"U1-2", "M1", "A1-2", "C1"}
    assert {a["org"] for c in js_run["consortia"] for a in c["alternates"]["algorithm"]} == {"A2"}


def test_the_order_of_packages_decides_which_record_wins(provinces, national):
    merge_packages(national, [provinces["js"], provinces["zj"]])
    orgs = national.load().org_by_id()
    assert "M9" in orgs and "M1" not in orgs
    assert orgs["U1"].name == "苏州示例精密制造有限公司" and orgs["U1-2"].name == "杭州示例汽车零部件有限公司"


def test_remerging_a_coordinator_replaces_its_scenes_and_run(provinces, national, tmp_path):
    merge_packages(national, [provinces["zj"], provinces["js"]])
    # Zhejiang drops S2 from its plan, matches again and sends a new package.
    from matching.engine import MatchParams, match

    source = tmp_path / "zj2.db"
    source.write_bytes(provinces["zj.db"].read_bytes())
    with CatalogueStore.open(source) as store:
        store.delete(scenes=["S2"])
        doc = match(store.load(), MatchParams(time_limit=10, workers=1)).to_dict()
        store.save_run(coordinator=None, status=doc["status"], objective=doc["objective"],
                       bound=doc["bound"], gap=doc["gap"], seconds=doc["seconds"],
                       params=doc["params"], result=doc)
        build_package(store, ZJ, tmp_path / "zj2.zip")
    summary = merge_packages(national, [tmp_path / "zj2.zip"])
    cat = national.load()
    assert sorted(s.id for s in cat.scenes if s.coordinator == ZJ) == ["S1"]
    assert sorted(s.id for s in cat.scenes if s.coordinator == JS) == ["S1-2", "S3"]
    assert summary.packages[0].scenes_removed == ["S2"]
    runs = national.runs()
    assert sorted(r.coordinator for r in runs) == sorted([ZJ, JS])
    zj_run = next(r for r in runs if r.coordinator == ZJ)
    assert [c["scene"] for c in zj_run.result["consortia"]] == ["S1"]


def test_a_refused_package_changes_nothing(packages, provinces, national, tmp_path):
    merge_packages(national, [provinces["zj"]])
    national.db.conn.commit()
    before = dump(national.path)
    pdf = a_pdf(packages[HX])
    data = bytearray(entries(packages[HX])[pdf])
    data[-100] ^= 0xFF
    bad = rezip(packages[HX], tmp_path / "bad.zip", change={pdf: bytes(data)})
    with pytest.raises(InputError) as info:
        merge_packages(national, [provinces["js"], bad, packages[ZJ]])
    report = info.value.report()
    assert "bad.zip" in report and pdf in report and "SHA-256" in report
    assert dump(national.path) == before


def test_every_refused_package_is_reported_at_once(packages, national, tmp_path):
    foreign = tmp_path / "foreign.zip"
    import zipfile

    with zipfile.ZipFile(foreign, "w") as zf:
        zf.writestr("readme.txt", "hello")
    extra = rezip(packages[ZJ], tmp_path / "extra.zip", add={"x.exe": b"MZ"})
    with pytest.raises(InputError) as info:
        merge_packages(national, [foreign, packages[HX], extra])
    report = info.value.report()
    assert "foreign.zip" in report and "no manifest.json" in report
    assert "extra.zip" in report and "x.exe" in report
    assert national.is_empty() and national.runs() == []


def test_two_different_packages_of_one_coordinator_are_refused(packages, national, tmp_path):
    doc = json.loads(entries(packages[HX])[CATALOGUE_ENTRY])
    doc["scenes"][0]["name"] = "改过的场景名称"
    other = rezip(packages[HX], tmp_path / "hx-v2.zip", update_manifest=True,
                  change={CATALOGUE_ENTRY: json.dumps(doc, ensure_ascii=False).encode()})
    with pytest.raises(InputError) as info:
        merge_packages(national, [packages[HX], other])
    report = info.value.report()
    assert "hx-v2.zip" in report and "another package of the same coordinator" in report
    assert national.is_empty()


def test_cancel_before_writing_changes_nothing(packages, national):
    token = CancelToken()

    def progress(fraction: float, message: str) -> None:
        if fraction >= 0.6:
            token.cancel()

    with pytest.raises(Cancelled):
        merge_packages(national, [packages[ZJ], packages[HX]], on_progress=progress, cancel=token)
    assert national.is_empty() and national.runs() == []


def test_national_overview_counts_scenes_consortia_and_robots(packages, national):
    merge_packages(national, [packages[ZJ], packages[HX]])
    catalogue = national.load()
    stats = catalogue_stats(catalogue, national.runs())
    nat = stats["national"]
    rows = {r["coordinator"]: r for r in nat["coordinators"]}
    assert set(rows) == {ZJ, HX}
    for coordinator in (ZJ, HX):
        package = verify_package(packages[coordinator])
        row = rows[coordinator]
        scenes = package.catalogue.scenes
        assert row["scenes"] == len(scenes)
        assert sum(row["by_field"].values()) == len(scenes)
        assert sum(row["by_category"].values()) == len(scenes)
        assert row["consortia"] == len(package.result["consortia"])
        assert row["unmatched"] == len(package.result["unmatched"])
        robots = {s.id: s.robots for s in scenes}
        assert row["robots_matched"] == sum(robots[c["scene"]] for c in package.result["consortia"])
        assert row["kind"] == ("province" if coordinator == ZJ else "central_soe")
    assert nat["consortia"] == rows[ZJ]["consortia"] + rows[HX]["consortia"]
    assert nat["robots_matched"] == rows[ZJ]["robots_matched"] + rows[HX]["robots_matched"]
    assert nat["robot_target"] == 10_000
    assert nat["target_share"] == round(nat["robots_matched"] / 10_000, 4)
    assert nat["by_field"] == stats["by_field"]
    # The keys other code reads are still there.
    for key in ("scenes", "organizations", "robots_planned", "robot_target", "by_field",
                "by_category", "by_coordinator", "plans"):
        assert key in stats
    text = format_stats(stats)
    assert "全国概览" in text and f"{nat['robots_matched']:,} / 10,000" in text
    assert ZJ in text.split("全国概览")[1]


def test_national_overview_uses_the_newest_run_covering_each_coordinator():
    from core.model import Field, MatchRun, Scene

    def scene(sid: str, coordinator: str) -> Scene:
        return Scene(sid, sid, "U", coordinator, Field.SERVICE, "养老助老", "x", ("四足",), 5)

    cat = Catalogue(scenes=(scene("a", "甲"), scene("b", "甲"), scene("c", "乙")))

    def run(rid: int, coordinator: str | None, scenes: list[str]) -> MatchRun:
        return MatchRun(rid, f"2026-01-0{rid}", coordinator, "optimal", 1, 1, 0, 1, {},
                        {"consortia": [{"scene": s, "members": []} for s in scenes],
                         "unmatched": []})

    runs = [run(3, "甲", ["a"]), run(2, None, ["a", "b", "c"]), run(1, "乙", [])]
    nat = catalogue_stats(cat, runs)["national"]
    rows = {r["coordinator"]: r for r in nat["coordinators"]}
    assert (rows["甲"]["run_id"], rows["甲"]["consortia"]) == (3, 1)
    assert (rows["乙"]["run_id"], rows["乙"]["consortia"], rows["乙"]["robots_matched"]) == (2, 1, 5)
    assert nat["runs"] == [3, 2]
    empty = catalogue_stats(cat)["national"]
    assert empty["consortia"] == 0 and empty["scenes"] == 3


def test_combining_two_records_of_one_organisation_is_idempotent():
    a = Organization("X", "甲公司", (Role.MAKER,), "浙江省", skills={"搬运": 2}, max_consortia=2,
                     certifications=("IP54",))
    b = Organization("Y", "甲公司", (Role.ALGORITHM,), "", city="杭州市", skills={"搬运": 4, "分拣": 1},
                     certifications=("IP67", "IP54"))
    ab = combine_organizations(a, b)
    assert ab.id == "X" and ab.province == "浙江省" and ab.city == "杭州市"
    assert ab.roles == (Role.MAKER, Role.ALGORITHM) and ab.skills == {"搬运": 4, "分拣": 1}
    assert ab.certifications == ("IP54", "IP67") and ab.max_consortia == 2
    assert combine_organizations(ab, b) == ab and combine_organizations(a, a) == a


def test_remap_result_rewrites_scenes_members_and_alternates():
    doc = {"status": "optimal", "consortia": [
        {"scene": "S1", "members": [{"org": "A", "role": "user_unit"}],
         "alternates": {"lead": [{"org": "B", "name": "乙", "delta": -1}]}}],
        "unmatched": [{"scene": "S2", "reason": "A 已满"}], "plans": []}
    out = remap_result(doc, {"S1": "S1-2"}, {"A": "A-2", "B": "Q"})
    assert out["consortia"][0]["scene"] == "S1-2"
    assert out["consortia"][0]["members"][0]["org"] == "A-2"
    assert out["consortia"][0]["alternates"]["lead"][0] == {"org": "Q", "name": "乙", "delta": -1}
    assert out["unmatched"] == [{"scene": "S2", "reason": "A 已满"}]
    assert doc["consortia"][0]["scene"] == "S1"  # the input is left alone

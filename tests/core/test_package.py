"""Submission packages: what a package holds, and every way a bad one is refused.

The helpers at the top (re-zipping with changes, patching a declared size, small
two-coordinator catalogues) are shared with test_merge.py and the CLI tests.
"""

from __future__ import annotations

import hashlib
import json
import stat
import struct
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.json_io import parse_json
from core.model import Catalogue
from core.package import (
    CATALOGUE_ENTRY,
    MANIFEST,
    RESULT_ENTRY,
    Limits,
    build_package,
    default_package_name,
    entry_name_problem,
    plan_catalogue,
    plan_result,
    result_org_ids,
    verify_package,
)
from core.problems import CatalogueError, InputError
from core.progress import Cancelled, CancelToken
from core.store import CatalogueStore
from core.uscc import make_uscc
from core.validate import validate

ZJ, HX = "浙江省", "华夏能源集团（虚构）"


# -- helpers ---------------------------------------------------------------------------------

def entries(path: Path) -> dict[str, bytes]:
    """Every entry of a zip, in order."""
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def manifest_of(path: Path) -> dict[str, Any]:
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read(MANIFEST))


def rezip(src: Path, dst: Path, *, change: dict[str, bytes] | None = None,
          drop: tuple[str, ...] = (), add: dict[str, bytes] | None = None,
          infos: dict[str, Callable[[zipfile.ZipInfo], None]] | None = None,
          update_manifest: bool = False, duplicate: str | None = None) -> Path:
    """A copy of package ``src`` with entries changed, dropped or added.

    With ``update_manifest`` the manifest is rewritten to list exactly the new entries with
    their true hashes: the forgery is consistent, so only the structural checks can catch it.
    """
    content = entries(src)
    content.update(change or {})
    for name in drop:
        del content[name]
    content.update(add or {})
    if update_manifest:
        manifest = json.loads(content[MANIFEST])
        manifest["files"] = [{"path": n, "sha256": hashlib.sha256(b).hexdigest(), "size": len(b)}
                             for n, b in content.items() if n != MANIFEST]
        content[MANIFEST] = json.dumps(manifest, ensure_ascii=False).encode()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate we write on purpose
        with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in content.items():
                info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = (stat.S_IFREG | 0o644) << 16
                (infos or {}).get(name, lambda i: None)(info)
                zf.writestr(info, data)
                if name == duplicate:
                    zf.writestr(info, data)
    return dst


def patch_declared_size(path: Path, name: str, size: int) -> None:
    """Rewrite the uncompressed size the central directory declares for ``name``."""
    data = bytearray(path.read_bytes())
    raw = name.encode("utf-8")
    pos = 0
    while (pos := data.find(b"PK\x01\x02", pos)) >= 0:
        name_len = struct.unpack_from("<H", data, pos + 28)[0]
        if data[pos + 46: pos + 46 + name_len] == raw:
            struct.pack_into("<I", data, pos + 24, size)
            path.write_bytes(bytes(data))
            return
        pos += 4
    raise AssertionError(f"{name} not in the central directory")


def a_pdf(path: Path) -> str:
    return next(n for n in entries(path) if n.endswith(".pdf"))


def two_coordinator_docs() -> tuple[dict[str, Any], dict[str, Any]]:
    """Two provinces' own catalogues, as two separate offices would keep them.

    Shared: the maker (same USCC, different ids and skills) and the reducer supplier (same
    name, no USCC). Clashing: ids U1, A1 and S1 name different things in each.
    """
    maker_uscc = make_uscc("91330100MA2B3C4X5")

    def org(oid: str, name: str, roles: list[str], **extra: Any) -> dict[str, Any]:
        return {"id": oid, "name": name, "roles": roles, "province": "浙江省", **extra}

    def scene(sid: str, name: str, owner: str, coordinator: str, **extra: Any) -> dict[str, Any]:
        return {"id": sid, "name": name, "owner": owner, "coordinator": coordinator,
                "field": "industrial", "category": "生产制造", "province": coordinator,
                "form_factors": ["双足人形"], "robots": 3, "skills": {"搬运": 2},
                "components": ["减速器"], **extra}

    zj = {
        "format": "scenematch.catalogue", "version": 1, "name": "浙江省目录",
        "organizations": [
            org("U1", "杭州示例汽车零部件有限公司", ["user_unit"], uscc=make_uscc("91330100MA2B3C4D5")),
            org("M1", "星衡机器人科技有限公司", ["maker"], uscc=maker_uscc, form_factors=["双足人形"],
                skills={"搬运": 3}, robot_capacity=20, max_consortia=3),
            org("A1", "澜拓智能科技有限公司", ["algorithm"], skills={"搬运": 4}, max_consortia=3),
            org("C1", "远辰精密传动有限公司", ["component"], component_categories=["减速器"],
                max_consortia=3),
        ],
        "scenes": [scene("S1", "总装车间搬运", "U1", "浙江省"),
                   scene("S2", "成品仓库搬运", "U1", "浙江省", category="仓储物流", field="service")],
        "partnerships": [{"a": "A1", "b": "M1", "strength": 0.6}],
        "plans": [{"coordinator": "浙江省", "kind": "province", "min_scenes": 2, "min_fields": 1}],
    }
    js = {
        "format": "scenematch.catalogue", "version": 1, "name": "江苏省目录",
        "organizations": [
            org("U1", "苏州示例精密制造有限公司", ["user_unit"], uscc=make_uscc("91320500MA1XY2W3A"),
                province="江苏省"),
            org("M9", "星衡机器人科技有限公司", ["maker", "service_provider"], uscc=maker_uscc,
                form_factors=["双足人形", "轮式人形"], skills={"搬运": 4, "分拣": 3},
                robot_capacity=30, max_consortia=2),
            org("A1", "苏研智能算法有限公司", ["algorithm"], skills={"搬运": 4}, max_consortia=3,
                province="江苏省"),
            org("A2", "金陵具身智能有限公司", ["algorithm"], skills={"搬运": 2}, max_consortia=3,
                province="江苏省"),
            org("C7", "远辰精密传动有限公司", ["component"], component_categories=["减速器", "关节模组"],
                max_consortia=3),
        ],
        "scenes": [scene("S1", "精密件上下料", "U1", "江苏省", province="江苏省"),
                   scene("S3", "立体仓库拣选", "U1", "江苏省", category="仓储物流", field="service")],
        "partnerships": [{"a": "A1", "b": "M9", "strength": 0.9}],
        "exclusions": [{"a": "A2", "b": "C7", "reason": "合同纠纷"}],
        "plans": [{"coordinator": "江苏省", "kind": "province", "min_scenes": 2, "min_fields": 1}],
    }
    return zj, js


def store_with_run(path: Path, doc: dict[str, Any], coordinator: str | None = None) -> Path:
    """A catalogue file holding ``doc`` and one matchmaking run over it."""
    from matching.engine import MatchParams, match

    catalogue = validate(parse_json(json.dumps(doc, ensure_ascii=False), "doc.json")).catalogue
    result = match(catalogue, MatchParams(time_limit=10, workers=1, coordinator=coordinator)).to_dict()
    with CatalogueStore.open(path) as store:
        store.write(catalogue)
        store.save_run(coordinator=coordinator, status=result["status"],
                       objective=result["objective"], bound=result["bound"], gap=result["gap"],
                       seconds=result["seconds"], params=result["params"], result=result)
    return path


def refused(path: Path, limits: Limits | None = None) -> str:
    """The report of a refused package (fails the test when the package is accepted)."""
    with pytest.raises(InputError) as info:
        verify_package(path, limits)
    return info.value.report()


# -- fixtures ---------------------------------------------------------------------------------

def demo_packages(root: Path, demo_result: dict[str, Any]) -> dict[str, Path]:
    """Both demo coordinators' packages (keys: the coordinators) and their source ("db")."""
    from core.demo import install_demo

    out = {}
    with CatalogueStore.open(root / "demo.db") as store:
        install_demo(store)
        store.save_run(coordinator=None, status=demo_result["status"],
                       objective=demo_result["objective"], bound=demo_result["bound"],
                       gap=demo_result["gap"], seconds=demo_result["seconds"],
                       params=demo_result["params"], result=demo_result)
        for coordinator, name in ((ZJ, "zj.zip"), (HX, "hx.zip")):
            build_package(store, coordinator, root / name)
            out[coordinator] = root / name
    out["db"] = root / "demo.db"
    return out


@pytest.fixture(scope="module")
def packages(tmp_path_factory, demo_result) -> dict[str, Path]:
    """Both demo coordinators' packages, built once from the demo catalogue and its run."""
    return demo_packages(tmp_path_factory.mktemp("packages"), demo_result)


# -- building -----------------------------------------------------------------------------------

def test_package_holds_pdfs_data_and_a_manifest_of_every_file(packages, demo_result):
    path = packages[ZJ]
    content = entries(path)
    manifest = json.loads(content[MANIFEST])
    assert manifest["format"] == "scenematch.package" and manifest["version"] == 1
    assert manifest["coordinator"] == ZJ and manifest["run_id"] == 1
    assert manifest["schema_version"] >= 1 and manifest["app_version"]
    assert manifest["created"].endswith("+00:00")
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == set(content) - {MANIFEST}
    for name, data in content.items():
        if name != MANIFEST:
            assert listed[name]["size"] == len(data)
            assert listed[name]["sha256"] == hashlib.sha256(data).hexdigest()
    assert {"data/catalogue.json", "data/result.json", "data/catalogue.xlsx",
            "data/result.xlsx"} <= set(content)
    pdfs = [n for n in content if n.endswith(".pdf")]
    proposals = [n for n in pdfs if n.startswith("联合体组建方案/")]
    zj_consortia = [c for c in demo_result["consortia"]
                    if c["scene"] in {s["id"] for s in json.loads(content[CATALOGUE_ENTRY])["scenes"]}]
    assert len(proposals) == len(zj_consortia) == manifest["counts"]["consortia"]
    assert len(pdfs) == len(proposals) + 1  # and the plan summary
    assert all(content[n].startswith(b"%PDF") for n in pdfs)


def test_package_data_is_the_coordinators_part_of_catalogue_and_run(packages, demo_result):
    from core.demo import demo_catalogue

    full = demo_catalogue()
    package = verify_package(packages[HX])
    cat, result = package.catalogue, package.result
    assert {s.id for s in cat.scenes} == {s.id for s in full.scenes if s.coordinator == HX}
    assert all(s.coordinator == HX for s in cat.scenes)
    assert [p.coordinator for p in cat.plans] == [HX]
    org_ids = {o.id for o in cat.organizations}
    # Every id the package names resolves inside the package, and nothing more is carried.
    needed = {s.owner for s in cat.scenes} | {p.org for p in cat.pins} | result_org_ids(result)
    assert org_ids == needed
    assert all({p.a, p.b} <= org_ids for p in (*cat.partnerships, *cat.exclusions))
    assert cat.partnerships and set(cat.partnerships) == {
        p for p in full.partnerships if {p.a, p.b} <= org_ids}
    # The run, restricted to the coordinator, with its figures and parameters.
    hx_scenes = {s.id for s in cat.scenes}
    assert result["consortia"] == [c for c in demo_result["consortia"] if c["scene"] in hx_scenes]
    assert result["unmatched"] == [u for u in demo_result["unmatched"] if u["scene"] in hx_scenes]
    assert [p["coordinator"] for p in result["plans"]] == [HX]
    for key in ("status", "objective", "bound", "gap", "params"):
        assert result[key] == demo_result[key]
    assert result["coordinator"] == HX and result["run"]["id"] == 1


def test_data_xlsx_files_hold_the_same_plan(packages, tmp_path):
    from openpyxl import load_workbook

    from core.xlsx_io import read_workbook

    content = entries(packages[HX])
    (tmp_path / "c.xlsx").write_bytes(content["data/catalogue.xlsx"])
    (tmp_path / "r.xlsx").write_bytes(content["data/result.xlsx"])
    from_xlsx = validate(read_workbook(tmp_path / "c.xlsx")).catalogue
    package = verify_package(packages[HX])
    assert {s.id for s in from_xlsx.scenes} == {s.id for s in package.catalogue.scenes}
    assert {o.id for o in from_xlsx.organizations} == {o.id for o in package.catalogue.organizations}
    wb = load_workbook(tmp_path / "r.xlsx", read_only=True)
    rows = list(wb["联合体 Consortia"].iter_rows(values_only=True))
    members = sum(len(c["members"]) for c in package.result["consortia"])
    assert len(rows) == members + 1
    scene_names = {s.name for s in package.catalogue.scenes}
    assert {r[1] for r in rows[1:]} <= scene_names
    unmatched = list(wb["未匹配 Unmatched"].iter_rows(values_only=True))
    assert len(unmatched) == len(package.result["unmatched"]) + 1
    wb.close()


def test_plan_subset_helpers_keep_only_the_coordinator(demo_result):
    from core.demo import demo_catalogue

    full = demo_catalogue()
    result = plan_result(demo_result, full, ZJ)
    subset = plan_catalogue(full, result, ZJ)
    assert len(subset.scenes) == sum(s.coordinator == ZJ for s in full.scenes)
    assert "diff" not in result and result["coordinator"] == ZJ
    assert len(result["consortia"]) + len(result["unmatched"]) == len(subset.scenes)


def test_unknown_coordinator_or_no_run_leaves_no_file(tmp_path, packages):
    out = tmp_path / "x.zip"
    with CatalogueStore.open(packages["db"]) as store:
        with pytest.raises(CatalogueError, match="unknown coordinator '北京市'"):
            build_package(store, "北京市", out)
        with pytest.raises(CatalogueError, match="no run 99"):
            build_package(store, ZJ, out, run_id=99)
    bare = tmp_path / "bare.db"
    with CatalogueStore.open(bare) as store:
        from core.demo import install_demo

        install_demo(store)
        with pytest.raises(CatalogueError, match="no stored run covers"):
            build_package(store, ZJ, out)
    assert list(tmp_path.iterdir()) == [bare]


def test_cancel_leaves_no_file_and_progress_is_reported(tmp_path, packages):
    token = CancelToken()
    seen: list[float] = []

    def progress(fraction: float, message: str) -> None:
        seen.append(fraction)
        if fraction >= 0.85:
            token.cancel()

    out = tmp_path / "x.zip"
    with CatalogueStore.open(packages["db"]) as store, pytest.raises(Cancelled):
        build_package(store, HX, out, on_progress=progress, cancel=token)
    assert list(tmp_path.iterdir()) == []
    assert seen == sorted(seen) and seen[0] == 0.0


def test_rebuilding_replaces_the_old_package_whole(tmp_path, packages):
    out = tmp_path / "hx.zip"
    out.write_bytes(b"an older package")
    with CatalogueStore.open(packages["db"]) as store:
        manifest = build_package(store, HX, out)
    assert verify_package(out).manifest == manifest
    assert [p.name for p in tmp_path.iterdir()] == ["hx.zip"]


def test_default_package_name_is_a_safe_file_name():
    import datetime as dt

    assert default_package_name("华夏/能源:集团", dt.date(2026, 3, 1)) == "申报材料包-华夏_能源_集团-20260301.zip"


# -- verifying ---------------------------------------------------------------------------------

def test_a_good_package_verifies(packages):
    package = verify_package(packages[ZJ])
    assert package.coordinator == ZJ and package.run_id == 1
    assert len(package.digest) == 64 and not package.warnings
    assert isinstance(package.catalogue, Catalogue) and package.catalogue.scenes


def test_one_changed_byte_in_a_pdf_is_refused(packages, tmp_path):
    pdf = a_pdf(packages[ZJ])
    data = bytearray(entries(packages[ZJ])[pdf])
    data[len(data) // 2] ^= 0x01
    report = refused(rezip(packages[ZJ], tmp_path / "t.zip", change={pdf: bytes(data)}))
    assert "t.zip" in report and pdf in report
    assert "SHA-256 does not match the manifest" in report


def test_a_changed_size_is_refused(packages, tmp_path):
    pdf = a_pdf(packages[ZJ])
    report = refused(rezip(packages[ZJ], tmp_path / "t.zip",
                           change={pdf: entries(packages[ZJ])[pdf] + b"\n"}))
    assert pdf in report and "size does not match the manifest" in report


def test_changed_data_with_the_manifest_left_alone_is_refused(packages, tmp_path):
    doc = json.loads(entries(packages[ZJ])[CATALOGUE_ENTRY])
    doc["scenes"][0]["robots"] = 999
    report = refused(rezip(packages[ZJ], tmp_path / "t.zip",
                           change={CATALOGUE_ENTRY: json.dumps(doc).encode()}))
    assert CATALOGUE_ENTRY in report and "altered" in report


@pytest.mark.parametrize("cut", [0.5, 0.99])
def test_a_truncated_package_is_refused(packages, tmp_path, cut):
    data = packages[ZJ].read_bytes()
    path = tmp_path / "cut.zip"
    path.write_bytes(data[: int(len(data) * cut)])
    report = refused(path)
    assert "cut.zip" in report and "not a zip file, or truncated" in report


def test_damaged_compressed_data_is_refused(packages, tmp_path):
    # The directory is intact but one entry's compressed bytes are garbage.
    path = tmp_path / "damaged.zip"
    data = bytearray(packages[ZJ].read_bytes())
    with zipfile.ZipFile(packages[ZJ]) as zf:
        info = zf.getinfo(a_pdf(packages[ZJ]))
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 100, start + 400):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    report = refused(path)
    assert info.filename in report
    assert "damaged or truncated" in report or "altered" in report


def test_not_a_zip_at_all_is_refused(tmp_path):
    path = tmp_path / "plan.zip"
    path.write_text("这不是 zip", encoding="utf-8")
    assert "not a zip file" in refused(path)
    assert "no such file" in refused(tmp_path / "missing.zip")


@pytest.mark.parametrize("name, words", [
    ("../evil.txt", "path traversal"),
    ("data/../../evil.txt", "path traversal"),
    ("/etc/cron.d/evil", "absolute path"),
    ("C:/Windows/evil.dll", "drive letter"),
    ("data\\..\\evil.txt", "backslash"),
    ("data//evil.txt", "empty or '.' component"),
])
def test_path_tricks_are_refused_even_when_the_manifest_lists_them(packages, tmp_path, name, words):
    path = rezip(packages[ZJ], tmp_path / "trick.zip", add={name: b"x"}, update_manifest=True)
    report = refused(path)
    assert words in report and name in report and "trick.zip" in report


def test_a_symlink_entry_is_refused(packages, tmp_path):
    def as_link(info: zipfile.ZipInfo) -> None:
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16

    path = rezip(packages[ZJ], tmp_path / "link.zip", add={"data/passwd": b"/etc/passwd"},
                 infos={"data/passwd": as_link}, update_manifest=True)
    report = refused(path)
    assert "symbolic link" in report and "data/passwd" in report


def test_a_zip_bomb_is_refused_before_it_is_expanded(packages, tmp_path):
    bomb = bytes(64 * 1024 * 1024)  # 64 MiB of zeros: about 64 KiB deflated
    path = rezip(packages[ZJ], tmp_path / "bomb.zip", add={"data/bomb.bin": bomb},
                 update_manifest=True)
    report = refused(path)
    assert "data/bomb.bin" in report and "compression ratio" in report


def test_a_huge_declared_size_is_refused(packages, tmp_path):
    path = rezip(packages[ZJ], tmp_path / "huge.zip", add={"data/huge.bin": b"small"},
                 update_manifest=True)
    patch_declared_size(path, "data/huge.bin", 0xFFFF_FFF0)
    report = refused(path)
    assert "data/huge.bin" in report and "expands beyond a sane size" in report


def test_a_header_that_understates_the_size_cannot_make_us_read_more(packages, tmp_path):
    # Declares 1 KiB, holds 2 MiB: reading stops at the declared size and the entry is refused.
    blob = bytes(range(256)) * 8192
    path = rezip(packages[ZJ], tmp_path / "liar.zip", add={"data/liar.bin": blob},
                 update_manifest=True)
    patch_declared_size(path, "data/liar.bin", 1024)
    report = refused(path)
    assert "data/liar.bin" in report


def test_total_size_limit(packages):
    report = refused(packages[ZJ], Limits(total_bytes=100_000))
    assert "expand beyond a sane size" in report


def test_an_extra_file_is_refused(packages, tmp_path):
    report = refused(rezip(packages[ZJ], tmp_path / "extra.zip", add={"notes.txt": b"hi"}))
    assert "notes.txt" in report and "extra file not listed in the manifest" in report


def test_a_missing_file_is_refused(packages, tmp_path):
    pdf = a_pdf(packages[ZJ])
    report = refused(rezip(packages[ZJ], tmp_path / "missing.zip", drop=(pdf,)))
    assert pdf in report and "file listed in the manifest is missing" in report


def test_a_duplicate_entry_is_refused(packages, tmp_path):
    pdf = a_pdf(packages[ZJ])
    report = refused(rezip(packages[ZJ], tmp_path / "dup.zip", duplicate=pdf))
    assert pdf in report and "duplicate entry" in report


def test_a_foreign_zip_is_refused(tmp_path):
    path = tmp_path / "photos.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("photo.jpg", b"\xff\xd8\xff")
        zf.writestr("data/catalogue.json", b"{}")
    report = refused(path)
    assert "photos.zip" in report and "not a SceneMatch submission package" in report
    assert "no manifest.json" in report


@pytest.mark.parametrize("manifest, words", [
    (b"{not json", "manifest.json cannot be parsed"),
    (b'{"format": "other.thing", "version": 1}', "format should be 'scenematch.package'"),
    (b'{"format": "scenematch.package", "version": 2}', "unsupported package version 2"),
    (b'{"format": "scenematch.package", "version": 1, "coordinator": "x", "files": [{"path": '
     b'"../x", "sha256": "' + b"0" * 64 + b'", "size": 1}]}', "path traversal"),
])
def test_a_bad_manifest_is_refused(packages, tmp_path, manifest, words):
    report = refused(rezip(packages[ZJ], tmp_path / "m.zip", change={MANIFEST: manifest}))
    assert words in report and "manifest.json" in report


def test_consistent_forgeries_are_caught_by_the_data_checks(packages, tmp_path):
    content = entries(packages[ZJ])
    doc = json.loads(content[CATALOGUE_ENTRY])
    doc["scenes"][0]["coordinator"] = "北京市"
    report = refused(rezip(packages[ZJ], tmp_path / "a.zip", update_manifest=True,
                           change={CATALOGUE_ENTRY: json.dumps(doc, ensure_ascii=False).encode()}))
    assert "holds scenes of other coordinators" in report and CATALOGUE_ENTRY in report

    result = json.loads(content[RESULT_ENTRY])
    result["consortia"][0]["members"][1]["org"] = "NOBODY"
    report = refused(rezip(packages[ZJ], tmp_path / "b.zip", update_manifest=True,
                           change={RESULT_ENTRY: json.dumps(result, ensure_ascii=False).encode()}))
    assert "NOBODY" in report and RESULT_ENTRY in report

    doc = json.loads(content[CATALOGUE_ENTRY])
    doc["scenes"][0]["robots"] = -1
    report = refused(rezip(packages[ZJ], tmp_path / "c.zip", update_manifest=True,
                           change={CATALOGUE_ENTRY: json.dumps(doc, ensure_ascii=False).encode()}))
    assert f"{CATALOGUE_ENTRY} › scenes[0]" in report


@pytest.mark.parametrize("name, ok", [
    ("data/catalogue.json", True), ("联合体组建方案/S001_总装.pdf", True), ("a/b/", True),
    ("", False), ("../a", False), ("a/../b", False), ("/a", False), ("C:a", False),
    ("a\\b", False), ("a//b", False), ("./a", False), ("a\x00b", False),
])
def test_entry_names(name, ok):
    assert (entry_name_problem(name, Limits()) is None) is ok


def test_a_package_without_pdfs_is_still_a_package(packages, tmp_path):
    # The PDFs are for people; the data and manifest are what the national level needs.
    pdfs = [n for n in entries(packages[HX]) if n.endswith(".pdf")]
    path = rezip(packages[HX], tmp_path / "data-only.zip", drop=tuple(pdfs), update_manifest=True)
    assert verify_package(path).coordinator == HX


def test_a_package_verifies_when_its_catalogue_names_one_firm_twice(tmp_path):
    # A catalogue edited by hand may hold one firm under two ids; the package's checks merge
    # them like an import does, and the result follows to the kept id.
    from dataclasses import replace

    from matching.engine import MatchParams, match

    zj_doc, _ = two_coordinator_docs()
    catalogue = validate(parse_json(json.dumps(zj_doc, ensure_ascii=False), "zj.json")).catalogue
    c1 = catalogue.org_by_id()["C1"]
    twin = replace(c1, id="C2")
    catalogue = replace(catalogue, organizations=(*catalogue.organizations, twin))
    result = match(catalogue, MatchParams(time_limit=10, workers=1)).to_dict()
    with CatalogueStore.open(tmp_path / "zj.db") as store:
        store.write(catalogue)
        store.save_run(coordinator=None, status=result["status"], objective=result["objective"],
                       bound=result["bound"], gap=result["gap"], seconds=result["seconds"],
                       params=result["params"], result=result)
        build_package(store, ZJ, tmp_path / "zj.zip")
    assert "C2" in result_org_ids(result)
    package = verify_package(tmp_path / "zj.zip")
    assert [o.id for o in package.catalogue.organizations if o.name == c1.name] == ["C1"]
    assert "C2" not in result_org_ids(package.result)
    assert any("merged into 'C1'" in str(w) for w in package.warnings)

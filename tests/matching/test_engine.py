"""Named tests: each hard rule, pins, exclusions, plan rules, cancel, time limit, re-matching."""

from __future__ import annotations

import json
import math
import re
import threading
import time
from dataclasses import replace

import pytest

from core.demo import demo_catalogue
from core.generate import GenerateSpec, generate
from core.json_io import parse_json
from core.model import Catalogue, Exclusion, Partnership, Pin, PlanKind, PlanRule, Role
from core.progress import CancelToken
from core.validate import validate
from matching.engine import MatchParams, compare_results, match
from matching.engine import explain as engine_explain
from tests.conftest import org, scene
from tests.matching.oracle import check_result


def catalogue(orgs, scenes, **extra) -> Catalogue:
    doc = {"format": "scenematch.catalogue", "version": 1, "organizations": orgs, "scenes": scenes}
    doc.update(extra)
    return validate(parse_json(json.dumps(doc, ensure_ascii=False), "t.json")).catalogue


def run(cat: Catalogue, **params) -> dict:
    doc = match(cat, MatchParams(**{"time_limit": 10, **params})).to_dict()
    coordinator = params.get("coordinator")
    # A one-plan run answers for that plan's scenes only.
    scope = cat if coordinator is None else replace(
        cat, scenes=tuple(s for s in cat.scenes if s.coordinator == coordinator))
    assert check_result(scope, doc) == []
    return doc


def lead_of(doc: dict, scene_id: str) -> str | None:
    for c in doc["consortia"]:
        if c["scene"] == scene_id:
            return next(m["org"] for m in c["members"] if m["role"] in ("maker", "service_provider"))
    return None


USER = org("U", ["user_unit"])
ALG = org("A", ["algorithm"], skills={"搬运": 5})


def maker(oid: str, **extra):
    base = {"form_factors": ["双足人形"], "robot_capacity": 50, "max_consortia": 3,
            "skills": {"搬运": 3}}
    return org(oid, ["maker"], **{**base, **extra})


def test_form_factor_certification_and_capacity_are_hard():
    cat = catalogue(
        [USER, ALG,
         maker("M-form", form_factors=["四足"], capabilities={"execution": 5}),
         maker("M-cert", certifications=[], capabilities={"execution": 5}),
         maker("M-cap", robot_capacity=3, certifications=["IP65"], capabilities={"execution": 5}),
         maker("M-ok", certifications=["IP65"])],
        [scene("S1", "U", certifications=["IP65"], robots=5)],
    )
    result = match(cat, MatchParams(time_limit=10))
    doc = result.to_dict()
    assert lead_of(doc, "S1") == "M-ok"
    assert "形态不符" in result.why_not("S1", "M-form")
    assert "missing certification IP65" in result.why_not("S1", "M-cert")
    assert "robot capacity 3 < 5" in result.why_not("S1", "M-cap")


def test_skill_reached_by_lead_or_algorithm_else_unmatched():
    weak = maker("M", skills={"搬运": 1})
    ok = run(catalogue([USER, weak, ALG], [scene("S1", "U", skills={"搬运": 4})]))
    assert lead_of(ok, "S1") == "M"  # the algorithm supplier reaches level 4
    none = run(catalogue([USER, weak, org("A", ["algorithm"], skills={"搬运": 2})],
                         [scene("S1", "U", skills={"搬运": 4})]))
    assert none["consortia"] == []
    assert "搬运" in none["unmatched"][0]["reason"]
    alone = run(catalogue([USER, weak, ALG],
                          [scene("S1", "U", skills={"搬运": 4}, needs_algorithm=False)]))
    assert alone["consortia"] == []  # no algorithm supplier: the lead alone must reach it


def test_robot_capacity_counts_across_scenes_and_max_consortia_once_per_consortium():
    both = org("MA", ["maker", "algorithm"], form_factors=["双足人形"], robot_capacity=10,
               max_consortia=2, skills={"搬运": 5})
    cat = catalogue([USER, both], [scene(f"S{i}", "U", robots=4) for i in range(1, 4)])
    doc = run(cat)
    # Lead and algorithm supplier at once counts once; 2 consortia max; 8 of 10 robots.
    assert len(doc["consortia"]) == 2
    assert all({m["role"] for m in c["members"]} >= {"maker", "algorithm"} for c in doc["consortia"])
    assert "at capacity" in doc["unmatched"][0]["reason"]


def test_exclusions_include_the_owner():
    cat = catalogue([USER, ALG, maker("M1", capabilities={"execution": 5}), maker("M2")],
                    [scene("S1", "U")],
                    exclusions=[{"a": "U", "b": "M1", "reason": "诉讼"}, {"a": "M2", "b": "A"}])
    result = match(cat, MatchParams(time_limit=10))
    doc = result.to_dict()
    # M1 is excluded with the owner; M2 with the only algorithm supplier: nobody is left.
    assert doc["consortia"] == []
    assert "excluded with the owner" in result.why_not("S1", "M1")


def test_pins_stay_even_against_a_better_fit():
    best = maker("M-best", capabilities={k: 5 for k in ("execution", "learning")},
                 province="浙江省")
    pinned = maker("M-pin", province="新疆维吾尔自治区")
    cat = catalogue([USER, ALG, best, pinned], [scene("S1", "U")],
                    pins=[{"scene": "S1", "org": "M-pin", "role": "maker"}])
    assert lead_of(run(cat), "S1") == "M-pin"
    unpinned = replace(cat, pins=())
    assert lead_of(run(unpinned), "S1") == "M-best"


def test_impossible_pin_keeps_the_scene_out_and_says_why():
    cat = catalogue([USER, ALG, maker("M", form_factors=["四足"]), maker("M2")], [scene("S1", "U")])
    cat = replace(cat, pins=(Pin("S1", "M", Role.MAKER),))
    doc = run(cat)
    assert doc["consortia"] == []
    assert "pinned M breaks a hard rule" in doc["unmatched"][0]["reason"]


def test_components_and_institute_are_filled_per_category():
    cat = catalogue(
        [USER, ALG, maker("M"), org("C1", ["component"], component_categories=["减速器", "灵巧手"],
                                    max_consortia=2),
         org("C2", ["component"], component_categories=["灵巧手"]),
         org("I", ["institute"])],
        [scene("S1", "U", components=["减速器", "灵巧手"], needs_institute=True)],
    )
    doc = run(cat)
    members = doc["consortia"][0]["members"]
    cats = {m["category"]: m["org"] for m in members if m["role"] == "component"}
    assert set(cats) == {"减速器", "灵巧手"} and cats["减速器"] == "C1"
    assert any(m["role"] == "institute" and m["org"] == "I" for m in members)


def test_partnership_raises_fit_and_breakdown_sums_to_fit():
    cat = catalogue([USER, ALG, maker("M1"), maker("M2")], [scene("S1", "U")],
                    partnerships=[{"a": "M2", "b": "A", "strength": 1.0}])
    doc = run(cat)
    consortium = doc["consortia"][0]
    assert lead_of(doc, "S1") == "M2"
    assert consortium["breakdown"]["partnership"] > 0
    assert abs(sum(consortium["breakdown"].values()) - consortium["fit"]) < 0.05


def test_unmet_plan_rule_is_explained_precisely():
    demo = demo_catalogue()
    soe = next(p for p in demo.plans if p.kind is PlanKind.CENTRAL_SOE)
    strict = replace(demo, plans=tuple(
        PlanRule(p.coordinator, p.kind, 15, p.min_fields) if p is soe else p for p in demo.plans))
    doc = run(strict, coordinator=soe.coordinator)
    plan = doc["plans"][0]
    assert not plan["compliant"] and plan["scenes"] == 14
    why = "\n".join(plan["why"])
    assert "rule asks for 15" in why
    # The unmatched mine scene names the two MA makers and their used capacity.
    assert "O049" in why and "O050" in why and "at capacity" in why


def test_field_rule_shapes_the_choice():
    # Two makers, one slot each; the rule wants two fields, so the service scene is matched
    # even though the second industrial scene has the higher priority.
    cat = catalogue(
        [USER, {**ALG, "max_consortia": 3}, maker("M", max_consortia=2)],
        [scene("S1", "U"), scene("S2", "U", priority=2), scene("S3", "U", field="service")],
        plans=[{"coordinator": "浙江省", "kind": "province", "min_scenes": 2, "min_fields": 2}],
    )
    doc = run(cat)
    assert {c["scene"] for c in doc["consortia"]} == {"S2", "S3"}
    assert doc["plans"][0]["compliant"]


def test_demo_is_solved_to_proven_optimality():
    doc = run(demo_catalogue())
    assert doc["status"] == "optimal" and doc["gap"] == 0
    assert doc["matched_priority"] == doc["matched_priority_bound"]


def test_pruned_run_reports_a_bound_that_holds():
    demo = demo_catalogue()
    full = run(demo)
    seen = []
    pruned = match(demo, MatchParams(time_limit=10, column_budget=600,
                                     on_progress=seen.append)).to_dict()
    assert check_result(demo, pruned) == []
    # The searches' bounds speak of the kept candidates only, and say so; the final ones
    # hold for the whole problem.
    assert {p.stage for p in seen if p.kept_only} == {"A", "B"}
    assert not any(p.kept_only for p in seen if p.stage in ("bound", "done"))
    assert pruned["solver"]["candidates_pruned"] > 0
    assert pruned["status"] == "feasible"
    # The bound of the pruned run is a bound for the whole problem: at least the optimum.
    assert pruned["bound"] >= full["objective"] - 1e-6
    assert pruned["matched_priority_bound"] >= full["matched_priority"]


def test_cancel_stops_quickly_with_the_best_found():
    cat = generate(GenerateSpec(scenes=300, orgs=700, seed=3))
    token = CancelToken()
    progress = []
    params = MatchParams(time_limit=120, cancel=token, on_progress=progress.append)
    out: dict = {}
    worker = threading.Thread(target=lambda: out.setdefault("doc", match(cat, params).to_dict()))
    worker.start()
    deadline = time.monotonic() + 60
    while not progress and time.monotonic() < deadline:
        time.sleep(0.05)
    token.cancel()
    cancelled_at = time.monotonic()
    worker.join(timeout=30)
    assert not worker.is_alive()
    doc = out["doc"]
    assert doc["status"] == "cancelled"
    assert check_result(cat, doc) == []
    # The search itself stops at once; what remains is writing the explanations.
    assert time.monotonic() - cancelled_at < 10


def test_time_limit_returns_a_valid_answer():
    cat = generate(GenerateSpec(scenes=300, orgs=700, seed=4))
    started = time.monotonic()
    doc = run(cat, time_limit=3)
    assert doc["status"] in ("optimal", "feasible")
    assert time.monotonic() - started < 3 * 5 + 10  # generous: only that the limit is honoured


def test_rematch_keeps_memberships_when_an_organisation_withdraws():
    demo = demo_catalogue()
    first = run(demo)
    gone = lead_of(first, "S001")
    withdrawn = replace(demo, organizations=tuple(
        replace(o, max_consortia=0) if o.id == gone else o for o in demo.organizations),
        pins=tuple(p for p in demo.pins if p.org != gone))
    plain = run(withdrawn)
    stable = match(withdrawn, MatchParams(time_limit=10, previous=first)).to_dict()
    assert check_result(withdrawn, stable) == []
    assert len(stable["consortia"]) >= len(plain["consortia"])  # never at the cost of scenes
    moved = compare_results(first, plain)["memberships"]["changed"]
    assert stable["diff"]["changed"] <= moved
    assert any(ch["before"] == gone for ch in stable["diff"]["changes"])
    assert all(ch["after"] != gone for ch in stable["diff"]["changes"])


def test_new_exclusion_and_partnership_move_members():
    demo = demo_catalogue()
    first = run(demo)
    consortium = next(c for c in first["consortia"] if c["scene"] == "S002")
    lead = lead_of(first, "S002")
    alg = next(m["org"] for m in consortium["members"] if m["role"] == "component")
    changed = replace(demo, exclusions=(*demo.exclusions, Exclusion(lead, alg, "新冲突")),
                      partnerships=demo.partnerships + (Partnership("O001", "O002", 1.0),))
    doc = match(changed, MatchParams(time_limit=10, previous=first)).to_dict()
    assert check_result(changed, doc) == []
    after = next(c for c in doc["consortia"] if c["scene"] == "S002")
    orgs = {m["org"] for m in after["members"]}
    assert not {lead, alg} <= orgs


@pytest.mark.parametrize("case", ["json", "explain", "runs"])
def test_cli_match(tmp_path, run_cli, case):
    db = tmp_path / "demo.db"
    run_cli("demo", "--db", db, check=True)
    out = tmp_path / "result.json"
    proc = run_cli("match", "--db", db, "--time-limit", "20", "--json", out,
                   *(["--explain", "S031", "--org", "O049"] if case == "explain" else []),
                   check=True)
    assert "已证明最优" in proc.stdout and "44/45" in proc.stdout
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["format"] == "scenematch.result" and doc["status"] == "optimal"
    assert check_result(demo_catalogue(), doc) == []
    # Progress on stderr speaks the result's units (fit points), as the GUI does.
    last = [line for line in proc.stderr.replace("\r", "\n").splitlines() if "] done " in line][-1]
    assert f"适配度 fit {doc['objective']:.2f} 上界 bound {doc['bound']:.2f}" in last, last
    # While the value is not settled the combined search's bound says nothing of the fit
    # ("—"), rather than a number a million times too large.
    bounds = [float(b) for b in re.findall(r"上界 bound ([0-9.]+)", proc.stderr)]
    assert bounds and max(bounds) < 2 * doc["bound"], bounds
    if case == "explain":
        assert "分项 breakdown" in proc.stdout and "备选 alternates" in proc.stdout
        assert "already in 2 consortia (max 2)" in proc.stdout
    if case == "runs":
        run_cli("match", "--db", db, "--time-limit", "20", "--rematch", "latest",
                "--weight", "locality=40", check=True)
        listing = run_cli("runs", "--db", db, check=True).stdout
        assert listing.count("optimal") == 2
        cmp = json.loads(run_cli("compare", "--db", db, "1", "2", "--json", check=True).stdout)
        assert cmp["matched"] == {"before": 44, "after": 44}
        bad = run_cli("match", "--db", db, "--coordinator", "火星")
        assert bad.returncode == 2 and "unknown coordinator" in bad.stderr
        for args, says in ((["--weight", "locality"], "expected NAME=NUMBER"),
                           (["--weight", "luck=3"], "unknown weight"),
                           (["--explain", "S999"], "unknown scene"),
                           (["--time-limit", "-3"], "expected a positive number of seconds"),
                           (["--time-limit", "nan"], "expected a positive number of seconds")):
            bad = run_cli("match", "--db", db, *args)
            assert bad.returncode == 2 and says in bad.stderr, bad.stderr
        after = run_cli("runs", "--db", db, check=True).stdout
        assert after == listing  # none of the refused runs was stored


def test_cli_match_refuses_bad_requests_before_solving_and_stores_nothing(tmp_path, run_cli):
    from core.lock import CatalogueLock
    from tests.conftest import dump

    db = tmp_path / "demo.db"
    run_cli("demo", "--db", db, check=True)
    before = dump(db)
    (tmp_path / "folder").mkdir()
    for args, says in (
            (["--json", tmp_path / "missing" / "out.json"], "no such folder"),
            (["--json", tmp_path / "folder"], "is a folder"),
            (["--org", "O049"], "--org needs --explain"),
            (["--explain", "S001", "--org", "NOPE"], "unknown organisation 'NOPE'"),
            (["--coordinator", "浙江省", "--explain", "S033"], "scene not in this coordinator's plan"),
            (["--rematch", "abc"], "expected a run id or 'latest'"),
            (["--rematch", "1.5"], "expected a run id or 'latest'"),
            (["--weight", "concentration_share=-1"], "must be 0 or more"),
            (["--weight", "capability=-10"], "must be 0 or more"),
            (["--weight", "lead_share=2"], "a share lies in 0..1"),
            (["--json", db], "is the catalogue itself")):
        bad = run_cli("match", "--db", db, "--time-limit", "5", *args)
        assert bad.returncode == 2 and says in bad.stderr, (args, bad.stderr)
        assert "Traceback" not in bad.stderr and "状态 status" not in bad.stdout
    assert dump(db) == before  # no run stored, nothing written
    # An empty file is not a catalogue: refused and left empty (not given a schema).
    empty = tmp_path / "empty.db"
    empty.touch()
    for command in ("match", "runs"):
        bad = run_cli(command, "--db", empty)
        assert bad.returncode == 2 and "is empty, not a catalogue" in bad.stderr, bad.stderr
    assert empty.stat().st_size == 0
    # A catalogue open in the GUI (its lock held) takes no run; --no-save only reads.
    lock = CatalogueLock.acquire(db)
    try:
        bad = run_cli("match", "--db", db, "--time-limit", "5")
        assert bad.returncode == 2 and "process" in bad.stderr, bad.stderr
        run_cli("match", "--db", db, "--time-limit", "5", "--no-save", check=True)
    finally:
        lock.release()
    assert dump(db) == before


def test_cli_runs_and_compare_across_scopes(tmp_path, run_cli):
    import subprocess

    from tests.conftest import cli_command

    db = tmp_path / "demo.db"
    run_cli("demo", "--db", db, check=True)
    run_cli("match", "--db", db, "--time-limit", "10", check=True)
    whole = run_cli("runs", "--db", db, check=True).stdout
    assert "目标 objective" in whole and " fit " not in whole
    # One coordinator's run against every plan's: only the scenes both cover are compared.
    run_cli("match", "--db", db, "--time-limit", "10", "--coordinator", "浙江省",
            "--rematch", "1", "--json", tmp_path / "r.json", check=True)
    params = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["params"]
    assert params["rematch_of"] == 1 and params["workers"] >= 1  # enough to run it again
    import os

    umask = os.umask(0)
    os.umask(umask)  # the result is shared like any file the user writes, not kept 0600
    assert (tmp_path / "r.json").stat().st_mode & 0o777 == 0o666 & ~umask
    cmp = json.loads(run_cli("compare", "--db", db, "1", "2", "--json", check=True).stdout)
    assert cmp["scope"] == {"both": 30, "only_before": 15, "only_after": 0}
    assert cmp["matched"]["before"] <= 30  # counted over the scenes both cover
    assert cmp["memberships"]["scenes_removed"] == []
    assert all(ch["scene"] <= "S030" for ch in cmp["memberships"]["changes"])
    text = run_cli("compare", "--db", db, "1", "2", check=True).stdout
    assert "only the 30 scenes both cover are compared" in text and "None" not in text
    # A reader that stops reading is not an internal error.
    proc = subprocess.Popen([*cli_command(), "runs", "--db", str(db)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=tmp_path)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode("utf-8", "replace")
    assert proc.wait(timeout=120) == 0 and "internal error" not in err, err


def test_required_scenes_that_cannot_all_be_matched_are_named():
    # S031-S035 compete for the same two leads: requiring all of them is infeasible, and
    # every scene says so (not "competes with the chosen scenes": none was chosen).
    from core.model import PlanChoice

    demo = demo_catalogue()
    required = {"S031", "S032", "S033", "S034", "S035"}
    cat = replace(demo, scenes=tuple(replace(s, plan=PlanChoice.REQUIRE) if s.id in required
                                     else s for s in demo.scenes))
    result = match(cat, MatchParams(time_limit=10))
    doc = result.to_dict()
    assert doc["status"] == "infeasible" and doc["consortia"] == []
    reasons = {u["reason"] for u in doc["unmatched"]}
    assert len(reasons) == 1
    assert "S031、S032、S033、S034、S035" in reasons.pop()
    assert "cannot all get a consortium together" in engine_explain(result, "S031")


def test_a_required_scene_that_cannot_be_completed_is_named_on_every_scene():
    # S1 is required but its only maker has no room: nothing is matched, and S2 (which
    # could be) says which required scene stopped the run, not a capacity story.
    full = org("M", ["maker"], form_factors=["双足人形"], robot_capacity=9, max_consortia=0)
    other = org("M2", ["maker"], form_factors=["轮式人形"], robot_capacity=9, max_consortia=1)
    cat = catalogue([USER, ALG, full, other],
                    [scene("S1", "U", plan="require"),
                     scene("S2", "U", form_factors=["轮式人形"])])
    doc = run(cat)
    assert doc["status"] == "infeasible"
    reasons = {u["scene"]: u["reason"] for u in doc["unmatched"]}
    assert "no eligible organisation for slot lead" in reasons["S1"]
    assert "the required scenes (S1) cannot get a complete consortium" in reasons["S2"]


def test_pin_names_the_lead_role_taken():
    both = org("MS", ["maker", "service_provider"], form_factors=["双足人形"], robot_capacity=9,
               max_consortia=2)
    cat = catalogue([USER, ALG, both], [scene("S1", "U")],
                    pins=[{"scene": "S1", "org": "MS", "role": "service_provider"}])
    doc = run(cat)
    assert ("MS", "service_provider") in {(m["org"], m["role"]) for m in doc["consortia"][0]["members"]}
    lacking = replace(cat, pins=(Pin("S1", "A", Role.MAKER),))
    doc = run(lacking)
    assert doc["consortia"] == [] and "does not have the role maker" in doc["unmatched"][0]["reason"]


def test_a_starved_first_stage_never_ends_below_the_warm_start(monkeypatch):
    # A search given little CPU may return a poor feasible solution (even one whose
    # shortfall variables carry slack). The run must still keep the warm start's groups and
    # report the shortfall of the assignment it returns, not of the solver's variables.
    import matching.solve as solve_mod

    real_run = solve_mod._run
    calls = []

    class Starved:
        objective_value = -10**9
        best_objective_bound = 10**9
        wall_time = 0.0

        def status_name(self, status):
            return "FEASIBLE"

        def boolean_value(self, var):
            return False  # nothing selected

    def fake_run(model, objective, time_limit, options, reporter):
        calls.append(1)
        if len(calls) == 1:
            return Starved(), model.cp.FEASIBLE
        return real_run(model, objective, time_limit, options, reporter)

    monkeypatch.setattr(solve_mod, "_run", fake_run)
    demo = demo_catalogue()
    doc = match(demo, MatchParams(time_limit=10, column_budget=600)).to_dict()
    assert check_result(demo, doc) == []
    assert doc["solver"]["candidates_pruned"] > 0
    assert len(doc["consortia"]) > 0
    assert doc["solver"]["rule_shortfall"] == 0
    assert all(p["compliant"] for p in doc["plans"])


def test_pruned_run_polishes_over_every_candidate_and_bounds_groups_exactly():
    demo = demo_catalogue()
    full = run(demo)
    seen = []
    doc = match(demo, MatchParams(time_limit=10, column_budget=600,
                                  on_progress=seen.append)).to_dict()
    stages = {s["stage"]: s for s in doc["solver"]["stages"]}
    # The user sees both late phases in the progress reports, with a bound never below
    # the objective.
    late = {p.stage: p for p in seen if p.stage in ("polish", "bound")}
    assert set(late) == {"polish", "bound"}
    assert math.isnan(late["polish"].bound)  # none known yet: not a 0 % gap
    assert late["bound"].bound >= late["bound"].objective
    # Polishing never loses score; the exact group bound is never above the relaxed one
    # and still holds for the whole problem (at least the proven optimum).
    assert stages["polish"]["gain"] >= 0
    assert stages["bound"]["score_bound"] <= stages["bound"]["relaxed_score_bound"]
    assert doc["bound"] >= full["objective"] - 1e-6
    assert doc["objective"] <= full["objective"] + 1e-6


def test_a_pruned_run_cancelled_in_the_search_keeps_a_valid_bound():
    # Cancelled once stage B reports: the answer is the best found, valid, and its bound
    # (the zero-price Lagrangian over every candidate) still holds for the whole problem.
    demo = demo_catalogue()
    full = run(demo)
    token = CancelToken()

    def on_progress(p):
        if p.stage == "B":
            token.cancel()

    doc = match(demo, MatchParams(time_limit=10, column_budget=600, cancel=token,
                                  on_progress=on_progress)).to_dict()
    assert doc["status"] == "cancelled"
    assert doc["solver"]["stages"][-1]["stage"] == "cancelled"
    assert check_result(demo, doc) == []
    assert len(doc["consortia"]) > 0
    assert doc["bound"] >= full["objective"] - 1e-6
    assert doc["bound"] >= doc["objective"]


def test_a_run_leaves_no_reference_cycles_of_its_own():
    """Everything a run builds is freed by reference counting: nothing of matching/ is left
    to the cycle collector (at national scale it kept 2 million candidates and 150 000
    objects in cycles, and four collections after the run took 1.8 s)."""
    import gc

    demo = demo_catalogue()
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        # A pruned run goes through every stage: warm start, both searches, the polish and
        # the bounds, the exact group searches among them.
        result = match(demo, MatchParams(time_limit=10, column_budget=600))
        gc.collect()
        ours = [o for o in gc.garbage
                if (getattr(o, "__module__", "") or "").startswith("matching")
                or type(o).__module__.startswith("matching")]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was:
            gc.enable()
    assert result.solution.pruned > 0
    assert ours == []
    assert result.index.candidates == {}  # the explanations are written; no candidate is kept


class _TripAfter(CancelToken):
    """Cancelled from the ``k``-th time the work looks at it: reaches every phase's check."""

    def __init__(self, k: int) -> None:
        super().__init__()
        self.k, self.looks = k, 0
        self._lock = threading.Lock()

    def _look(self) -> None:
        with self._lock:
            self.looks += 1
            if self.looks >= self.k:
                self.cancel()

    @property
    def cancelled(self) -> bool:
        self._look()
        return super().cancelled

    def raise_if_cancelled(self) -> None:
        self._look()
        super().raise_if_cancelled()


def test_a_pruned_run_cancelled_anywhere_returns_a_valid_answer_and_bound():
    # Every phase that looks at the token (components, preprocessing, warm start, arrays,
    # pruning, model building, searches, polish, bounds): the consortia are valid, and the
    # bounds hold for the whole problem (the unpruned run's proven optimum).
    demo = demo_catalogue()
    full = run(demo)
    counting = _TripAfter(10**9)
    match(demo, MatchParams(time_limit=10, column_budget=600, cancel=counting))
    assert counting.looks > 20
    for fraction in (0.0, 0.02, 0.1, 0.3, 0.6, 0.9):
        token = _TripAfter(max(1, int(fraction * counting.looks)))
        doc = match(demo, MatchParams(time_limit=10, column_budget=600, cancel=token)).to_dict()
        assert doc["status"] == "cancelled", fraction
        assert check_result(demo, doc) == []
        assert doc["bound"] >= full["objective"] - 1e-6
        assert doc["bound"] >= doc["objective"]
        assert doc["matched_priority_bound"] >= full["matched_priority"]


def test_a_mid_size_catalogue_is_searched_and_bounded_in_a_short_run():
    # 250 scenes, about 48 000 candidates: more than one combined search proves in 10 s,
    # fewer than pruning needs. The staged search runs on every candidate (stage A not
    # skipped for want of time) and the bound is the whole problem's, not big-M's 100 %.
    cat = generate(GenerateSpec(scenes=250, orgs=600, seed=5))
    doc = match(cat, MatchParams(time_limit=10)).to_dict()
    assert check_result(cat, doc) == []
    stages = {s["stage"]: s for s in doc["solver"]["stages"]}
    assert doc["solver"]["candidates_pruned"] == 0 and "A+B" not in stages
    assert stages["A"]["status"] != "SKIPPED", stages["A"]
    assert doc["matched_priority"] <= doc["matched_priority_bound"]
    assert doc["objective"] <= doc["bound"] and doc["gap"] < 0.25


def _expected_penalties(cat: Catalogue, doc: dict, weights) -> dict[tuple[str, str, str], float]:
    """The soft goals broken, from the consortia alone: per plan, an organisation in more
    than share × the plan's matched consortia + 1 (as a member in any slot, or as lead)
    costs the goal's points per consortium beyond."""
    coordinator = {s.id: s.coordinator for s in cat.scenes}
    by_plan: dict[str, list[dict]] = {}
    for c in doc["consortia"]:
        by_plan.setdefault(coordinator[c["scene"]], []).append(c)
    goals = (("concentration", weights.concentration_share, weights.concentration_penalty,
              lambda m: m["role"] != "user_unit"),
             ("lead_spread", weights.lead_share, weights.lead_penalty,
              lambda m: m["role"] in ("maker", "service_provider")))
    out = {}
    for goal, share, points, counted in goals:
        for plan, chosen in by_plan.items():
            counts: dict[str, int] = {}
            for c in chosen:
                for member in {m["org"] for m in c["members"] if counted(m)}:
                    counts[member] = counts.get(member, 0) + 1
            for member, n in counts.items():
                over = n - share * len(chosen) - 1
                if over > 1e-9:
                    out[(goal, plan, member)] = math.ceil(over - 1e-9) * points
    return out


def test_the_objective_is_the_fit_less_the_soft_goals_it_breaks():
    # A 5 % share: every organisation in two consortia of one plan breaks it. The result
    # lists each broken goal, and the objective is the consortia's fit less their points.
    from matching.fit import Weights

    demo = demo_catalogue()
    weights = replace(Weights(), concentration_share=0.05, lead_share=0.05)
    doc = run(demo, weights=weights)
    listed = {(p["goal"], p["coordinator"], p["org"]): p["points"] for p in doc["penalties"]}
    assert listed and listed == _expected_penalties(demo, doc, weights)
    parts = doc["objective_parts"]
    # The parts add up to the objective, to the cent; the consortia's own fits (unrounded
    # terms) to the fit part within the solver's rounding of each member's points.
    assert doc["objective"] == pytest.approx(parts["fit"] + parts["penalties"], abs=0.011)
    assert parts["fit"] == pytest.approx(sum(c["fit"] for c in doc["consortia"]),
                                         abs=0.01 * len(doc["consortia"]) + 0.01)
    assert parts["penalties"] == pytest.approx(-sum(listed.values()), abs=0.01)


def test_a_cancelled_run_scores_its_answer_like_any_other():
    # Cancelled during the search: the objective still counts the pair bonuses (the
    # partnership term of the consortia's fit) and the soft goals.
    from matching.fit import Weights

    demo = demo_catalogue()
    weights = replace(Weights(), concentration_share=0.05)
    token = CancelToken()

    def on_progress(p):
        if p.stage == "B":
            token.cancel()

    doc = match(demo, MatchParams(time_limit=10, column_budget=600, cancel=token,
                                  weights=weights, on_progress=on_progress)).to_dict()
    assert doc["status"] == "cancelled" and doc["consortia"]
    assert any(c["breakdown"].get("partnership") for c in doc["consortia"])
    expected = _expected_penalties(demo, doc, weights)
    assert {(p["goal"], p["coordinator"], p["org"]): p["points"]
            for p in doc["penalties"]} == expected
    fit = sum(c["fit"] for c in doc["consortia"])
    assert doc["objective"] == pytest.approx(fit - sum(expected.values()),
                                             abs=0.01 * len(doc["consortia"]) + 0.01)


def test_a_cancelled_rematch_counts_its_rewards_in_the_objective_and_the_bound():
    # Cancelled in the combined search (no candidate arrays): the kept memberships' rewards
    # are in the objective, and the bound stays above what the finished re-match reaches.
    from matching.fit import Weights

    demo = demo_catalogue()
    weights = replace(Weights(), concentration_share=0.05)
    base = match(demo, MatchParams(time_limit=5, workers=1, weights=weights)).to_dict()
    finished = match(demo, MatchParams(time_limit=5, workers=1, weights=weights,
                                       previous=base)).to_dict()
    token = CancelToken()

    def on_progress(p):
        if p.stage == "A+B":
            token.cancel()

    doc = match(demo, MatchParams(time_limit=6, workers=1, weights=weights, previous=base,
                                  cancel=token, on_progress=on_progress)).to_dict()
    assert doc["status"] == "cancelled" and doc["consortia"]
    parts = doc["objective_parts"]
    assert parts["rematch_rewards"] > 0
    assert doc["objective"] == pytest.approx(
        parts["fit"] + parts["penalties"] + parts["rematch_rewards"],
        abs=0.01 * len(doc["consortia"]) + 0.01)
    assert doc["bound"] >= finished["objective"] - 1e-6

"""The ``scenematch`` command line: the composition root.

It wires core (and, for ``gui``, the Qt application) together; core/ never
imports from here. Exit codes: 0 success, 2 bad input (with a message naming
the file, sheet, row and column), 1 internal error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from core.problems import CatalogueError, InputError
from core.progress import Cancelled
from core.store import CatalogueStore

if TYPE_CHECKING:  # imported when used: start-up stays light
    from matching.fit import Weights

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


def _err(text: str) -> None:
    """Progress on stderr: a reader gone (``2>&1 | head``) must not stop the work."""
    try:
        print(text, file=sys.stderr, flush=True)
    except (BrokenPipeError, AttributeError, ValueError):  # closed, or no stderr (GUI build)
        pass


def _stderr_progress(fraction: float, message: str) -> None:
    _err(f"[{fraction:4.0%}] {message}")


def default_catalogue_path() -> Path:
    """Where the GUI keeps the demo catalogue when no --db is given."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("SceneMatch", appauthor=False)) / "demo.scenematch.db"


class _Opened:
    """Open ``--db`` for a command; remove it again if this command created it and failed."""

    def __init__(self, path: str, *, create: bool = True) -> None:
        self.path = Path(path)
        self.create = create
        self.created = create and not self.path.exists()

    def __enter__(self) -> CatalogueStore:
        from core.lock import CatalogueLock

        if not self.create:
            # Before the lock's sidecar is made: a missing, empty or foreign file is refused
            # (header only: the real open, migrations included, happens under the lock).
            CatalogueStore.check_file(self.path)
        if self.created:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # The command writes: refuse while the GUI has the catalogue open (its copy in memory
        # would go stale), as a second GUI instance is refused.
        self.lock = CatalogueLock.acquire(self.path)
        try:
            self.store = CatalogueStore.open(self.path, create=self.create)
        except BaseException:
            self.lock.release()
            raise
        return self.store

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        try:
            self.store.close()
        finally:
            self.lock.release()
        # A reader gone while the command reports (`import ... | head`) is no failure: the
        # work is done and stored.
        failed = exc_type is not None and not issubclass(exc_type, BrokenPipeError)
        if failed and self.created:
            for suffix in ("", "-wal", "-shm"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)


def cmd_gui(args: argparse.Namespace) -> int:
    from gui.platform_check import xcb_problem

    problem = xcb_problem()
    if problem:  # else Qt aborts with "could not load the Qt platform plugin xcb"
        print(f"错误 error: {problem}", file=sys.stderr)
        return EXIT_INTERNAL
    from gui.app import run_gui

    if args.db:
        path = Path(args.db)
    else:
        path = default_catalogue_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            from core.demo import install_demo

            with CatalogueStore.open(path) as store:
                install_demo(store)
    return run_gui(path)


def cmd_demo(args: argparse.Namespace) -> int:
    from core.demo import install_demo

    with _Opened(args.db) as store:
        summary = install_demo(store)
        print(f"演示目录已写入 demo catalogue written to {args.db}: "
              f"{store.count('scenes')} scenes, {store.count('organizations')} organisations "
              f"({summary.total_changes()} rows added or changed)")
    return EXIT_OK


def cmd_generate(args: argparse.Namespace) -> int:
    from core.generate import GenerateSpec, generate

    if args.scenes < 0 or args.orgs < 1:
        print("错误 error: --scenes must be ≥ 0 and --orgs ≥ 1", file=sys.stderr)
        return EXIT_INPUT
    _stderr_progress(0.0, "生成 generating")
    catalogue = generate(GenerateSpec(args.scenes, args.orgs, args.seed, args.provinces, args.soes))
    _stderr_progress(0.5, "写入 writing")
    with _Opened(args.db) as store:
        store.write(catalogue)
        _stderr_progress(1.0, "完成 done")
        print(f"{args.db}: {store.count('scenes')} scenes, {store.count('organizations')} organisations")
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from core.importer import import_files

    with _Opened(args.db) as store:
        report = import_files(store, args.files, on_progress=_stderr_progress)
        print(report.text())
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from core.importer import export_catalogue

    # Reading only: no lock, so exporting works while the GUI has the catalogue open.
    with CatalogueStore.open(args.db, create=False) as store:
        written = export_catalogue(store, args.file)
    for path in written:
        print(f"已导出 exported {path}")
    return EXIT_OK


def cmd_template(args: argparse.Namespace) -> int:
    from core.xlsx_io import write_workbook

    target = Path(args.file)
    if target.suffix.lower() != ".xlsx":
        raise CatalogueError(f"{target}: 模板须为 .xlsx 文件 / the template must be an .xlsx file")
    write_workbook(target)
    print(f"模板已写入 template written to {target}")
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    from core.stats import catalogue_stats, format_stats

    with CatalogueStore.open(args.db, create=False) as store:
        stats = catalogue_stats(store.load(), store.runs())
    if args.json:
        print(json.dumps(stats, ensure_ascii=False, indent=1))
    else:
        print(format_stats(stats, args.lang))
    return EXIT_OK


def _seconds(text: str) -> float:
    """A time limit: a positive number of seconds (argparse reports anything else)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(
            f"'{text}': 应为正数秒 / expected a positive number of seconds")
    return value


def _run_ref(text: str) -> int | str:
    """A stored run: its id, or ``latest`` (argparse reports anything else)."""
    if text == "latest":
        return text
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"'{text}': 应为运行编号或 latest / expected a run id or 'latest'")
    return value


def _parse_weights(items: list[str]) -> Weights:
    """``--weight NAME=VALUE`` over the defaults, checked (:meth:`Weights.check`)."""
    from matching.fit import Weights

    known = Weights().as_dict()
    out = {}
    for item in items:
        name, _, value = item.partition("=")
        name = name.strip()
        if name not in known:
            raise CatalogueError(f"--weight {item!r}: 未知权重 unknown weight; known: {', '.join(known)}")
        try:
            out[name] = float(value)
        except ValueError:
            raise CatalogueError(f"--weight {item!r}: 应为 NAME=数字 / expected NAME=NUMBER") from None
    weights = Weights.from_dict({**known, **out})
    try:
        weights.check()
    except ValueError as exc:
        raise CatalogueError(f"--weight: {exc}") from None
    return weights


def _print_result(doc: dict, run_id: int | None) -> None:
    from core.taxonomy import taxonomy

    total = len(doc["consortia"]) + len(doc["unmatched"])
    print(f"状态 status: {doc['status']}（{taxonomy().label('run_statuses', doc['status'])}）  "
          f"匹配 matched: {len(doc['consortia'])}/{total} 个场景  "
          f"优先级 priority: {doc['matched_priority']:g} (上界 bound {doc['matched_priority_bound']:g})")
    print(f"目标 objective: {doc['objective']:.1f}  上界 bound: {doc['bound']:.1f}  "
          f"差距 gap: {doc['gap']:.2%}  用时 {doc['seconds']:.1f} s")
    parts = doc.get("objective_parts") or {}
    if parts.get("penalties") or parts.get("rematch_rewards"):
        print(f"  = 联合体适配度 consortia fit {parts['fit']:.1f}"
              + (f" − 软目标扣分 soft-goal penalties {-parts['penalties']:.1f}"
                 if parts.get("penalties") else "")
              + (f" + 保留奖励 re-match rewards {parts['rematch_rewards']:.1f}"
                 if parts.get("rematch_rewards") else ""))
    for p in doc.get("penalties", [])[:8]:
        goal = (f"{taxonomy().label('fit_terms', p['goal'])} "
                f"{taxonomy().label('fit_terms', p['goal'], 'en')}")
        print(f"    {goal}: {p['org']} 在 {p['coordinator']} "
              f"{p['consortia']}/{p['of']} 个联合体（份额上限 share {p['share']:.0%}）"
              f" −{p['points']:.1f}")
    if len(doc.get("penalties", [])) > 8:
        print(f"    … 共 {len(doc['penalties'])} 项 / {len(doc['penalties'])} in all")
    for plan in doc["plans"]:
        mark = "✓" if plan["compliant"] else "✗"
        fields = "、".join(taxonomy().label("fields", f) for f in plan["fields"]) or "—"
        print(f"  {mark} {plan['coordinator']}: {plan['scenes']} 个场景，领域 {fields}，"
              f"计划部署 {plan['robots']} 台")
        for line in plan.get("why", [])[:8]:
            print(f"      {line}")
    if doc["unmatched"]:
        print(f"未匹配 unmatched ({len(doc['unmatched'])}):")
        for u in doc["unmatched"][:20]:
            print(f"  {u['scene']}: {u['reason']}")
    if "diff" in doc:
        d = doc["diff"]
        print(f"与上次相比 vs previous run: 保留 kept {d['kept']}，变更 changed {d['changed']}")
        for ch in d["changes"][:20]:
            print(f"  {ch['scene']} {ch['slot']}: {ch['before'] or '—'} → {ch['after'] or '—'}")
    if run_id is not None:
        print(f"已保存为第 {run_id} 次运行 / stored as run {run_id}")


def cmd_match(args: argparse.Namespace) -> int:
    from matching.engine import MatchParams, explain, match
    from matching.fit import SCALE
    from matching.solve import Progress

    def progress(p: Progress) -> None:
        # Solver units are × SCALE: fit points, or (stages A and insert) the matched priority.
        what = "优先级 priority" if p.stage in ("A", "insert") else "适配度 fit"
        bound = f"{p.bound / SCALE:.2f}" if p.bound == p.bound else "—"  # NaN: none known yet
        kept = "（保留候选 kept candidates）" if p.kept_only else ""
        short = (f" 计划规则尚缺 {p.shortfall} 个场景或领域 / plan rules miss "
                 f"{p.shortfall} scenes or fields" if p.shortfall else "")
        _err(f"[{p.fraction:4.0%}] {p.stage} {what} {p.objective / SCALE:.2f} "
             f"上界 bound{kept} {bound}{short} {p.seconds:.1f}s")

    weights = _parse_weights(args.weight)
    if args.org and not args.explain:
        raise CatalogueError("--org 须与 --explain 同用 / --org needs --explain SCENE")
    target = Path(args.json) if args.json else None
    if target is not None:
        _check_writable(target)  # before a long run, not after it
        if target.resolve() == Path(args.db).resolve():
            raise CatalogueError(f"--json {target}: 这是目录文件本身 / is the catalogue itself")
    # A run is stored: refuse while the GUI has the catalogue open, as other writers do.
    opened = (CatalogueStore.open(args.db, create=False) if args.no_save
              else _Opened(args.db, create=False))
    with opened as store:
        catalogue = store.load()
        # Every request checked before the run (main() reports CatalogueError, exit 2).
        scenes = catalogue.scene_by_id()
        if args.explain and args.explain not in scenes:
            raise CatalogueError(f"未知场景 unknown scene {args.explain!r}")
        if args.org and args.org not in catalogue.org_by_id():
            raise CatalogueError(f"未知组织 unknown organisation {args.org!r}")
        if args.coordinator and args.coordinator not in catalogue.coordinators():
            known = "、".join(catalogue.coordinators())
            raise CatalogueError(
                f"未知的组织单位 unknown coordinator {args.coordinator!r}; known: {known}")
        if (args.explain and args.coordinator
                and scenes[args.explain].coordinator != args.coordinator):
            raise CatalogueError(f"场景 {args.explain} 属于 {scenes[args.explain].coordinator}，不属于 "
                                 f"{args.coordinator} / scene not in this coordinator's plan")
        previous, base_id = None, None
        if args.rematch is not None:
            runs = {r.id: r for r in store.runs()}
            if not runs:
                raise CatalogueError("没有可供对比的运行 / no stored run to re-match against")
            base_id = max(runs) if args.rematch == "latest" else args.rematch
            if base_id not in runs:
                raise CatalogueError(f"没有第 {base_id} 次运行 / no run {base_id}")
            previous = runs[base_id].result
        params = MatchParams(time_limit=args.time_limit, coordinator=args.coordinator,
                             weights=weights, previous=previous, previous_run=base_id,
                             on_progress=progress)
        result = match(catalogue, params)
        doc = result.to_dict()
        if target is not None:
            # Written before the run is stored: a write that fails stores nothing.
            from core.json_io import write_text_atomic

            try:
                write_text_atomic(target, json.dumps(doc, ensure_ascii=False, indent=1))
            except OSError as exc:
                raise CatalogueError(f"{target}: 无法写入 cannot write ({exc.strerror or exc}); "
                                     f"运行未保存 / the run was not stored") from None
        run_id: int | None = None
        if not args.no_save:
            run_id = store.save_run(coordinator=args.coordinator, status=doc["status"],
                                    objective=doc["objective"], bound=doc["bound"], gap=doc["gap"],
                                    seconds=doc["seconds"], params=params.as_dict(), result=doc)
    _print_result(doc, run_id)
    if args.explain:
        print()
        print(explain(result, args.explain, args.org))
    return EXIT_OK


def _check_writable(target: Path) -> None:
    """Refuse an output path that cannot be written (a folder, a missing or read-only one)."""
    if target.is_dir():
        raise CatalogueError(f"{target} 是文件夹 / is a folder, not a file")
    folder = target.parent  # "." for a bare file name
    if not folder.is_dir():
        raise CatalogueError(f"{target}: 文件夹不存在 / no such folder {folder}")
    if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise CatalogueError(f"{target}: 无写入权限 / not writable")


def cmd_runs(args: argparse.Namespace) -> int:

    with CatalogueStore.open(args.db, create=False) as store:
        runs = store.runs()
    if not runs:
        print("尚无运行记录 / no runs yet")
    for r in runs:
        matched = len(r.result.get("consortia", []))
        print(f"{r.id:>4}  {r.created}  {r.status:<9} {r.coordinator or '全部 all':<16} "
              f"matched {matched:>5}  目标 objective {r.objective or 0:10.1f}  gap {r.gap or 0:.2%}  "
              f"{r.seconds:.1f}s")
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    from matching.engine import compare_results

    with CatalogueStore.open(args.db, create=False) as store:
        runs = {r.id: r for r in store.runs()}
    missing = [r for r in (args.a, args.b) if r not in runs]
    if missing:
        print(f"错误 error: 没有运行 no such run: {missing}", file=sys.stderr)
        return EXIT_INPUT
    cmp = compare_results(runs[args.a].result, runs[args.b].result)
    if args.json:
        print(json.dumps(cmp, ensure_ascii=False, indent=1))
        return EXIT_OK
    o, f, m, d = cmp["objective"], cmp["fit"], cmp["matched"], cmp["memberships"]
    print(f"运行 run {args.a} → {args.b}: 目标 objective {o['before']} → {o['after']}")
    print(f"匹配 matched {m['before']} → {m['after']}，联合体适配度 consortia fit "
          f"{f['before']} → {f['after']}")
    if cmp["scope"]["only_before"] or cmp["scope"]["only_after"]:
        print(f"范围不同 the runs cover different scenes: 仅比较共同的 {cmp['scope']['both']} 个场景 / "
              f"only the {cmp['scope']['both']} scenes both cover are compared "
              f"(仅前者 only in {args.a}: {cmp['scope']['only_before']}，"
              f"仅后者 only in {args.b}: {cmp['scope']['only_after']})")
    print(f"成员 memberships: 保留 kept {d['kept']}，变更 changed {d['changed']}；新增场景 added "
          f"{', '.join(d['scenes_added']) or '—'}；移除场景 removed {', '.join(d['scenes_removed']) or '—'}")
    for ch in d["changes"]:
        print(f"  {ch['scene']} {ch['slot']}: {ch['before'] or '—'} → {ch['after'] or '—'}")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from core.reports.batch import write_all_documents, write_org_documents, write_plan_documents
    from core.reports.context import context_from_store

    out = Path(args.out)
    with CatalogueStore.open(args.db, create=False) as store:
        ctx = context_from_store(store, args.run, args.coordinator)
    if args.coordinator and args.coordinator not in ctx.catalogue.coordinators():
        known = "、".join(ctx.catalogue.coordinators())
        raise CatalogueError(f"未知的组织单位 unknown coordinator {args.coordinator!r}; known: {known}")
    if args.org and args.org not in ctx.orgs:
        raise CatalogueError(f"未知组织 unknown organisation {args.org!r}")
    if ctx.result is None:
        print("提示 note: 目录中尚无匹配运行，报告只含场景 / no stored run: reports hold the scenes "
              "only (run `scenematch match` first)", file=sys.stderr)
    written: list[Path] = []
    if args.org:
        from matching.fit import Weights
        from matching.opportunities import opportunities

        # Rank with the weights of the run the sheet reports on, so points agree with it.
        weights = Weights.from_dict((ctx.result or {}).get("params", {}).get("weights") or {})
        ranking = opportunities(ctx.catalogue, args.org, weights)
        written += write_org_documents(ctx, args.org, ranking, out, on_progress=_stderr_progress)
    if args.coordinator:
        written += write_plan_documents(ctx, args.coordinator, out, on_progress=_stderr_progress)
    elif not args.org:
        written += write_all_documents(ctx, out, on_progress=_stderr_progress)
    for path in written:
        print(path)
    print(f"已写入 {len(written)} 个文件 / {len(written)} file(s) written to {out}")
    return EXIT_OK


def cmd_package(args: argparse.Namespace) -> int:
    from core.package import build_package

    out = Path(args.out)
    if out.suffix.lower() != ".zip":
        raise CatalogueError(f"{out}: 材料包须为 .zip 文件 / the package must be a .zip file")
    with CatalogueStore.open(args.db, create=False) as store:
        manifest = build_package(store, args.coordinator, out, run_id=args.run,
                                 on_progress=_stderr_progress)
    counts = manifest["counts"]
    print(f"已写入申报材料包 package written: {out}")
    print(f"  {manifest['coordinator']}：{counts['scenes']} 个场景 scenes，{counts['consortia']} 个联合体 "
          f"consortia，{counts['organizations']} 个组织 organisations；第 {manifest['run_id']} 次运行 "
          f"run {manifest['run_id']}；{len(manifest['files']) + 1} 个文件 files")
    return EXIT_OK


def cmd_merge(args: argparse.Namespace) -> int:
    from core.merge import merge_packages

    with _Opened(args.db) as store:
        summary = merge_packages(store, args.files, on_progress=_stderr_progress)
        print(summary.text())
        print(f"{args.db}: {store.count('scenes')} scenes, {store.count('organizations')} "
              f"organisations, {store.count('runs')} runs")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="scenematch",
        description="SceneMatch 实景实训场景与创新应用联合体匹配 — plan real-scene training spaces "
                    "and match consortia. Without a command, opens the GUI.",
    )
    parser.add_argument("--db", help="catalogue file (SQLite) for the GUI")
    parser.add_argument("--self-test", action="store_true",
                        help="自检：离屏打开窗口、加载演示目录、短时匹配、写出 PDF / check this "
                             "installation end to end and exit (0 = all steps passed)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace], int], text: str,
            db: bool = True, db_required: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=text, description=text)
        if db:
            p.add_argument("--db", required=db_required, metavar="PATH",
                           help="catalogue file (SQLite); created when it does not exist")
        p.set_defaults(func=func)
        return p

    add("gui", cmd_gui, "打开图形界面 open the desktop application (default: the demo catalogue)",
        db_required=False)
    add("demo", cmd_demo, "写入内置演示目录 write the embedded demo catalogue into --db")
    p = add("generate", cmd_generate, "生成合成目录 generate a synthetic catalogue (seeded, reproducible)")
    p.add_argument("--scenes", type=int, required=True, help="number of scenes")
    p.add_argument("--orgs", type=int, required=True, help="number of organisations")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--provinces", type=int, default=31, help="provinces (default 31)")
    p.add_argument("--soes", type=int, default=40, help="central SOEs (default 40)")
    p = add("import", cmd_import, "导入 JSON / Excel / CSV 文件（全部成功或全部不写入） import files, "
                                  "all or nothing")
    p.add_argument("files", nargs="+", metavar="FILE", help=".json, .xlsx or .csv files")
    p = add("export", cmd_export, "导出目录 export the catalogue to .json, .xlsx or a folder of CSV files")
    p.add_argument("file", metavar="FILE")
    p = add("template", cmd_template, "写出空白 Excel 模板 write the empty Excel template", db=False)
    p.add_argument("file", metavar="FILE.xlsx")
    p = add("match", cmd_match, "匹配：遴选场景并组建联合体 choose scenes and form every consortium")
    p.add_argument("--coordinator", metavar="NAME", help="only this coordinator's plan")
    p.add_argument("--time-limit", type=_seconds, default=30.0, metavar="S",
                   help="seconds (default 30)")
    p.add_argument("--json", metavar="OUT", help="write the scenematch.result document")
    p.add_argument("--explain", metavar="SCENE", help="print this scene's consortium and alternates")
    p.add_argument("--org", metavar="ORG", help="with --explain: why this organisation is (not) in it")
    p.add_argument("--rematch", metavar="RUN", type=_run_ref,
                   help="stay close to a stored run (id or 'latest')")
    p.add_argument("--weight", action="append", default=[], metavar="NAME=VALUE",
                   help="override a fit weight, e.g. --weight locality=30 (repeatable)")
    p.add_argument("--no-save", action="store_true", help="do not store the run in the catalogue")
    add("runs", cmd_runs, "列出已保存的匹配运行 list stored match runs")
    p = add("compare", cmd_compare, "比较两次运行 compare two stored runs")
    p.add_argument("a", type=int, metavar="RUN_A")
    p.add_argument("b", type=int, metavar="RUN_B")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = add("report", cmd_report, "写出 PDF 报告 write PDF reports: plan summaries, consortium "
                                  "proposals, an organisation's opportunity sheet")
    p.add_argument("--run", type=int, metavar="ID", help="stored run (default: the newest that "
                                                          "covers the coordinator)")
    p.add_argument("--coordinator", metavar="NAME", help="this coordinator's plan summary and "
                                                         "proposals (default: every coordinator)")
    p.add_argument("--org", metavar="ID", help="this organisation's opportunity sheet (PDF + xlsx)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write into")
    p = add("package", cmd_package, "写出申报材料包 write a coordinator's submission package (PDF + "
                                    "data + manifest, one .zip)")
    p.add_argument("--coordinator", required=True, metavar="NAME", help="the coordinator (组织单位)")
    p.add_argument("--out", required=True, metavar="FILE.zip", help="the package to write")
    p.add_argument("--run", type=int, metavar="ID", help="stored run (default: the newest that "
                                                          "covers the coordinator)")
    p = add("merge", cmd_merge, "合并申报材料包（全部校验通过才写入） merge submission packages into "
                                "the national catalogue, all or nothing")
    p.add_argument("files", nargs="+", metavar="FILE.zip", help="packages written by `package`")
    p = add("stats", cmd_stats, "统计、方案规则与全国概览 counts, plan-rule status and the "
                              "national overview")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the text report")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    for stream in (sys.stdout, sys.stderr):
        # A Chinese Windows console is GBK: never crash on a character it lacks.
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    import multiprocessing

    multiprocessing.freeze_support()  # a frozen build's worker processes start here
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.self_test:
        from gui.self_test import run_self_test

        return run_self_test()
    if args.command is None:
        args.func = cmd_gui
    try:
        code = int(args.func(args))
        if sys.stdout is not None:  # None in the windowed build
            sys.stdout.flush()  # a reader gone (`runs | head`) is heard here, not at exit
        return code
    except InputError as exc:
        print(exc.report(), file=sys.stderr)
        errors = sum(not p.warning for p in exc.problems)
        print(f"共 {errors} 个错误，未写入任何内容 / {errors} error(s); nothing was written",
              file=sys.stderr)
        return EXIT_INPUT
    except CatalogueError as exc:
        print(f"错误 error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except (KeyboardInterrupt, Cancelled):
        print("已取消 cancelled", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader stopped reading (`scenematch runs | head`): not an error of ours. The
        # rest of the output goes nowhere, so the interpreter's flush at exit cannot fail.
        import contextlib

        with contextlib.suppress(AttributeError, OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        return EXIT_OK
    except Exception:
        traceback.print_exc()
        print("内部错误 internal error: please report it with the file you used", file=sys.stderr)
        return EXIT_INTERNAL


def gui_main() -> int:
    """Entry point of ``scenematch-gui`` (no console window on Windows)."""
    return main(["gui", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())

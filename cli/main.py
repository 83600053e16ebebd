"""The ``scenematch`` command line: the composition root.

It wires core (and, for ``gui``, the Qt application) together; core/ never
imports from here. Exit codes: 0 success, 2 bad input (with a message naming
the file, sheet, row and column), 1 internal error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from core.problems import CatalogueError, InputError
from core.progress import Cancelled

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


def _stderr_progress(fraction: float, message: str) -> None:
    print(f"[{fraction:4.0%}] {message}", file=sys.stderr, flush=True)


def default_catalogue_path() -> Path:
    """Where the GUI keeps the demo catalogue when no --db is given."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("SceneMatch", appauthor=False)) / "demo.scenematch.db"


class _Opened:
    """Open ``--db`` for a command; remove it again if this command created it and failed."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.created = not self.path.exists()

    def __enter__(self):  # type: ignore[no-untyped-def]
        from core.store import CatalogueStore

        if self.created:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.store = CatalogueStore.open(self.path)
        return self.store

    def __exit__(self, exc_type, exc, tb) -> None:  # type: ignore[no-untyped-def]
        self.store.close()
        if exc_type is not None and self.created:
            for suffix in ("", "-wal", "-shm"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)


def cmd_gui(args: argparse.Namespace) -> int:
    from gui.app import run_gui

    if args.db:
        path = Path(args.db)
    else:
        path = default_catalogue_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            from core.demo import install_demo
            from core.store import CatalogueStore

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

    with _Opened(args.db) as store:
        written = export_catalogue(store, args.file)
    for path in written:
        print(f"已导出 exported {path}")
    return EXIT_OK


def cmd_template(args: argparse.Namespace) -> int:
    from core.xlsx_io import write_workbook

    target = Path(args.file)
    if target.suffix.lower() != ".xlsx":
        print(f"错误 error: {target}: 模板须为 .xlsx 文件 / the template must be an .xlsx file",
              file=sys.stderr)
        return EXIT_INPUT
    write_workbook(target)
    print(f"模板已写入 template written to {target}")
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    from core.stats import catalogue_stats, format_stats
    from core.store import CatalogueStore

    with CatalogueStore.open(args.db, create=False) as store:
        stats = catalogue_stats(store.load())
    if args.json:
        print(json.dumps(stats, ensure_ascii=False, indent=1))
    else:
        print(format_stats(stats, args.lang))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="scenematch",
        description="SceneMatch 实景实训场景与创新应用联合体匹配 — plan real-scene training spaces "
                    "and match consortia. Without a command, opens the GUI.",
    )
    parser.add_argument("--db", help="catalogue file (SQLite) for the GUI")
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
    p = add("stats", cmd_stats, "统计与方案规则 counts and plan-rule status")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the text report")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    for stream in (sys.stdout, sys.stderr):
        # A Chinese Windows console is GBK: never crash on a character it lacks.
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args.func = cmd_gui
    try:
        return int(args.func(args))
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
    except Exception:
        traceback.print_exc()
        print("内部错误 internal error: please report it with the file you used", file=sys.stderr)
        return EXIT_INTERNAL


def gui_main() -> int:
    """Entry point of ``scenematch-gui`` (no console window on Windows)."""
    return main(["gui", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())

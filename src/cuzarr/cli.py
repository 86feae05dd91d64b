"""The ``cuzarr`` command line: one function per subcommand, registered in ``SUBCOMMANDS``.

    cuzarr info STORE [--path P]            layout, codecs and stored size
    cuzarr tree STORE [--level N]           the hierarchy with shapes and dtypes
    cuzarr convert SRC DST [--chunks ...] [--shards ...] [--codec zstd] [--zarr-format 3]
    cuzarr copy SRC DST [--if-exists ...]   every key, bytes untouched
    cuzarr clean PATH [--min-age SECONDS]   remove temp files left by killed writers
    cuzarr bench [--set default|full] [--case NAME] [--size N] [--repeat R] [--out DIR]

A subcommand is a pair ``(add_arguments(parser), run(args) -> exit code)``; adding one is one
entry in the table.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import cli_nodes
from .errors import CuzarrError

# -- bench --------------------------------------------------------------------------------------


def _bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", choices=("default", "full"), default="default", help="which cases to run")
    parser.add_argument(
        "--size", type=int, default=8192, help="the float32 field is size x size (8192: 256 MiB)"
    )
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per library and question")
    parser.add_argument("--count", type=int, default=100, help="selections per per-second question")
    parser.add_argument(
        "--case",
        action="append",
        default=[],
        help="run only the cases whose name contains this, e.g. --case gzip (repeatable)",
    )
    parser.add_argument("--out", default=None, help="where the JSON and PNG go (default benchmarks/results)")
    parser.add_argument("--suite-dir", default=None, help="the benchmarks/ folder of a cuzarr checkout")


def _find_suite(suite_dir: str | None) -> Any:
    """``benchmarks/suite.py`` of the source tree (it lives beside the package, not inside it)."""
    candidates = [Path(suite_dir)] if suite_dir else []
    candidates += [Path(__file__).resolve().parents[2] / "benchmarks", Path.cwd() / "benchmarks"]
    for folder in candidates:
        if (folder / "suite.py").is_file():
            sys.path.insert(0, str(folder))
            return importlib.import_module("suite")
    raise FileNotFoundError(
        "cuzarr bench needs the benchmarks/ folder of a cuzarr source checkout "
        f"(looked in {', '.join(map(str, candidates))}); pass --suite-dir"
    )


def _progress_bar(total: int) -> tuple[Callable[[str], None], Callable[[], None]]:
    """(step(description), close()) with tqdm when installed, a plain text bar otherwise."""
    try:
        from tqdm import tqdm
    except ImportError:
        done = [0]

        def step(description: str) -> None:
            done[0] += 1
            filled = 30 * done[0] // max(total, 1)
            print(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done[0]}/{total} {description[:50]:<50}", end="")
            sys.stdout.flush()

        return step, lambda: print()
    bar = tqdm(total=total, unit="step")

    def tqdm_step(description: str) -> None:
        bar.set_description(description[:40])
        bar.update(1)

    return tqdm_step, bar.close


def bench(args: argparse.Namespace) -> int:
    """Time cuzarr against zarr-python and tensorstore, print a ratio table, save JSON and PNG."""
    suite = _find_suite(args.suite_dir)
    libraries = suite.available_libraries()
    only = tuple(args.case)
    total = suite.steps_of(suite.select_cases(args.set, args.size, only), libraries, args.repeat)
    step, close = _progress_bar(total)
    try:
        record = suite.run_suite(
            args.set, args.size, args.repeat, args.count, libraries, progress=step, only=only
        )
    finally:
        close()
    print(suite.ratio_table(record))
    out = args.out or str(Path(suite.__file__).parent / "results")
    for path in suite.save(record, out):
        if path:
            print(f"wrote {path}")
    return 0


# -- the table ----------------------------------------------------------------------------------

SUBCOMMANDS: dict[
    str, tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]
] = {
    "bench": (_bench_arguments, bench),
    "info": (cli_nodes.info_arguments, cli_nodes.info),
    "tree": (cli_nodes.tree_arguments, cli_nodes.tree),
    "convert": (cli_nodes.convert_arguments, cli_nodes.convert),
    "copy": (cli_nodes.copy_arguments, cli_nodes.copy),
    "clean": (cli_nodes.clean_arguments, cli_nodes.clean),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cuzarr", description="cuzarr command line tools")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name, (add_arguments, run) in SUBCOMMANDS.items():
        sub = subparsers.add_parser(name, help=(run.__doc__ or "").split("\n")[0])
        add_arguments(sub)
        sub.set_defaults(run=run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a subcommand; user mistakes print one line (no traceback) and exit with status 2."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except (cli_nodes.UsageError, CuzarrError, FileNotFoundError) as exc:
        print(f"cuzarr {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

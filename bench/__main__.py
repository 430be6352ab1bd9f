"""Run the benchmarks: `python -m bench [--quick] [--suite NAME ...]` (scripts/bench wraps it)."""
from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import platform
import sys
import tempfile
import time
import traceback
from pathlib import Path

from tracker import create_app
from bench import BenchContext, Result
from tracker.extensions import db

ROOT = Path(__file__).resolve().parents[1]


def suite_names() -> list[str]:
    import bench.suites as package

    names = sorted(m.name for m in pkgutil.iter_modules(package.__path__))
    # The foundation suite first: it builds the data the others read.
    return sorted(names, key=lambda n: (n != "foundation", n))


def dataset(args, workdir: Path):
    """The national dataset in SQLite under bench-data/, generated once per scale and reused."""
    scale = "quick" if args.quick else "national"
    url = args.database_url or f"sqlite:///{ROOT / 'bench-data' / (scale + '.db')}"
    config = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True,
              "SERVER_NAME": "bench.local", "MAIL_SUPPRESS_SEND": True}
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        if args.regenerate:  # far quicker than dropping tables of a large database one by one
            for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                stale.unlink(missing_ok=True)
    app = create_app(config)
    return app, url


def format_table(results: list[Result]) -> str:
    lines = ["| suite | measure | value | unit | note |", "| --- | --- | ---: | --- | --- |"]
    for r in results:
        value = f"{r.value:,.0f}" if abs(r.value) >= 100 else f"{r.value:,.3g}"
        lines.append(f"| {r.suite} | {r.name} | {value} | {r.unit} | {r.note} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small data, for a smoke run")
    parser.add_argument("--suite", action="append", help="run only these suites (repeatable)")
    parser.add_argument("--database-url", help="benchmark against this database instead of bench-data/*.db")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the synthetic data")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args(argv)

    names = args.suite or suite_names()
    results: list[Result] = []
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="tracker-bench-") as tmp:
        workdir = Path(tmp)
        app, url = dataset(args, workdir)
        ctx = BenchContext(app=app, database_url=url, workdir=workdir, quick=args.quick,
                           actions=5_000 if args.quick else 100_000, updates=25_000 if args.quick else 500_000,
                           extra={"regenerate": args.regenerate})
        for name in names:
            print(f"== {name}", flush=True)
            started = time.perf_counter()
            try:
                module = importlib.import_module(f"bench.suites.{name}")
                got = module.run(ctx)
            except Exception:  # a failing suite is reported, the others still run
                traceback.print_exc()
                failures.append(name)
                continue
            for r in got:
                print(f"   {r.name}: {r.value:,.4g} {r.unit} {r.note}", flush=True)
            results.extend(got)
            print(f"   ({time.perf_counter() - started:.1f} s)", flush=True)
        with app.app_context():
            db.engine.dispose()

    table = format_table(results)
    print()
    print(table)
    if not args.no_write and not args.suite:
        command = "scripts/bench" + (" --quick" if args.quick else "")
        text = (
            "# Benchmarks\n\n"
            f"Measured with `{command}` on {time.strftime('%Y-%m-%d')}: {platform.machine()}, "
            f"{os.cpu_count()} cores, Python {platform.python_version()}, "
            f"database {url.split(':')[0]}. Data: {ctx.partnerships if not args.quick else 'quick'} "
            f"partnerships, {ctx.actions:,} actions, {ctx.updates:,} progress updates (bench/generate.py).\n\n"
            f"{table}\n"
        )
        if failures:
            text += f"\nSuites that failed in this run: {', '.join(failures)}.\n"
        (ROOT / "BENCHMARKS.md").write_text(text, encoding="utf-8")
        print("\nWrote BENCHMARKS.md")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

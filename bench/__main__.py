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
from bench import BenchContext, Result, pgcluster, sqlite_dataset_url
from tracker.extensions import db

ROOT = Path(__file__).resolve().parents[1]


def suite_names() -> list[str]:
    import bench.suites as package

    names = sorted(m.name for m in pkgutil.iter_modules(package.__path__))
    # The foundation suite first: it builds the data the others read.
    return sorted(names, key=lambda n: (n != "foundation", n))


DATABASES = ("sqlite", "postgresql")


def dataset(args, database: str, scratch):
    """The national dataset: in SQLite under bench-data/ (generated once per scale and reused), or in the
    throwaway PostgreSQL cluster (generated afresh by the foundation suite)."""
    scale = "quick" if args.quick else "national"
    if args.database_url:
        url = args.database_url
    elif database == "postgresql":
        url = scratch(f"bench_{scale}")
    else:
        url = sqlite_dataset_url(args.quick)
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


def _value(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"


def format_table(results: dict[str, list[Result]]) -> str:
    """One row per measure, a value column per database (and the notes of each)."""
    databases = [d for d in ("SQLite", "PostgreSQL") if d in results]
    rows: dict[tuple[str, str], dict[str, Result]] = {}
    for database in databases:
        for r in results[database]:
            rows.setdefault((r.suite, r.name), {})[database] = r
    lines = ["| suite | measure | " + " | ".join(databases) + " | unit | note |",
             "| --- | --- | " + " | ".join("---:" for _ in databases) + " | --- | --- |"]
    for (suite, name), by_database in rows.items():
        single = any(r.single for r in by_database.values())
        values = " | ".join(_value(by_database[d].value) if d in by_database else "n/a" if single else "not measured"
                            for d in databases)
        unit = next(iter(by_database.values())).unit
        notes = {d: r.note for d, r in by_database.items() if r.note}
        if len(set(notes.values())) <= 1:
            note = next(iter(notes.values()), "")
        else:
            note = "; ".join(f"{d}: {n}" for d, n in notes.items())
        lines.append(f"| {suite} | {name} | {values} | {unit} | {note} |")
    return "\n".join(lines)


def _compare_databases(results: dict[str, list[Result]]) -> None:
    """Rows that need both databases: PostgreSQL's writing throughput against SQLite's (target 0.8x), from the two
    phases' own runs when the concurrency suite could not take turns about on both (bench.suites.concurrency)."""
    from bench.suites.concurrency import MEASURE, RATIO, SUITE

    if "SQLite" not in results or "PostgreSQL" not in results:
        return
    if any(r.name == RATIO for r in results["PostgreSQL"]):
        return  # measured turn about, in the PostgreSQL phase
    found = {d: next((r for r in rs if r.name == MEASURE), None) for d, rs in results.items()}
    if found["SQLite"] and found["PostgreSQL"] and found["SQLite"].value:
        ratio = found["PostgreSQL"].value / found["SQLite"].value
        results["PostgreSQL"].append(Result(SUITE, RATIO, ratio, "x",
                                            f"target at least 0.8x: {'met' if ratio >= 0.8 else 'NOT met'}; "
                                            "the two phases' runs, minutes apart", single=True))


def run_suites(args, names: list[str], database: str, scratch, workdir: Path,
               failures: list[str]) -> list[Result]:
    results: list[Result] = []
    app, url = dataset(args, database, scratch)
    ctx = BenchContext(app=app, database_url=url, workdir=workdir, quick=args.quick,
                       actions=5_000 if args.quick else 100_000, updates=25_000 if args.quick else 500_000,
                       extra={"regenerate": args.regenerate or (database == "postgresql" and not args.database_url)}, scratch=scratch)
    if database == "postgresql" and not args.database_url and "foundation" not in names and any(
            getattr(importlib.import_module(f"bench.suites.{name}"), "NEEDS_DATASET", True) for name in names):
        names = ["foundation", *names]  # a fresh cluster: it builds the dataset the others read
    for name in names:
        print(f"== {name} ({ctx.database})", flush=True)
        started = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.suites.{name}")
            got = module.run(ctx)
        except Exception:  # a failing suite is reported, the others still run
            traceback.print_exc()
            failures.append(f"{name} ({ctx.database})")
            continue
        for r in got:
            print(f"   {r.name}: {r.value:,.4g} {r.unit} {r.note}", flush=True)
        results.extend(got)
        print(f"   ({time.perf_counter() - started:.1f} s)", flush=True)
    with app.app_context():
        db.engine.dispose()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small data, for a smoke run")
    parser.add_argument("--suite", action="append", help="run only these suites (repeatable)")
    parser.add_argument("--database", choices=(*DATABASES, "both"), default="both",
                        help="sqlite, postgresql (a throwaway cluster, as scripts/test starts) or both (default)")
    parser.add_argument("--database-url", help="benchmark against this database instead (one database only)")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the synthetic SQLite data")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args(argv)

    names = args.suite or suite_names()
    databases = DATABASES if args.database == "both" and not args.database_url else (
        ("postgresql",) if args.database == "postgresql" or (args.database_url or "").startswith("postgresql")
        else ("sqlite",))
    results: dict[str, list[Result]] = {}
    failures: list[str] = []
    for database in databases:
        with tempfile.TemporaryDirectory(prefix="tracker-bench-") as tmp:
            workdir = Path(tmp)
            if database == "postgresql" and not args.database_url:
                with pgcluster.cluster() as scratch:
                    got = run_suites(args, names, database, scratch, workdir, failures)
            else:
                got = run_suites(args, names, database, None, workdir, failures)
        results["PostgreSQL" if database == "postgresql" else "SQLite"] = got

    _compare_databases(results)
    table = format_table(results)
    print()
    print(table)
    if not args.no_write and not args.suite:
        command = "scripts/bench" + (" --quick" if args.quick else "") + (
            f" --database {args.database}" if args.database != "both" else "")
        text = (
            "# Benchmarks\n\n"
            f"Measured with `{command}` on {time.strftime('%Y-%m-%d')}: {platform.machine()}, "
            f"{os.cpu_count()} cores, Python {platform.python_version()}; "
            f"{' and '.join(results)} (PostgreSQL: a throwaway local cluster with fsync on). Data: "
            f"{'quick' if args.quick else '31'} partnerships, {5_000 if args.quick else 100_000:,} actions, "
            f"{25_000 if args.quick else 500_000:,} progress updates (bench/generate.py).\n\n"
            f"{table}\n"
        )
        if failures:
            text += f"\nSuites that failed in this run: {', '.join(failures)}.\n"
        (ROOT / "BENCHMARKS.md").write_text(text, encoding="utf-8")
        print("\nWrote BENCHMARKS.md")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmarks at national scale: `scripts/bench` runs every suite, prints a table, writes BENCHMARKS.md.

A suite is a module in bench.suites with `run(ctx: BenchContext) -> list[Result]`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parents[1]


def sqlite_dataset_url(quick: bool = False) -> str:
    """Where the SQLite national (or --quick) dataset lives: generated once per scale under bench-data/, reused."""
    return f"sqlite:///{ROOT / 'bench-data' / (('quick' if quick else 'national') + '.db')}"


@dataclass
class Result:
    suite: str  # "Timescales", "Pages", "Reminders", ...
    name: str  # what was measured
    value: float
    unit: str  # "s", "ms", "MiB", "rows/s", "queries", ...
    note: str = ""  # e.g. "target: p95 within 5x static (ratio 2.1x)"
    #: Measured on this database alone by its nature (a diagnostic of PostgreSQL, a ratio between the two): the
    #: other database's column says "n/a", not "not measured".
    single: bool = False


@dataclass
class BenchContext:
    app: Flask  # bound to the national dataset's database; use `with ctx.app.app_context():`
    database_url: str
    workdir: Path  # scratch space for files
    partnerships: int = 31
    actions: int = 100_000
    updates: int = 500_000
    quick: bool = False  # --quick: smaller data for a smoke run
    extra: dict = field(default_factory=dict)
    #: name -> the URL of a fresh, empty scratch database (a SQLite file under workdir, or a new database in
    #: the benchmark's PostgreSQL cluster): suites that build their own data use it, so they run on both.
    scratch: object = None

    @property
    def database(self) -> str:
        """"SQLite" or "PostgreSQL": the column of BENCHMARKS.md this run fills."""
        return "PostgreSQL" if self.database_url.startswith("postgresql") else "SQLite"

    def scratch_url(self, name: str) -> str:
        if self.scratch is not None:
            return self.scratch(name)
        path = self.workdir / f"{name}.db"
        for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
        return f"sqlite:///{path}"

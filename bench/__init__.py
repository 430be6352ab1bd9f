"""Benchmarks at national scale: `scripts/bench` runs every suite, prints a table, writes BENCHMARKS.md.

A suite is a module in bench.suites with `run(ctx: BenchContext) -> list[Result]`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask


@dataclass
class Result:
    suite: str  # "Timescales", "Pages", "Reminders", ...
    name: str  # what was measured
    value: float
    unit: str  # "s", "ms", "MiB", "rows/s", "queries", ...
    note: str = ""  # e.g. "target: p95 within 5x static (ratio 2.1x)"


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

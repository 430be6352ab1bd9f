"""Skipped tests, recorded and checked: in CI no promised component (PostgreSQL, Chromium, LibreOffice)
may be skipped, so every skip must be on the allow-list (tests/allowed-skips.txt).

The conftest hook appends one line per skipped test, "node id<TAB>reason", to the file named by
TRACKER_SKIP_REPORT. scripts/test then runs, for each pass:

    python -m tests.skips REPORT DATABASE     # DATABASE: sqlite or postgresql

which prints the skips and exits 1 if one is not allowed for that pass.
"""
from __future__ import annotations

import sys
from pathlib import Path

ALLOWED = Path(__file__).with_name("allowed-skips.txt")


def allowed(database: str, path: Path = ALLOWED) -> set[str]:
    """Node ids that may skip on this database's pass ("node id  database" per line, # comments)."""
    ids = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            node_id, _, where = line.rpartition(" ")
            if where.strip() in (database, "any"):
                ids.add(node_id.strip())
    return ids


def recorded(report: Path) -> list[tuple[str, str]]:
    if not report.exists():
        return []
    lines = report.read_text(encoding="utf-8").splitlines()
    return [tuple(line.split("\t", 1)) if "\t" in line else (line, "") for line in lines if line.strip()]


def check(report: Path, database: str) -> list[str]:
    """The skips in `report` that are not allowed on `database`'s pass."""
    permitted = allowed(database)
    return [f"{node_id}: {reason}" for node_id, reason in recorded(report) if node_id not in permitted]


def main(argv: list[str]) -> int:
    report, database = Path(argv[0]), argv[1]
    skips = recorded(report)
    refused = check(report, database)
    print(f"tests.skips: {len(skips)} skipped on the {database} pass, {len(refused)} not on the allow-list")
    for line in refused:
        print(f"  not allowed: {line}")
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

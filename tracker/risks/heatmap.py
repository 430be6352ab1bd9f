"""The geometry of a risk heat map (inline SVG, no script): likelihood across, impact up, a count per cell.

`heat_map(matrix, scores, title)` works out every coordinate and colour; templates/risks/_heatmap.html draws
it with SVG presentation attributes only, and the same counts go in the table beside it.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from tracker.risks.scoring import Matrix, Score

CELL, LEFT, TOP, BOTTOM = 64, 64, 36, 48


@dataclass(frozen=True)
class Cell:
    likelihood: int
    impact: int
    x: int
    y: int
    count: int
    fill: str
    text_colour: str
    label: str  # "Likelihood 3, impact 2: score 6 (Moderate), 1 risk"


@dataclass(frozen=True)
class HeatMap:
    title: str
    description: str
    size: int
    width: int
    height: int
    cell: int
    left: int
    top: int
    cells: list[Cell]
    x_labels: list[tuple[int, str]]
    y_labels: list[tuple[int, str]]
    #: rows of the data table, highest impact first: (impact, [count per likelihood 1..size])
    table: list[tuple[int, list[int]]]


def heat_map(matrix: Matrix, scores: list[Score], title: str) -> HeatMap:
    counts = Counter((s.likelihood, s.impact) for s in scores)
    n = matrix.size
    cells = []
    for impact in range(1, n + 1):
        for likelihood in range(1, n + 1):
            score = likelihood * impact
            band = matrix.band(score)
            count = counts.get((likelihood, impact), 0)
            cells.append(Cell(likelihood, impact, LEFT + (likelihood - 1) * CELL, TOP + (n - impact) * CELL, count,
                              band.fill, band.text_colour,
                              f"Likelihood {likelihood}, impact {impact}: score {score} ({band.name}), "
                              f"{count} risk{'s' if count != 1 else ''}"))
    placed = [c for c in cells if c.count]
    if placed:
        where = "; ".join(f"{c.count} at likelihood {c.likelihood} x impact {c.impact} "
                          f"({c.likelihood * c.impact}, {matrix.band(c.likelihood * c.impact).name})" for c in placed)
        description = f"{title}: {len(scores)} risk{'s' if len(scores) != 1 else ''} on a {n} x {n} matrix: {where}."
    else:
        description = f"{title}: no risks to show."
    return HeatMap(
        title=title, description=description, size=n, width=LEFT + n * CELL + 16, height=TOP + n * CELL + BOTTOM,
        cell=CELL, left=LEFT, top=TOP, cells=cells,
        x_labels=[(LEFT + (i - 1) * CELL + CELL // 2, str(i)) for i in range(1, n + 1)],
        y_labels=[(TOP + (n - i) * CELL + CELL // 2, str(i)) for i in range(1, n + 1)],
        table=[(impact, [counts.get((l, impact), 0) for l in range(1, n + 1)]) for impact in range(n, 0, -1)],
    )

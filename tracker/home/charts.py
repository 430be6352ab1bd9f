"""The geometry of a server-rendered stacked bar chart of RAG counts (inline SVG, no JavaScript).

One bar per row ("Glasgow City": 3 red, 10 green...); the template draws it with presentation attributes
and a data table beside it carries the same figures.
"""
from __future__ import annotations

from dataclasses import dataclass

from tracker.rag import Rag

WIDTH, BAR_HEIGHT, GAP, LEFT, RIGHT, TOP = 640, 28, 14, 8, 8, 8


@dataclass(frozen=True)
class Segment:
    x: float
    width: float
    rag: Rag
    count: int


@dataclass(frozen=True)
class Bar:
    label: str
    y: float
    segments: list[Segment]
    total: int


@dataclass(frozen=True)
class RagChart:
    width: int
    height: int
    bars: list[Bar]
    title: str
    description: str
    bar_height: int = BAR_HEIGHT


def rag_chart(rows: list[tuple[str, list[tuple[Rag, int]]]], title: str) -> RagChart:
    """Each bar's segments as a share of its own total (so partnerships of different sizes compare)."""
    usable = WIDTH - LEFT - RIGHT
    bars, described = [], []
    for index, (label, counts) in enumerate(rows):
        total = sum(n for _, n in counts)
        x, segments = float(LEFT), []
        for rag, n in counts:
            if not n:
                continue
            width = usable * n / total
            segments.append(Segment(round(x, 1), round(width, 1), rag, n))
            x += width
        bars.append(Bar(label, TOP + index * (BAR_HEIGHT * 2 + GAP) + BAR_HEIGHT, segments, total))
        described.append(f"{label}: " + (", ".join(f"{n} {rag.label}" for rag, n in counts if n) or "no actions"))
    height = TOP + len(rows) * (BAR_HEIGHT * 2 + GAP)
    return RagChart(WIDTH, max(height, 40), bars, title, "; ".join(described) + ".")

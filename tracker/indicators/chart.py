"""The geometry of a server-rendered trend chart (inline SVG, no JavaScript).

`trend_chart(trend)` works out every coordinate; templates/indicators/_chart.html only draws them,
with SVG presentation attributes (the Content-Security-Policy forbids style attributes).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from tracker.indicators.services import Trend

WIDTH, HEIGHT = 720, 320
LEFT, RIGHT, TOP, BOTTOM = 72, 16, 40, 56


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    label: str  # "Q1 2024/25: 412"


@dataclass(frozen=True)
class TrendChart:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    x_labels: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    value_lines: list[str]  # polyline "x,y x,y" runs, broken where a period has no value
    target_lines: list[str]
    markers: list[Marker]
    title: str
    description: str


def nice_step(span: float, ticks: int = 4) -> float:
    """A round tick interval (1, 2, 2.5 or 5 times a power of ten) giving about `ticks` intervals."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if factor * power >= raw:
            return factor * power
    return 10 * power  # pragma: no cover - the loop always returns


def _runs(points: list[tuple[float, float | None]]) -> list[str]:
    """Polyline point strings for each run of consecutive known values (a lone point is its own run)."""
    runs, current = [], []
    for x, y in points:
        if y is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(f"{x:.1f},{y:.1f}")
    if current:
        runs.append(current)
    return [" ".join(run) for run in runs if len(run) > 1]


def _short_label(label: str) -> str:
    """Month names are shortened on the axis ('September 2025' -> 'Sep 2025'); other labels fit."""
    first, _, rest = label.partition(" ")
    if first.isalpha() and rest.isdigit():
        return f"{first[:3]} {rest}"
    return label


def describe(trend: Trend) -> str:
    """The chart's text alternative: what it shows, every figure, the target, and the latest against it."""
    indicator = trend.indicator
    if not trend.points:
        return f"No periods to show yet for {indicator.name}."
    first, last = trend.points[0].period.label, trend.points[-1].period.label
    figures = "; ".join(f"{p.period.label} {trend.format(p.value) if p.value is not None else 'no value'}"
                        for p in trend.points)
    targets = sorted({p.target for p in trend.points if p.target is not None})
    if not targets:
        target_text = "No target is set."
    elif len(targets) == 1:
        target_text = f"The target is {trend.format(targets[0])}."
    else:
        target_text = "The target changes by year, from " + " to ".join(
            trend.format(t) for t in dict.fromkeys(p.target for p in trend.points if p.target is not None)) + "."
    better = "Higher is better." if indicator.higher_is_better else "Lower is better."
    return (f"Line chart of {indicator.name}, {first} to {last}: {figures}. {target_text} {better} "
            f"Latest against target: {trend.rag.text}. Direction of travel: {trend.direction}.")


def trend_chart(trend: Trend) -> TrendChart:
    plot_left, plot_right = LEFT, WIDTH - RIGHT
    plot_top, plot_bottom = TOP, HEIGHT - BOTTOM
    numbers = [p.value for p in trend.points if p.value is not None]
    numbers += [p.target for p in trend.points if p.target is not None]
    low = min([0.0, *numbers])
    high = max([*numbers, 0.0])
    step = nice_step(high - low if high > low else 1.0)
    low = math.floor(low / step) * step
    top_value = math.ceil(high / step) * step
    if top_value <= low:
        top_value = low + step
    # Keep the highest point off the top edge.
    if high >= top_value - step * 0.1:
        top_value += step

    def y_of(value: float) -> float:
        return plot_bottom - (value - low) / (top_value - low) * (plot_bottom - plot_top)

    count = max(len(trend.points), 1)
    slot = (plot_right - plot_left) / count

    def x_of(index: int) -> float:
        return plot_left + slot * (index + 0.5)

    ticks = []
    tick = low
    while tick <= top_value + step / 1000:
        ticks.append((y_of(tick), trend.format(tick)))
        tick += step
    value_points = [(x_of(i), y_of(p.value) if p.value is not None else None) for i, p in enumerate(trend.points)]
    target_points = [(x_of(i), y_of(p.target) if p.target is not None else None) for i, p in enumerate(trend.points)]
    if len(trend.points) == 1 and trend.points[0].target is not None:
        # One period: draw the target across the plot so it is visible.
        y = y_of(trend.points[0].target)
        target_points = [(plot_left, y), (plot_right, y)]
    markers = [Marker(x_of(i), y_of(p.value), f"{p.period.label}: {trend.format(p.value)}")
               for i, p in enumerate(trend.points) if p.value is not None]
    return TrendChart(
        width=WIDTH, height=HEIGHT, left=plot_left, right=plot_right, top=plot_top, bottom=plot_bottom,
        x_labels=[(x_of(i), _short_label(p.period.label)) for i, p in enumerate(trend.points)],
        y_ticks=ticks,
        value_lines=_runs(value_points),
        target_lines=_runs(target_points),
        markers=markers,
        title=f"Trend: {trend.indicator.name}",
        description=describe(trend),
    )

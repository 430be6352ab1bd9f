"""Bar charts as SVG for the PDF paper: drawn from the same figures as the tables beside them."""
from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

from tracker.papers import palette


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    colour: str  # a palette key


def bar_chart_svg(title: str, bars: list[Bar], *, description: str = "", width: int = 640) -> str:
    """A horizontal bar chart: one labelled bar per value, the value written at its end."""
    row, label_width, top = 26, 200, 8
    height = top + row * max(len(bars), 1) + 8
    most = max([b.value for b in bars] + [1])
    scale = (width - label_width - 60) / most
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" aria-label="{escape(title, {chr(34): "&quot;"})}">',
             f"<title>{escape(title)}</title>"]
    if description:
        parts.append(f"<desc>{escape(description)}</desc>")
    for index, bar in enumerate(bars):
        y = top + index * row
        length = max(bar.value * scale, 0)
        parts.append(f'<text x="{label_width - 8}" y="{y + 17}" text-anchor="end" font-size="13">'
                     f"{escape(bar.label)}</text>")
        parts.append(f'<rect x="{label_width}" y="{y + 3}" width="{length:.1f}" height="{row - 8}" '
                     f'fill="#{palette.fill(bar.colour)}" stroke="#333E48" stroke-width="0.5"/>')
        parts.append(f'<text x="{label_width + length + 6:.1f}" y="{y + 17}" font-size="13">{bar.value:,}</text>')
    parts.append("</svg>")
    return "".join(parts)

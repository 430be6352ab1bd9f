"""Scores and bands: pure functions, no database.

A score is likelihood x impact on a partnership's matrix (5 x 5 by default). A band is named by its lowest
score: the default bands are Low from 1, Moderate from 5, High from 10 and Very high from 20 (so 1-4, 5-9,
10-16 and 20-25, the products a 5 x 5 matrix can give). Dundee's 3 x 3 scoring has Low from 1, Moderate from 4
and High from 9. `parse_level` reads a committee report's "Likelihood 3 x Impact 3 = Risk Scoring 9 (High
Risk)" into its parts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from tracker.errors import RuleError

#: The palette key and SVG colours of each band, from the lowest band up (the last repeats for more bands).
BAND_COLOURS = (
    ("green", "#00823b", "#ffffff"),
    ("amber", "#ffc000", "#000000"),
    ("red", "#e0701b", "#000000"),
    ("red", "#c00000", "#ffffff"),
)


@dataclass(frozen=True, slots=True)
class Band:
    name: str
    low: int  # the lowest score in the band
    index: int = 0  # 0 for the lowest band

    @property
    def palette(self) -> str:
        return BAND_COLOURS[min(self.index, len(BAND_COLOURS) - 1)][0]

    @property
    def fill(self) -> str:
        return BAND_COLOURS[min(self.index, len(BAND_COLOURS) - 1)][1]

    @property
    def text_colour(self) -> str:
        return BAND_COLOURS[min(self.index, len(BAND_COLOURS) - 1)][2]


@dataclass(frozen=True, slots=True)
class Matrix:
    """A likelihood x impact grid of `size` x `size` and its bands, lowest first."""

    size: int
    bands: tuple[Band, ...]

    @classmethod
    def of(cls, size: int, bands) -> Matrix:
        """A checked matrix from (name, lowest score) pairs."""
        if not isinstance(size, int) or isinstance(size, bool) or not 2 <= size <= 10:
            raise RuleError("The matrix must be between 2 x 2 and 10 x 10.", "size")
        pairs = [(str(name).strip(), low) for name, low in bands]
        if not pairs:
            raise RuleError("Give at least one band.", "bands")
        lows = [low for _, low in pairs]
        if any(not isinstance(low, int) or isinstance(low, bool) for low in lows):
            raise RuleError("Each band starts at a whole number.", "bands")
        if lows[0] != 1 or lows != sorted(set(lows)) or lows[-1] > size * size:
            raise RuleError(f"Bands start at 1 and rise, each starting at a higher score, up to {size * size}.",
                            "bands")
        if any(not name or len(name) > 40 for name, _ in pairs):
            raise RuleError("Give each band a name of up to 40 characters.", "bands")
        return cls(size, tuple(Band(name, low, i) for i, (name, low) in enumerate(pairs)))

    def band(self, score: int) -> Band:
        found = self.bands[0]
        for band in self.bands:
            if score >= band.low:
                found = band
        return found

    def band_named(self, name: str) -> Band | None:
        key = name.strip().lower()
        return next((b for b in self.bands if b.name.lower() == key), None)

    def check(self, likelihood, impact, *, what: str = "score", field: str | None = None) -> int:
        """likelihood x impact, each a whole number from 1 to the matrix size."""
        for label, value in (("likelihood", likelihood), ("impact", impact)):
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= self.size:
                raise RuleError(f"The {what} {label} must be a whole number from 1 to {self.size}.",
                                field or f"{what}_{label}")
        return likelihood * impact

    def describe(self) -> str:
        """'5 x 5: Low 1-4, Moderate 5-9, High 10-16, Very high 20-25'."""
        products = sorted({l * i for l in range(1, self.size + 1) for i in range(1, self.size + 1)})
        parts = []
        for band in self.bands:
            scores = [p for p in products if self.band(p) == band]
            if scores:
                parts.append(f"{band.name} {scores[0]}-{scores[-1]}" if len(scores) > 1 else f"{band.name} {scores[0]}")
        return f"{self.size} x {self.size}: " + ", ".join(parts)

    def to_json(self) -> list:
        return [[b.name, b.low] for b in self.bands]


DEFAULT = Matrix.of(5, [("Low", 1), ("Moderate", 5), ("High", 10), ("Very high", 20)])
DUNDEE_3X3 = Matrix.of(3, [("Low", 1), ("Moderate", 4), ("High", 9)])


@dataclass(frozen=True, slots=True)
class Score:
    likelihood: int
    impact: int

    @property
    def value(self) -> int:
        return self.likelihood * self.impact

    def text(self, matrix: Matrix) -> str:
        """'9 (High): likelihood 3 x impact 3'."""
        return f"{self.value} ({matrix.band(self.value).name}): likelihood {self.likelihood} x impact {self.impact}"

    def short(self, matrix: Matrix) -> str:
        return f"{self.value} {matrix.band(self.value).name}"


def movement(before: int | None, now: int | None) -> str:
    """'Down from 9', 'Up from 4', 'No change', or 'New' when there was no earlier score."""
    if now is None:
        return ""
    if before is None:
        return "New"
    if now == before:
        return "No change"
    return f"{'Down' if now < before else 'Up'} from {before}"


def parse_bands(text: str) -> list[tuple[str, int]]:
    """'Low 1, Moderate 4, High 9' (or 'Low:1; Moderate:4') -> [('Low', 1), ...]."""
    pairs = []
    for part in re.split(r"[,;\n]", text or ""):
        part = part.strip()
        if not part:
            continue
        match = re.fullmatch(r"(.+?)\s*[:=]?\s*(\d{1,3})", part)
        if not match:
            raise RuleError(f"Write each band as a name and its lowest score, like 'High 10', not '{part[:40]}'.",
                            "bands")
        pairs.append((match[1].strip(), int(match[2])))
    return pairs


_LEVEL = re.compile(
    r"likelihood\s*(?:of\s*)?[:=]?\s*(\d{1,2})\s*[x×*]\s*impact\s*(?:of\s*)?[:=]?\s*(\d{1,2})"
    r"(?:\s*=\s*(?:risk\s*scor(?:ing|e)\s*)?(\d{1,3}))?\s*(?:\(\s*([^)]*?)\s*\))?", re.I)
_PAIR = re.compile(r"^\s*(\d{1,2})\s*[x×*]\s*(\d{1,2})\s*(?:=\s*(\d{1,3}))?\s*$")


@dataclass(frozen=True, slots=True)
class ParsedLevel:
    likelihood: int
    impact: int
    score: int
    band: str | None  # as written, without "Risk": "High", "Moderate"


def parse_level(text: str) -> ParsedLevel | None:
    """'Likelihood 3 x Impact 3 = Risk Scoring 9 (High Risk)' or '3 x 2' -> its parts; None if not a level.

    A written score that is not likelihood x impact is refused: the report contradicts itself."""
    text = " ".join((text or "").split())
    match = _LEVEL.search(text) or _PAIR.match(text)
    if not match:
        return None
    likelihood, impact = int(match[1]), int(match[2])
    written = int(match[3]) if match[3] else None
    if written is not None and written != likelihood * impact:
        raise RuleError(f"'{text[:80]}' gives a score of {written}, but likelihood {likelihood} x impact "
                        f"{impact} is {likelihood * impact}.")
    band = None
    if match.re is _LEVEL and match[4]:
        band = re.sub(r"\s*risk\s*$", "", match[4], flags=re.I).strip() or None
    return ParsedLevel(likelihood, impact, likelihood * impact, band)

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

from tracker import text as texts
from tracker.cells import looks_like_formula
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

#: The schemes a partnership chooses from on its settings page: size -> (name, its usual bands).
SCHEMES = {5: ("5 x 5: likelihood and impact each from 1 to 5 (the usual scoring)", DEFAULT),
           3: ("3 x 3: likelihood and impact each from 1 to 3 (as Dundee's committee reports score)", DUNDEE_3X3)}
MAX_BANDS = 6


def possible_scores(size: int) -> list[int]:
    """Every score a size x size matrix can give: the products of likelihood and impact (1, 2, 3, 4, 6, 9)."""
    return sorted({l * i for l in range(1, size + 1) for i in range(1, size + 1)})


def band_ranges(matrix: Matrix) -> list[tuple[str, int, int]]:
    """(name, lowest, highest score the matrix gives) per band: ('High', 10, 16) on the 5 x 5 default."""
    scores = possible_scores(matrix.size)
    ranges = []
    for band in matrix.bands:
        inside = [s for s in scores if matrix.band(s) == band]
        ranges.append((band.name, band.low, inside[-1] if inside else band.low))
    return ranges


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def matrix_from_bands(size, bands) -> Matrix:
    """A checked matrix from bands written as (name, lowest score) or (name, lowest, highest score).

    A missing highest score runs up to the next band (the last band's to the top score). The bands must be in
    order, each with a name, and together hold every score the matrix gives exactly once. A refusal names the
    field: "band_2_low" is the lowest score of the second band.
    """
    if not _whole(size) or not 2 <= size <= 10:
        raise RuleError("Choose the size of the matrix: 3 x 3 or 5 x 5.", "size")
    rows = [tuple(b) + (None,) * (3 - len(b)) for b in bands]
    if not rows:
        raise RuleError("Give at least one band.", "band_1_name")
    if len(rows) > MAX_BANDS:
        raise RuleError(f"Give at most {MAX_BANDS} bands.", f"band_{MAX_BANDS}_name")
    top = size * size
    scores = possible_scores(size)
    names: dict[str, int] = {}
    checked = []
    for number, (name, low, high) in enumerate(rows, start=1):
        label = f"Band {number}"
        name = texts.line(name, field=f"band_{number}_name", label=f"{label}'s label", max_length=40) or ""
        if not name:
            raise RuleError(f"Give band {number} a label, like 'High'.", f"band_{number}_name")
        if looks_like_formula(name):
            raise RuleError(f"{label}'s label starts with '{name[0]}': start it with a letter.",
                            f"band_{number}_name")
        if name.lower() in names:
            raise RuleError(f"Bands {names[name.lower()]} and {number} are both called '{name}': give each band "
                            "its own label.", f"band_{number}_name")
        names[name.lower()] = number
        if low is None or low == "":
            raise RuleError(f"Give the lowest score in band {number}.", f"band_{number}_low")
        for part, value in (("low", low), ("high", high)):
            if value is not None and value != "" and (not _whole(value) or not 1 <= value <= top):
                which = "lowest" if part == "low" else "highest"
                raise RuleError(f"The {which} score in band {number} must be a whole number from 1 to {top}.",
                                f"band_{number}_{part}")
        checked.append([name, low, None if high in (None, "") else high])
    for index, row in enumerate(checked):
        if row[2] is None:
            row[2] = checked[index + 1][1] - 1 if index + 1 < len(checked) else top
    for number, (name, low, high) in enumerate(checked, start=1):
        if number == 1 and low != 1:
            raise RuleError(f"Bands start at 1: no band holds the score 1, so band 1 must start at 1, not {low}.",
                            "band_1_low")
        if high < low:
            raise RuleError(f"Band {number} ({name}) ends at {high}, below where it starts ({low}).",
                            f"band_{number}_high")
        if number > 1:
            before = checked[number - 2]
            if low <= before[2]:
                raise RuleError(f"Band {number} ({name}) starts at {low}, but band {number - 1} ({before[0]}) runs "
                                f"up to {before[2]}: each score belongs to one band only, so start band {number} "
                                f"above {before[2]}.", f"band_{number}_low")
            gap = [s for s in scores if before[2] < s < low]
            if gap:
                raise RuleError(f"No band holds the score {gap[0]}: band {number - 1} ({before[0]}) ends at "
                                f"{before[2]} and band {number} ({name}) starts at {low}.", f"band_{number}_low")
        if not any(low <= s <= high for s in scores):
            raise RuleError(f"Band {number} ({name}, {low}-{high}) holds no score a {size} x {size} matrix gives "
                            f"({', '.join(map(str, scores))}).", f"band_{number}_low")
    last = checked[-1]
    if last[2] < top:
        raise RuleError(f"No band holds the top score {top}: the last band ({last[0]}) ends at {last[2]}.",
                        f"band_{len(checked)}_high")
    return Matrix.of(size, [(name, low) for name, low, _ in checked])


@dataclass(frozen=True, slots=True)
class BandChange:
    """One score of one risk that a new matrix would put in another band."""

    key: object  # what the score belongs to (a risk id)
    what: str  # "inherent", "residual" or "target"
    score: int
    before: str
    after: str


def band_changes(old: Matrix, new: Matrix, scores) -> list[BandChange]:
    """The scores that change band from `old` to `new`; `scores` gives (key, what, score) triples."""
    return [BandChange(key, what, score, old.band(score).name, new.band(score).name)
            for key, what, score in scores if old.band(score).name != new.band(score).name]


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


def parse_bands(text: str) -> list[tuple[str, int, int | None]]:
    """'Low 1, Moderate 4, High 9' (or 'Low:1; Moderate:4', or with ranges 'Low 1-3, Moderate 4-6, High 9')
    -> [('Low', 1, None), ...]: each band's name, lowest and (if given) highest score."""
    bands = []
    for part in re.split(r"[,;\n]", text or ""):
        part = part.strip()
        if not part:
            continue
        match = re.fullmatch(r"(.+?)\s*[:=]?\s*(\d{1,3})(?:\s*[-\u2013]\s*(\d{1,3}))?", part)
        if not match:
            raise RuleError(f"Write each band as a name and its lowest score, like 'High 10' (or its scores, like "
                            f"'High 10-16'), not '{part[:40]}'.", "bands")
        bands.append((match[1].strip(), int(match[2]), int(match[3]) if match[3] else None))
    return bands


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

"""Numbers as committee papers print them: rounded half up (31.25 -> 31.3), not half to even as round() does."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def half_up(value: float, places: int = 0) -> Decimal:
    """`value` rounded to `places` decimals, halves away from zero; from its shortest decimal form, so that
    0.15 (stored as 0.1499999...) rounds to 0.2 as the person who typed it expects."""
    return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def paper_number(value: float, places: int = 1) -> str:
    """412 -> '412', 1234.5 -> '1,234.5', 31.25 -> '31.3' (at most `places` decimals, none for a whole number)."""
    rounded = half_up(value, places)
    if rounded == rounded.to_integral_value():
        return f"{int(rounded):,}"
    return f"{rounded:,.{places}f}"


def file_size(size: int | None) -> str:
    """A file's size as a page shows it: '193 bytes', '12 KB' (never '0 KB'), '2.4 MB'."""
    size = max(0, int(size or 0))
    if size < 1024:
        return "1 byte" if size == 1 else f"{size:,} bytes"
    if size < 1024 * 1024:
        return f"{paper_number(size / 1024, 0)} KB"
    return f"{paper_number(size / (1024 * 1024), 1)} MB"

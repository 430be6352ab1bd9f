"""Where the templates, static files and migrations are.

The repository keeps them in top-level folders (`templates/`, `static/`, `migrations/`); the wheel carries
them inside the package (`tracker/templates/`, ...), copied there at build time by setup.py. `directory()`
prefers the packaged copy and falls back to the checkout, so an installed wheel, an editable install and a
plain checkout all find the same files.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

#: The folders the wheel carries inside the package.
NAMES = ("templates", "static", "migrations")

#: The checkout's root, when the package is imported from a checkout.
CHECKOUT = Path(__file__).resolve().parent.parent


def directory(name: str) -> Path:
    """The `name` folder ("templates", "static" or "migrations") as a real directory on disk."""
    if name not in NAMES:
        raise ValueError(f"unknown resource folder {name!r}: expected one of {', '.join(NAMES)}")
    packaged = resources.files("tracker").joinpath(name)
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    checkout = CHECKOUT / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        f"The tracker's {name}/ folder is missing: neither {packaged} nor {checkout} exists. "
        f"Install the tracker from a wheel (pip install /path/to/checkout), which carries {name}/ inside the package."
    )

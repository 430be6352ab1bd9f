"""Hypothesis settings for the property tests; import this module to load them.

Profiles: "dev" (random exploration, a new draw each run) and "ci" (derandomized: the same examples every run,
so a red CI run can be repeated). CI=true selects "ci"; HYPOTHESIS_PROFILE=name picks one by hand. Neither keeps
an example database (nothing is written to the work tree); a failure prints the blob that reproduces it.
"""
from __future__ import annotations

import os

from hypothesis import settings

COMMON = {"max_examples": 200, "deadline": None, "database": None, "print_blob": True}

settings.register_profile("dev", **COMMON)
settings.register_profile("ci", derandomize=True, **COMMON)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if _in_ci() else "dev"))

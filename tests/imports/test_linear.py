"""Issue 11: matching a file's leads costs a few look-ups per cell, not a comparison with every other name.

Speed targets live in the benchmarks (scripts/bench, Imports); here the algorithm itself is checked: the same
results as the original quadratic matcher on crafted and random cells, and a count of the work done that
grows in proportion to the number of distinct leads.
"""
from __future__ import annotations

import random
import re
import sys

import pytest

from tracker.imports import leads
from tracker.imports.services import _with_new_names

# The matcher as it was before issue 11 (quadratic), kept here as the oracle for identical results. ----------


def _old_resolve(part, known):
    key = leads.normalise(part)
    if key in known:
        name = known[key]
        return part, name, leads.EXACT if leads.normalise(name) == key else leads.ALIAS
    prefixes = [k for k in known if key.startswith(k + " ") or key.startswith(k + " &")]
    if prefixes:
        return part, known[max(prefixes, key=len)], leads.PREFIX
    return part, part, leads.NEW


def _old_split(text, known):
    text = re.sub(r"[ \t\u00a0]+", " ", text or "").strip()
    if not text:
        return []
    if leads.normalise(text) in known:
        return [_old_resolve(text, known)]
    protected = []

    def protect(match):
        protected.append(match[0])
        return f"\x00{len(protected) - 1}\x00"

    for name in sorted((k for k in known if "/" in k or ";" in k), key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", protect, text, flags=re.I)
    parts = []
    for part in leads.SEPARATORS.split(text):
        part = re.sub(r"\x00(\d+)\x00", lambda m: protected[int(m[1])], part).strip(" ,.-")
        if part and leads.normalise(part) not in leads.GENERIC:
            parts.append(part)
    resolved, seen = [], set()
    items = [_old_resolve(part, known) for part in parts]
    names_someone = any(how != leads.NEW for _, _, how in items)
    for item in items:
        if item[2] == leads.NEW and names_someone and leads.normalise(item[0]).rsplit(" ", 1)[-1] in leads.ROLE_WORDS:
            continue
        if item[1] not in seen:
            seen.add(item[1])
            resolved.append(item)
    return resolved


def _old_with_new_names(lead_texts, known):
    new = {}
    for text in lead_texts:
        for _part, name, how in _old_split(text, known):
            if how == leads.NEW:
                new.setdefault(leads.normalise(name), name)
    names = set(known) | set(new)
    shortest = {key: name for key, name in new.items()
                if not any(key.startswith(other + " ") for other in names if other != key)}
    return {**known, **shortest}


# Inputs ---------------------------------------------------------------------------------------------------

DATABASE = {
    "dh&scp": "DH&SCP",
    "dundee health and social care partnership": "DH&SCP",
    "nhs tayside": "NHS Tayside",
    "penumbra": "Penumbra",
    "health & wellbeing/carers service": "Health & Wellbeing/Carers Service",
    "carers centre": "Carers Centre",
    "carers centre dundee": "Carers Centre Dundee",
    "lead scotland": "Lead Scotland",
    "info; advice": "Info; Advice",
}

CRAFTED = [
    "DH&SCP", "DH&SCP Hospital Discharge Team", "dh&scp  & partners", "NHS Tayside/ Penumbra",
    "Health & Wellbeing/Carers Service/ Penumbra", "Carers Centre Dundee Outreach", "Carers Centre Perth",
    "Carers Centre/Lead Scotland; All partners", "Young Carers", "Young Carers Sub Group", "Young Carers Sub",
    "Young", "Corner & Partner Agencies", "The Corner", "The Corner & Partner Agencies/ TBC",
    "Info; Advice worker", "Penumbra/Info & Communication funded post", "Carer Involvement Subgroup",
    "Carer Involvement", "Dundee Health and Social Care Partnership Locality Team", "", "   ", "n/a",
    "Alpha\nBeta Gamma\nAlpha Team", "Alpha Beta", "alpha beta delta", "Lead Scotland Officer/ Penumbra",
]


def random_leads(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    words = ["Carers", "Centre", "Dundee", "Team", "Young", "Sub", "Group", "NHS", "Tayside", "Penumbra",
             "Lead", "Scotland", "Partnership", "Officer", "Alpha", "Beta", "&", "Service"]
    texts = set(CRAFTED)
    while len(texts) < n:
        parts = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 4))) for _ in range(rng.randint(1, 3))]
        texts.add(rng.choice(["/", "; ", "\n", " / "]).join(parts))
    return sorted(texts)


# Identical results ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_linear_matcher_gives_exactly_the_old_results(seed):
    texts = random_leads(400, seed)
    old_known = _old_with_new_names(texts, dict(DATABASE))
    new_known = _with_new_names(texts, dict(DATABASE))
    assert dict(new_known) == old_known and list(new_known) == list(old_known)
    for text in texts:
        assert leads.split(text, new_known) == _old_split(text, old_known), text
        assert leads.split(text, DATABASE) == _old_split(text, DATABASE), text


def test_a_file_name_is_kept_only_when_no_shorter_name_starts_it():
    known = _with_new_names(["Young Carers", "Young Carers Sub Group", "Young Carers/ Alpha Beta Team",
                             "Alpha Beta"], {})
    assert {k: v for k, v in known.items()} == {"young carers": "Young Carers", "alpha beta": "Alpha Beta"}
    assert leads.split("Young Carers Sub Group", known) == [("Young Carers Sub Group", "Young Carers", leads.PREFIX)]


def test_longest_known_prefix_stops_at_word_boundaries():
    names = {"carers", "carers centre", "carers centre dundee"}
    assert leads.longest_known_prefix("carers centre dundee east", names) == "carers centre dundee"
    assert leads.longest_known_prefix("carers centred", names) == "carers"
    assert leads.longest_known_prefix("carers", names) is None  # the name itself is not its own prefix
    assert leads.longest_known_prefix("carerscentre", names) is None


def test_known_forgets_its_index_when_changed():
    known = leads.Known({"a/b": "A/B"})
    assert known.separated() == ["a/b"]
    known["c/d/e"] = "C/D/E"
    assert known.separated() == ["c/d/e", "a/b"]
    known.pop("c/d/e")
    known.update({"x;y": "X;Y"})
    assert known.separated() == ["a/b", "x;y"]


# The work done grows with the number of leads, not its square ----------------------------------------------


def _builtin_calls(function) -> int:
    """How many built-in functions and methods (str.startswith, dict look-ups by method...) `function` calls."""
    calls = 0

    def profile(_frame, event, _arg):
        nonlocal calls
        if event == "c_call":
            calls += 1

    sys.setprofile(profile)
    try:
        function()
    finally:
        sys.setprofile(None)
    return calls


def _preview_matching(texts: list[str]) -> None:
    """What an import preview does with the file's leads (tracker.imports.services.plan_changes)."""
    known = _with_new_names(texts, dict(DATABASE))
    for text in texts:
        leads.split(text, known)


def distinct_leads(n: int) -> list[str]:
    return [f"Lead organisation {i} Team" if i % 3 else f"Lead {i}/ Partner {i}" for i in range(n)]


def test_matching_work_is_linear_in_distinct_leads():
    small = _builtin_calls(lambda: _preview_matching(distinct_leads(1_000)))
    large = _builtin_calls(lambda: _preview_matching(distinct_leads(4_000)))
    # Four times the leads: linear work is about 4 times as much; the old matcher did about 16 times.
    assert large / small < 5, (small, large)

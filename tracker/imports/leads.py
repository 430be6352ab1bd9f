"""Split a lead cell ("Penumbra/Carseview/ Carers Trust") into organisations; no database.

Known names and aliases are matched first, so a name with "/" or "&" inside is never broken; what is left
is split on "/", ";" and new lines. A part that starts with a known name ("DH&SCP Hospital Discharge Team")
is that organisation; generic words ("all partners") name nobody.

Matching costs a few dictionary look-ups per word of a cell, whatever the number of known names: a `Known`
mapping indexes the names that contain a separator once, and a prefix is found by looking up each of the
cell's own word boundaries rather than by comparing the cell with every known name.
"""
from __future__ import annotations

import functools
import re

from tracker.partnerships.models import OrganisationKind

SEPARATORS = re.compile(r"\s*(?:/|;|\n|\r)\s*")
GENERIC = {"all partners", "all", "partners", "partner agencies", "all agencies", "others", "tbc", "tbd", "n/a",
           "various", "all services"}
#: A part ending in one of these names a post or team, not an organisation ("Info & Communication funded post").
ROLE_WORDS = {"post", "posts", "team", "officer", "officers", "worker", "workers", "manager", "coordinator",
              "co-ordinator", "resource", "bid"}

EXACT = "exact"  # the organisation's own name
ALIAS = "alias"  # a name in the alias list
PREFIX = "prefix"  # a known name followed by a team or service ("DH&SCP Hospital Discharge Team")
NEW = "new"  # nobody by that name yet: a new organisation


_SPACES = re.compile(r"[ \t\u00a0]+")
_PROTECTED = re.compile(r"\x00(\d+)\x00")


@functools.lru_cache(maxsize=4096)
def _name_pattern(name: str) -> re.Pattern:
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", flags=re.I)


def normalise(name: str) -> str:
    """Lower case, each run of white space one space, none at the ends (str.split splits on the white space
    that the pattern \\s+ matches)."""
    return " ".join(name.split()).lower()


class Known(dict):
    """Normalised name or alias -> organisation name, with the names containing "/" or ";" indexed once.

    Any dict works with `split`; this one saves it scanning every known name for each cell.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._separated: list[str] | None = None

    def separated(self) -> list[str]:
        """The names containing a separator, longest first (ties in insertion order)."""
        if self._separated is None:
            self._separated = _separated_names(self)
        return self._separated

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        self._separated = None

    def __delitem__(self, key):
        super().__delitem__(key)
        self._separated = None

    def __ior__(self, other):
        result = super().__ior__(other)
        self._separated = None
        return result

    def update(self, *args, **kwargs):
        super().update(*args, **kwargs)
        self._separated = None

    def setdefault(self, key, default=None):
        self._separated = None
        return super().setdefault(key, default)

    def pop(self, *args):
        self._separated = None
        return super().pop(*args)

    def popitem(self):
        self._separated = None
        return super().popitem()

    def clear(self):
        super().clear()
        self._separated = None


def _separated_names(known: dict[str, str]) -> list[str]:
    return sorted((k for k in known if "/" in k or ";" in k), key=len, reverse=True)


def longest_known_prefix(key: str, names) -> str | None:
    """The longest of `names` that `key` starts with, followed by a space: one look-up per space in `key`.

    The same as the longest `k` in `names` with `key.startswith(k + " ")`, without comparing every name.
    """
    end = key.rfind(" ")
    while end >= 0:
        if key[:end] in names:
            return key[:end]
        end = key.rfind(" ", 0, end)
    return None


def split(text: str | None, known: dict[str, str]) -> list[tuple[str, str, str]]:
    """(part as written, organisation name, how it was matched) for each lead named in `text`.

    `known` maps a normalised name or alias to the organisation's name (a `Known` for many cells).
    """
    text = _SPACES.sub(" ", text or "").strip()
    if not text:
        return []
    if normalise(text) in known:
        return [_resolve(text, known)]
    protected: list[str] = []

    def protect(match: re.Match) -> str:
        protected.append(match[0])
        return f"\x00{len(protected) - 1}\x00"

    separated = known.separated() if isinstance(known, Known) else _separated_names(known)
    for name in separated:
        text = _name_pattern(name).sub(protect, text)
    parts = []
    for part in SEPARATORS.split(text):
        if "\x00" in part:
            part = _PROTECTED.sub(lambda m: protected[int(m[1])], part)
        part = part.strip(" ,.-")
        if part and normalise(part) not in GENERIC:
            parts.append(part)
    resolved, seen = [], set()
    items = [_resolve(part, known) for part in parts]
    names_someone = any(how != NEW for _, _, how in items)
    for item in items:
        if item[2] == NEW and names_someone and normalise(item[0]).rsplit(" ", 1)[-1] in ROLE_WORDS:
            continue  # a post or team inside an organisation the cell already names
        if item[1] not in seen:
            seen.add(item[1])
            resolved.append(item)
    return resolved


def _resolve(part: str, known: dict[str, str]) -> tuple[str, str, str]:
    key = normalise(part)
    if key in known:
        name = known[key]
        return part, name, EXACT if normalise(name) == key else ALIAS
    prefix = longest_known_prefix(key, known)
    if prefix is not None:
        return part, known[prefix], PREFIX
    return part, part, NEW


def guess_kind(name: str) -> OrganisationKind:
    """A sensible kind for an organisation first seen in an import; users can change it."""
    lowered = name.lower()
    rules = [
        (("sub group", "subgroup", "sub-group"), OrganisationKind.SUBGROUP),
        (("carers centre",), OrganisationKind.CARERS_CENTRE),
        (("hscp", "health and social care partnership", "h&scp"), OrganisationKind.HSCP),
        (("nhs", "health board"), OrganisationKind.HEALTH_BOARD),
        (("council",), OrganisationKind.COUNCIL),
    ]
    for words, kind in rules:
        if any(word in lowered for word in words):
            return kind
    return OrganisationKind.OTHER


# -- job titles and people ---------------------------------------------------------------------------------

#: Words that start a post's title ("Head of Service", "Chief Finance Officer"): a person, never an organisation.
TITLE_STARTS = ("head of", "director", "chief", "deputy", "assistant director", "senior", "principal", "lead for",
                "service manager", "locality manager", "team leader", "councillor", "cllr")
#: Words that end a post's title.
TITLE_ENDS = {"officer", "officers", "manager", "managers", "coordinator", "co-ordinator", "coordinators",
              "director", "lead", "leads", "worker", "workers", "adviser", "advisor", "nurse", "consultant",
              "planner", "analyst", "chair", "convener", "post", "posts", "administrator"}


def looks_like_job_title(text: str) -> bool:
    """Whether a part of a lead cell names a post ("Chief Finance Officer"), which is not an organisation."""
    key = normalise(text).strip(" .,")
    if not key:
        return False
    return key.startswith(TITLE_STARTS) or key.rsplit(" ", 1)[-1] in TITLE_ENDS


def organisations_only(resolved: list[tuple[str, str, str]],
                       existing: set[str]) -> tuple[list[tuple[str, str, str]], list[str]]:
    """The parts of a split cell that are organisations, and the ones that read as job titles.

    A name already among the `existing` organisations is kept whatever it looks like: someone made it one.
    """
    kept, titles = [], []
    for part, name, how in resolved:
        if name not in existing and looks_like_job_title(name):
            titles.append(part)
        else:
            kept.append((part, name, how))
    return kept, titles


# How a suggestion was found, best first.
BY_EMAIL = "e-mail"
BY_NAME = "name"
BY_TITLE = "job title"


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9@._'-]+", text.lower()))


def suggest_user(text: str | None, people: list[tuple[int, str, str, str | None]]) -> tuple[int, str] | None:
    """The one person a lead text names, as (user id, how): matched on e-mail, then name, then job title.

    `people` are (id, name, e-mail, job title). A text that could name two people equally suggests nobody.
    """
    key = _words(text or "")
    if not key:
        return None
    padded = f" {key} "
    tests = [
        (BY_EMAIL, lambda p: p[2] and (p[2].lower() in key.split() or p[2].lower() == key)),
        (BY_NAME, lambda p: p[1] and (_words(p[1]) == key or f" {_words(p[1])} " in padded)),
        (BY_TITLE, lambda p: p[3] and (_words(p[3]) == key or f" {_words(p[3])} " in padded)),
    ]
    for how, test in tests:
        found = {p[0] for p in people if test(p)}
        if len(found) == 1:
            return found.pop(), how
        if len(found) > 1:
            return None
    return None

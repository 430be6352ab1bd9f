"""A small per-process cache of rendered page fragments, checked against a cheap stamp of the data.

The plan page's action table is the same for everyone who may see the plan, and costs far more to build
(thousands of rows) than to check: one aggregate query tells whether any action, or any name the table
shows (tracker.plans.stamps), changed. My actions is cached the same way per person, against a stamp of
the actions they lead. So an entry is never older than the last committed change; `ttl` only frees memory
of entries nobody asks for.

Entries are kept as UTF-8 bytes: the page around a fragment is rendered with a marker where the fragment
goes (`FRAGMENT`), and `spliced` joins the encoded page and the cached bytes, so a large table is neither
re-encoded nor copied into the page's text on every request.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from flask import current_app
from markupsafe import Markup

#: Where the cached fragment goes in the page rendered around it. User text is escaped, so it can never
#: contain this comment's "<!--".
FRAGMENT = Markup("<!--app-cached-fragment-->")


class FragmentCache:
    def __init__(self, size: int = 16, ttl: float = 3600.0):
        self.size, self.ttl = size, ttl
        self._entries: OrderedDict[Hashable, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_render(self, key: Hashable, render: Callable[[], str]) -> bytes:
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(key)
            if found and now - found[0] < self.ttl:
                self._entries.move_to_end(key)
                return found[1]
        html = render().encode("utf-8")
        with self._lock:
            self._entries[key] = (now, html)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return html


def _cache(name: str, size_setting: str, size: int) -> FragmentCache:
    cache = current_app.extensions.get(name)
    if cache is None:
        cache = current_app.extensions[name] = FragmentCache(
            size=current_app.config.get(size_setting, size),
            ttl=current_app.config.get("PLAN_FRAGMENT_CACHE_SECONDS", 3600.0),
        )
    return cache


def fragments() -> FragmentCache:
    """This app's cache of plan tables (one per app, so tests with fresh apps never share entries)."""
    return _cache("plan_fragments", "PLAN_FRAGMENT_CACHE_SIZE", 16)


def personal_fragments() -> FragmentCache:
    """This app's cache of people's My actions lists (small entries, one per person)."""
    return _cache("my_actions_fragments", "MY_ACTIONS_CACHE_SIZE", 256)


def spliced(page: str, fragment: bytes) -> bytes:
    """The page (rendered with FRAGMENT where the fragment goes) as UTF-8, with the fragment in place."""
    head, found, tail = page.partition(FRAGMENT)
    if not found:
        raise ValueError("the page has no place for its fragment")
    return b"".join((head.encode("utf-8"), fragment, tail.encode("utf-8")))

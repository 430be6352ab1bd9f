"""A small per-process cache of rendered page fragments, checked against a cheap stamp of the data.

The plan page's action table is the same for everyone who may see the plan, and costs far more to build
(thousands of rows) than to check: one aggregate query tells whether any action, or any name the table
shows (tracker.plans.stamps), changed. So an entry is never older than the last committed change; `ttl`
only frees memory of entries nobody asks for.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from flask import current_app
from markupsafe import Markup


class FragmentCache:
    def __init__(self, size: int = 16, ttl: float = 3600.0):
        self.size, self.ttl = size, ttl
        self._entries: OrderedDict[Hashable, tuple[float, Markup]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_render(self, key: Hashable, render: Callable[[], str]) -> Markup:
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(key)
            if found and now - found[0] < self.ttl:
                self._entries.move_to_end(key)
                return found[1]
        html = Markup(render())
        with self._lock:
            self._entries[key] = (now, html)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return html


def fragments() -> FragmentCache:
    """This app's cache (one per app, so tests with fresh apps never share entries)."""
    cache = current_app.extensions.get("plan_fragments")
    if cache is None:
        cache = current_app.extensions["plan_fragments"] = FragmentCache(
            size=current_app.config.get("PLAN_FRAGMENT_CACHE_SIZE", 16),
            ttl=current_app.config.get("PLAN_FRAGMENT_CACHE_SECONDS", 3600.0),
        )
    return cache

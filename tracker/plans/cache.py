"""A small per-process cache of rendered page fragments, checked against a cheap stamp of the data.

The plan page's action table is the same for everyone who may see the plan, and costs far more to build
(thousands of rows) than to check: one aggregate query tells whether any action, or any name the table
shows (tracker.plans.stamps), changed. My actions is cached the same way per person, against a stamp of
the actions they lead. So an entry is never older than the last committed change; `ttl` only frees memory
of entries nobody asks for.

Entries are kept as UTF-8 bytes: the page around a fragment is rendered with a marker where the fragment
goes (`FRAGMENT`), and `spliced` joins the encoded page and the cached bytes, so a large table is neither
re-encoded nor copied into the page's text on every request.

For a browser that accepts gzip, `gzipped` sends the same page compressed without compressing it again: the
fragment is deflated once, when first asked for, and the page around it is wrapped in uncompressed
("stored") deflate blocks, in one gzip stream (RFC 1951 3.2.4, RFC 1952). Only the cached fragment is
compressed: the page around it carries the form token and echoes the search, which must never share a
compression window (BREACH).
"""
from __future__ import annotations

import struct
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from flask import current_app
from markupsafe import Markup

#: Where the cached fragment goes in the page rendered around it. User text is escaped, so it can never
#: contain this comment's "<!--".
FRAGMENT = Markup("<!--app-cached-fragment-->")


T = TypeVar("T")


class Fragment(bytes):
    """A cached fragment's UTF-8 bytes, with its raw deflate blocks made once (ending byte-aligned, not final),
    and what its CRC-32 needs to be continued from any page head without reading it again (`crc_after`)."""

    _deflated: bytes | None = None
    _crc: int = 0
    _shift: tuple[tuple[int, ...], ...] = ()

    def deflated(self) -> bytes:
        if self._deflated is None:
            compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
            self._deflated = compressor.compress(self) + compressor.flush(zlib.Z_FULL_FLUSH)
            self._crc, self._shift = zlib.crc32(self), _crc_shift_tables(len(self))
        return self._deflated

    def crc_after(self, crc: int) -> int:
        """zlib.crc32(self, crc), from the fragment's own CRC: CRC-32 is linear, so continuing it over the
        fragment is its own CRC xor a linear map of `crc` (that of len(self) bytes, kept as byte tables)."""
        self.deflated()
        t0, t1, t2, t3 = self._shift
        return self._crc ^ t0[crc & 0xFF] ^ t1[(crc >> 8) & 0xFF] ^ t2[(crc >> 16) & 0xFF] ^ t3[crc >> 24]


def _crc_shift_tables(length: int) -> tuple[tuple[int, ...], ...]:
    """For each byte of a CRC, the 256 values of the linear map c -> crc32(x, c) ^ crc32(x, 0), for any x of
    this length (the map depends on the length alone): built from the images of the 32 single bits."""
    zeros = bytes(length)
    base = zlib.crc32(zeros)
    bits = [zlib.crc32(zeros, 1 << i) ^ base for i in range(32)]
    tables = []
    for byte in range(4):
        table = [0] * 256
        for value in range(1, 256):
            low = value & -value
            table[value] = table[value ^ low] ^ bits[8 * byte + low.bit_length() - 1]
        tables.append(tuple(table))
    return tuple(tables)


class FragmentCache:
    def __init__(self, size: int = 16, ttl: float = 3600.0):
        self.size, self.ttl = size, ttl
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_render(self, key: Hashable, render: Callable[[], str]) -> Fragment:
        return self.get_or_make(key, lambda: Fragment(render().encode("utf-8")))

    def get_or_make(self, key: Hashable, make: Callable[[], T]) -> T:
        """The entry for `key`, made (and kept) when there is none."""
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(key)
            if found and now - found[0] < self.ttl:
                self._entries.move_to_end(key)
                return found[1]
        value = make()
        with self._lock:
            self._entries[key] = (now, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value


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


def plan_extras() -> FragmentCache:
    """This app's cache of what the plan page shows around its table, per person and plan (small entries)."""
    return _cache("plan_extras", "PLAN_EXTRAS_CACHE_SIZE", 256)


def page_shells() -> FragmentCache:
    """This app's cache of plan pages around their table, per person, plan and stamps (tracker.plans.views)."""
    return _cache("plan_shells", "PLAN_SHELL_CACHE_SIZE", 256)


def personal_fragments() -> FragmentCache:
    """This app's cache of people's My actions lists (small entries, one per person)."""
    return _cache("my_actions_fragments", "MY_ACTIONS_CACHE_SIZE", 256)


def parts(page: str) -> tuple[bytes, bytes]:
    """The page (rendered with FRAGMENT where the fragment goes) as UTF-8 bytes before and after it."""
    head, found, tail = page.partition(FRAGMENT)
    if not found:
        raise ValueError("the page has no place for its fragment")
    return head.encode("utf-8"), tail.encode("utf-8")



def spliced(page: str | tuple[bytes, bytes], fragment: bytes) -> bytes:
    """The page (rendered with FRAGMENT where the fragment goes, or its `parts`) with the fragment in place."""
    head, tail = page if isinstance(page, tuple) else parts(page)
    return b"".join((head, fragment, tail))


#: A gzip member's header: deflate, no flags, no time, no extra flags, unknown operating system.
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"


def gzipped(page: str | tuple[bytes, bytes], fragment: Fragment) -> bytes:
    """What `spliced` gives, as one gzip stream: the page around the fragment stored, the fragment deflated."""
    head, tail = page if isinstance(page, tuple) else parts(page)
    before = zlib.compressobj(0, zlib.DEFLATED, -zlib.MAX_WBITS)
    after = zlib.compressobj(0, zlib.DEFLATED, -zlib.MAX_WBITS)
    crc = zlib.crc32(tail, fragment.crc_after(zlib.crc32(head)))
    size = (len(head) + len(fragment) + len(tail)) & 0xFFFFFFFF
    return b"".join((GZIP_HEADER, before.compress(head), before.flush(zlib.Z_FULL_FLUSH), fragment.deflated(),
                     after.compress(tail), after.flush(), struct.pack("<II", crc, size)))

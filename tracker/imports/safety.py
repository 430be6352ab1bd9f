"""Checks an uploaded file must pass before any parser opens it: type, size, zip bomb, DTDs.

Everything here reads the bytes and the sizes the zip declares; nothing is parsed or executed.
Every part of the zip is read through once, whatever its name or wherever the package's relationships point:
none may declare a DTD or entities, and the bytes really unpacked must match the sizes declared and stay
within the limits. A zip that is damaged or lies about its sizes is refused, never an error page.
Each refusal is an ImportRefused with a sentence a user can act on.
"""
from __future__ import annotations

import codecs
import io
import os
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import openpyxl

from tracker.errors import RuleError

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
MIB = 1024 * 1024

# openpyxl parses with defusedxml when it is installed; the importer refuses to run without it.
if not openpyxl.DEFUSEDXML:  # pragma: no cover - guarded by install_requires
    raise ImportError("defusedxml must be installed: openpyxl would otherwise parse untrusted XML unprotected.")


class ImportRefused(RuleError):
    """The file cannot be imported; the message says why in plain words. Nothing was written."""


@dataclass(frozen=True)
class Limits:
    """How big an upload may be, before and after decompression."""

    max_bytes: int = 20 * MIB
    max_uncompressed: int = 200 * MIB
    max_ratio: int = 100
    max_members: int = 1000
    max_rows: int = 20_000


@dataclass(frozen=True)
class CheckedFile:
    """An upload that passed the checks: its bytes and what kind of document it is."""

    data: bytes
    kind: str  # "xlsx" or "docx"
    name: str
    #: The worksheet parts in which the checks saw what may be a formula element (None: not looked for, as for
    #: a kept upload read again); a reader looks for formulas without a stored value only in these.
    formula_parts: frozenset[str] | None = None

    def open_zip(self) -> zipfile.ZipFile:
        return zipfile.ZipFile(io.BytesIO(self.data))


def read_upload(file: str | os.PathLike | bytes | BinaryIO, limits: Limits) -> tuple[bytes, str]:
    """The file's bytes and name, refusing anything over the size limit without reading it all."""
    if isinstance(file, bytes):
        data, name = file, ""
    elif isinstance(file, (str, os.PathLike)):
        path = Path(file)
        if path.stat().st_size > limits.max_bytes:
            raise ImportRefused(_too_big(limits))
        data, name = path.read_bytes(), path.name
    else:
        data = file.read(limits.max_bytes + 1)
        name = getattr(file, "filename", None) or getattr(file, "name", "") or ""
    if len(data) > limits.max_bytes:
        raise ImportRefused(_too_big(limits))
    return data, os.path.basename(str(name))


def _too_big(limits: Limits) -> str:
    return f"The file is larger than the {limits.max_bytes // MIB} MB limit. Split the plan or remove images."


def check(file: str | os.PathLike | bytes | BinaryIO, limits: Limits | None = None,
          expect: str | None = None) -> CheckedFile:
    """Refuse anything that is not a safe, plain .xlsx or .docx; `expect` names the kind wanted."""
    limits = limits or Limits()
    data, name = read_upload(file, limits)
    if not data:
        raise ImportRefused("The file is empty.")
    if name.lower().endswith(".xlsm"):
        raise ImportRefused(_MACRO_MESSAGE)
    if data.startswith(OLE2_MAGIC):
        raise ImportRefused(
            "The file is password-protected or in the old Excel/Word 97-2003 format. "
            "Remove the password and save it as .xlsx or .docx, then upload it again.")
    if not data.startswith(ZIP_MAGIC):
        raise ImportRefused("The file is not an Excel .xlsx or Word .docx file (whatever its name says).")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
        _check_sizes(members, len(data), limits)
        kind = _kind(archive)
        if expect and kind != expect:
            wanted = {"xlsx": "an Excel .xlsx workbook", "docx": "a Word .docx document"}[expect]
            raise ImportRefused(f"Upload {wanted}; this file is a .{kind}.")
        formula_parts = _check_every_part(archive, members, len(data), limits)
    except ImportRefused:
        raise
    except _DAMAGED:
        raise ImportRefused(DAMAGED) from None
    return CheckedFile(data=data, kind=kind, name=name, formula_parts=formula_parts)


DAMAGED = "The file is damaged: it could not be opened as an .xlsx or .docx file."
#: What zipfile and zlib raise for a damaged archive, sizes that do not match the data, a wrong CRC,
#: an unsupported compression method or an encrypted part.
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError, RuntimeError,
            KeyError, OverflowError)


_MACRO_MESSAGE = ("Macro-enabled workbooks (.xlsm) are not accepted. "
                  "Save the workbook as an Excel Workbook (.xlsx) and upload that.")


def _check_sizes(members: list[zipfile.ZipInfo], compressed_total: int, limits: Limits) -> None:
    """Zip-bomb defence from the sizes the archive declares (zipfile refuses data longer than declared)."""
    if len(members) > limits.max_members:
        raise ImportRefused(f"The file holds {len(members):,} parts, more than the {limits.max_members:,} allowed; "
                            "it may be a zip bomb.")
    total = sum(member.file_size for member in members)
    if total > limits.max_uncompressed:
        raise ImportRefused(f"The file would expand to {total // MIB:,} MB, more than the "
                            f"{limits.max_uncompressed // MIB} MB allowed; it may be a zip bomb.")
    if total > MIB and total > limits.max_ratio * compressed_total:
        raise ImportRefused(f"The file expands more than {limits.max_ratio} times when unpacked; "
                            "it may be a zip bomb, so it was not opened.")


def _kind(archive: zipfile.ZipFile) -> str:
    names = set(archive.namelist())
    if "[Content_Types].xml" not in names:
        raise ImportRefused("The file is not an Excel .xlsx or Word .docx file (whatever its name says).")
    content_types = archive.read("[Content_Types].xml").lower()
    if b"macroenabled" in content_types or any(n.lower().endswith("vbaproject.bin") for n in names):
        raise ImportRefused(_MACRO_MESSAGE)
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "word/document.xml" in names:
        return "docx"
    raise ImportRefused("The file is an Office file but neither an .xlsx workbook nor a .docx document.")


_DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.I)
_DECLARED_ENCODING = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")
_DTD_REFUSED = ("The file contains XML declarations (a DTD or entities) that Office files never need; "
                "it was refused as unsafe.")


def _check_every_part(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], compressed_total: int,
                      limits: Limits) -> frozenset[str]:
    """Read every part once: no DTD or entity in any of them, and the real sizes as declared and within limits.

    Every part is read, not only the ones at the usual paths: a relationship can point anywhere in the
    package, and zipfile opens a part by any name. NUL bytes are dropped before looking, so UTF-16 and UTF-32
    text is searched as well as UTF-8. Returns the worksheet parts that may hold a formula (`FORMULA_HINT`),
    noted on the way so the reader need not unpack every sheet again to look.
    """
    total, formula_parts = 0, set()
    for member in members:
        worksheet = member.filename.startswith("xl/worksheets/")
        size, formula = _scan_part(archive, member, limits.max_uncompressed - total, worksheet)
        if size != member.file_size:
            raise ImportRefused(DAMAGED)
        total += size
        if formula:
            formula_parts.add(member.filename)
    if total > limits.max_uncompressed or (total > MIB and total > limits.max_ratio * compressed_total):
        raise ImportRefused(f"The file expands more than {limits.max_ratio} times when unpacked, or beyond "
                            f"{limits.max_uncompressed // MIB} MB; it may be a zip bomb, so it was not opened.")
    return frozenset(formula_parts)


#: What every formula element's start tag contains ("<f>", "<f t=...", "<x:f/>"); a few bytes long, so it is
#: found across the boundary of two chunks too (something else may match it: then the reader looks closer).
FORMULA_HINT = re.compile(rb"[<:]f[\s/>]")


def _scan_part(archive: zipfile.ZipFile, member: zipfile.ZipInfo, allowance: int,
               formulas: bool = False) -> tuple[int, bool]:
    """The number of bytes the part really unpacks to (reading stops past `allowance`), and (with `formulas`)
    whether it may hold a formula; refuses a DTD."""
    size, tail, first, formula = 0, b"", True, False
    with archive.open(member) as stream:
        while chunk := stream.read(MIB):
            size += len(chunk)
            if size > allowance:
                raise ImportRefused("The file expands beyond the size allowed when unpacked; it may be a zip bomb, "
                                    "so it was not opened.")
            text = (tail + chunk).replace(b"\x00", b"")
            if first:
                _check_encoding(text)
                first = False
            if _DTD.search(text):
                raise ImportRefused(_DTD_REFUSED)
            if formulas and not formula:
                formula = FORMULA_HINT.search(text) is not None
            tail = text[-32:]
    return size, formula


def _check_encoding(start: bytes) -> None:
    """An XML part declaring an encoding in which '<!DOCTYPE' would not be plain ASCII (UTF-7, EBCDIC) is refused."""
    start = start.removeprefix(codecs.BOM_UTF8).lstrip(b"\xff\xfe")
    match = _DECLARED_ENCODING.match(start[:200])
    if match is None:
        return
    encoding = match[1].decode("ascii").lower()
    if encoding.replace("_", "-").startswith(("utf-16", "utf-32", "ucs-2", "ucs-4", "utf16", "utf32")):
        return  # their NUL bytes were dropped: the search sees ASCII
    try:
        plain = "<!DOCTYPE <!ENTITY".encode(encoding) == b"<!DOCTYPE <!ENTITY"
    except (LookupError, UnicodeError):
        plain = False
    if not plain or encoding.replace("_", "-") in {"utf-7", "utf7", "unicode-1-1-utf-7"}:
        raise ImportRefused(f"The file has a part in the '{encoding}' text encoding, which Office files never use; "
                            "it was refused as unsafe.")

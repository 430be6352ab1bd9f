"""What an evidence upload must pass before it is stored: its name, its size, and its type read from its bytes.

The type is decided by content, never by the name: PDF, PNG and JPEG by their magic bytes; .docx, .xlsx and
.pptx by the zip's [Content_Types].xml, after the zip-bomb, size and DTD checks of tracker.imports.safety. An
Office file carrying macros (a vbaProject.bin part or a macro-enabled content type: .docm, .xlsm, .pptm) is
refused whatever it is called. Each refusal is an EvidenceRefused with a sentence a person can act on.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from tracker.errors import RuleError
from tracker.imports import safety

MIB = 1024 * 1024
DEFAULT_MAX_BYTES = 10 * MIB
FILENAME_MAX = 200


class EvidenceRefused(RuleError):
    """The upload was not stored; the message says why."""


@dataclass(frozen=True)
class Kind:
    extension: str
    content_type: str
    label: str


PDF = Kind("pdf", "application/pdf", "PDF document")
PNG = Kind("png", "image/png", "PNG image")
JPEG = Kind("jpg", "image/jpeg", "JPEG image")
DOCX = Kind("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word document")
XLSX = Kind("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel workbook")
PPTX = Kind("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "PowerPoint presentation")
KINDS = (PDF, PNG, JPEG, DOCX, XLSX, PPTX)
#: Extensions a name may have for each kind.
EXTENSIONS = {"pdf": PDF, "png": PNG, "jpg": JPEG, "jpeg": JPEG, "docx": DOCX, "xlsx": XLSX, "pptx": PPTX}
ACCEPTED = "a PDF, Word (.docx), Excel (.xlsx) or PowerPoint (.pptx) file, or a PNG or JPEG image"

#: The main part's content type in [Content_Types].xml, for each Office kind.
_OFFICE_MAIN = {
    b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
    b"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": PPTX,
}
MACROS = ("The file contains macros, which are not accepted as evidence, whatever the file is called. Save it "
          "as a plain .docx, .xlsx or .pptx (without macros) and upload that.")
_BAD_NAME = re.compile(r"[\x00-\x1f\x7f-\x9f/\\:*?\"<>|\u2028\u2029]")


def check_filename(name: str | None) -> str:
    """A plain file name: no folder, no drive, no control characters; refused (never cleaned) otherwise."""
    if not isinstance(name, str) or not name.strip():
        raise EvidenceRefused("Choose a file to upload.", "file")
    name = name.strip()
    if "/" in name or "\\" in name or name in (".", "..") or re.match(r"^[A-Za-z]:", name):
        raise EvidenceRefused("The file's name includes a folder path. Upload the file by its name alone.", "file")
    if _BAD_NAME.search(name) or name.startswith("."):
        raise EvidenceRefused("The file's name contains characters that are not allowed. Rename the file using "
                              "letters, numbers, spaces, dashes and dots.", "file")
    if len(name) > FILENAME_MAX:
        raise EvidenceRefused(f"The file's name is longer than {FILENAME_MAX} characters. Shorten it.", "file")
    return name


def sniff(data: bytes) -> Kind:
    """The kind of file `data` is, read from its bytes; EvidenceRefused for anything not accepted."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(safety.ZIP_MAGIC):
        return _office(data)
    if data.startswith(safety.OLE2_MAGIC):
        raise EvidenceRefused("The file is in the old Office 97-2003 format or password-protected. Save it as "
                              ".docx, .xlsx or .pptx without a password, or as a PDF, and upload that.", "file")
    raise EvidenceRefused(f"The file is not {ACCEPTED} (whatever its name says).", "file")


def _office(data: bytes) -> Kind:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
        safety._check_sizes(members, len(data), safety.Limits())
        names = {member.filename for member in members}
        if any(n.lower().rsplit("/", 1)[-1] == "vbaproject.bin" for n in names):
            raise EvidenceRefused(MACROS, "file")
        if "[Content_Types].xml" not in names:
            raise EvidenceRefused(f"The file is not {ACCEPTED} (whatever its name says).", "file")
        content_types = archive.read("[Content_Types].xml")
        if b"macroenabled" in content_types.lower() or b"vbaproject" in content_types.lower():
            raise EvidenceRefused(MACROS, "file")
        kinds = {kind for marker, kind in _OFFICE_MAIN.items() if marker in content_types}
        if len(kinds) != 1:
            raise EvidenceRefused(f"The file is not {ACCEPTED} (whatever its name says).", "file")
        safety._check_every_part(archive, members, len(data), safety.Limits())
    except EvidenceRefused:
        raise
    except safety.ImportRefused as error:
        raise EvidenceRefused(error.message, "file") from None
    except safety._DAMAGED:
        raise EvidenceRefused("The file is damaged: it could not be opened.", "file") from None
    return kinds.pop()


def check_upload(name: str | None, data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[str, Kind]:
    """The checked name and kind of an upload; the name's extension must agree with the content."""
    name = check_filename(name)
    if not data:
        raise EvidenceRefused("The file is empty.", "file")
    if len(data) > max_bytes:
        raise EvidenceRefused(f"The file is larger than the {max_bytes / MIB:g} MB limit for evidence.", "file")
    kind = sniff(data)
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if EXTENSIONS.get(extension) is not kind:
        raise EvidenceRefused(f"The file is a {kind.label} but its name does not end in .{kind.extension}. "
                              f"Rename it and upload it again.", "file")
    return name, kind


def check_link(url: str | None) -> str:
    """A web address starting http:// or https://, on one line."""
    from urllib.parse import urlsplit

    from tracker import text as texts

    url = texts.line(url, field="url", label="The link", max_length=2000, required=True)
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or " " in url:
        raise EvidenceRefused("Enter a web address starting https:// (or http://).", "url")
    return url

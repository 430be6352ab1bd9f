"""Checks an uploaded spreadsheet passes before openpyxl reads it.

A minimal stand-in for the importer's shared tracker/imports/safety.py (not in main yet):
the lead can point callers there at merge.
"""
from __future__ import annotations

import io
import zipfile

MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
MAX_RATIO = 100
MAX_ENTRIES = 500


class UnsafeUpload(ValueError):
    """The file is not something we will open; the message says why in plain words."""


def check_xlsx(filename: str, content: bytes) -> None:
    """Refuse anything but a reasonably sized .xlsx, judging zip bombs by their declared sizes."""
    if not filename.lower().endswith(".xlsx"):
        raise UnsafeUpload("The file must be an Excel workbook (.xlsx). Save it as .xlsx and upload it again.")
    if not content:
        raise UnsafeUpload("The file is empty.")
    if not content.startswith(b"PK"):
        raise UnsafeUpload("The file is not a valid .xlsx workbook (it may be an old .xls file or damaged).")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as error:
        raise UnsafeUpload("The file is damaged and cannot be opened as a workbook.") from error
    if len(entries) > MAX_ENTRIES:
        raise UnsafeUpload("The workbook has too many parts to be a return. Use the file you downloaded.")
    total = sum(entry.file_size for entry in entries)
    if total > MAX_UNCOMPRESSED_BYTES or total > MAX_RATIO * max(len(content), 1):
        raise UnsafeUpload("The workbook expands to far more data than a return holds, so it was not opened.")
    if not any(entry.filename == "xl/workbook.xml" for entry in entries):
        raise UnsafeUpload("The file is not an Excel workbook (.xlsx).")

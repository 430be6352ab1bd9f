"""Issue 11: every part of an upload is checked, and a zip that lies about its sizes is refused, not a 500."""
from __future__ import annotations

import io
import struct
import zipfile

import pytest
from sqlalchemy import func, select

from tests.imports.builders import plan_xlsx, rewrite_part, selfeval_docx
from tests.imports.test_views import sign_in_client
from tracker.extensions import db
from tracker.imports import safety, services
from tracker.imports.models import ImportJob
from tracker.imports.safety import ImportRefused, Limits

GOOD = plan_xlsx(["Action", "Lead", "Timescale"], [["Do a thing", "NHS Tayside", "March 2024"]])
LAUGHS = b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><lolz/>'


def refused(data: bytes, name: str = "plan.xlsx", limits: Limits | None = None) -> str:
    upload = io.BytesIO(data)
    upload.name = name
    with pytest.raises(ImportRefused) as caught:
        services.read(upload, limits=limits)
    return str(caught.value)


def with_part(package: bytes, name: str, data: bytes, *, relationship_to: str | None = None) -> bytes:
    """The package with one more part, optionally made the target of a relationship of the workbook."""
    source = zipfile.ZipFile(io.BytesIO(package))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if relationship_to and item.filename == "xl/_rels/workbook.xml.rels":
                content = content.replace(b"</Relationships>", (
                    '<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                    f'relationships/customXml" Target="{relationship_to}"/></Relationships>').encode())
            target.writestr(item.filename, content)
        target.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("name,target", [
    ("customXml/item1", "../customXml/item1"),  # no extension at all
    ("xl/media/image1.png", "media/image1.png"),  # named as an image, pointed at as XML
    ("xl/printerSettings/settings.bin", None),  # not referred to by anything
    ("docProps/custom.XML", None),  # upper-case extension
])
def test_a_dtd_in_any_part_is_refused_whatever_its_name(name, target):
    assert "DTD" in refused(with_part(GOOD, name, LAUGHS, relationship_to=target))


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32"])
def test_a_dtd_in_utf16_or_utf32_without_a_byte_order_mark_is_refused(encoding):
    data = LAUGHS.decode().replace("<lolz/>", "").encode(encoding)
    assert "DTD" in refused(rewrite_part(GOOD, "xl/styles.xml", lambda _: data))


def test_a_lowercase_or_spaced_doctype_is_refused():
    for declaration in (b"<!doctype x>", b"<! DOCTYPE x>", b"<!Entity x 'y'>"):
        assert "DTD" in refused(rewrite_part(GOOD, "xl/styles.xml", lambda xml, d=declaration: d + xml))


def test_a_part_in_utf7_is_refused():
    utf7 = b'<?xml version="1.0" encoding="UTF-7"?>+ADw-+ACE-DOCTYPE x+AD4-<x/>'
    assert "encoding" in refused(rewrite_part(GOOD, "xl/styles.xml", lambda _: utf7))


def test_a_docx_with_a_dtd_in_an_unusual_part_is_refused():
    docx = with_part(selfeval_docx([]), "word/glossary/extra", LAUGHS)
    assert "DTD" in refused(docx, "return.docx")


# Sizes that lie -------------------------------------------------------------------------------------------


def _set_declared_size(package: bytes, member: str, *, uncompressed: int | None = None,
                       compressed: int | None = None) -> bytes:
    """The package with the central directory's sizes for `member` overwritten (the data is unchanged)."""
    data = bytearray(package)
    name = member.encode()
    at = data.find(b"PK\x01\x02")
    while at != -1:
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46: at + 46 + name_length]) == name:
            if compressed is not None:
                struct.pack_into("<I", data, at + 20, compressed)
            if uncompressed is not None:
                struct.pack_into("<I", data, at + 24, uncompressed)
            return bytes(data)
        at = data.find(b"PK\x01\x02", at + 4)
    raise AssertionError(f"no {member} in the package")


def _size(member: str) -> zipfile.ZipInfo:
    return zipfile.ZipFile(io.BytesIO(GOOD)).getinfo(member)


@pytest.mark.parametrize("member", ["[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml",
                                    "docProps/app.xml"])
@pytest.mark.parametrize("change", ["smaller", "larger", "compressed smaller"])
def test_altered_declared_sizes_are_refused_as_damaged(member, change):
    info = _size(member)
    sizes = {"smaller": {"uncompressed": max(info.file_size // 2, 1)},
             "larger": {"uncompressed": info.file_size * 3},
             "compressed smaller": {"compressed": max(info.compress_size // 2, 1)}}[change]
    altered = _set_declared_size(GOOD, member, **sizes)
    message = refused(altered)
    assert "damaged" in message or "zip bomb" in message
    with pytest.raises(ImportRefused):
        safety.check(altered)


def test_a_part_really_larger_than_declared_is_refused_before_the_parsers_see_it():
    """A bomb that declares 100 bytes for a sheet that unpacks to 50 MB: refused, and never unpacked whole."""
    bomb = rewrite_part(GOOD, "xl/worksheets/sheet1.xml", lambda xml: xml + b" " * (50 * 1024 * 1024))
    small = _set_declared_size(bomb, "xl/worksheets/sheet1.xml", uncompressed=100)
    assert "damaged" in refused(small)


def test_the_upload_page_refuses_a_zip_with_altered_sizes_plainly(app, world):
    altered = _set_declared_size(GOOD, "xl/worksheets/sheet1.xml", uncompressed=10)
    response = sign_in_client(app, world.manager).post("/imports/", data={
        "file": (io.BytesIO(altered), "plan.xlsx"), "partnership": str(world.home.id), "plan_name": "X"},
        content_type="multipart/form-data")
    assert response.status_code == 400 and "damaged" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ImportJob.id))) == 0

"""Bad input gets a clear message and is never parsed further: each kind of bad file, built here."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest

from tests.imports.builders import plan_xlsx, rewrite_part, selfeval_docx
from tracker.imports import safety, services, xlsx_plan
from tracker.imports.safety import ImportRefused, Limits

GOOD = plan_xlsx(["Action", "Lead", "Timescale"], [["Do a thing", "NHS Tayside", "March 2024"]])
DUNDEE = Path(__file__).parent.parent / "fixtures" / "dundee-carers-delivery-plan-2022.xlsx"


def refused(data, name="plan.xlsx", limits=None) -> str:
    upload = io.BytesIO(data)
    upload.name = name
    with pytest.raises(ImportRefused) as caught:
        services.read(upload, limits=limits)
    return str(caught.value)


def test_defusedxml_protects_openpyxl():
    assert openpyxl.DEFUSEDXML is True


@pytest.mark.parametrize("data", [b"Ref,Action\n1,Do it\n", b"\x89PNG\r\n\x1a\n" + b"0" * 100, b"%PDF-1.4"])
def test_not_an_office_file_whatever_its_name(data):
    assert "not an Excel .xlsx or Word .docx file" in refused(data, "plan.xlsx")


def test_empty_file():
    assert "empty" in refused(b"")


def test_macro_enabled_workbooks_by_name_or_content():
    assert ".xlsm" in refused(GOOD, "plan.xlsm")
    macro = rewrite_part(GOOD, "[Content_Types].xml", lambda xml: xml.replace(
        b"spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml"))
    assert ".xlsm" in refused(macro, "plan.xlsx")


def test_password_protected_files_are_ole2():
    assert "password-protected" in refused(safety.OLE2_MAGIC + b"\x00" * 600)


def test_corrupt_files():
    assert "damaged" in refused(GOOD[: len(GOOD) // 2])
    broken = rewrite_part(GOOD, "xl/workbook.xml", lambda xml: b"<workbook><not closed")
    assert "damaged" in refused(broken)


def test_files_over_the_size_limit():
    assert "larger than the" in refused(GOOD, limits=Limits(max_bytes=len(GOOD) - 1))


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_zip_bombs_are_refused_by_declared_sizes_before_parsing():
    bomb = rewrite_part(GOOD, "xl/worksheets/sheet1.xml", lambda xml: xml + b" " * (8 * 1024 * 1024))
    assert "expands more than 100 times" in refused(bomb)
    assert "would expand to" in refused(GOOD, limits=Limits(max_uncompressed=1000))
    many = _zip({"[Content_Types].xml": b"<Types/>", **{f"xl/part{i}.xml": b"<a/>" for i in range(1001)}})
    assert "1,002 parts" in refused(many)


def test_xml_with_a_dtd_or_entities_is_refused():
    laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>')
    xlsx = rewrite_part(GOOD, "xl/worksheets/sheet1.xml", lambda xml: laughs + xml.split(b"?>", 1)[-1])
    assert "DTD" in refused(xlsx)
    external = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    docx = rewrite_part(selfeval_docx([]), "word/document.xml", lambda xml: external + xml.split(b"?>", 1)[-1])
    assert "DTD" in refused(docx, "return.docx")
    utf16 = rewrite_part(GOOD, "xl/styles.xml", lambda xml: laughs.decode().encode("utf-16"))
    assert "DTD" in refused(utf16)


def test_a_plan_over_the_row_cap_is_refused_with_a_clear_message():
    rows = "".join(f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>Action {n}</t></is></c></row>'
                   for n in range(1, 50_001))

    def fifty_thousand_rows(xml: bytes) -> bytes:
        head, rest = xml.split(b"<sheetData>", 1)
        head = head.replace(b'<dimension ref="A1:C2"/>', b"")  # make the reader count, not trust the dimension
        return head + b"<sheetData>" + rows.encode() + b"</sheetData>" + rest.split(b"</sheetData>", 1)[1]

    message = refused(rewrite_part(GOOD, "xl/worksheets/sheet1.xml", fifty_thousand_rows))
    assert "more than 20,000 rows" in message and "'Plan'" in message


def test_empty_sheets_are_refused():
    workbook = openpyxl.Workbook()
    workbook.create_sheet("Second")
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert "no data" in refused(buffer.getvalue())


def test_a_header_with_nothing_below_it_is_an_error():
    parsed = xlsx_plan.parse(plan_xlsx(["Action", "Lead", "Timescale"], []))
    assert any(p.severity == "error" and "no actions below the header" in p.message for p in parsed.problems)


def test_formulas_are_never_evaluated_and_missing_values_are_reported():
    data = plan_xlsx(["Action", "Lead", "Timescale"], [["Do a thing", "NHS Tayside", "March 2024"],
                                                      ["=A1&\"!\"", "NHS Tayside", "=TODAY()"]])
    parsed = xlsx_plan.parse(data)
    cells = {p.cell for p in parsed.problems if "formula" in p.message}
    assert cells == {"A3", "C3"}
    cached = rewrite_part(data, "xl/worksheets/sheet1.xml", lambda xml: xml.replace(
        b'<c r="A3"><f>A1&amp;"!"</f><v></v></c>', b'<c r="A3" t="str"><f>A1&amp;"!"</f><v>Cached action</v></c>'))
    parsed = xlsx_plan.parse(cached)
    assert [row["text"] for row in parsed.rows] == ["Do a thing", "Cached action"]
    assert {p.cell for p in parsed.problems if "formula" in p.message} == {"C3"}


def test_the_checks_note_the_sheets_that_may_hold_formulas_and_the_reader_looks_only_there():
    plain = plan_xlsx(["Action", "Lead", "Timescale"], [["Do a thing", "NHS Tayside", "March 2024"]])
    assert safety.check(plain).formula_parts == frozenset()
    with_formula = plan_xlsx(["Action", "Lead", "Timescale"], [["Do a thing", "NHS Tayside", "=TODAY()"]])
    assert safety.check(with_formula).formula_parts == {"xl/worksheets/sheet1.xml"}
    main = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    prefixed = rewrite_part(with_formula, "xl/worksheets/sheet1.xml", lambda xml: xml.replace(
        b"<f>", b'<x:f xmlns:x="' + main + b'">').replace(b"</f>", b"</x:f>"))
    assert safety.check(prefixed).formula_parts == {"xl/worksheets/sheet1.xml"}
    assert {p.cell for p in xlsx_plan.parse(prefixed).problems if "formula" in p.message} == {"C2"}
    # A kept upload read again (no record of the checks' look): the sheet is searched as before.
    kept = safety.CheckedFile(data=with_formula, kind="xlsx", name="plan.xlsx")
    assert {p.cell for p in xlsx_plan.parse(kept).problems if "formula" in p.message} == {"C2"}


def test_wrong_kind_for_the_parser():
    with pytest.raises(ImportRefused, match="Upload a Word .docx"):
        from tracker.imports import docx_selfeval
        docx_selfeval.parse(DUNDEE)

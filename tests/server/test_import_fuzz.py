"""Hostile ledger files (issue 8): random and corrupted CSV and XLSX bytes, zip bombs, XML
entity bombs, NUL bytes, formula cells, a million columns, a cell at XFD1048576.

Every outcome is a summary whose bad rows name their row (and column), or a domain error with a
stable code (a clean 4xx over HTTP); a refused or rejected file writes nothing. The crafted files
are built part by part here (`xlsx_parts`) so each attack sits exactly where it is meant to.
"""

from __future__ import annotations

import functools
import io
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import AuditLog, Client, ImportBatch, Invoice, LedgerEntry
from server.services.ledger_import import xlsx_guard
from server.services.ledger_import.service import run_import
from server.services.ledger_import.summary import ImportSummary
from server.services.spreadsheets import Column as XlsxColumn
from server.services.spreadsheets import Sheet as XlsxSheet
from server.services.spreadsheets import workbook_bytes
from shared.errors import DomainError

AS_OF = date(2026, 11, 23)
URL = "/v1/imports/ledger"
HEADER = ["codigo_cliente", "nombre_cliente", "factura", "fecha_vencimiento", "valor", "saldo"]
GOOD = ["C-1", "Ana", "FE-1", "15/03/2025", "1000", "400"]
TABLES = (Client, Invoice, LedgerEntry, ImportBatch, AuditLog)
FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# --- building files --------------------------------------------------------------------------

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def xlsx_parts(rows: Sequence[Sequence[object]]) -> dict[str, bytes]:
    """A minimal workbook, as its parts: text in sharedStrings, `=...` as a formula with a cached
    text value, numbers as numbers."""
    strings: list[str] = []
    lines = []
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(row):
            ref = f"{column_letters(c)}{r}"
            if isinstance(value, int | float):
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
            elif isinstance(value, str) and value.startswith("="):
                cells.append(f'<c r="{ref}" t="str"><f>{_escape(value[1:])}</f><v>x</v></c>')
            else:
                strings.append(str(value))
                cells.append(f'<c r="{ref}" t="s"><v>{len(strings) - 1}</v></c>')
        lines.append(f'<row r="{r}">{"".join(cells)}</row>')
    sheet = f'<worksheet xmlns="{_MAIN}"><sheetData>{"".join(lines)}</sheetData></worksheet>'
    shared = "".join(f"<si><t>{_escape(s)}</t></si>" for s in strings)
    return {
        "[Content_Types].xml": (
            b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            b'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            b'officedocument.spreadsheetml.sheet.main+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" Type="{_REL}/officeDocument"'
            ' Target="xl/workbook.xml"/></Relationships>'
        ).encode(),
        "xl/workbook.xml": (
            f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
            '<sheet name="Hoja1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ).encode(),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{_PKG}">'
            f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"
        ).encode(),
        "xl/worksheets/sheet1.xml": sheet.encode(),
        "xl/sharedStrings.xml": f'<sst xmlns="{_MAIN}">{shared}</sst>'.encode(),
    }


def pack(parts: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


def raw_zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip written by hand: (name, deflated bytes, crc32, declared size) per member, so a
    member can declare a size its data does not have."""
    out = io.BytesIO()
    central = b""
    for name, data, crc, size in members:
        offset = out.tell()
        encoded = name.encode()
        fields = (20, 0, 8, 0, 0, crc, len(data), size, len(encoded), 0)
        out.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", *fields) + encoded + data)
        central += struct.pack(
            "<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, *fields, 0, 0, 0, 0, offset
        ) + encoded  # fmt: skip
    start = out.tell()
    out.write(central)
    count = len(members)
    out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, len(central), start, 0))
    return out.getvalue()


def deflated(chunks: Iterator[bytes]) -> tuple[bytes, int, int]:
    """Raw deflate of a stream of chunks: (data, crc32, size)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    out, crc, size = [], 0, 0
    for chunk in chunks:
        out.append(packer.compress(chunk))
        crc, size = zlib.crc32(chunk, crc), size + len(chunk)
    out.append(packer.flush())
    return b"".join(out), crc, size


def csv_bytes(rows: list[list[str]], delimiter: str = ";", encoding: str = "utf-8") -> bytes:
    return "\r\n".join(delimiter.join(row) for row in rows).encode(encoding)


def good_xlsx() -> bytes:
    return pack(xlsx_parts([HEADER, GOOD]))


# --- the property ----------------------------------------------------------------------------


def counts(session: Session) -> tuple[int, ...]:
    return tuple(session.scalar(select(func.count()).select_from(t)) or 0 for t in TABLES)


@contextmanager
def rolled_back(session: Session) -> Iterator[None]:
    """One Hypothesis example: whatever it writes is undone before the next one."""
    savepoint = session.begin_nested()
    try:
        yield
    finally:
        savepoint.rollback()


def import_outcome(session: Session, path: Path, **options: Any) -> ImportSummary | DomainError:
    """Run the import; a domain error is an outcome, any other exception fails the test. A file
    refused or rejected (or a dry run) leaves every table as it was."""
    before = counts(session)
    try:
        summary = run_import(session, path, as_of=AS_OF, **options)
    except DomainError as exc:
        assert exc.code and exc.message
        assert counts(session) == before, f"{exc.code} left rows behind"
        return exc
    for issue in summary.errors:
        assert issue.row is not None and issue.row >= 1, issue
        assert issue.code and issue.message
    if summary.rejected or summary.dry_run:
        assert counts(session) == before
        assert not summary.written
    return summary


PREFIXES = [b"", b"PK\x03\x04", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xd0\xcf\x11\xe0",
            b"%PDF", b"\x00"]  # fmt: skip


@FUZZ
@given(prefix=st.sampled_from(PREFIXES), body=st.binary(max_size=3000))
def test_random_bytes_are_refused_or_reported(
    session: Session, tmp_path: Path, prefix: bytes, body: bytes
) -> None:
    path = tmp_path / "random.bin"
    path.write_bytes(prefix + body)
    with rolled_back(session):
        import_outcome(session, path)


@FUZZ
@given(data=st.data())
def test_corrupted_workbooks_are_refused_or_reported(
    session: Session, tmp_path: Path, data: st.DataObject
) -> None:
    """A valid workbook truncated, with bytes overwritten, or with a slice repeated."""
    content = bytearray(good_xlsx())
    how = data.draw(st.sampled_from(["truncate", "overwrite", "splice"]))
    at = data.draw(st.integers(0, len(content) - 1))
    if how == "truncate":
        del content[at:]
    elif how == "overwrite":
        patch = data.draw(st.binary(min_size=1, max_size=16))
        content[at : at + len(patch)] = patch
    else:
        size = data.draw(st.integers(1, 200))
        content[at:at] = content[at : at + size] * data.draw(st.integers(1, 50))
    path = tmp_path / "corrupted.xlsx"
    path.write_bytes(bytes(content))
    with rolled_back(session):
        import_outcome(session, path)


CELL_TEXT = st.one_of(
    st.text(max_size=20),
    st.sampled_from([
        '=HYPERLINK("http://example.com/x","clic")', "=1+1", "@SUM(A1)", "+57 300", "-2",
        "\x00", "A\x00B", "_x0000_", "\ufeff", "\ud7ff", "1e400", "NaN", "-0", "１２３",
        "31/02/2025", "00/00/0000", "9" * 40, "1.000.000,00", '"', "';--", "\r", "\n",
    ]),
)  # fmt: skip


@FUZZ
@given(
    rows=st.lists(st.lists(CELL_TEXT, max_size=8), max_size=6),
    header_first=st.booleans(),
    delimiter=st.sampled_from([";", ",", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"]),
)
def test_csv_cells_of_any_text_are_refused_or_reported(
    session: Session,
    tmp_path: Path,
    rows: list[list[str]],
    header_first: bool,
    delimiter: str,
    encoding: str,
) -> None:
    lines = ([HEADER, GOOD] if header_first else []) + rows
    text = "\r\n".join(delimiter.join(row) for row in lines)
    path = tmp_path / "cells.csv"
    path.write_bytes(text.encode(encoding, errors="replace"))
    with rolled_back(session):
        import_outcome(session, path)


@FUZZ
@given(rows=st.lists(st.lists(st.one_of(CELL_TEXT, st.integers(), st.floats()), max_size=7),
                     max_size=5))  # fmt: skip
def test_xlsx_cells_of_any_value_are_refused_or_reported(
    session: Session, tmp_path: Path, rows: list[list[object]]
) -> None:
    clean = [[_xml_safe(v) for v in row] for row in rows]
    path = tmp_path / "cells.xlsx"
    path.write_bytes(pack(xlsx_parts([HEADER, GOOD, *clean])))
    with rolled_back(session):
        import_outcome(session, path)


def _xml_safe(value: object) -> object:
    """XML 1.0 cannot hold most control characters: the file would be refused whole, which the
    random-bytes tests cover; here the cells must reach the row checks."""
    if isinstance(value, str):
        return "".join(ch for ch in value if ch in "\t\n\r" or ch >= " ").replace("\ud7ff", "")
    if isinstance(value, float) and value != value:
        return "NaN"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return str(value)
    return value


# --- crafted files ---------------------------------------------------------------------------

LAUGHS = b'<!DOCTYPE lolz [<!ENTITY lol "lol">' + b"".join(
    b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
    for i in range(1, 10)
) + b"]>"  # fmt: skip


def with_part(
    name: str, edit: Callable[[bytes], bytes], rows: Sequence[Sequence[object]] | None = None
) -> bytes:
    parts = xlsx_parts(rows or [HEADER, GOOD, ["C-2", "Bo", "FE-2", "15/03/2025", "=1+1", 1]])
    parts[name] = edit(parts[name])
    return pack(parts)


def sheet_with(extra_row: bytes) -> bytes:
    return with_part(
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b"</sheetData>", extra_row + b"</sheetData>"),
        [HEADER, GOOD],
    )


@functools.cache
def bomb(declared: int | None) -> bytes:
    """sharedStrings of 1.1 GiB (one string of 70 x 16 MiB of `a`) in about 1 MB of zip;
    `declared` makes the zip lie about its size. The compressed 16 MiB segment ends with a full
    flush, so the same bytes repeated are a valid stream. Its CRC is left 0: the guard refuses
    the file on its sizes before any CRC matters."""
    parts = xlsx_parts([HEADER, GOOD])
    head, tail = parts["xl/sharedStrings.xml"].split(b"<t>Ana</t>")
    segment = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    middle = segment.compress(b"a" * (1 << 24)) + segment.flush(zlib.Z_FULL_FLUSH)
    first = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    last = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    data = (first.compress(head + b"<t>") + first.flush(zlib.Z_FULL_FLUSH) + middle * 70
            + last.compress(b"</t>" + tail) + last.flush())  # fmt: skip
    size = len(head) + 3 + 70 * (1 << 24) + 4 + len(tail)
    members = [(n, *deflated(iter([p]))) for n, p in parts.items() if n != "xl/sharedStrings.xml"]
    members.append(("xl/sharedStrings.xml", data, 0, size if declared is None else declared))
    return raw_zip(members)


CRAFTED: dict[str, tuple[Callable[[], bytes], str]] = {
    "truncated zip": (lambda: good_xlsx()[:-40], "unsupported_file_type"),
    "only the zip magic": (lambda: b"PK\x03\x04", "unsupported_file_type"),
    "bzip2 members": (lambda: pack(xlsx_parts([HEADER, GOOD]), zipfile.ZIP_BZIP2),
                      "unsupported_file_type"),
    "lzma members": (lambda: pack(xlsx_parts([HEADER, GOOD]), zipfile.ZIP_LZMA),
                     "unsupported_file_type"),
    "sharedStrings of 1.1 GiB": (lambda: bomb(None), "sheet_too_large"),
    "sharedStrings of 1.1 GiB declared as 200 bytes": (lambda: bomb(200), "unsupported_file_type"),
    "billion laughs in sharedStrings": (lambda: with_part(
        "xl/sharedStrings.xml", lambda x: LAUGHS + x.replace(b"<t>Ana</t>", b"<t>&lol9;</t>")),
        "unsupported_file_type"),
    "billion laughs in the sheet": (lambda: with_part(
        "xl/worksheets/sheet1.xml", lambda x: LAUGHS + x), "unsupported_file_type"),
    "billion laughs in workbook.xml": (lambda: with_part(
        "xl/workbook.xml", lambda x: LAUGHS + x), "unsupported_file_type"),
    "billion laughs in the rels": (lambda: with_part(
        "xl/_rels/workbook.xml.rels", lambda x: LAUGHS + x), "unsupported_file_type"),
    "external entity (XXE)": (lambda: with_part(
        "xl/sharedStrings.xml", lambda x: b'<!DOCTYPE s [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        + x.replace(b"<t>Ana</t>", b"<t>&e;</t>")), "unsupported_file_type"),
    "a value at XFD1048576": (lambda: sheet_with(
        b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'), "sheet_too_large"),
    "a value at AAAA1000": (lambda: sheet_with(
        b'<row r="1000"><c r="AAAA1000"><v>1</v></c></row>'), "sheet_too_large"),
    "a value at row 10^11": (lambda: sheet_with(
        b'<row r="4"><c r="A99999999999"><v>1</v></c></row>'), "sheet_too_large"),
    "200,000 cells without references in one row, 100 rows": (lambda: sheet_with(
        b"<row>" + b"<c><v>1</v></c>" * 200_000 + b"</row>" + b"<row><c><v>1</v></c></row>" * 98),
        "sheet_too_large"),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CRAFTED))
def test_crafted_workbooks_are_refused_with_a_code(
    session: Session, tmp_path: Path, name: str
) -> None:
    make, code = CRAFTED[name]
    path = tmp_path / "crafted.xlsx"
    path.write_bytes(make())
    outcome = import_outcome(session, path)
    assert isinstance(outcome, DomainError), outcome
    assert outcome.code == code, outcome.message


def test_the_guard_measures_what_calamine_would_build() -> None:
    """Styled empty cells far away are not content; a cell without a reference follows the
    previous one (the parsing path of the guard)."""
    path_parts = xlsx_parts([HEADER, GOOD])
    sheet = path_parts["xl/worksheets/sheet1.xml"]
    path_parts["xl/worksheets/sheet1.xml"] = sheet.replace(
        b"</sheetData>",
        b'<row r="1048576"><c r="XFD1048576" s="1"/></row><row r="7"><c><v>1</v></c>'
        b"<c><v>2</v></c></row></sheetData>",
    )
    extent = xlsx_guard._Extent()
    archive = zipfile.ZipFile(io.BytesIO(pack(path_parts)))
    with archive, archive.open("xl/worksheets/sheet1.xml") as source:
        extent.parse(source)
    assert (extent.rows, extent.columns) == (7, len(HEADER))


def test_formula_cells_are_text_or_reported_never_live(session: Session, tmp_path: Path) -> None:
    """`=HYPERLINK(...)` in a CSV is the client's name as typed (kept verbatim, the exports
    write it as text); in an XLSX a formula counts by its cached value."""
    rows = [HEADER, ["C-9", '=HYPERLINK("http://example.com","clic")', "FE-9", "15/03/2025",
                     "1000", ""]]  # fmt: skip
    path = tmp_path / "formula.csv"
    path.write_bytes(csv_bytes(rows))
    summary = import_outcome(session, path)
    assert isinstance(summary, ImportSummary) and summary.rows_imported == 1
    name = session.scalar(select(Client.name).where(Client.code == "C-9"))
    assert name == '=HYPERLINK("http://example.com","clic")'
    exported = workbook_bytes([XlsxSheet("Clientes", [XlsxColumn("Cliente")], [[name]])])
    with zipfile.ZipFile(io.BytesIO(exported)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet and b"HYPERLINK" in sheet  # before: <f>HYPERLINK(...)</f>


@pytest.mark.parametrize(
    "content",
    [
        csv_bytes([HEADER, GOOD]) + b"\r\n" + b"x" * 5000 + b"\r\nC-2;B\x00o;FE-2;15/03/2025;5;",
        with_part("xl/sharedStrings.xml", lambda x: x.replace(b"<t>Ana</t>", b"<t>A_x0000_na</t>")),
    ],
    ids=["csv", "xlsx _x0000_"],
)
def test_a_nul_in_a_cell_is_a_row_error(session: Session, tmp_path: Path, content: bytes) -> None:
    """PostgreSQL cannot store NUL in text: before, such a row got to the INSERT (a 500)."""
    path = tmp_path / "nul.bin"
    path.write_bytes(content)
    summary = import_outcome(session, path)
    assert isinstance(summary, ImportSummary) and summary.rejected
    assert "invalid_character" in {issue.code for issue in summary.errors}


def test_utf16_with_an_odd_byte_or_a_lone_surrogate_is_read(
    session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "utf16.csv"
    path.write_bytes(csv_bytes([HEADER, GOOD], encoding="utf-16") + b"\x00\xd8" + b"!")
    assert isinstance(import_outcome(session, path), ImportSummary)


def test_a_million_columns_in_one_csv_row(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_bytes(csv_bytes([HEADER, GOOD + [""] * 1_000_000, GOOD]))
    summary = import_outcome(session, path)
    assert isinstance(summary, ImportSummary) and summary.rejected
    assert [e.code for e in summary.errors] == ["duplicate_invoice"]


# --- over HTTP -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["truncated zip", "billion laughs in sharedStrings", "a value at XFD1048576"]
)
def test_over_http_a_hostile_workbook_is_a_422_and_writes_nothing(
    client: TestClient, session: Session, make_user: Callable[..., Any], name: str
) -> None:
    admin = make_user("admin")
    before = counts(session)
    make, code = CRAFTED[name]
    files = {"file": ("cartera.xlsx", make(), "application/octet-stream")}
    response = client.post(URL, files=files, headers=admin.headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code
    assert counts(session) == before


def test_a_good_workbook_still_imports_over_http(
    client: TestClient, make_user: Callable[..., Any]
) -> None:
    files = {"file": ("cartera.xlsx", good_xlsx(), "application/octet-stream")}
    response = client.post(URL, files=files, headers=make_user("admin").headers)
    assert response.status_code == 200, response.text
    assert response.json()["invoices_created"] == 1


@pytest.mark.parametrize(
    ("cell", "code"),
    [(1e300, "amount_out_of_range"), ("²", "invalid_date"), ("1" * 5000, "invalid_date")],
    ids=["float 1e300 amount (was InvalidOperation)", "superscript date (was ValueError)",
         "5000-digit date (was ValueError: int limit)"],
)  # fmt: skip
def test_cells_the_fuzzer_found_are_row_errors(
    session: Session, tmp_path: Path, cell: object, code: str
) -> None:
    row: list[object] = ["C-3", "Cy", "FE-3", cell, cell, ""]
    path = tmp_path / "found.xlsx"
    path.write_bytes(pack(xlsx_parts([HEADER, row])))
    summary = import_outcome(session, path)
    assert isinstance(summary, ImportSummary) and summary.rejected
    assert code in {issue.code for issue in summary.errors}


@pytest.mark.parametrize("ref", ["A2:XFD1048576", "B2:ZZZZZZ3"])
def test_a_merge_past_the_data_adds_no_cells(session: Session, tmp_path: Path, ref: str) -> None:
    """Filling a merge used to extend each row to the merge's last column (16,384 or 321
    million cells per row). The merged cells read as the top-left one: the row is reported."""
    content = with_part(
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(
            b"</sheetData>",
            f'</sheetData><mergeCells><mergeCell ref="{ref}"/></mergeCells>'.encode(),
        ),
        [HEADER, GOOD],
    )
    path = tmp_path / "merged.xlsx"
    path.write_bytes(content)
    summary = import_outcome(session, path)
    assert isinstance(summary, ImportSummary) and summary.rows_read == 1
    assert summary.rejected and {issue.row for issue in summary.errors} == {2}

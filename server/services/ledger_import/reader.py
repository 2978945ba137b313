"""Raw rows out of an uploaded ledger file: CSV (delimiter and encoding sniffed) or XLSX (first
sheet). No meaning is given to any cell here; `rows.py` does that.

Every row comes out as `(row_number, values)` where the number is the one the user sees in Excel or
a text editor (the first row is 1; blank rows count, and are yielded so the count stays right).

XLSX: python-calamine (Rust) reads the cached values (what Excel last computed), so a formula cell
reads as its result; it is about ten times faster than openpyxl for a 100,000-row sheet. Empty
cells come out as "". A formula that was never computed (a file written by a program, not saved by
Excel) has no cached value and calamine gives "" for it: a scan of the sheet's XML, run in a thread
while calamine parses (calamine releases the GIL), finds such cells so they come out as
`FORMULA_WITHOUT_VALUE` and are reported instead of being mistaken for empty cells. Merged ranges
are filled with their top-left value, the way a person reads a sheet where one client's code spans
several invoice rows.

Before calamine sees an XLSX, `xlsx_guard.check_workbook` refuses the files that would make it
exhaust memory (zip bombs, a value at XFD1048576); the XML read here goes through defusedxml.
"""

from __future__ import annotations

import csv
import io
import posixpath
import re
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final, cast
from xml.etree import ElementTree

from defusedxml.ElementTree import fromstring, iterparse
from python_calamine import CalamineError, CalamineWorkbook

from server.services.ledger_import.xlsx_guard import check_workbook, unreadable_workbook
from shared.errors import InvalidInput

RawRow = tuple[int, tuple[object, ...]]


class _FormulaWithoutValue:
    """A formula cell with no cached result (see the module docstring)."""

    def __repr__(self) -> str:
        return "FORMULA_WITHOUT_VALUE"


FORMULA_WITHOUT_VALUE: Final = _FormulaWithoutValue()

_ZIP_MAGIC: Final = b"PK\x03\x04"
_OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0"  # legacy .xls (and .doc): not supported
_DELIMITERS: Final = (";", ",", "\t", "|")


@dataclass
class Sheet:
    """The raw rows of a file, read lazily. `size_hint` (rows, including the header) feeds a
    progress bar and may be None."""

    kind: str
    rows: Iterator[RawRow]
    size_hint: int | None


def read_sheet(path: Path) -> Sheet:
    """Open a CSV or XLSX file by its content (not its name)."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    if head.startswith(_ZIP_MAGIC):
        return _read_xlsx(path)
    if head.startswith(_OLE_MAGIC):
        raise _unsupported("un Excel antiguo (.xls): guárdelo como .xlsx o CSV")
    if head.startswith(b"%PDF"):
        raise _unsupported("un PDF")
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _unsupported("un archivo binario")
    return _read_csv(path.read_bytes())


def _unsupported(what: str) -> InvalidInput:
    return InvalidInput(
        f"el archivo es {what}; envíe un CSV o un XLSX", code="unsupported_file_type"
    )


# --- CSV ------------------------------------------------------------------------------------


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252/Latin-1 (what Excel in
    Spanish writes when it saves "CSV (delimitado por comas)")."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")  # (odd length, lone surrogates)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # never fails: every byte is a character


def sniff_delimiter(text: str) -> str:
    """The delimiter used most often in the first non-blank line, outside quotes."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = dict.fromkeys(_DELIMITERS, 0)
    quoted = False
    for ch in first:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(data: bytes) -> Sheet:
    text = decode_text(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))

    def rows() -> Iterator[RawRow]:
        try:
            for number, record in enumerate(reader, start=1):
                yield number, tuple(record)
        except csv.Error as exc:
            raise InvalidInput(
                f"el CSV no se puede leer cerca de la línea {reader.line_num}: {exc}",
                code="invalid_csv",
            ) from exc

    return Sheet("csv", rows(), text.count("\n") + 1)


# --- XLSX -----------------------------------------------------------------------------------

_FORMULA_TAG: Final = re.compile(rb"<(?:\w+:)?f[\s>/]")
_CELL_REF: Final = re.compile(r"([A-Z]+)([0-9]+)")
_CELL_REF_BYTES: Final = re.compile(rb'\sr="([A-Z]+)([0-9]+)"')
_CACHED_VALUE: Final = re.compile(rb"<v(?:\s[^>]*)?>[^<]")
_SCAN_CHUNK: Final = 1 << 22


def _read_xlsx(path: Path) -> Sheet:
    check_workbook(path)
    with ThreadPoolExecutor(max_workers=1) as pool:
        uncomputed = pool.submit(_formulas_without_value, path)
        try:
            sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
            # From A1, not from the first used cell, so indexes are row and column numbers.
            grid = cast(list[list[object]], sheet.to_python(skip_empty_area=False))
            merged = sheet.merged_cell_ranges or []
        except (CalamineError, OSError, ValueError) as exc:
            raise unreadable_workbook() from exc
        formula_cells = uncomputed.result()
    for row, col in formula_cells:
        if row < len(grid):
            cells = grid[row]
            if col >= len(cells):
                cells.extend([""] * (col + 1 - len(cells)))
            cells[col] = FORMULA_WITHOUT_VALUE
    # A merge reaching past the last column with a value (`A1:XFD2`) adds no column.
    width = max(map(len, grid), default=0)
    for (first_row, first_col), (last_row, last_col) in merged:
        _fill_merged(grid, first_row, first_col, last_row, min(last_col, width - 1))
    rows = ((number, tuple(cells)) for number, cells in enumerate(grid, start=1))
    return Sheet("xlsx", rows, len(grid))


def _fill_merged(
    grid: list[list[object]], first_row: int, first_col: int, last_row: int, last_col: int
) -> None:
    """Copy a merged range's top-left value into its other cells (0-based, inclusive). Rows past
    the data are not created: a merge that runs below the last row adds no invoice rows."""
    if first_row >= len(grid):
        return
    top = grid[first_row]
    value = top[first_col] if first_col < len(top) else ""
    for index in range(first_row, min(last_row, len(grid) - 1) + 1):
        cells = grid[index]
        if len(cells) <= last_col:
            cells.extend([""] * (last_col + 1 - len(cells)))
        for col in range(first_col, last_col + 1):
            if (index, col) != (first_row, first_col):
                cells[col] = value


def _formulas_without_value(path: Path) -> list[tuple[int, int]]:
    """(row, column), 0-based, of the first sheet's formula cells that have no cached value.

    Most files have no formula at all: a streaming search for an `<f>` tag settles it (0.5 s for
    a 90 MB sheet, hidden behind calamine's own parsing). A sheet with formulas is scanned with
    byte searches around each `<f>` (1 s for 100,000 formulas); only unusual XML (prefixed tags,
    cells without a reference) is parsed as XML, which is about ten times slower."""
    try:
        with zipfile.ZipFile(path) as archive:
            sheet_path = _first_sheet_path(archive)
            if sheet_path is None or not _has_formula(archive, sheet_path):
                return []
            with archive.open(sheet_path) as source:
                found = _uncomputed_cells_by_search(source)
            if found is not None:
                return found
            with archive.open(sheet_path) as source:
                return _uncomputed_cells(source)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, ElementTree.ParseError):
        return []  # calamine's own error (or its reading) is the one that counts


def _uncomputed_cells_by_search(source: IO[bytes]) -> list[tuple[int, int]] | None:
    """The fast scan: whole rows at a time, each `<f` traced back to its `<c r="..">` and
    forward to its `</c>`. None when the XML is not of the plain shape this relies on."""
    found: list[tuple[int, int]] = []
    tail = b""
    while True:
        chunk = source.read(_SCAN_CHUNK)
        buffer = tail + chunk
        cut = buffer.rfind(b"</row>") + len(b"</row>") if chunk else len(buffer)
        if chunk and cut < len(b"</row>"):
            tail = buffer  # no whole row yet
            continue
        block, tail = buffer[:cut], buffer[cut:]
        for match in _FORMULA_TAG.finditer(block):
            if not match.group().startswith(b"<f"):
                return None  # a prefixed tag (`<x:f>`)
            start = block.rfind(b"<c ", 0, match.start())
            opened = block.find(b">", start)
            end = block.find(b"</c>", match.end())
            if start < 0 or end < 0 or block[opened - 1] == ord("/"):
                return None
            if block.find(b"</c>", start, match.start()) >= 0:
                return None  # the `<c ` found belongs to an earlier cell
            ref = _CELL_REF_BYTES.search(block, start, opened)
            if ref is None:
                return None
            if not _CACHED_VALUE.search(block, match.end(), end):
                found.append((int(ref.group(2)) - 1, _column_index(ref.group(1).decode())))
        if not chunk:
            return found


def _first_sheet_path(archive: zipfile.ZipFile) -> str | None:
    """The part name of the workbook's first sheet (the one calamine reads as index 0)."""
    workbook: ElementTree.Element = fromstring(archive.read("xl/workbook.xml"))
    sheet = next((e for e in workbook.iter() if _local(e.tag) == "sheet"), None)
    if sheet is None:
        return None
    rel_id = next((v for k, v in sheet.attrib.items() if _local(k) == "id"), None)
    rels: ElementTree.Element = fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    for rel in rels:
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "")
            if target.startswith("/"):
                return target.lstrip("/")
            return posixpath.normpath(posixpath.join("xl", target))
    return None


def _has_formula(archive: zipfile.ZipFile, sheet_path: str) -> bool:
    tail = b""
    with archive.open(sheet_path) as source:
        while chunk := source.read(_SCAN_CHUNK):
            if _FORMULA_TAG.search(tail + chunk[:16]) or _FORMULA_TAG.search(chunk):
                return True
            tail = chunk[-16:]
    return False


def _uncomputed_cells(source: IO[bytes]) -> list[tuple[int, int]]:
    found: list[tuple[int, int]] = []
    row, col = -1, -1
    for event, element in iterparse(source, events=("start", "end")):
        tag = _local(element.tag)
        if event == "start":
            if tag == "row":
                number = element.get("r")
                row, col = (int(number) - 1 if number else row + 1), -1
            elif tag == "c":
                col = _cell_column(element.get("r"), col + 1)
            continue
        if tag == "c":
            children = {_local(child.tag): child for child in element}
            value = children.get("v")
            if "f" in children and (value is None or not value.text):
                found.append((row, col))
            element.clear()
        elif tag == "row":
            element.clear()
    return found


def _cell_column(ref: str | None, default: int) -> int:
    """0-based column of a cell reference like `AB12` (the reference is optional in the XML)."""
    match = _CELL_REF.match(ref or "")
    return default if match is None else _column_index(match.group(1))


def _column_index(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number - 1


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]

"""Checks an uploaded XLSX passes before calamine (Rust) opens it.

calamine holds the sheet as one dense grid from its first to its last cell with a value, and a
failed allocation in Rust aborts the whole server process (no exception to catch): a 1 KB file with
one value at XFD1048576 asks for 550 GB. It also inflates the zip's parts in memory. So every part
is read here first, from its compressed bytes at the offsets of the zip's central directory (the
ones calamine's zip reader uses), and the file is refused with a 422 unless:
- every part is stored or deflated, not encrypted, and inflates to exactly the size the directory
  declares (a bomb that lies about its size is refused before it is inflated), all parts together
  at most `MAX_EXPANDED_BYTES`;
- no part declares a DTD (`<!DOCTYPE`, `<!ENTITY`): Office Open XML never uses one, and entities
  are what XML bombs ("billion laughs") and external-entity reads are made of;
- the cells with content fit in `MAX_CELLS` counted from A1 (what the reader builds).
A sheet whose cells all start `<c r="B7"` (what Excel, LibreOffice and openpyxl write) is
measured with byte searches, counting empty cells too (0.6 s for 100,000 rows x 10 columns); any
other shape, or a count past the limit, is measured exactly by parsing the XML.
"""

from __future__ import annotations

import contextlib
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Final

from defusedxml.ElementTree import iterparse

from shared.errors import InvalidInput

MAX_EXPANDED_BYTES: Final = 1 << 30  # a 64 MB workbook of plain rows inflates to about 600 MB
MAX_CELLS: Final = 16_000_000  # e.g. Excel's 1,048,576 rows x 15 columns
_MAX_TAG: Final = 8 << 20  # bytes without a `>`: no real part has a tag this long
_CHUNK: Final = 1 << 20
_LOCAL_HEADER: Final = struct.Struct("<4s22xHH")  # signature ... name length, extra length
_DTD: Final = (b"<!DOCTYPE", b"<!ENTITY")
_PLAIN_CELL: Final = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"')
_PREFIXED_CELL: Final = re.compile(rb"<[\w.-]+:c[\s>/]")
_OTHER_CELL: Final = re.compile(rb'<c(?=[\s>/])(?! r="[A-Z]{1,3}[0-9]{1,7}")')
_REF: Final = re.compile(r"([A-Za-z]+)([0-9]+)")


class _Unreadable(Exception):
    """The zip is damaged or uses a feature calamine cannot read."""


def check_workbook(path: Path) -> None:
    """Raise InvalidInput unless the XLSX at `path` is safe to give calamine (module docstring)."""
    try:
        with zipfile.ZipFile(path) as archive, path.open("rb") as raw:
            parts = archive.infolist()
            declared = sum(part.file_size for part in parts)
            if declared > MAX_EXPANDED_BYTES:
                raise _too_large(f"se descomprime a {declared // (1 << 20)} MB")
            extent = _Extent()
            for part in parts:
                if not extent.scan(_inflate(raw, part)):
                    with archive.open(part) as source:
                        extent.parse(source)  # (verified just now: it inflates as declared)
            if extent.cells > MAX_CELLS and extent.approximate:
                extent = _Extent()  # empty cells were counted: measure the content only
                for part in parts:
                    with archive.open(part) as source:
                        extent.parse(source)
    except (_Unreadable, zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError) as exc:
        raise unreadable_workbook() from exc
    except (OSError, ValueError, RuntimeError, NotImplementedError) as exc:
        raise unreadable_workbook() from exc
    if extent.cells > MAX_CELLS:
        raise _too_large(
            f"sus celdas van de A1 a la fila {extent.rows} y la columna {extent.columns}",
            details={"rows": extent.rows, "columns": extent.columns, "max_cells": MAX_CELLS},
        )


def unreadable_workbook() -> InvalidInput:
    return InvalidInput(
        "el archivo parece un ZIP pero no es un libro XLSX legible",
        code="unsupported_file_type",
    )


def _too_large(why: str, details: object = None) -> InvalidInput:
    return InvalidInput(
        f"el libro es demasiado grande para importarlo: {why}", code="sheet_too_large",
        details=details,
    )  # fmt: skip


def _inflate(raw: IO[bytes], part: zipfile.ZipInfo) -> Iterator[bytes]:
    """A part's bytes, inflated from its compressed data, never past its declared size."""
    if part.flag_bits & 0x1:
        raise _Unreadable("encrypted")
    raw.seek(part.header_offset)
    header = raw.read(_LOCAL_HEADER.size)
    if len(header) < _LOCAL_HEADER.size:
        raise _Unreadable("truncated")
    signature, name_length, extra_length = _LOCAL_HEADER.unpack(header)
    if signature != b"PK\x03\x04":
        raise _Unreadable("no local header")
    raw.seek(part.header_offset + _LOCAL_HEADER.size + name_length + extra_length)
    left = part.compress_size
    if part.compress_type == zipfile.ZIP_STORED:
        if left != part.file_size:
            raise _Unreadable("stored size mismatch")
        while left:
            data = raw.read(min(_CHUNK, left))
            if not data:
                raise _Unreadable("truncated")
            left -= len(data)
            yield data
        return
    if part.compress_type != zipfile.ZIP_DEFLATED:
        raise _Unreadable("compression method")
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    produced = 0
    pending = b""
    while not inflater.eof:
        if not pending and left:
            pending = raw.read(min(_CHUNK, left))
            if not pending:
                raise _Unreadable("truncated")
            left -= len(pending)
        data = inflater.decompress(pending, _CHUNK)
        pending = inflater.unconsumed_tail
        if not data and not pending and not left:
            break
        produced += len(data)
        if produced > part.file_size:
            raise _Unreadable("inflates past its declared size")
        yield data
    if not inflater.eof or produced != part.file_size:
        raise _Unreadable("size mismatch")


class _Extent:
    """The bottom-right corner of the cells with content, over every part read."""

    def __init__(self) -> None:
        self.rows = 0  # 1-based number of the last row
        self.columns = 0  # 1-based number of the last column
        self.approximate = False  # empty cells were counted (the byte searches)

    @property
    def cells(self) -> int:
        return self.rows * self.columns

    def scan(self, chunks: Iterator[bytes]) -> bool:
        """Byte searches over a part (and the DTD check); False when some cell of it has no plain
        reference and the part must be parsed instead. Reads the whole part either way."""
        plain = True
        tail = b""
        for chunk in chunks:
            buffer = tail + chunk
            cut = buffer.rfind(b">") + 1
            block, tail = buffer[:cut], buffer[cut:]
            if len(tail) > _MAX_TAG:
                raise _Unreadable("a tag too long")
            if any(marker in buffer for marker in _DTD):
                raise InvalidInput(
                    "el XLSX declara entidades XML (DTD), algo que un libro de Excel no usa",
                    code="unsupported_file_type",
                )
            if plain and block:
                plain = self._search(block)
        return plain

    def _search(self, block: bytes) -> bool:
        if b":c" in block and _PREFIXED_CELL.search(block):
            return False
        refs = _PLAIN_CELL.findall(block)
        # Other tags start `<c` too (`<cols>`, `<cfRule>`): look closer only when some do.
        if len(refs) != block.count(b"<c") and _OTHER_CELL.search(block):
            return False
        if refs:
            self.approximate = True
            letters, numbers = zip(*refs, strict=True)
            last = max(set(letters), key=lambda c: (len(c), c))
            self._cover(max(map(int, set(numbers))), _column_number(last.decode()))
        return True

    def parse(self, source: IO[bytes]) -> None:
        """The general way: rows and cells may lack a reference (then they follow the previous
        one, as calamine places them). A part that is not well-formed XML counts up to its error
        (a sheet calamine cannot parse is refused by calamine; any other part it never reads)."""
        with contextlib.suppress(SyntaxError, ValueError):  # ParseError is a SyntaxError
            self._parse(source)

    def _parse(self, source: IO[bytes]) -> None:
        row = column = 0
        for event, element in iterparse(source, events=("start", "end")):
            tag = element.tag.rpartition("}")[2]
            if event == "start":
                if tag == "row":
                    number = element.get("r")
                    row, column = (int(number) if number and number.isdigit() else row + 1), 0
                continue
            if tag == "c":
                match = _REF.fullmatch(element.get("r") or "")
                if match is None:
                    column += 1
                    cell_row = row
                else:
                    column, cell_row = _column_number(match[1].upper()), int(match[2])
                if len(element):
                    self._cover(cell_row, column)
                element.clear()
            elif tag == "row":
                element.clear()

    def _cover(self, row: int, column: int) -> None:
        self.rows = max(self.rows, row)
        self.columns = max(self.columns, column)


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number

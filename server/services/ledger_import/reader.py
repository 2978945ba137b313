"""Raw rows out of an uploaded ledger file: CSV (delimiter and encoding sniffed) or XLSX (first
sheet). No meaning is given to any cell here; `rows.py` does that.

Every row comes out as `(row_number, values)` where the number is the one the user sees in Excel or
a text editor (the first row is 1; blank rows count, and are yielded so the count stays right).

XLSX: openpyxl in read-only mode with cached values (what Excel last computed), so a formula cell
reads as its result. A formula that was never computed (a file written by a program, not saved by
Excel) has no cached value: it comes out as `FORMULA_WITHOUT_VALUE`, so it is reported instead of
being mistaken for an empty cell. Merged ranges are filled with their top-left value, the way a
person reads a sheet where one client's code spans several invoice rows.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet._reader import FORMULA_TAG, WorkSheetParser

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
_MERGE_REF: Final = re.compile(rb"<(?:\w+:)?mergeCell\s+ref=\"([A-Z]+[0-9]+:[A-Z]+[0-9]+)\"")


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
        raise _unsupported("an old Excel (.xls) file: save it as .xlsx or CSV")
    if head.startswith(b"%PDF"):
        raise _unsupported("a PDF")
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _unsupported("a binary file")
    return _read_csv(path.read_bytes())


def _unsupported(what: str) -> InvalidInput:
    return InvalidInput(
        f"the file is {what}; send a CSV or an XLSX file", code="unsupported_file_type"
    )


# --- CSV ------------------------------------------------------------------------------------


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252/Latin-1 (what Excel in
    Spanish writes when it saves "CSV (delimitado por comas)")."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
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
                f"the CSV file cannot be read near line {reader.line_num}: {exc}",
                code="invalid_csv",
            ) from exc

    return Sheet("csv", rows(), text.count("\n") + 1)


# --- XLSX -----------------------------------------------------------------------------------


class _CachedValueParser(WorkSheetParser):  # type: ignore[misc]
    """openpyxl's streaming sheet parser, reading cached values, that also flags formula cells
    without one (openpyxl alone would give None, indistinguishable from an empty cell)."""

    def parse_cell(self, element: Any) -> dict[str, Any]:
        cell: dict[str, Any] = super().parse_cell(element)
        if cell["value"] is None and element.find(FORMULA_TAG) is not None:
            cell["value"] = FORMULA_WITHOUT_VALUE
        return cell


def _read_xlsx(path: Path) -> Sheet:
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise InvalidInput(
            "the file looks like a zip archive but is not a readable XLSX workbook",
            code="unsupported_file_type",
        ) from exc
    sheet = workbook.worksheets[0]
    # openpyxl's read-only sheet keeps these private; they are what its own reader passes on.
    sheet_path: str = sheet._worksheet_path
    merged = _merged_ranges(path, sheet_path)

    def rows() -> Iterator[RawRow]:
        try:
            with workbook._archive.open(sheet_path) as source:
                parser = _CachedValueParser(
                    source,
                    sheet._shared_strings,
                    data_only=True,
                    epoch=workbook.epoch,
                    date_formats=workbook._date_formats,
                    timedelta_formats=workbook._timedelta_formats,
                )
                expected = 1
                for number, cells in parser.parse():
                    while expected < number:  # rows absent from the XML are blank rows
                        yield expected, ()
                        expected += 1
                    values = _row_values(cells)
                    if merged:
                        values = merged.fill(number, values)
                    yield number, values
                    expected = number + 1
        finally:
            workbook.close()

    return Sheet("xlsx", rows(), sheet.max_row)


def _row_values(cells: list[dict[str, Any]]) -> tuple[object, ...]:
    if not cells:
        return ()
    values: list[object] = [None] * max(c["column"] for c in cells)
    for cell in cells:
        values[cell["column"] - 1] = cell["value"]
    return tuple(values)


class _Merged:
    """Merged ranges of a sheet; `fill` copies each range's top-left value into its other cells
    (rows arrive top to bottom, so the top-left value is always seen first)."""

    def __init__(self, ranges: list[tuple[int, int, int, int]]) -> None:
        self._ranges = ranges  # (min_col, min_row, max_col, max_row)
        self._values: dict[int, object] = {}

    def __bool__(self) -> bool:
        return bool(self._ranges)

    def fill(self, number: int, values: tuple[object, ...]) -> tuple[object, ...]:
        out: list[object] | None = None
        for index, (min_col, min_row, max_col, max_row) in enumerate(self._ranges):
            if not min_row <= number <= max_row:
                continue
            if number == min_row:
                self._values[index] = values[min_col - 1] if len(values) >= min_col else None
            if out is None:
                out = list(values)
            if len(out) < max_col:
                out.extend([None] * (max_col - len(out)))
            for col in range(min_col, max_col + 1):
                if (col, number) != (min_col, min_row):
                    out[col - 1] = self._values.get(index)
        return values if out is None else tuple(out)


def _merged_ranges(path: Path, sheet_path: str) -> _Merged:
    """Merged ranges, found by scanning the raw sheet XML (they are listed after all the rows,
    and a read-only workbook does not expose them)."""
    refs: set[bytes] = set()
    tail = b""
    with zipfile.ZipFile(path) as archive, archive.open(sheet_path.lstrip("/")) as source:
        while chunk := source.read(1 << 20):
            window = tail + chunk
            refs.update(_MERGE_REF.findall(window))
            tail = window[-200:]
    ranges = []
    for ref in sorted(refs):
        min_col, min_row, max_col, max_row = range_boundaries(ref.decode())
        if None not in (min_col, min_row, max_col, max_row):
            ranges.append(
                (int(min_col or 0), int(min_row or 0), int(max_col or 0), int(max_row or 0))
            )
    return _Merged(ranges)

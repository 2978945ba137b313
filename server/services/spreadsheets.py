"""XLSX exports (openpyxl) from small typed sheet specs, shared by every report's `?format=xlsx`.

A `Sheet` is a title (and optional subtitle, e.g. the period), a header of typed `Column`s and
rows of plain values; `workbook_bytes` writes them and returns the file. The choices that make a
file payroll can work with, made once here:
- money is a number (Decimal written as is, never float-rounded by us) with an es-CO currency
  format `$ 1.234.567`, with cents (`,50`) only in columns where some amount has cents; the
  `[$$-240A]` tag (Spanish, Colombia) keeps the peso sign in any Excel language;
- dates are real dates shown `dd/mm/aaaa` (Excel format code `dd/mm/yyyy`);
- percents are the figures of the rules (`0.5` means 0.5 %), shown `0,5 %`, so cells equal the API;
- the header row is frozen and filterable, widths follow the content (bounded);
- an optional totals row adds the columns marked `total=True` (values computed here, not
  formulas: a formula has no value until a spreadsheet program recalculates it, and readers such
  as openpyxl or an ERP import would see none).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Final, Literal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

Kind = Literal["text", "money", "date", "int", "decimal", "percent"]
Value = str | int | Decimal | date | datetime | None

MONEY_FORMAT: Final = "[$$-240A] #,##0;-[$$-240A] #,##0;[$$-240A] 0"
MONEY_CENTS_FORMAT: Final = "[$$-240A] #,##0.00;-[$$-240A] #,##0.00;[$$-240A] 0"
DATE_FORMAT: Final = "dd/mm/yyyy"
DATETIME_FORMAT: Final = "dd/mm/yyyy hh:mm"
INT_FORMAT: Final = "#,##0"
DECIMAL_FORMAT: Final = "#,##0.00"
PERCENT_FORMAT: Final = '0.0#" %"'

_MIN_WIDTH: Final = 8
_MAX_WIDTH: Final = 60
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
_HEADER_FILL = PatternFill("solid", fgColor="DDE6F0")
_THIN = Side(style="thin", color="7F8C99")


@dataclass(frozen=True)
class Column:
    header: str
    kind: Kind = "text"
    total: bool = False  # add this column in the totals row
    width: float | None = None  # characters; None: from the content


@dataclass(frozen=True)
class Sheet:
    name: str  # the tab (cut to Excel's 31 characters, forbidden characters replaced)
    columns: Sequence[Column]
    rows: Sequence[Sequence[Value]]
    title: str = ""
    subtitle: str = ""
    totals_label: str | None = None  # e.g. "Total": adds a totals row under the rows
    notes: Sequence[str] = field(default_factory=tuple)  # lines under the table


def workbook_bytes(sheets: Sequence[Sheet]) -> bytes:
    """The XLSX file of `sheets`, in order (at least one)."""
    if not sheets:
        raise ValueError("a workbook needs at least one sheet")
    book = Workbook()
    used: set[str] = set()
    for index, spec in enumerate(sheets):
        ws = book.active if index == 0 else book.create_sheet()
        assert ws is not None
        ws.title = _sheet_name(spec.name, used)
        _write(ws, spec)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def column_totals(spec: Sheet) -> list[Value]:
    """The totals row: the sum of each `total` column (None elsewhere), label in the first."""
    totals: list[Value] = []
    for i, column in enumerate(spec.columns):
        if column.total:
            totals.append(sum((_number(row[i]) for row in spec.rows), Decimal(0)))
        else:
            totals.append(None)
    if spec.totals_label is not None and not spec.columns[0].total:
        totals[0] = spec.totals_label
    return totals


def _write(ws: Worksheet, spec: Sheet) -> None:
    width = len(spec.columns)
    for row in spec.rows:
        if len(row) != width:
            raise ValueError(f"sheet {spec.name!r}: a row has {len(row)} cells, header {width}")
    row_no = 1
    if spec.title:
        ws.cell(row_no, 1, spec.title).font = Font(bold=True, size=14)
        row_no += 1
    if spec.subtitle:
        ws.cell(row_no, 1, spec.subtitle).font = Font(italic=True, color="555555")
        row_no += 1
    if row_no > 1:
        row_no += 1  # one blank row between the titles and the table
    header_row = row_no
    for col, column in enumerate(spec.columns, start=1):
        cell = ws.cell(header_row, col, column.header)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.border = Border(bottom=_THIN)
        cell.alignment = Alignment(
            horizontal="left" if column.kind == "text" else "right", vertical="center"
        )
    formats = [_format(column, spec.rows, i) for i, column in enumerate(spec.columns)]
    for r, row in enumerate(spec.rows, start=header_row + 1):
        for c, value in enumerate(row, start=1):
            cell = ws.cell(r, c, _cell_value(value))
            if formats[c - 1]:
                cell.number_format = formats[c - 1]
    last_row = header_row + len(spec.rows)
    if spec.totals_label is not None:
        last_row += 1
        for c, value in enumerate(column_totals(spec), start=1):
            cell = ws.cell(last_row, c, _cell_value(value))
            cell.font = Font(bold=True)
            cell.border = Border(top=_THIN)
            if formats[c - 1] and spec.columns[c - 1].total:
                cell.number_format = formats[c - 1]
    for i, note in enumerate(spec.notes, start=last_row + 2):
        ws.cell(i, 1, note).font = Font(italic=True, color="555555")
    ws.freeze_panes = ws.cell(header_row + 1, 1)
    if spec.rows:
        ws.auto_filter.ref = (
            f"A{header_row}:{get_column_letter(width)}{header_row + len(spec.rows)}"
        )
    for i, column in enumerate(spec.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = column.width or _width(spec, i - 1)


def _format(column: Column, rows: Sequence[Sequence[Value]], index: int) -> str | None:
    if column.kind == "money":
        cents = any(
            isinstance(row[index], Decimal | int)
            and _number(row[index]) != _number(row[index]).to_integral_value()
            for row in rows
        )
        return MONEY_CENTS_FORMAT if cents else MONEY_FORMAT
    if column.kind == "date":
        dated = any(isinstance(row[index], datetime) for row in rows)
        return DATETIME_FORMAT if dated else DATE_FORMAT
    return {
        "int": INT_FORMAT,
        "decimal": DECIMAL_FORMAT,
        "percent": PERCENT_FORMAT,
    }.get(column.kind)


def _cell_value(value: Value) -> Value:
    # Excel has no time zones: an aware datetime is written as its wall-clock time (callers pass
    # business-time datetimes).
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


def _number(value: Value) -> Decimal:
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, Decimal | int):
        return Decimal(value)
    raise ValueError(f"not a number: {value!r}")


def _width(spec: Sheet, index: int) -> float:
    column = spec.columns[index]
    longest = len(column.header)
    for row in spec.rows[:2000]:  # enough to size a column; big sheets are not scanned twice
        longest = max(longest, _display_length(row[index], column.kind))
    if spec.totals_label is not None and index == 0:
        longest = max(longest, len(spec.totals_label))
    return float(min(_MAX_WIDTH, max(_MIN_WIDTH, longest + 2)))


def _display_length(value: Value, kind: Kind) -> int:
    if value is None:
        return 0
    if kind == "date":
        return 16 if isinstance(value, datetime) else 10
    if kind == "money" and isinstance(value, Decimal | int):
        digits = len(str(abs(int(value))))
        return digits + digits // 3 + 6  # "$ ", separators, sign, cents
    return len(str(value))


def _sheet_name(name: str, used: set[str]) -> str:
    base = _SHEET_NAME_BAD.sub("-", name).strip("'") or "Hoja"
    candidate = base[:31]
    n = 2
    while candidate.lower() in used:
        suffix = f" ({n})"
        candidate = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(candidate.lower())
    return candidate

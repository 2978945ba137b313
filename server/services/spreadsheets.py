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
from typing import Any, Final, Literal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

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
    """The XLSX file of `sheets`, in order (at least one). Written in openpyxl's write-only
    (streaming) mode: a payroll month of 200,000 lines would take about a minute and a few GB
    cell by cell in the normal mode."""
    if not sheets:
        raise ValueError("a workbook needs at least one sheet")
    book = Workbook(write_only=True)
    used: set[str] = set()
    for spec in sheets:
        _write(book.create_sheet(_sheet_name(spec.name, used)), spec)
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


def _styled(ws: WriteOnlyWorksheet, value: Value, **style: Any) -> WriteOnlyCell:
    cell = _text_safe(WriteOnlyCell(ws, _cell_value(value)))
    for name, setting in style.items():
        setattr(cell, name, setting)
    return cell


def _write(ws: WriteOnlyWorksheet, spec: Sheet) -> None:
    """Rows are streamed, so everything about the sheet (widths, frozen panes, filter) is set
    before the first one."""
    width = len(spec.columns)
    for row in spec.rows:
        if len(row) != width:
            raise ValueError(f"sheet {spec.name!r}: a row has {len(row)} cells, header {width}")
    header_row = 1 + bool(spec.title) + bool(spec.subtitle)
    if header_row > 1:
        header_row += 1  # one blank row between the titles and the table
    for i, column in enumerate(spec.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = column.width or _width(spec, i - 1)
    ws.freeze_panes = f"A{header_row + 1}"
    if spec.rows:
        ws.auto_filter.ref = (
            f"A{header_row}:{get_column_letter(width)}{header_row + len(spec.rows)}"
        )

    if spec.title:
        ws.append([_styled(ws, spec.title, font=Font(bold=True, size=14))])
    if spec.subtitle:
        ws.append([_styled(ws, spec.subtitle, font=Font(italic=True, color="555555"))])
    if header_row > 1:
        ws.append([])
    ws.append(
        [
            _styled(
                ws,
                column.header,
                font=Font(bold=True),
                fill=_HEADER_FILL,
                border=Border(bottom=_THIN),
                alignment=Alignment(
                    horizontal="left" if column.kind == "text" else "right", vertical="center"
                ),
            )
            for column in spec.columns
        ]
    )
    formats = [_format(column, spec.rows, i) for i, column in enumerate(spec.columns)]
    # One styled cell per formatted column, reused row after row: the write-only sheet turns
    # each appended row into XML at once, so only the value changes between rows.
    templates = [_styled(ws, None, number_format=f) if f else None for f in formats]
    for row in spec.rows:
        out: list[Any] = []
        for template, value in zip(templates, row, strict=True):
            if template is None or value is None:
                is_formula = isinstance(value, str) and value.startswith("=")
                out.append(_styled(ws, value) if is_formula else _cell_value(value))
            else:
                template.value = _cell_value(value)
                out.append(template)
        ws.append(out)
    if spec.totals_label is not None:
        ws.append(
            [
                _styled(
                    ws,
                    value,
                    font=Font(bold=True),
                    border=Border(top=_THIN),
                    **(
                        {"number_format": formats[i]}
                        if formats[i] and spec.columns[i].total
                        else {}
                    ),
                )
                for i, value in enumerate(column_totals(spec))
            ]
        )
    if spec.notes:
        ws.append([])
        for note in spec.notes:
            ws.append([_styled(ws, note, font=Font(italic=True, color="555555"))])


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


def _text_safe(cell: WriteOnlyCell) -> WriteOnlyCell:
    """Text is text: openpyxl writes a string starting with `=` as a formula, so a client named
    `=HYPERLINK(...)` in an imported ledger would be a live formula in every export."""
    if cell.data_type == "f":
        cell.data_type = "s"
    return cell


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

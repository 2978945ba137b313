"""What the cells mean: column mapping (Spanish or English headers, any case, accents or
separators) and validation of each row into a typed `ImportRow` or a list of `RowIssue`s.

Blank optional cells mean "the file says nothing": they never erase data already in the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Final

from server.db.models import SEGMENTS
from server.services.ledger_import.reader import FORMULA_WITHOUT_VALUE, RawRow
from server.services.ledger_import.summary import RowIssue
from shared.errors import InvalidInput
from shared.money import ZERO
from shared.parsing import (
    is_blank,
    normalize_key,
    parse_amount,
    parse_coordinate,
    parse_date,
    parse_text,
)

# Field -> accepted header spellings, already normalised (see shared.parsing.normalize_key).
ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "client_code": ("codigo_cliente", "cod_cliente", "codigo_del_cliente", "client_code",
                    "customer_code", "client_id", "customer_id"),
    "client_name": ("nombre_cliente", "nombre_del_cliente", "razon_social", "cliente",
                    "client_name", "customer_name", "client", "customer"),
    "tax_id": ("nit", "nit_cc", "cc_nit", "documento", "identificacion", "tax_id", "vat_id"),
    "segment": ("segmento", "segment"),
    "address": ("direccion", "address"),
    "city": ("ciudad", "municipio", "city"),
    "latitude": ("latitud", "lat", "latitude"),
    "longitude": ("longitud", "lon", "lng", "longitude"),
    "phone": ("telefono", "telefonos", "celular", "phone", "phones", "phone_number"),
    "invoice_number": ("factura", "numero_factura", "no_factura", "n_factura", "nro_factura",
                       "num_factura", "invoice_number", "invoice", "invoice_no"),
    "issue_date": ("fecha_emision", "fecha_factura", "fecha_de_emision", "issue_date",
                   "invoice_date"),
    "due_date": ("fecha_vencimiento", "vencimiento", "fecha_de_vencimiento", "due_date"),
    "amount": ("valor", "valor_factura", "valor_original", "monto", "amount", "invoice_amount"),
    "balance": ("saldo", "saldo_pendiente", "saldo_factura", "balance", "open_balance",
                "outstanding"),
    "collector": ("gestor", "cobrador", "gestor_cobranza", "collector"),
}  # fmt: skip
REQUIRED: Final = ("client_code", "client_name", "invoice_number", "due_date", "amount")
_FIELD_BY_ALIAS: Final = {alias: f for f, aliases in ALIASES.items() for alias in aliases}
# The database's column sizes (server/db/models.py).
MAX_LENGTH: Final = {
    "client_code": 64, "client_name": 300, "tax_id": 32, "address": 300, "city": 100,
    "invoice_number": 64, "collector": 64, "phone": 200,
}  # fmt: skip
_PHONE_SPLIT: Final = re.compile(r"\s*[/;,|]\s*")
_HEADER_SEARCH_ROWS: Final = 20  # a title or a date line may sit above the header


@dataclass(frozen=True)
class ColumnMap:
    positions: dict[str, int]  # field -> 0-based column index
    headers: tuple[str, ...]  # header text by column index, as the user wrote it
    ignored: tuple[str, ...]

    def header(self, field: str) -> str:
        return self.headers[self.positions[field]]

    @cached_property
    def fast(self) -> _FastRowParser:
        return _FastRowParser(self)


@dataclass(slots=True)
class ImportRow:
    """One valid invoice row. `None` in an optional field means the file said nothing."""

    row: int
    client_code: str
    client_name: str
    invoice_number: str
    due_date: date
    amount: Decimal
    issue_date: date | None = None
    balance: Decimal | None = None
    tax_id: str | None = None
    segment: str | None = None
    address: str | None = None
    city: str | None = None
    phones: list[str] | None = None
    lat: float | None = None
    lon: float | None = None
    collector: str | None = None


def map_columns(headers: Sequence[object]) -> ColumnMap:
    """Match header cells to fields; raises `missing_columns` or `duplicate_column`."""
    texts = tuple(parse_text(h) for h in headers)
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for index, text in enumerate(texts):
        if not text:
            continue
        field = _FIELD_BY_ALIAS.get(normalize_key(text))
        if field is None:
            ignored.append(text)
        elif field in positions:
            raise InvalidInput(
                f"dos columnas significan lo mismo: {texts[positions[field]]!r} y {text!r}",
                code="duplicate_column",
                details={"columns": [texts[positions[field]], text], "field": field},
            )
        else:
            positions[field] = index
    missing = [ALIASES[f][0] for f in REQUIRED if f not in positions]
    if missing:
        raise InvalidInput(
            f"faltan columnas obligatorias: {', '.join(missing)}",
            code="missing_columns",
            details={"missing": missing, "found": [t for t in texts if t]},
        )
    return ColumnMap(positions, texts, tuple(ignored))


def locate_header(rows: Iterator[RawRow]) -> tuple[int, ColumnMap]:
    """Consume rows up to the header (the first row naming a required column within the first
    rows; else the first non-blank one) and map it. The iterator is left at the first data row."""
    first: tuple[int, tuple[object, ...]] | None = None
    for number, values in rows:
        if all(is_blank(v) for v in values):
            continue
        first = first or (number, values)
        keys = {_FIELD_BY_ALIAS.get(normalize_key(parse_text(v))) for v in values}
        if keys & set(REQUIRED):
            return number, map_columns(values)
        if number - first[0] >= _HEADER_SEARCH_ROWS:
            break
    if first is None:
        raise InvalidInput("el archivo no tiene filas", code="empty_file")
    return first[0], map_columns(first[1])


def is_blank_row(values: tuple[object, ...]) -> bool:
    for value in values:  # (a loop, not all(): it stops at the first cell of a real row)
        if type(value) is str:
            if value and not value.isspace():
                return False
        elif value is not None:
            return False
    return True


def parse_row(
    number: int, values: tuple[object, ...], columns: ColumnMap
) -> ImportRow | list[RowIssue]:
    """Validate one row; every problem in it is reported, not just the first."""
    row = columns.fast.parse(number, values)
    return row if row is not None else parse_row_in_full(number, values, columns)


def parse_row_in_full(
    number: int, values: tuple[object, ...], columns: ColumnMap
) -> ImportRow | list[RowIssue]:
    """The general validation, which names every problem (`parse_row` tries the fast one first)."""
    issues: list[RowIssue] = []
    width = len(values)
    pos = columns.positions

    def cell(field: str) -> object:
        index = pos.get(field)
        return values[index] if index is not None and index < width else None

    def fail(field: str, code: str, message: str) -> None:
        raw = cell(field)
        shown = None if raw is None or raw is FORMULA_WITHOUT_VALUE else parse_text(raw)[:100]
        issues.append(RowIssue(row=number, column=columns.header(field), code=code,
                               message=message, value=shown))  # fmt: skip

    def read(field: str, parse: Callable[[object], object], required: bool = False) -> object:
        index = pos.get(field)
        raw = values[index] if index is not None and index < width else None
        if raw is None or raw == "":
            if required:
                fail(field, "missing_value", "el valor es obligatorio")
            return None
        if raw is FORMULA_WITHOUT_VALUE:
            message = "la fórmula no tiene valor calculado: abra y guarde el archivo en Excel"
            fail(field, "formula_without_value", message)
            return None
        if is_blank(raw):
            if required:
                fail(field, "missing_value", "el valor es obligatorio")
            return None
        try:
            return parse(raw)
        except InvalidInput as exc:
            fail(field, exc.code, exc.message)
            return None

    def text(field: str, required: bool = False) -> str | None:
        value = read(field, parse_text, required)
        if isinstance(value, str) and len(value) > MAX_LENGTH[field]:
            fail(field, "value_too_long", f"más de {MAX_LENGTH[field]} caracteres")
            return None
        if isinstance(value, str) and "\x00" in value:  # PostgreSQL cannot store it in text
            fail(field, "invalid_character", "el texto tiene un carácter nulo (NUL)")
            return None
        return value if isinstance(value, str) else None

    client_code = text("client_code", required=True)
    client_name = text("client_name", required=True)
    invoice_number = text("invoice_number", required=True)
    due_date = read("due_date", parse_date, required=True)
    issue_date = read("issue_date", parse_date)
    amount = read("amount", parse_amount, required=True)
    balance = read("balance", parse_amount)
    if isinstance(amount, Decimal) and amount <= ZERO:
        fail("amount", "amount_not_positive", "el valor de una factura debe ser mayor que cero")
        amount = None
    if isinstance(balance, Decimal):
        if balance < ZERO:
            fail("balance", "negative_balance", "el saldo no puede ser negativo")
        elif isinstance(amount, Decimal) and balance > amount:
            fail("balance", "balance_exceeds_amount", "el saldo es mayor que el valor")
    if isinstance(issue_date, date) and isinstance(due_date, date) and issue_date > due_date:
        fail("issue_date", "issue_after_due", "la fecha de emisión es posterior al vencimiento")
    segment = read("segment", normalize_key)
    if segment is not None and segment not in SEGMENTS:
        fail("segment", "invalid_segment", f"use uno de: {', '.join(SEGMENTS)}")
    lat = read("latitude", lambda v: parse_coordinate(v, limit=90))
    lon = read("longitude", lambda v: parse_coordinate(v, limit=180))
    if (lat is None) != (lon is None):
        given, other = ("latitude", "longitude") if lon is None else ("longitude", "latitude")
        if is_blank(cell(other)):  # (a bad value in `other` is already reported)
            fail(other if other in pos else given, "missing_value", "latitud y longitud van juntas")
    phone = text("phone")
    tax_id, address, city = text("tax_id"), text("address"), text("city")
    collector = text("collector")
    if issues:
        return issues
    assert isinstance(client_code, str) and isinstance(client_name, str)
    assert isinstance(invoice_number, str) and isinstance(due_date, date)
    assert isinstance(amount, Decimal)
    return ImportRow(
        row=number,
        client_code=client_code,
        client_name=client_name,
        invoice_number=invoice_number,
        due_date=due_date,
        amount=amount,
        issue_date=issue_date if isinstance(issue_date, date) else None,
        balance=balance if isinstance(balance, Decimal) else None,
        tax_id=tax_id,
        segment=segment if isinstance(segment, str) else None,
        address=address,
        city=city,
        phones=[p for p in _PHONE_SPLIT.split(phone) if p] if phone else None,
        lat=lat if isinstance(lat, float) else None,
        lon=lon if isinstance(lon, float) else None,
        collector=collector,
    )


_TEXT_FIELDS: Final = ("client_code", "client_name", "invoice_number", "tax_id", "address", "city",
                       "phone", "collector")  # fmt: skip


class _Fallback(Exception):  # control flow inside _FastRowParser; never escapes it
    pass


class _FastRowParser:
    """The common case of `parse_row_in_full`, without its bookkeeping: a row whose cells all have
    a usual shape and break no rule. Anything else (a blank required cell, an error, a formula
    without value, an unusual type) gives None, and the general validation names the problems.
    Both give the same ImportRow for a valid row (a property test checks it)."""

    def __init__(self, columns: ColumnMap) -> None:
        pos = columns.positions
        # Cells are padded to one past the mapped columns: an absent field reads that last None.
        self._width = width = max(pos.values()) + 1
        self._pad: tuple[None, ...] = (None,) * (width + 1)
        self._text = tuple((pos.get(f, width), MAX_LENGTH[f]) for f in _TEXT_FIELDS)
        self._due, self._issue = pos["due_date"], pos.get("issue_date", width)
        self._amount, self._balance = pos["amount"], pos.get("balance", width)
        self._segment = pos.get("segment", width)
        self._lat, self._lon = pos.get("latitude", width), pos.get("longitude", width)
        self._segments: dict[object, str | None] = {}

    def parse(self, number: int, values: tuple[object, ...]) -> ImportRow | None:
        try:
            return self._parse(number, values)
        except (_Fallback, InvalidInput):
            return None

    def _parse(self, number: int, values: tuple[object, ...]) -> ImportRow | None:
        # Blank here means None or "" only: a cell of spaces fails its parser, and the general
        # validation (which treats it as blank) takes the row.
        width = self._width
        cells = values[:width] + self._pad[min(len(values), width) :]
        if FORMULA_WITHOUT_VALUE in cells:
            raise _Fallback
        texts: list[str | None] = []
        for index, limit in self._text:
            value = cells[index]
            if value is None:
                texts.append(None)
                continue
            text = value.strip() if type(value) is str else _text(value)
            if len(text) > limit or "\x00" in text:
                raise _Fallback
            texts.append(text or None)
        client_code, client_name, invoice_number, tax_id, address, city, phone, collector = texts
        if client_code is None or client_name is None or invoice_number is None:
            raise _Fallback
        due, issue = cells[self._due], cells[self._issue]
        if due is None or due == "":
            raise _Fallback
        due_date = parse_date(due)
        issue_date = None if issue is None or issue == "" else parse_date(issue)
        if issue_date is not None and issue_date > due_date:
            raise _Fallback
        given, left = cells[self._amount], cells[self._balance]
        if given is None or given == "":
            raise _Fallback
        amount = parse_amount(given)
        balance = None if left is None or left == "" else parse_amount(left)
        if amount <= ZERO or (balance is not None and not ZERO <= balance <= amount):
            raise _Fallback
        segment = self._segment_of(cells[self._segment])
        lat, lon = cells[self._lat], cells[self._lon]
        lat_blank, lon_blank = lat is None or lat == "", lon is None or lon == ""
        if lat_blank != lon_blank:
            raise _Fallback
        return ImportRow(
            row=number,
            client_code=client_code,
            client_name=client_name,
            invoice_number=invoice_number,
            due_date=due_date,
            amount=amount,
            issue_date=issue_date,
            balance=balance,
            tax_id=tax_id,
            segment=segment,
            address=address,
            city=city,
            phones=_phones(phone) if phone else None,
            lat=None if lat_blank else parse_coordinate(lat, limit=90),
            lon=None if lon_blank else parse_coordinate(lon, limit=180),
            collector=collector,
        )

    def _segment_of(self, value: object) -> str | None:
        if value is None or value == "":
            return None
        try:
            return self._segments[value]
        except KeyError:
            key = normalize_key(value)
            segment = self._segments[value] = key if key in SEGMENTS else None
        except TypeError:  # an unhashable cell: let the general validation look at it
            raise _Fallback from None
        if segment is None:
            raise _Fallback
        return segment


def _text(value: object) -> str:
    if type(value) not in (int, float):
        raise _Fallback  # dates, booleans...: the general path decides what they mean
    return parse_text(value)


def _phones(text: str) -> list[str]:
    return [p for p in _PHONE_SPLIT.split(text) if p]

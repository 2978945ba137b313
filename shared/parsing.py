"""Reading what people type into spreadsheets: amounts, dates, coordinates and column headers.

Rules of this file: pure functions, no I/O. Each parser takes the raw cell (a string from a CSV, or
whatever the XLSX reader produced: str, int, float, datetime, date) and returns a typed value or
raises `InvalidInput` with a stable code (`missing_value`, `invalid_amount`, `amount_out_of_range`,
`invalid_date`, `invalid_coordinate`) and a message in Spanish (users read it next to their row).
Each parser tries the shape most files use first (plain digits, `1.234.567`, `15/03/2025`, a typed
number or date) and only then the general rules; both give the same answer (tests check it).

Amounts, decided once here:
- `$`, `COP`, spaces (also non-breaking) are ignored; a leading `-`, a trailing `-` or accounting
  parentheses `(1.234)` make it negative (callers decide whether a negative is acceptable).
- With both `.` and `,` present, the LAST one is the decimal separator (`1.234.567,89` and
  `1,234,567.89`). With one kind repeated, it groups thousands (`1.234.567`). With one separator
  followed by exactly three digits it groups thousands too (`1.234` is one thousand two hundred
  thirty-four pesos, as Colombian ERPs print it); otherwise it is the decimal separator (`1234,5`).
- Thousands groups must have three digits; more than two decimals are refused rather than rounded
  (money is never silently changed). Numbers that come from a spreadsheet as floats are rounded to
  cents: the float is the spreadsheet's own approximation of a two-decimal value.
Dates are day first (`15/03/2025`, `15-03-2025`) or ISO (`2025-03-15`); a four-digit year is
required (`15/03/25` is ambiguous), impossible dates (`31/02/2025`) are refused, and numbers are
Excel serial days (1900 date system).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache
from typing import Final

from shared.errors import InvalidInput
from shared.money import CENT, MAX_AMOUNT

_IGNORED_IN_AMOUNT: Final = re.compile(r"[\s\u00a0\u202f$]|COP", re.IGNORECASE)
_AMOUNT_SHAPE: Final = re.compile(r"\d[\d.,]*")
_GROUPED: Final = re.compile(r"[1-9]\d{0,2}(?:[.,]\d{3})+")
_MAX_AMOUNT_TEXT: Final = 64  # longer than any real amount; keeps Decimal away from huge strings
# The usual shapes, read without the general rules: plain digits with up to two decimals, or
# three-digit groups of `.` (decimal `,`) or of `,` (decimal `.`). At most 15 integer digits, so
# never out of range (MAX_AMOUNT has 16).
_COMMON_AMOUNT: Final = re.compile(
    r"(\d{1,15})(?:[.,](\d{1,2}))?"
    r"|([1-9]\d{0,2}(?:\.\d{3}){1,4})(?:,(\d{1,2}))?"
    r"|([1-9]\d{0,2}(?:,\d{3}){1,4})(?:\.(\d{1,2}))?",
    re.ASCII,
)

# Excel's day 0 in the 1900 system is 1899-12-30 once its phantom 29 Feb 1900 is passed (serial 60).
_EXCEL_EPOCH: Final = date(1899, 12, 30)
_MIN_YEAR, _MAX_YEAR = 1900, 2200
_DAY_FIRST: Final = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_ISO: Final = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_TRAILING_MIDNIGHT: Final = re.compile(r"[ T]00:00(?::00(?:\.0+)?)?$")


def is_blank(value: object) -> bool:
    """None, or text that is only whitespace."""
    return value is None or (isinstance(value, str) and not value.strip())


def _missing(what: str) -> InvalidInput:
    return InvalidInput(f"falta {what}", code="missing_value")


def _bad_amount(value: object, why: str) -> InvalidInput:
    return InvalidInput(f"no es un valor ({why}): {str(value)[:40]!r}", code="invalid_amount")


def _out_of_range(value: object) -> InvalidInput:
    return InvalidInput(f"valor fuera de rango: {str(value)[:40]!r}", code="amount_out_of_range")


def _checked(amount: Decimal, value: object) -> Decimal:
    if abs(amount) > MAX_AMOUNT:
        raise _out_of_range(value)
    return amount


def parse_amount(value: object) -> Decimal:
    """An amount of money with two decimals, from a cell (see the module's rules)."""
    if type(value) is str and (match := _COMMON_AMOUNT.fullmatch(value)):
        plain, dotted, commas = match.group(1, 3, 5)
        if plain is not None:
            integer, decimals = plain, match.group(2)
        elif dotted is not None:
            integer, decimals = dotted.replace(".", ""), match.group(4)
        else:
            integer, decimals = commas.replace(",", ""), match.group(6)
        return Decimal(f"{integer}.{(decimals or '').ljust(2, '0')}")
    if isinstance(value, bool):
        raise _bad_amount(value, "un valor sí/no")
    if isinstance(value, int):
        return _checked(_exact_cents(Decimal(value), value), value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise _bad_amount(value, "no es un número finito")
        if abs(value) > MAX_AMOUNT:  # before quantize: 1e300 has no room for cents
            raise _out_of_range(value)
        # repr gives the shortest decimal that round-trips: what the spreadsheet showed.
        return _checked(Decimal(repr(value)).quantize(CENT, rounding=ROUND_HALF_EVEN), value)
    if isinstance(value, Decimal):
        return _checked(_exact_cents(value, value), value)
    if is_blank(value):
        raise _missing("el valor")
    if not isinstance(value, str):
        raise _bad_amount(value, "no es texto ni número")
    return _parse_amount_text(value)


def _parse_amount_text(value: str) -> Decimal:
    text = _IGNORED_IN_AMOUNT.sub("", value)
    if len(text) > _MAX_AMOUNT_TEXT:
        raise _out_of_range(value)
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    if text.startswith(("-", "+")):
        negative, text = negative ^ (text[0] == "-"), text[1:]
    elif text.endswith("-"):  # some ERPs print credits as `1.234-`
        negative, text = not negative, text[:-1]
    if not _AMOUNT_SHAPE.fullmatch(text):
        raise _bad_amount(value, "caracteres inesperados")
    integer, decimals = _split_separators(text, value)
    try:
        amount = _exact_cents(Decimal(f"{integer}.{decimals or '0'}"), value)
    except InvalidOperation as exc:  # pragma: no cover - the shape check above prevents it
        raise _bad_amount(value, "ilegible") from exc
    return _checked(-amount if negative else amount, value)


def _split_separators(text: str, original: str) -> tuple[str, str]:
    """Integer digits and decimal digits of `text` (digits, `.` and `,` only)."""
    last_dot, last_comma = text.rfind("."), text.rfind(",")
    if last_dot < 0 and last_comma < 0:
        return text, ""
    if last_dot >= 0 and last_comma >= 0:
        decimal_at = max(last_dot, last_comma)
        integer, decimals = text[:decimal_at], text[decimal_at + 1 :]
        thousands = "," if text[decimal_at] == "." else "."
        if text[decimal_at] in integer or not _GROUPED.fullmatch(integer):
            raise _bad_amount(original, "separadores mezclados")
        if not decimals:
            raise _bad_amount(original, "nada después del separador decimal")
        return integer.replace(thousands, ""), decimals
    separator = "." if last_dot >= 0 else ","
    if text.count(separator) > 1 or len(text) - text.rfind(separator) - 1 == 3:
        if not _GROUPED.fullmatch(text):
            raise _bad_amount(original, "los grupos de miles deben tener tres dígitos")
        return text.replace(separator, ""), ""
    integer, _, decimals = text.partition(separator)
    if not integer or not decimals:
        raise _bad_amount(original, "un separador sin dígitos a un lado")
    return integer, decimals


def _exact_cents(amount: Decimal, original: object) -> Decimal:
    if not amount.is_finite():
        raise _bad_amount(original, "no es un número finito")
    if amount.adjusted() > 18:
        raise _out_of_range(original)
    cents = amount.quantize(CENT)
    if cents != amount:
        raise _bad_amount(original, "más de dos decimales")
    return cents


def parse_date(value: object) -> date:
    """A calendar date from a cell: a date or datetime, an Excel serial, or day-first/ISO text."""
    if type(value) is str and len(value) == 10 and value[2] == value[5] == "/":
        dd, mm, yyyy = value[:2], value[3:5], value[6:]  # `15/03/2025`, the usual shape
        if value.isascii() and dd.isdigit() and mm.isdigit() and yyyy.isdigit():
            return _checked_date(int(yyyy), int(mm), int(dd), value)
    if type(value) is date:
        return _plausible(value, value)
    if isinstance(value, datetime):
        return _plausible(value.date(), value)
    if isinstance(value, date):
        return _plausible(value, value)
    if isinstance(value, bool):
        raise _bad_date(value)
    if isinstance(value, int | float):
        return _from_excel_serial(value)
    if is_blank(value):
        raise _missing("la fecha")
    if not isinstance(value, str):
        raise _bad_date(value)
    text = _TRAILING_MIDNIGHT.sub("", value.strip())
    if text.isdigit():  # (`²` is a digit to isdigit, not to int; 5,000 digits are too many)
        if not text.isascii() or len(text) > 7:
            raise _bad_date(value)
        return _from_excel_serial(int(text))
    if match := _DAY_FIRST.fullmatch(text):
        day, month, year = (int(g) for g in match.groups())
    elif match := _ISO.fullmatch(text):
        year, month, day = (int(g) for g in match.groups())
    else:
        raise _bad_date(value)
    return _checked_date(year, month, day, value)


def _checked_date(year: int, month: int, day: int, value: str) -> date:
    try:
        parsed = date(year, month, day)
    except ValueError as exc:
        raise InvalidInput(f"no existe esa fecha: {value[:40]!r}", code="invalid_date") from exc
    return _plausible(parsed, value)


def _bad_date(value: object) -> InvalidInput:
    return InvalidInput(
        f"no es una fecha (use DD/MM/AAAA o AAAA-MM-DD): {str(value)[:40]!r}", code="invalid_date"
    )


def _from_excel_serial(serial: float) -> date:
    if serial != serial or not 1 <= serial < 2_958_466 or serial != int(serial) or serial == 60:
        raise _bad_date(serial)
    days = int(serial)
    if days < 60:  # before Excel's phantom 1900-02-29 (serial 60) the epoch is one day later
        days += 1
    return _plausible(_EXCEL_EPOCH + timedelta(days=days), serial)


def _plausible(parsed: date, value: object) -> date:
    if not _MIN_YEAR <= parsed.year <= _MAX_YEAR:
        raise InvalidInput(f"fecha fuera de rango: {str(value)[:40]!r}", code="invalid_date")
    return parsed


def parse_coordinate(value: object, *, limit: int) -> float:
    """A latitude (limit 90) or longitude (limit 180) in decimal degrees; `4,6482` is accepted.
    Coordinates are not money, so a float is the right type."""
    if isinstance(value, bool):
        raise _bad_coordinate(value, limit)
    if isinstance(value, int | float):
        number = float(value)
    elif is_blank(value):
        raise _missing("la coordenada")
    elif isinstance(value, str):
        text = value.strip().replace(",", ".", 1) if value.count(",") == 1 else value.strip()
        try:  # float() reads what Decimal() reads, rounded the same way, without the detour
            number = float(text)
        except ValueError as exc:
            raise _bad_coordinate(value, limit) from exc
    else:
        raise _bad_coordinate(value, limit)
    if not -limit <= number <= limit:  # also false for NaN
        raise _bad_coordinate(value, limit)
    return number


def _bad_coordinate(value: object, limit: int) -> InvalidInput:
    return InvalidInput(
        f"no es una coordenada entre -{limit} y {limit}: {str(value)[:40]!r}",
        code="invalid_coordinate",
    )


def parse_text(value: object) -> str:
    """A text cell, stripped. Integral numbers lose the `.0` a spreadsheet gives them (a client
    code typed as 17 is `17`, not `17.0`)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def normalize_key(text: object) -> str:
    """Header and enum normalisation: case, accents and separators do not matter.

    `Código Cliente`, `CODIGO_CLIENTE` and `codigo-cliente` all become `codigo_cliente`.
    """
    return _normalize(str(text or ""))


@lru_cache(maxsize=4096)  # a column holds few distinct values (segments, headers)
def _normalize(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return "_".join(re.findall(r"[a-z0-9]+", plain))

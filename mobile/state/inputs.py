"""What a collector types, read strictly in the UI's language.

shared.parsing.parse_amount reads ERP files and guesses between `1.234,5` and `1,234.5`; a phone
must not guess: in Spanish (es-CO) `.` groups thousands and `,` starts the cents, in English the
reverse, so `1.500` is fifteen hundred pesos in Spanish and refused in English rather than read
as one and a half. Errors are message ids of mobile.state.i18n.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Final

from mobile.state.i18n import Lang
from shared.money import MAX_AMOUNT

_SEPARATORS: Final[dict[Lang, tuple[str, str]]] = {"es": (".", ","), "en": (",", ".")}
_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


class InputError(ValueError):
    """`key` is a message id; `values` fill its placeholders."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


def parse_amount_input(text: str, lang: Lang = "es") -> Decimal:
    """`$ 150.000` / `150000` / `150.000,50` (es) to Decimal("150000.00"); positive only."""
    thousands, decimal_mark = _SEPARATORS[lang]
    cleaned = re.sub(r"[\s$]", "", text or "")
    if not cleaned:
        raise InputError("error.required")
    pattern = (
        rf"(\d{{1,3}}(?:{re.escape(thousands)}\d{{3}})+|\d+)"
        rf"(?:{re.escape(decimal_mark)}(\d{{1,2}}))?"
    )
    match = re.fullmatch(pattern, cleaned)
    if match is None:
        raise InputError("error.amount")
    integer = match.group(1).replace(thousands, "")
    cents = (match.group(2) or "").ljust(2, "0")
    amount = Decimal(f"{integer}.{cents}")
    if amount <= 0:
        raise InputError("error.amount_positive")
    if amount > MAX_AMOUNT:
        raise InputError("error.amount_too_large")
    return amount


def parse_date_input(text: str) -> date:
    """`dd/mm/aaaa` (also with `-` or `.`), or ISO `aaaa-mm-dd`."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise InputError("error.required")
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", cleaned):
            return date.fromisoformat(cleaned)
        match = _DATE.fullmatch(cleaned)
        if match is None:
            raise InputError("error.date")
        day, month, year = (int(part) for part in match.groups())
        return date(year, month, day)
    except ValueError as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError("error.date") from exc

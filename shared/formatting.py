"""Display of money, dates and times in the user's locale, through Babel (CLDR data).

Rules of this file (domain.md, "Money"; measured with Babel 2.18):
- Amounts show no decimals when the cents are zero and exactly two otherwise:
  es-CO `$ 1.234.567` and `$ 1.234.567,50`; en `$1,234,567` and `$1,234,567.50`;
  negatives put the sign first: `-$ 1.234.567`.
- es-CO writes a space between `$` and the figure, as Colombian invoices and banks do. CLDR's es_CO
  pattern has none (Babel gives `$1.234.567,00`), so es_CO gets its own pattern here.
- Every no-break space Babel emits (U+00A0, U+202F, e.g. `1.234.567,00\xa0€` in es, `2:07\u202fPM`
  in en) becomes a plain space: users paste these strings into chats and spreadsheets, and tests
  compare them with what the spec shows.
- The symbol is the locale's own; where the locale has none for the currency (Babel shows `COP`
  in `en`) the symbol of the currency's home country is used (`$` for COP) if the locale names no
  other country, so an English UI in Colombia reads `$1,234,567` while en_US keeps `COP1,234,567`.
- Dates are `dd/mm/aaaa` in Spanish (`05/03/2026`); other languages use Babel's medium date.
"""

from __future__ import annotations

import re
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import Final

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_format_date
from babel.dates import format_time as babel_format_time
from babel.numbers import get_currency_symbol, parse_pattern

from shared.calendar import to_business_time
from shared.money import money

DEFAULT_LOCALE: Final = "es_CO"
DEFAULT_CURRENCY: Final = "COP"

# Locale -> currency pattern, where CLDR's differs from local practice.
_CURRENCY_PATTERNS: Final = {"es_CO": "¤ #,##0.00"}
# Language -> Babel (LDML) date pattern; other languages take Babel's "medium".
_DATE_PATTERNS: Final = {"es": "dd/MM/yyyy"}
_TIME_PATTERNS: Final = {"es": "HH:mm"}
_SPACES = re.compile("[\u00a0\u202f\u2007]")
_FRACTION = re.compile(r"\.0+")


def _plain(text: str) -> str:
    return _SPACES.sub(" ", text)


@lru_cache(maxsize=64)
def _locale(name: str) -> Locale:
    return Locale.parse(name.replace("-", "_"))


@lru_cache(maxsize=64)
def _patterns(locale: str) -> tuple[str, str]:
    """(pattern with two decimals, pattern with none) for a locale."""
    loc = _locale(locale)
    pattern = _CURRENCY_PATTERNS.get(str(loc))
    if pattern is None:
        pattern = loc.currency_formats["standard"].pattern
    return pattern, _FRACTION.sub("", pattern)


@lru_cache(maxsize=64)
def currency_symbol(currency: str = DEFAULT_CURRENCY, locale: str = DEFAULT_LOCALE) -> str:
    """The symbol shown for `currency` in `locale` (see the module rules for the fallback)."""
    code = currency.upper()
    symbol = get_currency_symbol(code, _locale(locale))
    if symbol != code:
        return symbol
    # National ISO 4217 codes start with the ISO 3166 country code (COP -> CO -> es_CO). The home
    # symbol is borrowed only where it cannot mislead: a locale with no country (`en`) or the
    # home country itself. EUR has no home country; the bare language (es_CO -> es) gives `€`.
    loc = _locale(locale)
    fallbacks = [loc.language]
    if loc.territory in (None, code[:2]):
        fallbacks.insert(0, f"und_{code[:2]}")
    for name in fallbacks:
        try:
            symbol = get_currency_symbol(code, Locale.parse(name))
        except (UnknownLocaleError, ValueError):
            continue
        if symbol != code:
            return symbol
    return code


def format_money(
    amount: Decimal | int | str,
    currency: str = DEFAULT_CURRENCY,
    locale: str = DEFAULT_LOCALE,
) -> str:
    """`$ 1.234.567` / `$ 1.234.567,50` in es-CO; `$1,234,567` in en. See the module rules."""
    value = money(amount)
    with_cents, whole = _patterns(locale)
    pattern = parse_pattern(with_cents if value != value.to_integral_value() else whole)
    loc = _locale(locale)
    text = pattern.apply(value, loc, currency=currency.upper(), currency_digits=False)
    symbol = get_currency_symbol(currency.upper(), loc)
    wanted = currency_symbol(currency, locale)
    if wanted != symbol:
        text = text.replace(symbol, wanted)
    return _plain(text)


def format_number(value: Decimal | int, locale: str = DEFAULT_LOCALE) -> str:
    """A plain count or quantity with the locale's grouping: `1.234` (es), `1,234` (en)."""
    loc = _locale(locale)
    pattern = parse_pattern(loc.decimal_formats[None].pattern)
    return _plain(pattern.apply(value, loc))


def format_date(day: date, locale: str = DEFAULT_LOCALE) -> str:
    """`05/03/2026` in Spanish; `Mar 5, 2026` in English."""
    loc = _locale(locale)
    pattern = _DATE_PATTERNS.get(loc.language, "medium")
    return _plain(babel_format_date(day, pattern, locale=loc))


def format_datetime(
    moment: datetime, tz: tzinfo | str | None = None, locale: str = DEFAULT_LOCALE
) -> str:
    """An instant on the business clock: `05/03/2026 14:07` (es), `Mar 5, 2026 2:07 PM` (en).
    Naive datetimes are refused (shared.calendar.require_aware)."""
    local = to_business_time(moment, tz)
    loc = _locale(locale)
    clock = _TIME_PATTERNS.get(loc.language, "short")
    time_text = babel_format_time(local, clock, tzinfo=local.tzinfo, locale=loc)
    return _plain(f"{format_date(local.date(), locale)} {time_text}")

"""Business calendar: the day and ISO week an instant belongs to (domain.md, "Business timezone
and weeks").

Rules of this file: every instant is a timezone-aware datetime (a naive one is refused, never
guessed); the business day of an instant is its date in the installation's business timezone
(default America/Bogota), and its week is the ISO week (Monday to Sunday) of that date. So a visit
at 23:30 Sunday in Bogotá (04:30 Monday UTC) belongs to that Sunday and to the week ending on it.
Week labels are ISO 8601 week dates, `YYYY-Www` (e.g. `2026-W01`, `2020-W53`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.errors import InvalidInput

DEFAULT_TIMEZONE: Final = "America/Bogota"
_WEEK_LABEL = re.compile(r"(\d{4})-W(\d{2})")


@lru_cache(maxsize=32)
def business_tz(name: str = DEFAULT_TIMEZONE) -> ZoneInfo:
    """The IANA zone called `name`; an unknown name is invalid input."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"zona horaria desconocida: {name!r}", code="invalid_timezone") from exc


def require_aware(moment: datetime, what: str = "datetime") -> datetime:
    """Return `moment` if it carries a UTC offset; a naive datetime cannot be placed in a day."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(
            f"{what} must be timezone-aware: {moment.isoformat()}",
            code="naive_datetime",
            details={"field": what},
        )
    return moment


def _tz(tz: tzinfo | str | None) -> tzinfo:
    if tz is None:
        return business_tz()
    return business_tz(tz) if isinstance(tz, str) else tz


def to_business_time(moment: datetime, tz: tzinfo | str | None = None) -> datetime:
    """`moment` seen on the business timezone's wall clock."""
    return require_aware(moment).astimezone(_tz(tz))


def business_date(moment: datetime, tz: tzinfo | str | None = None) -> date:
    """The business day an instant belongs to."""
    return to_business_time(moment, tz).date()


def day_start(day: date, tz: tzinfo | str | None = None) -> datetime:
    """Midnight that opens `day` in the business timezone (aware)."""
    return datetime.combine(day, time(0), tzinfo=_tz(tz))


def day_bounds(day: date, tz: tzinfo | str | None = None) -> tuple[datetime, datetime]:
    """Half-open `[start, end)` of a business day, for queries over stored UTC instants."""
    return day_start(day, tz), day_start(day + timedelta(days=1), tz)


@dataclass(frozen=True, order=True)
class IsoWeek:
    """An ISO week: `year` is the ISO week-numbering year, which differs from the calendar year
    near 1 January (2027-01-01 is in 2026-W53; 2024-12-30 is in 2025-W01)."""

    year: int
    week: int

    def __post_init__(self) -> None:
        if not 1 <= self.year <= 9999 or not 1 <= self.week <= weeks_in_year(self.year):
            raise InvalidInput(
                f"semana ISO inexistente: {self.year}-W{self.week:02d}", code="invalid_week"
            )

    @classmethod
    def of(cls, day: date) -> IsoWeek:
        """The week containing a calendar date."""
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    @classmethod
    def parse(cls, label: str) -> IsoWeek:
        """Read `YYYY-Www`; anything else (or a week the year does not have) is invalid input."""
        match = _WEEK_LABEL.fullmatch(label.strip())
        if match is None:
            raise InvalidInput(
                f"semana inválida {label!r}; se espera AAAA-Wss, p. ej. 2026-W05",
                code="invalid_week",
            )
        return cls(int(match[1]), int(match[2]))

    @property
    def label(self) -> str:
        return f"{self.year:04d}-W{self.week:02d}"

    def __str__(self) -> str:
        return self.label

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def sunday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 7)

    def days(self) -> list[date]:
        """Monday to Sunday."""
        return [self.monday + timedelta(days=i) for i in range(7)]

    def shift(self, weeks: int) -> IsoWeek:
        """The week `weeks` later (negative for earlier)."""
        return IsoWeek.of(self.monday + timedelta(weeks=weeks))

    def bounds(self, tz: tzinfo | str | None = None) -> tuple[datetime, datetime]:
        """Half-open `[Monday 00:00, next Monday 00:00)` in the business timezone."""
        return day_start(self.monday, tz), day_start(self.monday + timedelta(days=7), tz)


def weeks_in_year(year: int) -> int:
    """52 or 53: 28 December always falls in the last ISO week of its year."""
    return date(year, 12, 28).isocalendar().week


def week_of(moment: datetime, tz: tzinfo | str | None = None) -> IsoWeek:
    """The ISO week an instant belongs to, by its business date."""
    return IsoWeek.of(business_date(moment, tz))

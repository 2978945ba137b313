"""When, how and how often a debtor may be contacted (domain.md, "Contact rules").

Rules of this file: the rules are data, one TOML file per country in `shared/rules/` (`co.toml`:
Ley 2300 de 2023); this module only reads and applies them, so a country is added by adding a
file. Hours are read on the business timezone's wall clock; windows are half-open
`[start, end)`; a day with no windows (Sunday in Colombia) or a national holiday (from the
`holidays` package) allows no contact. Every check returns the reasons a contact breaks the rules,
each with a stable `code` and a Spanish message: the planner avoids them, the phone warns (never
blocks), the supervisor's reports list them. Reading the packaged file is the only I/O.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from importlib.resources import files
from itertools import pairwise
from typing import Any, Final

import holidays

from shared.calendar import business_date, business_tz, require_aware, to_business_time
from shared.errors import InvalidInput

WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WINDOW = re.compile(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})")
_SEARCH_DAYS: Final = 400  # next_allowed looks this far ahead before giving up

HOLIDAY: Final = "holiday"
CLOSED_DAY: Final = "closed_day"
OUTSIDE_HOURS: Final = "outside_hours"
UNKNOWN_CHANNEL: Final = "unknown_channel"
CHANNEL_NOT_AUTHORISED: Final = "channel_not_authorised"
DAILY_LIMIT: Final = "daily_limit_reached"


@dataclass(frozen=True)
class Window:
    """Local wall-clock hours, start included, end excluded."""

    start: time
    end: time


@dataclass(frozen=True)
class Violation:
    code: str
    message: str


@dataclass(frozen=True)
class ContactRules:
    country: str
    law: str
    timezone: str
    hours: tuple[tuple[Window, ...], ...]  # seven entries, Monday first
    holiday_country: str | None
    holiday_subdivision: str | None
    channels: frozenset[str]
    exempt_channels: frozenset[str]
    contacts_per_day: int | None


def _window(text: str, where: str) -> Window:
    match = _WINDOW.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{where}: window {text!r} is not HH:MM-HH:MM")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    try:
        window = Window(time(h1, m1), time(h2, m2))
    except ValueError as exc:
        raise ValueError(f"{where}: window {text!r} is not a time of day") from exc
    if window.end <= window.start:
        raise ValueError(f"{where}: window {text!r} ends before it starts")
    return window


def parse_rules(data: Mapping[str, Any], source: str = "<rules>") -> ContactRules:
    """Build rules from a parsed TOML document (the format of shared/rules/co.toml)."""
    try:
        hours_table = data.get("hours", {})
        unknown = set(hours_table) - set(WEEKDAYS)
        if unknown:
            raise ValueError(f"{source}: unknown weekdays {sorted(unknown)}")
        hours = tuple(
            tuple(
                sorted(
                    (_window(w, f"{source} [hours] {day}") for w in hours_table.get(day, [])),
                    key=lambda w: w.start,
                )
            )
            for day in WEEKDAYS
        )
        for day, windows in zip(WEEKDAYS, hours, strict=True):
            if any(a.end > b.start for a, b in pairwise(windows)):
                raise ValueError(f"{source}: overlapping windows on {day}")
        hol = data.get("holidays", {})
        channels = data.get("channels", {})
        limit = data.get("limits", {}).get("contacts_per_day")
        zone = str(data.get("timezone", "UTC"))
        business_tz(zone)  # fails early on an unknown zone
        closed_on_holidays = bool(hol.get("country")) and hol.get("no_contact", True)
        subdivision = str(hol.get("subdivision") or "") or None
        if closed_on_holidays:
            _holiday_calendar(str(hol["country"]), subdivision)  # fails early on a bad code
        return ContactRules(
            country=str(data["country"]).upper(),
            law=str(data.get("law", "")),
            timezone=zone,
            hours=hours,
            holiday_country=str(hol["country"]) if closed_on_holidays else None,
            holiday_subdivision=subdivision,
            channels=frozenset(channels.get("known", [])),
            exempt_channels=frozenset(channels.get("exempt", [])),
            contacts_per_day=None if limit is None else int(limit),
        )
    except (KeyError, TypeError, AttributeError, NotImplementedError, InvalidInput) as exc:
        raise ValueError(f"{source}: malformed contact rules ({exc!r})") from exc


def available_countries() -> list[str]:
    """ISO codes of the countries that ship a rules file."""
    folder = files("shared").joinpath("rules")
    return sorted(
        entry.name.removesuffix(".toml").upper()
        for entry in folder.iterdir()
        if entry.name.endswith(".toml")
    )


@lru_cache(maxsize=8)
def load_rules(country: str = "CO") -> ContactRules:
    """The packaged rules of a country (`shared/rules/<code>.toml`)."""
    name = f"{country.lower()}.toml"
    resource = files("shared").joinpath("rules").joinpath(name)
    if not resource.is_file():
        raise ValueError(f"no contact rules for country {country!r}; have {available_countries()}")
    return parse_rules(tomllib.loads(resource.read_text(encoding="utf-8")), name)


@lru_cache(maxsize=8)
def _holiday_calendar(country: str, subdivision: str | None) -> holidays.HolidayBase:
    return holidays.country_holidays(country, subdiv=subdivision, language="es")


def holiday_name(rules: ContactRules, day: date) -> str | None:
    """The name of the national holiday on `day` (Spanish where the package has it), or None."""
    if rules.holiday_country is None:
        return None
    name = _holiday_calendar(rules.holiday_country, rules.holiday_subdivision).get(day)
    return None if name is None else str(name)


def windows_for(rules: ContactRules, day: date) -> tuple[Window, ...]:
    """Wall-clock windows of a date: none on a holiday or a closed weekday."""
    if holiday_name(rules, day) is not None:
        return ()
    return rules.hours[day.weekday()]


def _tz(rules: ContactRules, tz: tzinfo | str | None) -> tzinfo:
    """The zone the hours are read in: the caller's (the installation's) or the rules' default."""
    zone = rules.timezone if tz is None else tz
    return business_tz(zone) if isinstance(zone, str) else zone


def allowed_windows(
    rules: ContactRules, day: date, tz: tzinfo | str | None = None
) -> list[tuple[datetime, datetime]]:
    """The aware `[start, end)` intervals of `day` when contact is allowed (for the planner)."""
    zone = _tz(rules, tz)
    return [
        (datetime.combine(day, w.start, tzinfo=zone), datetime.combine(day, w.end, tzinfo=zone))
        for w in windows_for(rules, day)
    ]


def time_violation(
    rules: ContactRules, at: datetime, tz: tzinfo | str | None = None
) -> Violation | None:
    """Why a contact at `at` is outside the allowed days and hours, or None if it is inside."""
    local = to_business_time(at, _tz(rules, tz))
    day = local.date()
    holiday = holiday_name(rules, day)
    if holiday is not None:
        return Violation(HOLIDAY, f"{day:%d/%m/%Y} es festivo ({holiday}): no se permite contactar")
    if not rules.hours[day.weekday()]:
        return Violation(CLOSED_DAY, f"no se permite contactar los {_day_name(day)}")
    for start, end in allowed_windows(rules, day, _tz(rules, tz)):
        if start <= local < end:
            return None
    hours = ", ".join(f"{w.start:%H:%M}-{w.end:%H:%M}" for w in rules.hours[day.weekday()])
    return Violation(OUTSIDE_HOURS, f"fuera del horario permitido ({hours}) a las {local:%H:%M}")


def is_contact_allowed(rules: ContactRules, at: datetime, tz: tzinfo | str | None = None) -> bool:
    return time_violation(rules, at, tz) is None


def next_allowed(rules: ContactRules, after: datetime, tz: tzinfo | str | None = None) -> datetime:
    """`after` itself if contact is allowed then, else the start of the next allowed window
    (in the business timezone)."""
    local = to_business_time(after, _tz(rules, tz))
    day = local.date()
    for offset in range(_SEARCH_DAYS):
        for start, end in allowed_windows(rules, day + timedelta(days=offset), _tz(rules, tz)):
            if local < end:
                return max(local, start)
    raise ValueError(f"{rules.country} rules allow no contact within {_SEARCH_DAYS} days")


def channel_violation(
    rules: ContactRules, channel: str, authorised: Collection[str]
) -> Violation | None:
    """A channel must be one the rules know and, unless exempt, one the debtor authorised."""
    if channel not in rules.channels:
        return Violation(UNKNOWN_CHANNEL, f"canal desconocido: {channel!r}")
    if channel not in rules.exempt_channels and channel not in authorised:
        return Violation(CHANNEL_NOT_AUTHORISED, f"el deudor no autorizó el canal {channel!r}")
    return None


def daily_limit_violation(
    rules: ContactRules,
    at: datetime,
    earlier_contacts: Iterable[datetime],
    tz: tzinfo | str | None = None,
) -> Violation | None:
    """Whether a contact at `at` would exceed the per-day limit, given the debtor's other contacts
    (pass the others only, not the one being checked)."""
    if rules.contacts_per_day is None:
        return None
    zone = _tz(rules, tz)
    day = business_date(at, zone)
    same_day = sum(1 for c in earlier_contacts if business_date(require_aware(c), zone) == day)
    if same_day < rules.contacts_per_day:
        return None
    return Violation(
        DAILY_LIMIT,
        f"ya hubo {same_day} contacto(s) con este deudor el {day:%d/%m/%Y}; "
        f"el máximo es {rules.contacts_per_day} por día",
    )


def check_contact(
    rules: ContactRules,
    at: datetime,
    *,
    channel: str,
    authorised: Collection[str],
    earlier_contacts: Iterable[datetime] = (),
    tz: tzinfo | str | None = None,
) -> list[Violation]:
    """Every rule a contact breaks (empty when it is allowed): hours, channel, daily limit."""
    found = (
        time_violation(rules, at, tz),
        channel_violation(rules, channel, authorised),
        daily_limit_violation(rules, at, earlier_contacts, tz),
    )
    return [v for v in found if v is not None]


_DAY_NAMES: Final = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábados", "domingos")


def _day_name(day: date) -> str:
    return _DAY_NAMES[day.weekday()]

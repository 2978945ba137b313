"""Jinja2 templates of the supervisor's pages and the es-CO formats they print with."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from server.services.access import Actor
from server.settings import Settings
from server.web.cookies import SESSION_COOKIE, csrf_token
from shared import formatting

TEMPLATES = Jinja2Templates(directory=Path(__file__).with_name("templates"))

_WEEKDAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
_MONTHS = (
    "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
    "octubre", "noviembre", "diciembre",
)  # fmt: skip


@dataclass(frozen=True)
class Formats:
    """What a template prints with: money, numbers, dates and times on the business clock."""

    currency: str
    locale: str
    tz: tzinfo

    def money(self, amount: Decimal | int | str | None) -> str:
        return "" if amount is None else formatting.format_money(amount, self.currency, self.locale)

    def number(self, value: int | Decimal | None) -> str:
        return "" if value is None else formatting.format_number(value, self.locale)

    def date(self, day: dt.date | None) -> str:
        return "" if day is None else formatting.format_date(day, self.locale)

    def datetime(self, moment: dt.datetime | None) -> str:
        return "" if moment is None else formatting.format_datetime(moment, self.tz, self.locale)

    def time(self, moment: dt.datetime | None) -> str:
        return "" if moment is None else moment.astimezone(self.tz).strftime("%H:%M")

    def long_date(self, day: dt.date) -> str:
        """`sábado 21 de noviembre de 2026`: how a person names a working day."""
        return f"{_WEEKDAYS[day.weekday()]} {day.day} de {_MONTHS[day.month - 1]} de {day.year}"

    def short_day(self, day: dt.date) -> str:
        return f"{_WEEKDAYS[day.weekday()][:3]} {day.day:02d}/{day.month:02d}"

    def pct(self, value: Decimal | None, places: int = 1) -> str:
        """A percentage already computed: `13,3 %`; a dash when there is none."""
        if value is None:
            return "–"
        return f"{formatting.format_number(round(value, places), self.locale)} %"

    def percent(self, part: int, whole: int) -> str:
        return "–" if whole == 0 else f"{round(100 * part / whole)} %"

    def meters(self, value: float | None) -> str:
        if value is None:
            return "–"
        if value >= 1000:
            return f"{value / 1000:.1f} km".replace(".", ",")
        return f"{round(value)} m"


def formats(settings: Settings) -> Formats:
    return Formats(settings.currency, settings.locale, settings.tz)


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    actor: Actor | None = None,
    status_code: int = 200,
) -> Response:
    settings: Settings = request.app.state.settings
    token = request.cookies.get(SESSION_COOKIE, "")
    base = {
        "actor": actor,
        "fmt": formats(settings),
        "csrf": csrf_token(token, settings.signing_key) if actor and token else "",
        "path": request.url.path,
    }
    return TEMPLATES.TemplateResponse(
        request, name, {**base, **(context or {})}, status_code=status_code
    )

"""A collector's day: the map (planned route, visits in order, outcomes, flags, payments) and the
table of planned against done below it."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from server.repositories import field_activity
from server.services.collector_day import collector_day
from server.web import labels
from server.web.assets import LEAFLET_CSS, LEAFLET_JS, leaflet_installed
from server.web.day_map import day_map
from server.web.deps import ClockDep, PageActor, SessionDep, SettingsDep
from server.web.routing import PageRoute
from server.web.templating import formats, render
from shared.calendar import IsoWeek, business_date

router = APIRouter(prefix="/supervisor", route_class=PageRoute, include_in_schema=False)


def day_url(username: str, day: date) -> str:
    return f"/supervisor/collectors/{username}/days/{day.isoformat()}"


@router.get("/collectors/{username}/days/{day}")
def day_page(
    request: Request,
    username: str,
    day: date,
    actor: PageActor,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> Response:
    data = collector_day(session, username, day, settings.tz)
    today = business_date(clock(), settings.tz)
    others = [u.username for u in field_activity.collectors(session)]
    session.commit()
    return render(
        request,
        "day.html",
        {
            "data": data,
            "labels": labels,
            "map_url": f"{day_url(username, day)}/map",
            "previous": day_url(username, day - timedelta(days=1)),
            "next": day_url(username, day + timedelta(days=1)) if day < today else None,
            "collectors": others,
            "leaflet_missing": not leaflet_installed(),
            "week_days": [d for d in IsoWeek.of(day).days() if d <= today or d == day],
        },
        actor=actor,
    )


@router.get("/collectors/{username}/days/{day}/map", response_class=HTMLResponse)
def day_map_document(
    username: str, day: date, actor: PageActor, session: SessionDep, settings: SettingsDep
) -> Response:
    data = collector_day(session, username, day, settings.tz)
    session.commit()
    html = day_map(
        data,
        formats(settings),
        leaflet_js=LEAFLET_JS,
        leaflet_css=LEAFLET_CSS,
        tile_url=settings.tile_url,
    )
    return HTMLResponse(html)

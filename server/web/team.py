"""The team's week: per collector, the week's visits, effective contacts, verified visits,
clients visited, money collected and promises, a chart, and each day linked to the day's map."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from starlette.responses import Response

from server.services import kpis
from server.services.team_week import team_week
from server.web.charts import Series, bar_chart
from server.web.deps import ClockDep, PageActor, SessionDep, SettingsDep
from server.web.routing import PageRoute
from server.web.templating import render
from shared.calendar import IsoWeek, business_date
from shared.contact_rules import holiday_name, load_rules

router = APIRouter(prefix="/supervisor", route_class=PageRoute, include_in_schema=False)


def default_week(settings: SettingsDep, clock: ClockDep) -> IsoWeek:
    """The week of yesterday: on Monday morning the week that just closed, later the current."""
    return IsoWeek.of(business_date(clock(), settings.tz) - timedelta(days=1))


@router.get("/")
def week_page(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    week: str | None = None,
) -> Response:
    chosen = IsoWeek.parse(week) if week else default_week(settings, clock)
    data = team_week(session, chosen, settings.tz, settings.timezone)
    names = [r.counts.full_name or r.counts.collector for r in data.rows]
    chart = bar_chart(
        names,
        [
            Series("Visitas", "#9aa5b1", tuple(r.counts.visits for r in data.rows)),
            Series(
                "Contactos efectivos",
                "#0f8a8a",
                tuple(r.counts.effective_contacts for r in data.rows),
            ),
            Series("Verificadas", "#1f5fbf", tuple(r.counts.verified_visits for r in data.rows)),
        ],
        title=f"Visitas de la semana {chosen.label} por gestor",
    )
    now = clock()
    today = business_date(now, settings.tz)
    # The week's KPIs (recovery, promises judged) up to today; none for a week not begun.
    indicators = None
    if chosen.monday <= today:
        indicators = kpis.kpi_report(
            session,
            actor,
            start=chosen.monday,
            end=min(chosen.sunday, today),
            now=now,
            tz=settings.tz,
            timezone=settings.timezone,
        )
    session.commit()
    return render(
        request,
        "week.html",
        {
            "data": data,
            "week": chosen,
            "chart": chart,
            "previous": chosen.shift(-1),
            "next": chosen.shift(1) if chosen.shift(1).monday <= today else None,
            "today": today,
            "kpis": indicators,
            # A select of recent weeks in Spanish (a browser's week input speaks its own language).
            "weeks": sorted(
                {IsoWeek.of(today).shift(-n) for n in range(12)} | {chosen}, reverse=True
            ),
            # No collection visits on national holidays (Ley 2300): say why a day is empty.
            "holidays": {d: holiday_name(load_rules("CO"), d) for d in chosen.days()},
        },
        actor=actor,
    )

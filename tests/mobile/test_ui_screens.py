"""Every screen built from a real state (no browser): it renders without error, its buttons are
at least 48 px high, its texts are at least 12 px, and the words the collector needs are there."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import flet as ft
import flet_map as ftm
import pytest
from sqlalchemy.orm import Session, sessionmaker

from mobile.adapters.location import NoLocation
from mobile.state.app import AppState, Screen
from mobile.ui.app import builders
from mobile.ui.shell import Ctx, build_view
from shared.geo import Point
from tests.mobile.conftest import MORNING
from tests.mobile.test_state_app import FakeEnroller
from tests.mobile.test_state_clients import add_client

BUTTONS = (ft.FilledButton, ft.OutlinedButton, ft.Button)


class FakePage:
    """What the builders touch on a page besides rendering: background tasks and dialogs."""

    def __init__(self) -> None:
        self.tasks: list[Callable[..., Any]] = []

    def run_task(self, handler: Callable[..., Any], *args: Any) -> None:
        self.tasks.append(handler)


def walk(control: Any) -> Iterator[ft.BaseControl]:
    if isinstance(control, ft.BaseControl):
        yield control
        for item in dataclasses.fields(control):
            if item.name.startswith("_") or item.name in ("parent", "page"):
                continue
            value = getattr(control, item.name, None)
            values = value if isinstance(value, list) else [value]
            for child in values:
                if isinstance(child, ft.BaseControl):
                    yield from walk(child)


async def _nothing(*_: Any) -> None:
    return None


async def _not_shared(*_: Any) -> bool:
    return False


@pytest.fixture
def app(db: sessionmaker[Session]) -> AppState:
    def clock() -> datetime:
        return MORNING

    state = AppState(db=db, clock=clock, enroller=FakeEnroller())
    state.start()
    state.open_client(
        add_client(db, "Tienda Mía", "100000", overdue_days=(40,), lat=4.6, lon=-74.1)
    )
    state.reload()
    return state


def screen_of(
    app: AppState,
    screen: Screen,
    share_file: Callable[[str, bytes, str], Awaitable[bool]] | None = None,
) -> tuple[ft.View, FakePage]:
    page = FakePage()
    ctx = Ctx(
        page=page,  # type: ignore[arg-type]
        state=app,
        location=NoLocation(),
        share_text=_nothing,
        share_pdf=_not_shared,
        open_url=_nothing,
        share_file=share_file,
    )
    app.screen = screen
    return build_view(ctx, builders("http://srv")[screen](ctx)), page


def prepare(app: AppState, screen: Screen) -> None:
    if screen in ("confirm", "receipt"):
        app.start_payment()
        app.payment.amount = "25.000"
        assert app.review_payment()
        if screen == "receipt":
            assert app.confirm_payment()


SCREENS: tuple[Screen, ...] = (
    "setup", "today", "map", "client", "visit", "promise",
    "payment", "confirm", "receipt", "sync", "week",
)  # fmt: skip


@pytest.mark.parametrize("screen", SCREENS)
def test_every_screen_builds_with_large_targets_and_readable_text(
    app: AppState, screen: Screen
) -> None:
    prepare(app, screen)
    view, _ = screen_of(app, screen)
    controls = list(walk(view))
    buttons = [c for c in controls if isinstance(c, BUTTONS)]
    assert buttons or screen in ("week", "map"), f"{screen} has no button"
    assert all((b.height or 0) >= 48 for b in buttons), screen
    for icon_button in (c for c in controls if isinstance(c, ft.IconButton)):
        assert (icon_button.width or 0) >= 48 and (icon_button.height or 0) >= 48
    sizes = [c.size for c in controls if isinstance(c, ft.Text) and c.size is not None]
    assert sizes and min(sizes) >= 12, screen


def _texts(view: ft.View) -> str:
    return "\n".join(str(c.value) for c in walk(view) if isinstance(c, ft.Text))


def test_screens_show_what_the_collector_needs(app: AppState) -> None:
    today, _ = screen_of(app, "today")
    assert "Tienda Mía" in _texts(today) and "Saldo $ 100.000" in _texts(today)
    client, _ = screen_of(app, "client")
    assert "31-60 días" in _texts(client)

    prepare(app, "confirm")
    confirm, _ = screen_of(app, "confirm")
    assert "$ 25.000" in _texts(confirm) and "Veinticinco mil pesos" in _texts(confirm)
    app.confirm_payment()
    receipt, _ = screen_of(app, "receipt")
    assert "Recibo N.º K7Q-000001" in _texts(receipt)
    sync, _ = screen_of(app, "sync")
    assert "Pendientes 1 · Retenidos 0 · En conflicto 0" in _texts(sync)
    week, _ = screen_of(app, "week")
    # 10.000 of the 25.000 on the 40-day-old invoice at 2 %; the other 15.000 is credit.
    assert "Comisión estimada\n$ 200\n" in _texts(week)


def test_map_pins_every_located_stop_with_a_48_px_target(app: AppState) -> None:
    view, _ = screen_of(app, "map")
    markers = [c for c in walk(view) if isinstance(c, ftm.Marker)]
    assert len(markers) == 1
    assert markers[0].width == 48 and markers[0].height == 48
    assert "Paradas en el orden de Hoy: 1 · Sin ubicación: 0" in _texts(view)


def test_visit_screen_starts_one_gps_wait(app: AppState) -> None:
    app.start_visit()
    _, page = screen_of(app, "visit")
    assert len(page.tasks) == 1
    app.set_lang("en")
    english, _ = screen_of(app, "visit")
    assert "Getting GPS…" in _texts(english)


def test_hoy_and_mapa_after_planning_the_route(app: AppState) -> None:
    """Before: the action and one line on it; after: numbered stops with their arrival, the
    stops left out with the reason in Spanish, and the map in planned order with its line."""
    before, _ = screen_of(app, "today")
    assert "Planear ruta" in _labels(before) and "Ordene las paradas de hoy" in _texts(before)
    add_client(app.db, "Sin Mapa", "300000", overdue_days=(100,))
    app.route_start = Point(4.61, -74.09)
    app.reload()
    assert app.plan_route()
    after, _ = screen_of(app, "today")
    texts = _texts(after)
    assert "Re-planear desde aquí" in _labels(after)
    assert "Ruta de hoy: 1 parada ·" in texts and "1 fuera de la ruta" in texts
    assert "Llegada ~10:" in texts  # MORNING is 10:21 in Bogotá; the shop is about 2 km away
    assert "Fuera de la ruta: sin ubicación en el mapa" in texts
    view, _ = screen_of(app, "map")
    assert "Ruta planeada: 1 parada en orden · Sin ubicación: 0" in _texts(view)
    lines = [c for c in walk(view) if isinstance(c, ftm.PolylineMarker)]
    assert len(lines) == 1 and len(lines[0].coordinates) == 2  # the plan's start, then the stop
    sync, _ = screen_of(app, "sync")
    assert "Ruta del día" in _texts(sync)


def _labels(view: ft.View) -> str:
    return "\n".join(
        str(c.content) for c in walk(view) if isinstance(c, BUTTONS) and isinstance(c.content, str)
    )


def test_a_revoked_phone_with_unsent_records_offers_the_export_that_wipes(
    app: AppState, tmp_path: Path
) -> None:
    prepare(app, "receipt")  # one payment, pending
    app.export_dir = tmp_path / "exportados"
    app.revoked = True
    shared: list[tuple[str, bytes, str]] = []

    async def share_file(name: str, data: bytes, mime_type: str) -> bool:
        shared.append((name, data, mime_type))
        return True

    sync, _ = screen_of(app, "sync", share_file)
    (button,) = [c for c in walk(sync) if isinstance(c, ft.FilledButton)]
    assert button.content == "Exportar pendientes"
    assert "Sincronizar ahora" not in _texts(sync)

    tap: Any = button.on_click
    asyncio.run(tap(None))

    assert app.screen == "setup" and app.info is None
    (exported,) = (tmp_path / "exportados").iterdir()
    assert exported.name.startswith("recaudo-pendientes-K7Q-")
    assert shared == [(exported.name, exported.read_bytes(), "application/json")]

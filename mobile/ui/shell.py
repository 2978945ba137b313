"""The frame around every screen (app bar with back, offline badge and pending count; bottom
navigation on the top-level screens) and the re-render on every state change."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import flet as ft

from mobile.adapters.location import LocationSource
from mobile.state.app import AppState, Screen
from mobile.state.i18n import Texts
from mobile.ui import theme as th
from mobile.ui.widgets import tagged, text

GPS_WAIT_S = 6.0
PLAN_GPS_WAIT_S = 3.0
TOP_LEVEL: tuple[Screen, ...] = ("today", "map", "sync", "week")


@dataclass
class Body:
    title: str
    controls: list[ft.Control]
    back: bool = True


@dataclass
class Ctx:
    """What a screen builder gets: the state, its words, and the device ports."""

    page: ft.Page
    state: AppState
    location: LocationSource
    share_text: Callable[[str], Awaitable[None]]
    share_pdf: Callable[[str, bytes], Awaitable[bool]]  # (file name, bytes) -> shared?
    open_url: Callable[[str], Awaitable[None]]
    # (file name, bytes, MIME type) -> shared? A revoked phone's export goes through it: the
    # file itself sits in app-private storage the collector cannot open.
    share_file: Callable[[str, bytes, str], Awaitable[bool]] | None = None
    tile_url: str = ""  # map tiles ({z}/{x}/{y}); empty: no tiles, the map still draws
    gps_form: object | None = None  # the visit form a GPS wait was started for
    nav: ft.NavigationBar | None = None  # kept across redraws (see navigation())
    view: ft.View | None = None  # the one View, updated in place on every redraw
    typing: bool = False  # a field of the current screen has the focus (no full redraws then)

    @property
    def t(self) -> Texts:
        return self.state.t

    async def capture_fix(self, shown: Callable[[], None]) -> None:
        """Wait a few seconds for a good fix, keep the best, then `shown()` updates the screen
        in place; the form works meanwhile."""
        form = self.state.visit
        fix = await self.location.best_fix(GPS_WAIT_S)
        form.gps_done = True
        if fix is not None:
            self.state.set_position(fix)
        if self.state.screen == "visit" and self.state.visit is form:
            shown()

    async def locate(self) -> None:
        """Where the collector is, for the distances on Hoy (never blocks the screen)."""
        fix = await self.location.best_fix(GPS_WAIT_S)
        if fix is not None:
            self.state.set_position(fix)

    async def plan_route(self) -> None:
        """Plan from where the collector is now: a fresh fix if one comes within a few seconds
        (else the last one, else the configured start), then the planner off the event loop."""
        if self.state.planning:  # a second tap while the first one plans
            return
        self.state.planning = True  # the button turns into a progress line at once
        self.state.notify()
        fix = await self.location.best_fix(PLAN_GPS_WAIT_S)
        self.state.planning = False
        if fix is not None:
            self.state.set_position(fix)
        await asyncio.to_thread(self.state.plan_route)

    async def run_sync(self) -> None:
        # The HTTP round trips run off the event loop so the screen keeps answering.
        await asyncio.to_thread(self.state.sync)


def status_badges(ctx: Ctx) -> list[ft.Control]:
    state, t = ctx.state, ctx.t
    offline = state.online is False
    badges: list[ft.Control] = []
    if offline:
        badges.append(
            tagged(
                "offline",
                ft.Container(
                    content=text(t("today.offline"), size=th.SMALL, bold=True, color=th.SURFACE),
                    bgcolor=th.DANGER,
                    border_radius=12,
                    padding=ft.Padding.symmetric(horizontal=8, vertical=4),
                ),
            )
        )
    badges.append(
        tagged(
            "pending",
            ft.Container(
                content=text(
                    t("today.pending", n=state.pending), size=th.SMALL, bold=True, color=th.INK
                ),
                bgcolor=th.WARN_BG if state.pending else th.ACCENT_SOFT,
                border_radius=12,
                padding=ft.Padding.symmetric(horizontal=8, vertical=4),
                on_click=lambda _: state.go("sync"),
            ),
        )
    )
    return [ft.Row(controls=badges, spacing=6), ft.Container(width=8)]


NAV_ICONS = (ft.Icons.TODAY, ft.Icons.MAP, ft.Icons.SYNC, ft.Icons.INSIGHTS)
NAV_LABELS = ("nav.today", "nav.map", "nav.sync", "nav.week")


def navigation(ctx: Ctx) -> ft.NavigationBar:
    """One bar for the whole session, updated in place: a tap on it while the screen redraws
    (a GPS fix, a sync finishing) still lands on a control that exists."""
    t, state = ctx.t, ctx.state
    if ctx.nav is None:

        def on_change(e: ft.Event[ft.NavigationBar]) -> None:
            state.go(TOP_LEVEL[int(e.control.selected_index)])

        ctx.nav = ft.NavigationBar(
            on_change=on_change,
            bgcolor=th.ACCENT_SOFT,
            destinations=[ft.NavigationBarDestination(icon=icon) for icon in NAV_ICONS],
        )
    ctx.nav.selected_index = TOP_LEVEL.index(state.screen)
    for destination, key in zip(ctx.nav.destinations, NAV_LABELS, strict=True):
        destination.label = t(key)
    return ctx.nav


def build_view(ctx: Ctx, body: Body) -> ft.View:
    state = ctx.state
    top = state.screen in TOP_LEVEL
    registered = state.screen != "setup"
    controls: list[ft.BaseControl] = list(body.controls)
    if state.message:
        controls.insert(
            0,
            tagged(
                "message",
                ft.Container(
                    content=text(state.message, bold=True, color=th.SURFACE),
                    bgcolor=th.DANGER if state.message_is_error else th.OK,
                    border_radius=8,
                    padding=12,
                ),
            ),
        )
    return ft.View(
        route="/",
        bgcolor=th.SURFACE,
        padding=ft.Padding.symmetric(horizontal=12, vertical=8),
        scroll=ft.ScrollMode.AUTO,
        spacing=12,
        horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
        appbar=ft.AppBar(
            title=ft.Text(body.title, size=th.TITLE, weight=ft.FontWeight.BOLD, color=th.SURFACE),
            bgcolor=th.ACCENT,
            color=th.SURFACE,
            automatically_imply_leading=False,
            leading=(
                ft.Semantics(
                    label=ctx.t("nav.back"),
                    identifier="back",
                    button=True,
                    content=ft.IconButton(
                        icon=ft.Icons.ARROW_BACK,
                        icon_color=th.SURFACE,
                        on_click=lambda _: state.back(),
                        width=48,
                        height=48,
                    ),
                )
                if body.back and not top and registered
                else None
            ),
            actions=status_badges(ctx) if registered else [],
        ),
        navigation_bar=navigation(ctx) if top else None,
        controls=controls,
    )

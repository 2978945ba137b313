"""Mount the app on a Flet page: one View, rebuilt from the state after every change."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial

import flet as ft

from mobile.state.app import Screen
from mobile.ui import theme as th
from mobile.ui.screens import cash, client, collections, forms, mapa, setup, sync, today, week
from mobile.ui.shell import Body, Ctx, build_view, status_badges

SYNC_SCREENS: tuple[Screen, ...] = ("today", "sync", "week", "cash")


def builders(default_server: str) -> dict[Screen, Callable[[Ctx], Body]]:
    return {
        "setup": partial(setup.build, default_server=default_server),
        "today": today.build,
        "map": mapa.build,
        "client": client.build,
        "visit": forms.visit,
        "promise": forms.promise,
        "payment": forms.payment,
        "confirm": forms.confirm,
        "receipt": forms.receipt,
        "sync": sync.build,
        "week": week.build,
        "agreement": collections.agreement,
        "dispute": collections.dispute,
        "cash": cash.build,
        "handover": cash.handover,
    }


def on_loop(page: ft.Page, draw: Callable[[], None]) -> Callable[[], None]:
    """`draw` on the page's event loop, whichever thread asks: a sync (a tap's, in a worker
    thread, or the background one) must not rebuild the view while a tap is rebuilding it."""

    async def later() -> None:
        draw()

    def call() -> None:
        connection = page.session.connection
        if connection is None:  # the session ended (a closed tab): nothing to draw on
            return
        try:
            here = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        if here is connection.loop:
            draw()
        else:
            page.run_task(later)

    return call


def mount(ctx: Ctx, *, default_server: str = "") -> None:
    page, state = ctx.page, ctx.state
    screens = builders(default_server)
    page.title = ctx.t("app.title")
    page.theme = th.theme()
    page.theme_mode = ft.ThemeMode.LIGHT
    page.bgcolor = th.SURFACE

    def render() -> None:
        ctx.typing = False  # every field is built anew: none has the focus
        fresh = build_view(ctx, screens[state.screen](ctx))
        view = ctx.view
        if view is None or not page.views or page.views[-1] is not view:
            page.views.clear()
            page.views.append(fresh)
            ctx.view = fresh
        else:  # same View: Flet sends only what changed, and the bar keeps its identity
            view.appbar = fresh.appbar
            view.navigation_bar = fresh.navigation_bar
            view.controls = fresh.controls
        page.update()

    def render_status() -> None:
        """After a background sync: the whole screen where nothing is being typed and the screen
        shows sync state, else only the badges (a redraw would take a field's focus, or reset
        the map's pan and zoom)."""
        view = ctx.view
        if view is None or (state.screen in SYNC_SCREENS and not ctx.typing):
            render()
            return
        if isinstance(view.appbar, ft.AppBar) and state.screen != "setup":
            view.appbar.actions = status_badges(ctx)
            page.update()

    state.on_change = on_loop(page, render)
    state.on_status = on_loop(page, render_status)
    state.start()
    page.run_task(ctx.locate)

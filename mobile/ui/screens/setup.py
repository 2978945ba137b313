"""First run: server address, login, device registration, then the first sync."""

from __future__ import annotations

import asyncio
from typing import Any

import flet as ft

from mobile.ui import theme as th
from mobile.ui.screens.week import language_switch
from mobile.ui.shell import Body, Ctx
from mobile.ui.widgets import field, heading, notice, primary, text


def build(ctx: Ctx, default_server: str = "") -> Body:
    state, t = ctx.state, ctx.t
    values = {
        "server": state.setup_server or default_server,
        "username": state.setup_username,
        "password": "",
    }

    def keep(name: str) -> Any:
        def handler(e: ft.Event[ft.TextField]) -> None:
            values[name] = e.control.value or ""

        return handler

    async def submit(_: Any) -> None:
        # Off the event loop: logging in and registering are HTTP round trips.
        await asyncio.to_thread(
            state.setup, values["server"], values["username"], values["password"]
        )

    controls: list[ft.Control] = [
        heading(t("setup.title")),
        text(t("setup.intro"), color=th.MUTED),
        language_switch(ctx),
        field(t("setup.server"), values["server"], keep("server"), hint="http://…"),
        field(t("setup.username"), values["username"], keep("username")),
        field(t("setup.password"), "", keep("password"), password=True),
    ]
    if state.setup_error:
        controls.append(notice(state.setup_error, danger=True))
    if state.busy:
        controls += [text(t("setup.working")), ft.ProgressBar(color=th.ACCENT)]
    else:
        controls.append(ft.Row(controls=[primary(t("setup.submit"), submit)]))
    return Body(t("app.title"), controls, back=False)

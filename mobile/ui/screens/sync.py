"""Sincronización: last success, counts by state, the rows not yet acknowledged, sync button."""

from __future__ import annotations

from typing import Any

import flet as ft

from mobile.ui import theme as th
from mobile.ui.shell import Body, Ctx
from mobile.ui.widgets import card, primary, row, tagged, text

STATE_COLORS = {"pending": th.WARN_INK, "held": th.ACCENT, "conflict": th.DANGER}


def build(ctx: Ctx) -> Body:
    state, t = ctx.state, ctx.t
    overview = state.sync_view()
    last = state.info.last_sync_at if state.info else None

    async def sync(_: Any) -> None:
        await ctx.run_sync()

    async def export(_: Any) -> None:
        """A revoked phone: export the unsent events, it wipes, then the file goes to the share
        sheet (kept in exportados/ either way)."""
        path = state.export_path()
        if state.export_and_wipe(path) is not None and ctx.share_file is not None:
            await ctx.share_file(path.name, path.read_bytes(), "application/json")

    controls: list[ft.Control] = [
        text(
            t("sync.last", when=t.datetime(last, state.tz)) if last else t("sync.never"), bold=True
        ),
        tagged(
            "sync-counts",
            text(
                t(
                    "sync.counts",
                    pending=overview.pending,
                    held=overview.held,
                    conflict=overview.conflict,
                )
            ),
        ),
    ]
    auto = state.auto_status()
    if auto:
        controls.append(tagged("auto-sync", text(auto, size=th.SMALL, color=th.MUTED)))
    if state.busy:
        controls += [
            tagged("sync-progress", text(state.sync_status())),
            ft.ProgressBar(color=th.ACCENT),
        ]
    elif state.revoked:
        controls.append(row(primary(t("revoked.export_button"), export, icon=ft.Icons.SAVE_ALT)))
    else:
        controls.append(row(primary(t("sync.button"), sync, icon=ft.Icons.SYNC)))
    if not overview.rows:
        controls.append(text(t("sync.nothing"), color=th.MUTED))
    for item in overview.rows:
        amount = f" · {t.money(item.amount)}" if item.amount is not None else ""
        lines: list[ft.Control] = [
            ft.Row(
                controls=[
                    text(f"{t(f'type.{item.type}')}{amount}", bold=True),
                    text(
                        t(f"state.{item.state}"),
                        bold=True,
                        color=STATE_COLORS.get(item.state, th.INK),
                    ),
                ],
                alignment=ft.MainAxisAlignment.SPACE_BETWEEN,
            ),
            text(
                f"{item.client_name} · {t.datetime(item.at, state.tz)}",
                size=th.SMALL,
                color=th.MUTED,
            ),
        ]
        if item.reason:
            lines.append(text(item.reason, size=th.SMALL))
        controls.append(card(*lines))
    return Body(t("sync.title"), controls)

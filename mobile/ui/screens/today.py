"""Hoy: the day's stops in priority order, search and filters, sync on demand."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import flet as ft

from mobile.state.clients import ClientRow, filter_rows, segments
from mobile.state.i18n import Texts
from mobile.ui import theme as th
from mobile.ui.shell import Body, Ctx
from mobile.ui.widgets import card, primary, secondary, tagged, text
from shared.aging import CURRENT, bucket_names

ALL = "*"


def _chosen(value: str | None) -> str | None:
    return None if value in (None, "", ALL) else value


def distance_text(t: Texts, metres: float | None) -> str:
    if metres is None:
        return ""
    if metres < 1000:
        return t("row.distance_m", n=round(metres))
    return t("row.distance_km", n=t.km(metres))


def stop_badge(number: int) -> ft.Control:
    return ft.Container(
        content=text(str(number), size=th.SMALL, bold=True, color=th.SURFACE),
        bgcolor=th.ACCENT,
        width=28,
        height=28,
        shape=ft.BoxShape.CIRCLE,
        alignment=ft.Alignment.CENTER,
    )


def route_line(ctx: Ctx, row: ClientRow) -> ft.Control | None:
    """Where the row stands in today's route: expected arrival, visited, or why left out."""
    t = ctx.t
    if row.visited_today:
        return text(t("route.visited"), size=th.SMALL, bold=True, color=th.OK)
    if row.eta is not None:
        return text(t("route.eta", time=t.clock(row.eta, ctx.state.tz)), size=th.SMALL, bold=True)
    if row.skip_reason is not None:
        reason = t(f"reason.{row.skip_reason}")
        return text(t("route.out", reason=reason), size=th.SMALL, bold=True, color=th.WARN_INK)
    return None


def client_card(ctx: Ctx, row: ClientRow) -> ft.Control:
    t = ctx.t
    bucket_color = th.DANGER if row.oldest_bucket != CURRENT else th.OK
    name = ft.Text(row.name, size=th.BODY + 1, weight=ft.FontWeight.BOLD, color=th.INK, expand=True)
    top = ft.Row(
        controls=[
            *([stop_badge(row.stop_no)] if row.stop_no is not None else []),
            name,
            text(distance_text(t, row.distance_m), size=th.SMALL, color=th.MUTED),
        ]
    )
    lines: list[ft.Control] = [top]
    flags = [t("row.legal")] if row.legal else []
    flags += [t("row.broken")] if row.agreement_broken else []
    if flags:
        lines.append(  # right under the name: what changes how the client is handled
            ft.Row(
                controls=[
                    ft.Container(
                        content=text(label, size=th.SMALL, bold=True, color=th.SURFACE),
                        bgcolor=th.DANGER,
                        border_radius=10,
                        padding=ft.Padding.symmetric(horizontal=8, vertical=2),
                    )
                    for label in flags
                ],
                wrap=True,
            )
        )
    where = route_line(ctx, row)
    if where is not None:
        lines.append(where)
    if row.address:
        lines.append(text(row.address, size=th.SMALL, color=th.MUTED))
    lines.append(
        ft.Row(
            controls=[
                text(t("row.balance", amount=t.money(row.balance)), bold=True),
                ft.Container(
                    content=text(
                        t(f"bucket.{row.oldest_bucket}"), size=th.SMALL, bold=True, color=th.SURFACE
                    ),
                    bgcolor=bucket_color,
                    border_radius=10,
                    padding=ft.Padding.symmetric(horizontal=8, vertical=2),
                ),
            ],
            alignment=ft.MainAxisAlignment.SPACE_BETWEEN,
        )
    )
    if row.promise_due_today is not None:
        lines.append(
            text(
                t("row.promise_today", amount=t.money(row.promise_due_today)),
                bold=True,
                color=th.WARN_INK,
            )
        )
    if row.last_outcome:
        lines.append(
            text(
                t("row.last", outcome=t(f"outcome.{row.last_outcome}")),
                size=th.SMALL,
                color=th.MUTED,
            )
        )
    return tagged(
        f"client-{row.code}",
        ft.Container(
            content=ft.Column(controls=lines, spacing=4),
            bgcolor=th.CARD,
            border=ft.Border.all(1, th.LINE),
            border_radius=8,
            padding=12,
            on_click=lambda _: ctx.state.open_client(row.id),
        ),
    )


def route_card(ctx: Ctx) -> ft.Control:
    """Today's route in one line, and the action that plans it from here."""
    state, t = ctx.state, ctx.t
    plan = state.route

    async def plan_it(_: Any) -> None:
        await ctx.plan_route()

    if plan is None:
        summary = t("route.none")
    elif plan.order:
        last = max(plan.arrivals.values(), default=None)
        last = last + timedelta(minutes=state.service_minutes) if last else None
        summary = t(
            "route.summary",
            stops=t.stops(len(plan.order)),
            km=t.km(plan.distance_m or 0.0),
            end=t.clock(last, state.tz) if last else "",
        )
    else:
        summary = t("route.empty")
    lines: list[ft.Control] = [tagged("route-summary", text(summary, bold=plan is not None))]
    if plan is not None and plan.skipped:
        lines.append(
            text(t("route.left_out", n=len(plan.skipped)), size=th.SMALL, color=th.WARN_INK)
        )
    if state.planning:
        lines += [tagged("route-progress", text(t("route.planning"))), ft.ProgressBar()]
    else:
        label = t("route.replan") if plan is not None else t("route.plan")
        icon = ft.Icons.MY_LOCATION if plan is not None else ft.Icons.ROUTE
        lines.append(ft.Row(controls=[primary(label, plan_it, icon=icon)]))
    return card(*lines)


def build(ctx: Ctx) -> Body:
    state, t = ctx.state, ctx.t
    listing = ft.Column(spacing=8)
    count = text("", size=th.SMALL, color=th.MUTED)

    def fill() -> None:
        rows = filter_rows(state.rows, state.filter)
        count.value = t("today.count", shown=len(rows), total=len(state.rows))
        empty = t("setup.first_sync") if state.busy and not state.rows else t("today.empty")
        listing.controls = [client_card(ctx, row) for row in rows] or [text(empty, color=th.MUTED)]

    def refilter(**changes: Any) -> None:
        # Only the list changes: the search field keeps its focus while typing.
        state.filter = replace(state.filter, **changes)
        fill()

    segment_options = [ft.DropdownOption(key=ALL, text=t("filter.all_segments"))] + [
        ft.DropdownOption(key=s, text=s) for s in segments(state.rows)
    ]
    bucket_options = [ft.DropdownOption(key=ALL, text=t("filter.all_buckets"))] + [
        ft.DropdownOption(key=b, text=t(f"bucket.{b}")) for b in bucket_names()
    ]
    search = ft.TextField(
        label=t("today.search"),
        value=state.filter.query,
        prefix_icon=ft.Icons.SEARCH,
        on_change=lambda e: refilter(query=e.control.value or ""),
        text_size=th.BODY,
        border_color=th.MUTED,
        border_width=2,
        expand=True,
        on_focus=lambda _: setattr(ctx, "typing", True),
        on_blur=lambda _: setattr(ctx, "typing", False),
    )
    filters = ft.Row(
        controls=[
            ft.Dropdown(
                label=t("filter.segment"),
                value=state.filter.segment or ALL,
                options=segment_options,
                on_select=lambda e: refilter(segment=_chosen(e.control.value)),
                expand=True,
                text_size=th.SMALL,
            ),
            ft.Dropdown(
                label=t("filter.bucket"),
                value=state.filter.bucket or ALL,
                options=bucket_options,
                on_select=lambda e: refilter(bucket=_chosen(e.control.value)),
                expand=True,
                text_size=th.SMALL,
            ),
        ],
        spacing=8,
    )
    toggles = ft.Row(
        controls=[
            ft.Checkbox(
                label=t("filter.promise_due"),
                value=state.filter.promise_due,
                on_change=lambda e: refilter(promise_due=bool(e.control.value)),
            ),
            ft.Checkbox(
                label=t("filter.not_visited"),
                value=state.filter.not_visited,
                on_change=lambda e: refilter(not_visited=bool(e.control.value)),
            ),
        ],
        wrap=True,
    )
    fill()

    async def sync(_: Any) -> None:
        await ctx.run_sync()

    controls: list[ft.Control] = [route_card(ctx)]
    if state.busy:
        controls += [
            tagged("sync-progress", text(state.sync_status())),
            ft.ProgressBar(color=th.ACCENT),
        ]
    else:
        controls.append(ft.Row(controls=[secondary(t("sync.button"), sync, icon=ft.Icons.SYNC)]))
    controls += [ft.Row(controls=[search]), filters, toggles, count, listing]
    return Body(t("today.title"), controls)

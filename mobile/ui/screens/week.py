"""Mi semana: the collector's own counts for the current ISO week."""

from __future__ import annotations

import flet as ft

from mobile.ui import theme as th
from mobile.ui.screens import cash
from mobile.ui.shell import Body, Ctx
from mobile.ui.widgets import card, tagged, text
from shared.commissions import WeekCommission


def _tile(label: str, value: str, identifier: str) -> ft.Control:
    tile = tagged(
        identifier,
        ft.Container(
            content=ft.Column(
                controls=[
                    text(label, size=th.SMALL, color=th.MUTED),
                    ft.Text(value, size=th.AMOUNT - 4, weight=ft.FontWeight.BOLD, color=th.INK),
                ],
                spacing=2,
            ),
            bgcolor=th.CARD,
            border=ft.Border.all(1, th.LINE),
            border_radius=8,
            padding=12,
        ),
    )
    tile.col = {"xs": 6}  # two per row on a phone: the ResponsiveRow reads its direct child
    return tile


def language_switch(ctx: Ctx) -> ft.Control:
    state = ctx.state

    def chosen(e: ft.Event[ft.SegmentedButton]) -> None:
        state.set_lang("en" if "en" in e.control.selected else "es")

    return ft.Column(
        controls=[
            text(ctx.t("setup.language"), bold=True),
            ft.SegmentedButton(
                segments=[
                    ft.Segment(value="es", label="Español"),
                    ft.Segment(value="en", label="English"),
                ],
                selected=[state.lang],
                on_change=chosen,
            ),
        ],
        spacing=6,
    )


def _unbroken(value: str) -> str:
    """Keep "$ 100.000" on one line when the sentence wraps."""
    return value.replace(" ", "\u00a0")


def _figure(label: str, value: str) -> ft.Control:
    return ft.Row(
        controls=[text(label, color=th.MUTED), text(value)],
        alignment=ft.MainAxisAlignment.SPACE_BETWEEN,
    )


def _commission(ctx: Ctx, estimate: WeekCommission) -> ft.Control:
    t = ctx.t
    missing = estimate.bonus_target - estimate.effective_contacts
    bonus = _unbroken(t.money(estimate.bonus_amount))
    note = t("week.bonus_missing", missing=missing, amount=bonus)
    pending = estimate.bonus_target > 0 and missing > 0
    bonus_note = [text(note, size=th.SMALL, color=th.MUTED)] if pending else []
    return card(
        text(t("week.commission"), size=th.SMALL, color=th.MUTED),
        tagged(
            "week-commission",
            ft.Text(
                t.money(estimate.total), size=th.AMOUNT, weight=ft.FontWeight.BOLD, color=th.INK
            ),
        ),
        _figure(t("week.commission_lines"), t.money(estimate.lines_total)),
        _figure(t("week.bonus"), t.money(estimate.bonus)),
        *bonus_note,
        text(t("week.rules", version=estimate.version), size=th.SMALL, color=th.MUTED),
    )


def build(ctx: Ctx) -> Body:
    state, t = ctx.state, ctx.t
    week = state.week()
    controls: list[ft.Control] = [
        text(
            t(
                "week.range",
                label=week.week.label,
                start=t.date(week.week.monday),
                end=t.date(week.week.sunday),
            ),
            bold=True,
        ),
        ft.ResponsiveRow(
            controls=[
                _tile(t("week.visits"), str(week.visits), "week-visits"),
                _tile(t("week.effective"), str(week.effective_contacts), "week-effective"),
                _tile(t("week.clients"), str(week.clients_visited), "week-clients"),
                _tile(t("week.promises"), str(week.promises), "week-promises"),
            ],
            spacing=8,
            run_spacing=8,
        ),
        card(
            text(t("week.collected"), size=th.SMALL, color=th.MUTED),
            tagged(
                "week-collected",
                ft.Text(
                    t.money(week.collected), size=th.AMOUNT, weight=ft.FontWeight.BOLD, color=th.INK
                ),
            ),
            text(f"{t('week.payments')}: {week.payments}", color=th.MUTED),
        ),
        cash.week_card(ctx),
        _commission(ctx, week.commission),
        text(t("week.note"), size=th.SMALL, color=th.MUTED),
        language_switch(ctx),
    ]
    return Body(t("week.title"), controls)

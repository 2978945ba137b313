"""Efectivo en mano: the cash payments recorded on this phone not handed over yet (total, the
oldest's age), Entregar efectivo (bank deposit with its reference, or at the office), and the
handovers with the supervisor's decision. Reached from Mi semana."""

from __future__ import annotations

from typing import Any

import flet as ft

from mobile.services.cash import Handover
from mobile.state.collections import CashView
from mobile.state.i18n import Texts
from mobile.ui import theme as th
from mobile.ui.screens.collections import _error_line, error_text
from mobile.ui.screens.forms import _choices, _setter
from mobile.ui.shell import Body, Ctx
from mobile.ui.widgets import card, field, primary, row, secondary, tagged, text
from shared.money import ZERO

OLD_CASH_DAYS = 1  # cash held longer than this shows in red


def count_text(t: Texts, n: int) -> str:
    return t("cash.count_one") if n == 1 else t("cash.count", n=n)


def age_text(t: Texts, days: int) -> str:
    if days <= 0:
        return t("cash.age_today")
    return t("cash.age_one") if days == 1 else t("cash.age_days", n=days)


def summary(ctx: Ctx, view: CashView) -> list[ft.Control]:
    """The total, the count and the oldest payment's age: on Mi semana and Efectivo en mano."""
    t, tz = ctx.t, ctx.state.tz
    lines: list[ft.Control] = [
        text(t("cash.total"), size=th.SMALL, color=th.MUTED),
        tagged(
            "cash-total",
            ft.Text(t.money(view.total), size=th.AMOUNT, weight=ft.FontWeight.BOLD, color=th.INK),
        ),
    ]
    oldest = view.oldest
    if oldest is None or view.oldest_days is None:
        lines.append(text(t("cash.none"), color=th.MUTED))
        return lines
    lines.append(text(count_text(t, len(view.lines)), color=th.MUTED))
    age = t("cash.oldest", age=age_text(t, view.oldest_days), date=t.datetime(oldest.at, tz))
    old = view.oldest_days > OLD_CASH_DAYS
    lines.append(
        tagged("cash-oldest", text(age, bold=True, color=th.DANGER if old else th.WARN_INK))
    )
    return lines


def week_card(ctx: Ctx) -> ft.Control:
    view = ctx.state.cash()
    return card(
        text(ctx.t("cash.title"), bold=True),
        *summary(ctx, view),
        row(secondary(ctx.t("cash.open"), lambda _: ctx.state.go("cash"), icon=ft.Icons.PAYMENTS)),
    )


def _decision(t: Texts, item: Handover) -> tuple[str, str]:
    if item.decision == "confirmed":
        return t("decision.confirmed"), th.OK
    if item.decision == "rejected":
        return t("decision.rejected", note=item.note or "-"), th.DANGER
    if item.state == "pending":
        return t("decision.pending"), th.WARN_INK
    if item.state == "held":
        return t("decision.held", reason=t.hold(item.reason) if item.reason else "-"), th.DANGER
    if item.state == "conflict":
        return t("decision.conflict"), th.DANGER
    return t("decision.sent"), th.ACCENT


def handover_card(ctx: Ctx, item: Handover, index: int) -> ft.Control:
    t = ctx.t
    status, color = _decision(t, item)
    lines: list[ft.Control] = [
        text(
            t(
                "cash.handover_line",
                method=t(f"handover.{item.method}"),
                amount=t.money(item.amount),
                date=t.date(item.deposited_on),
            ),
            bold=True,
        ),
        text(count_text(t, item.payments), size=th.SMALL, color=th.MUTED),
    ]
    if item.bank_reference:
        lines.append(
            text(t("cash.reference", reference=item.bank_reference), size=th.SMALL, color=th.MUTED)
        )
    lines.append(tagged(f"handover-{index}", text(status, bold=True, color=color)))
    return card(*lines)


def build(ctx: Ctx) -> Body:
    state, t = ctx.state, ctx.t
    view = state.cash()
    controls: list[ft.Control] = [card(*summary(ctx, view))]
    if view.lines:
        controls.append(
            row(primary(t("cash.handover"), lambda _: state.start_handover(), icon=ft.Icons.OUTBOX))
        )
        items: list[ft.Control] = []
        for line in view.lines:
            items.append(
                ft.Row(
                    controls=[
                        ft.Column(
                            controls=[
                                text(f"{line.receipt_no} · {line.client_name}"),
                                text(t.datetime(line.at, state.tz), size=th.SMALL, color=th.MUTED),
                            ],
                            spacing=0,
                            expand=True,
                        ),
                        text(t.money(line.amount), bold=True),
                    ]
                )
            )
        controls.append(tagged("cash-lines", card(*items)))
    if view.handovers:
        controls.append(text(t("cash.handovers"), bold=True))
        controls += [handover_card(ctx, item, n) for n, item in enumerate(view.handovers)]
    return Body(t("cash.title"), controls)


def handover(ctx: Ctx) -> Body:
    state, t = ctx.state, ctx.t
    form = state.handover
    view = state.cash()
    amounts = {line.event_id: line.amount for line in view.lines}

    def total() -> str:
        chosen = sum((amounts[i] for i in form.selected if i in amounts), ZERO)
        return t("handover.sum", amount=t.money(chosen))

    total_line = ft.Text(total(), size=th.TITLE, weight=ft.FontWeight.BOLD, color=th.INK)

    def choose(e: ft.Event[ft.RadioGroup]) -> None:
        form.method = e.control.value or ""

    def toggle(event_id: str) -> Any:
        def handler(e: ft.Event[ft.Checkbox]) -> None:
            if e.control.value and event_id not in form.selected:
                form.selected.append(event_id)
            elif not e.control.value and event_id in form.selected:
                form.selected.remove(event_id)
            total_line.value = total()  # in place, like a typed amount
            ctx.page.update()

        return handler

    methods = [(m, t(f"handover.{m}")) for m in ("bank_deposit", "office")]
    controls: list[ft.Control] = [
        tagged("handover-sum", total_line),
        text(t("handover.method"), bold=True),
        _choices(methods, form.method, choose),
        *_error_line(t, form.errors, "method"),
        field(
            t("handover.reference"),
            form.reference,
            _setter(form, "reference"),
            error=error_text(t, form.errors, "reference"),
        ),
        field(
            t("handover.date"),
            form.day,
            _setter(form, "day"),
            hint="dd/mm/aaaa",
            error=error_text(t, form.errors, "day"),
        ),
        text(t("handover.payments"), bold=True),
        *[
            ft.Row(
                controls=[
                    ft.Checkbox(
                        label=line.receipt_no,
                        label_style=ft.TextStyle(size=th.BODY),
                        value=line.event_id in form.selected,
                        on_change=toggle(line.event_id),
                    ),
                    # The client's name wraps under a long name instead of being cut.
                    ft.Text(line.client_name, size=th.SMALL, color=th.MUTED, expand=True),
                    text(t.money(line.amount), bold=True),
                ],
                spacing=8,
            )
            for line in view.lines
        ],
        *_error_line(t, form.errors, "payments"),
        row(primary(t("handover.save"), lambda _: state.save_handover(), icon=ft.Icons.SAVE)),
    ]
    return Body(t("handover.title"), controls)

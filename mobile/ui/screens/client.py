"""Cliente: visible balance, invoices with aging, promises, last visits, channels, today's
payments (voidable the same day), and the three field actions."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import flet as ft

from mobile.state.clients import ClientDetail, PaymentLine
from mobile.ui import theme as th
from mobile.ui.screens import collections
from mobile.ui.shell import Body, Ctx
from mobile.ui.widgets import card, heading, primary, row, secondary, tagged, text


def _digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit() or ch == "+")


def contact_buttons(ctx: Ctx, detail: ClientDetail) -> list[ft.Control]:
    t, record = ctx.t, detail.record
    buttons: list[ft.Control] = []

    def opener(url: str) -> Any:
        async def handler(_: Any) -> None:
            await ctx.open_url(url)

        return handler

    if record.phones:
        phone = _digits(record.phones[0])
        wa = phone.lstrip("+") if phone.startswith("+") else f"57{phone}"
        buttons.append(
            secondary(t("client.call"), opener(f"tel:{phone}"), icon=ft.Icons.CALL, compact=True)
        )
        buttons.append(
            secondary(
                t("client.whatsapp"),
                opener(f"https://wa.me/{wa}"),
                icon=ft.Icons.CHAT,
                compact=True,
            )
        )
    if detail.location is not None:
        where = f"{detail.location.lat},{detail.location.lon}"
        url = f"https://www.google.com/maps/dir/?api=1&destination={quote(where)}"
        buttons.append(
            secondary(t("client.navigate"), opener(url), icon=ft.Icons.DIRECTIONS, compact=True)
        )
    return [row(*buttons)] if buttons else []


def void_dialog(ctx: Ctx, payment: PaymentLine) -> None:
    t, state, page = ctx.t, ctx.state, ctx.page
    reason = ft.TextField(label=t("void.reason"), autofocus=True, border_color=th.MUTED)

    def confirm(_: Any) -> None:
        page.pop_dialog()
        state.void(payment.event_id, reason.value or "")

    page.show_dialog(
        ft.AlertDialog(
            modal=True,
            title=ft.Text(t("void.title")),
            content=ft.Column(
                controls=[text(f"{payment.receipt_no} · {t.money(payment.amount)}"), reason],
                tight=True,
            ),
            actions=[
                ft.TextButton(
                    content=t("void.cancel"), height=48, on_click=lambda _: page.pop_dialog()
                ),
                ft.FilledButton(
                    content=t("void.save"), height=48, bgcolor=th.DANGER, on_click=confirm
                ),
            ],
        )
    )


def build(ctx: Ctx) -> Body:
    state, t = ctx.state, ctx.t
    detail = state.detail()
    if detail is None:
        return Body(t("nav.today"), [text(t("today.empty"))])
    record = detail.record
    balance = [
        text(t("client.balance"), size=th.SMALL, color=th.MUTED),
        tagged(
            "balance",
            ft.Text(
                t.money(record.balance), size=th.AMOUNT, weight=ft.FontWeight.BOLD, color=th.INK
            ),
        ),
    ]
    if detail.unreflected_payments:
        balance.append(
            text(
                t("client.pending_note", n=detail.unreflected_payments),
                size=th.SMALL,
                color=th.WARN_INK,
            )
        )
    controls: list[ft.Control] = [
        heading(record.name),
        text(f"{record.code} · {record.address}".strip(" ·"), color=th.MUTED),
        *collections.alerts(ctx, detail),
        card(*balance),
        row(primary(t("client.payment"), lambda _: state.start_payment(), icon=ft.Icons.PAYMENTS)),
        row(
            secondary(t("client.visit"), lambda _: state.start_visit(), icon=ft.Icons.PLACE),
            secondary(t("client.promise"), lambda _: state.start_promise(), icon=ft.Icons.EVENT),
        ),
        collections.actions(ctx),
        *contact_buttons(ctx, detail),
    ]
    if detail.payments_today:
        lines: list[ft.Control] = [text(t("client.payments_today"), bold=True)]
        for payment in detail.payments_today:
            method = t(f"method.{payment.method}")
            label = f"{payment.receipt_no} · {t.money(payment.amount)} · {method}"
            if payment.voided:
                lines.append(text(f"{label} · {t('client.voided')}", color=th.DANGER))
            else:
                lines.append(
                    ft.Row(
                        controls=[
                            ft.Text(label, size=th.BODY, color=th.INK, expand=True),
                            ft.TextButton(
                                content=t("client.void"),
                                height=48,
                                on_click=lambda _, p=payment: void_dialog(ctx, p),
                            ),
                        ]
                    )
                )
        controls.append(card(*lines))

    invoices: list[ft.Control] = [text(t("client.invoices"), bold=True)]
    for inv in detail.invoices:
        invoices.append(
            ft.Row(
                controls=[
                    ft.Column(
                        controls=[
                            text(t("client.invoice", number=inv.number)),
                            text(
                                t("client.due", date=t.date(inv.due_date)),
                                size=th.SMALL,
                                color=th.MUTED,
                            ),
                            *(
                                [
                                    text(
                                        t("client.disputed", amount=t.money(inv.disputed)),
                                        size=th.SMALL,
                                        bold=True,
                                        color=th.WARN_INK,
                                    )
                                ]
                                if inv.disputed
                                else []
                            ),
                        ],
                        spacing=0,
                        expand=True,
                    ),
                    ft.Column(
                        controls=[
                            text(t.money(inv.balance), bold=True),
                            text(
                                t(f"bucket.{inv.bucket}"),
                                size=th.SMALL,
                                color=th.DANGER if inv.bucket != "al_dia" else th.OK,
                            ),
                        ],
                        spacing=0,
                        horizontal_alignment=ft.CrossAxisAlignment.END,
                    ),
                ]
            )
        )
    if not detail.invoices:
        invoices.append(text(t("client.no_invoices"), color=th.MUTED))
    controls += collections.cards(ctx, detail)
    controls.append(card(*invoices))

    promises: list[ft.Control] = [text(t("client.promises"), bold=True)]
    promises += [
        text(t("client.promise_line", amount=t.money(p.amount), date=t.date(p.due_date)))
        for p in detail.promises[:5]
    ] or [text(t("client.no_promises"), color=th.MUTED)]
    controls.append(card(*promises))

    visits: list[ft.Control] = [text(t("client.visits"), bold=True)]
    visits += [
        text(
            f"{t.datetime(v.at, state.tz) if v.at else t.date(v.day)} · {t(f'outcome.{v.outcome}')}"
        )
        for v in detail.visits[:5]
    ] or [text(t("client.no_visits"), color=th.MUTED)]
    controls.append(card(*visits))

    channels = ", ".join(record.channels) if record.channels else t("client.no_channels")
    controls.append(card(text(t("client.channels"), bold=True), text(channels)))
    return Body(t("client.title"), controls)

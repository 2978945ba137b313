"""Issue 7 on the client's screen: the cobro jurídico banner, the broken-agreement badge, the
agreements with each installment and the open disputes; and the two forms, Proponer acuerdo and
Registrar glosa."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import flet as ft

from mobile.state.clients import ClientDetail
from mobile.state.collections import AgreementView, DisputeView
from mobile.state.forms import Errors
from mobile.state.i18n import Texts
from mobile.state.inputs import InputError, parse_amount_input
from mobile.ui import theme as th
from mobile.ui.screens.forms import _choices, _setter
from mobile.ui.shell import Body, Ctx
from mobile.ui.widgets import card, field, heading, primary, row, secondary, tagged, text
from sync.protocol import DISPUTE_REASONS

STANDING_COLORS = {"broken": th.DANGER, "on_track": th.OK, "completed": th.OK}
INSTALLMENT_COLORS = {"paid": th.OK, "partial": th.WARN_INK, "late": th.DANGER, "missed": th.DANGER}


def error_text(t: Texts, errors: Errors, name: str) -> str | None:
    """A field's message, its dates and amounts in the UI's formats."""
    if name not in errors:
        return None
    key, values = errors[name]

    def shown(value: object) -> object:
        if isinstance(value, Decimal):  # "$ 1.234" kept on one line when the message wraps
            return t.money(value).replace(" ", "\u00a0")
        return t.date(value) if isinstance(value, date) else value

    return t(key, **{k: shown(v) for k, v in values.items()})


def _error_line(t: Texts, errors: Errors, name: str) -> list[ft.Control]:
    message = error_text(t, errors, name)
    return [text(message, color=th.DANGER, bold=True)] if message else []


def banner(value: str, identifier: str, icon: ft.IconData) -> ft.Control:
    """White on the danger red (7.9:1): seen at a glance in the sun."""
    return tagged(
        identifier,
        ft.Container(
            content=ft.Row(
                controls=[
                    ft.Icon(icon, color=th.SURFACE, size=24),
                    ft.Text(
                        value,
                        size=th.BODY,
                        weight=ft.FontWeight.BOLD,
                        color=th.SURFACE,
                        expand=True,
                    ),
                ],
                spacing=8,
            ),
            bgcolor=th.DANGER,
            border_radius=8,
            padding=12,
        ),
    )


def alerts(ctx: Ctx, detail: ClientDetail) -> list[ft.Control]:
    t = ctx.t
    shown: list[ft.Control] = []
    if detail.record.legal:
        shown.append(banner(t("client.legal"), "legal", ft.Icons.GAVEL))
    if detail.agreement_broken:
        shown.append(banner(t("client.broken"), "agreement-broken", ft.Icons.WARNING))
    return shown


def actions(ctx: Ctx) -> ft.Control:
    state, t = ctx.state, ctx.t
    # Compact (14 px, less padding) like Llamar/WhatsApp: both labels fit one line at 360 px.
    return row(
        secondary(
            t("client.agreement"),
            lambda _: state.start_agreement(),
            icon=ft.Icons.HANDSHAKE,
            compact=True,
        ),
        secondary(
            t("client.dispute"), lambda _: state.start_dispute(), icon=ft.Icons.RULE, compact=True
        ),
    )


def _chip(value: str, color: str) -> ft.Control:
    return ft.Container(
        content=text(value, size=th.SMALL, bold=True, color=th.SURFACE),
        bgcolor=color,
        border_radius=10,
        padding=ft.Padding.symmetric(horizontal=8, vertical=2),
    )


def _agreement(t: Texts, item: AgreementView) -> list[ft.Control]:
    standing = t(f"standing.{item.standing}")
    lines: list[ft.Control] = [
        ft.Row(
            controls=[
                text(
                    t("agreement.line", total=t.money(item.total), n=len(item.installments)),
                    bold=True,
                ),
                _chip(standing, STANDING_COLORS.get(item.standing, th.WARN_INK)),
            ],
            alignment=ft.MainAxisAlignment.SPACE_BETWEEN,
            wrap=True,
        )
    ]
    if item.local_state is not None:
        state_line = t(f"local.{item.local_state}")
        if item.reason:
            state_line = f"{state_line}: {t.hold(item.reason)}"
        lines.append(text(state_line, size=th.SMALL, bold=True, color=th.WARN_INK))
    else:
        lines.append(
            text(
                t("agreement.paid", paid=t.money(item.paid), total=t.money(item.total)),
                size=th.SMALL,
                color=th.MUTED,
            )
        )
    for inst in item.installments:
        status = t(f"installment.{inst.status}")
        if inst.status == "partial":
            status += f" ({t('agreement.installment_paid', paid=t.money(inst.paid))})"
        lines.append(
            ft.Row(
                controls=[
                    text(
                        t(
                            "agreement.installment",
                            n=inst.number,
                            date=t.date(inst.due_date),
                            amount=t.money(inst.amount),
                        ),
                        size=th.SMALL,
                    ),
                    text(
                        status,
                        size=th.SMALL,
                        bold=True,
                        color=INSTALLMENT_COLORS.get(inst.status, th.MUTED),
                    ),
                ],
                alignment=ft.MainAxisAlignment.SPACE_BETWEEN,
                wrap=True,
            )
        )
    return lines


def _dispute(t: Texts, item: DisputeView) -> list[ft.Control]:
    lines: list[ft.Control] = [
        text(
            t(
                "dispute.line",
                kind=t(f"kind.{item.kind}"),
                number=item.invoice_number,
                amount=t.money(item.amount),
            ),
            bold=True,
        ),
        text(t(f"reason_code.{item.reason_code}"), size=th.SMALL, color=th.MUTED),
    ]
    if item.local_state is not None:
        state_line = t(f"local.{item.local_state}")
        if item.reason:
            state_line = f"{state_line}: {t.hold(item.reason)}"
        lines.append(text(state_line, size=th.SMALL, bold=True, color=th.WARN_INK))
    return lines


def cards(ctx: Ctx, detail: ClientDetail) -> list[ft.Control]:
    """The agreements and the open disputes, when there are any."""
    t = ctx.t
    shown: list[ft.Control] = []
    if detail.agreements:
        lines: list[ft.Control] = [text(t("client.agreements"), bold=True)]
        for n, item in enumerate(detail.agreements):
            if n:
                lines.append(ft.Divider(height=8, color=th.LINE))
            lines += _agreement(t, item)
        shown.append(tagged("agreements", card(*lines)))
    if detail.disputes:
        lines = [text(t("client.disputes"), bold=True)]
        for n, dispute in enumerate(detail.disputes):
            if n:
                lines.append(ft.Divider(height=8, color=th.LINE))
            lines += _dispute(t, dispute)
        shown.append(tagged("disputes", card(*lines)))
    return shown


# --- Proponer acuerdo -------------------------------------------------------------------------


def _sum_line(ctx: Ctx) -> str:
    state, t = ctx.state, ctx.t
    form = state.agreement
    typed = form.typed_sum(state.lang)
    try:
        total = t.money(parse_amount_input(form.total, state.lang))
    except InputError:
        total = form.total or "?"
    return t("agreement.sum", sum=t.money(typed) if typed is not None else "?", total=total)


def agreement(ctx: Ctx) -> Body:
    state, t = ctx.state, ctx.t
    form = state.agreement
    record = state.record()
    total_line = text(_sum_line(ctx), bold=True)

    def choose(e: ft.Event[ft.RadioGroup]) -> None:
        form.frequency = e.control.value or ""

    def amount_changed(index: int) -> Any:
        def handler(e: ft.Event[ft.TextField]) -> None:
            form.rows[index].amount = e.control.value or ""
            total_line.value = _sum_line(ctx)  # in place: a redraw would lose the typing
            ctx.page.update()

        return handler

    def due_changed(index: int) -> Any:
        def handler(e: ft.Event[ft.TextField]) -> None:
            form.rows[index].due = e.control.value or ""

        return handler

    controls: list[ft.Control] = []
    if record is not None:
        controls += [
            heading(record.name),
            text(f"{t('client.balance')}: {t.money(record.balance)}", bold=True),
        ]
    controls += [
        field(
            t("agreement.total"),
            form.total,
            _setter(form, "total"),
            numeric=True,
            error=error_text(t, form.errors, "total"),
        ),
        field(
            t("agreement.count"),
            form.count,
            _setter(form, "count"),
            numeric=True,
            hint="3",
            error=error_text(t, form.errors, "count"),
        ),
        field(
            t("agreement.first"),
            form.first,
            _setter(form, "first"),
            hint="dd/mm/aaaa",
            error=error_text(t, form.errors, "first"),
        ),
        text(t("agreement.frequency"), bold=True),
        _choices(
            [(f, t(f"frequency.{f}")) for f in ("weekly", "biweekly", "monthly")],
            form.frequency,
            choose,
        ),
        *_error_line(t, form.errors, "frequency"),
        row(
            secondary(
                t("agreement.generate"), lambda _: state.build_schedule(), icon=ft.Icons.CALCULATE
            )
        ),
    ]
    if form.rows:
        controls.append(text(t("agreement.schedule"), bold=True))
        for n, item in enumerate(form.rows):
            due = field(
                t("agreement.due", n=n + 1),
                item.due,
                due_changed(n),
                error=error_text(t, form.errors, f"due.{n}"),
            )
            amount = field(
                t("agreement.amount", n=n + 1),
                item.amount,
                amount_changed(n),
                numeric=True,
                error=error_text(t, form.errors, f"amount.{n}"),
            )
            due.expand, amount.expand = 1, 1
            controls.append(
                ft.Row(
                    controls=[due, amount],
                    spacing=8,
                    vertical_alignment=ft.CrossAxisAlignment.START,
                )
            )
        controls.append(tagged("agreement-sum", total_line))
    controls += _error_line(t, form.errors, "schedule")
    controls += [
        field(
            t("agreement.notes"),
            form.notes,
            _setter(form, "notes"),
            multiline=True,
            error=error_text(t, form.errors, "notes"),
        ),
        row(primary(t("agreement.save"), lambda _: state.save_agreement(), icon=ft.Icons.SEND)),
    ]
    return Body(t("agreement.title"), controls)


# --- Registrar glosa ----------------------------------------------------------------------------


def dispute(ctx: Ctx) -> Body:
    state, t = ctx.state, ctx.t
    form = state.dispute
    detail = state.detail()
    limits = state.dispute_limits()

    def chosen(name: str) -> Any:
        def handler(e: ft.Event[ft.RadioGroup]) -> None:
            setattr(form, name, e.control.value or "")

        return handler

    invoices: list[tuple[str, str]] = []
    if detail is not None:
        for inv in detail.invoices:
            if inv.number not in limits:
                continue
            label = t("dispute.invoice_line", number=inv.number, balance=t.money(inv.balance))
            if inv.disputed:
                label += f" · {t('client.disputed', amount=t.money(inv.disputed))}"
            invoices.append((inv.number, label))
    controls: list[ft.Control] = []
    if detail is not None:
        controls.append(heading(detail.record.name))
    controls += [
        text(t("dispute.invoice"), bold=True),
        _choices(invoices, form.invoice, chosen("invoice"))
        if invoices
        else text(t("client.no_invoices"), color=th.MUTED),
        *_error_line(t, form.errors, "invoice"),
        field(
            t("dispute.amount"),
            form.amount,
            _setter(form, "amount"),
            numeric=True,
            hint="150.000",
            error=error_text(t, form.errors, "amount"),
        ),
        text(t("dispute.kind"), bold=True),
        _choices([(k, t(f"kind.{k}")) for k in ("dispute", "return")], form.kind, chosen("kind")),
        *_error_line(t, form.errors, "kind"),
        text(t("dispute.reason"), bold=True),
        _choices(
            [(r, t(f"reason_code.{r}")) for r in DISPUTE_REASONS], form.reason, chosen("reason")
        ),
        *_error_line(t, form.errors, "reason"),
        field(
            t("dispute.notes"),
            form.notes,
            _setter(form, "notes"),
            multiline=True,
            error=error_text(t, form.errors, "notes"),
        ),
        row(primary(t("dispute.save"), lambda _: state.save_dispute(), icon=ft.Icons.SAVE)),
    ]
    return Body(t("dispute.title"), controls)

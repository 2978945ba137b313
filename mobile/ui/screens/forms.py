"""Registrar visita, Promesa, Pago with its confirmation step, and the receipt."""

from __future__ import annotations

from datetime import date
from typing import Any

import flet as ft

from mobile.state.forms import Errors, VisitForm
from mobile.state.i18n import Texts
from mobile.state.receipt import receipt_lines, receipt_text
from mobile.state.receipt_pdf import receipt_pdf
from mobile.ui import theme as th
from mobile.ui.screens.today import distance_text
from mobile.ui.shell import Body, Ctx
from mobile.ui.widgets import card, field, heading, notice, primary, row, secondary, tagged, text
from shared.words import amount_in_words
from sync.protocol import PAYMENT_METHODS, VISIT_OUTCOMES


def _error(t: Texts, errors: Errors, name: str) -> str | None:
    if name not in errors:
        return None
    key, values = errors[name]
    return t(key, **{k: t.date(v) if isinstance(v, date) else v for k, v in values.items()})


def _setter(target: object, name: str) -> Any:
    def handler(e: ft.Event[ft.TextField]) -> None:
        setattr(target, name, e.control.value or "")

    return handler


def _choices(options: list[tuple[str, str]], value: str, on_change: Any) -> ft.RadioGroup:
    return ft.RadioGroup(
        value=value,
        on_change=on_change,
        content=ft.Column(
            controls=[
                ft.Container(
                    content=ft.Radio(
                        value=key, label=label, label_style=ft.TextStyle(size=th.BODY)
                    ),
                    height=48,
                )
                for key, label in options
            ],
            spacing=0,
        ),
    )


def _gps_line(t: Texts, form: VisitForm) -> ft.Control:
    if form.fix is not None:
        return text(t("visit.gps_fix", n=round(form.fix.accuracy_m)), color=th.OK, bold=True)
    if form.gps_done:
        return text(t("visit.gps_none"), color=th.WARN_INK, bold=True)
    return ft.Row(controls=[ft.ProgressRing(width=20, height=20), text(t("visit.gps_waiting"))])


def _visit_notices(ctx: Ctx) -> list[ft.Control]:
    t = ctx.t
    shown: list[ft.Control] = []
    for item in ctx.state.visit_notices():
        values = dict(item.values)
        if isinstance(values.get("distance"), float):
            values["distance"] = distance_text(t, float(str(values["distance"])))
        shown.append(notice(t(item.key, **values)))
    return shown


def visit(ctx: Ctx) -> Body:
    state, t = ctx.state, ctx.t
    form = state.visit
    gps = ft.Container(content=_gps_line(t, form))
    notices = ft.Column(controls=_visit_notices(ctx), spacing=8)

    def shown() -> None:
        # In place: a redraw of the whole screen would lose what is being typed.
        gps.content = _gps_line(t, form)
        notices.controls = _visit_notices(ctx)
        ctx.page.update()

    if not form.gps_done and ctx.gps_form is not form:
        ctx.gps_form = form
        ctx.page.run_task(ctx.capture_fix, shown)

    def choose(e: ft.Event[ft.RadioGroup]) -> None:
        form.outcome = e.control.value or ""

    controls: list[ft.Control] = [
        tagged("gps", gps),
        notices,
        text(t("visit.outcome"), bold=True),
        _choices([(o, t(f"outcome.{o}")) for o in VISIT_OUTCOMES], form.outcome, choose),
    ]
    if "outcome" in form.errors:
        controls.append(text(_error(t, form.errors, "outcome") or "", color=th.DANGER, bold=True))
    controls += [
        field(
            t("visit.notes"),
            form.notes,
            _setter(form, "notes"),
            multiline=True,
            error=_error(t, form.errors, "notes"),
        ),
        row(primary(t("visit.save"), lambda _: state.save_visit(), icon=ft.Icons.SAVE)),
    ]
    return Body(t("visit.title"), controls)


def promise(ctx: Ctx) -> Body:
    state, t = ctx.state, ctx.t
    form = state.promise
    record = state.record()
    controls: list[ft.Control] = [
        heading(record.name if record else ""),
        field(
            t("promise.amount"),
            form.amount,
            _setter(form, "amount"),
            numeric=True,
            hint="150.000",
            error=_error(t, form.errors, "amount"),
        ),
        field(
            t("promise.date"),
            form.due,
            _setter(form, "due"),
            hint="dd/mm/aaaa",
            error=_error(t, form.errors, "due"),
        ),
        row(primary(t("promise.save"), lambda _: state.save_promise(), icon=ft.Icons.SAVE)),
    ]
    return Body(t("promise.title"), controls)


def payment(ctx: Ctx) -> Body:
    state, t = ctx.state, ctx.t
    form = state.payment
    detail = state.detail()

    def choose(e: ft.Event[ft.RadioGroup]) -> None:
        form.method = e.control.value or ""

    def toggle(number: str) -> Any:
        def handler(e: ft.Event[ft.Checkbox]) -> None:
            if e.control.value and number not in form.invoice_numbers:
                form.invoice_numbers.append(number)
            elif not e.control.value and number in form.invoice_numbers:
                form.invoice_numbers.remove(number)

        return handler

    controls: list[ft.Control] = []
    if detail is not None:
        controls += [
            heading(detail.record.name),
            text(f"{t('client.balance')}: {t.money(detail.record.balance)}", bold=True),
        ]
    controls += [
        field(
            t("payment.amount"),
            form.amount,
            _setter(form, "amount"),
            numeric=True,
            hint="150.000",
            error=_error(t, form.errors, "amount"),
        ),
        text(t("payment.method"), bold=True),
        _choices([(m, t(f"method.{m}")) for m in PAYMENT_METHODS], form.method, choose),
        field(
            t("payment.reference"),
            form.reference,
            _setter(form, "reference"),
            error=_error(t, form.errors, "reference"),
        ),
    ]
    controls.append(
        row(primary(t("payment.review"), lambda _: state.review_payment(), icon=ft.Icons.CHECK))
    )
    if detail is not None and detail.invoices:
        # Optional and rarely used (oldest due first is the default): folded below the button.
        controls.append(
            ft.ExpansionTile(
                title=text(t("payment.invoices"), bold=True),
                expanded=bool(form.invoice_numbers),
                controls=[
                    ft.Checkbox(
                        label=f"{inv.number} · {t.money(inv.balance)}",
                        value=inv.number in form.invoice_numbers,
                        on_change=toggle(inv.number),
                    )
                    for inv in detail.invoices
                ],
            )
        )
    return Body(t("payment.title"), controls)


def confirm(ctx: Ctx) -> Body:
    state, t = ctx.state, ctx.t
    draft, record = state.payment.draft, state.record()
    if draft is None or record is None:
        return Body(t("payment.confirm_title"), [])
    words = amount_in_words(draft.amount)
    controls: list[ft.Control] = [
        card(
            tagged(
                "confirm-amount",
                ft.Text(
                    t.money(draft.amount), size=th.AMOUNT, weight=ft.FontWeight.BOLD, color=th.INK
                ),
            ),
            text(words[0].upper() + words[1:], color=th.MUTED),
        ),
        text(
            t(
                "payment.confirm_text",
                amount=t.money(draft.amount),
                method=t(f"method.{draft.method}").lower(),
                client=record.name,
            ),
            size=th.BODY + 1,
        ),
    ]
    if state.payment.over_balance(record.balance):
        controls.append(notice(t("payment.over_balance", balance=t.money(record.balance))))
    controls += [
        row(
            primary(
                t("payment.confirm"), lambda _: state.confirm_payment(), icon=ft.Icons.CHECK_CIRCLE
            )
        ),
        row(secondary(t("payment.edit"), lambda _: state.back(), icon=ft.Icons.EDIT)),
    ]
    return Body(t("payment.confirm_title"), controls)


def receipt(ctx: Ctx) -> Body:
    state, t = ctx.state, ctx.t
    if state.receipt is None:
        return Body(t("receipt.title"), [])
    lines = receipt_lines(state.receipt, t, state.tz)
    body = receipt_text(state.receipt, t, state.tz)

    async def share(_: Any) -> None:
        await ctx.share_text(body)

    async def share_pdf(_: Any) -> None:
        if state.receipt is None:
            return
        pdf = receipt_pdf(lines, title=t("receipt.number", number=state.receipt.receipt_no))
        if not await ctx.share_pdf(f"recibo-{state.receipt.receipt_no}.pdf", pdf):
            state.message, state.message_is_error = t("receipt.share_failed"), True
            state.notify()

    controls: list[ft.Control] = [
        tagged(
            "receipt",
            card(
                *[
                    text(line, bold=i < 2, size=th.TITLE if i == 1 else th.BODY)
                    for i, line in enumerate(lines)
                ]
            ),
        ),
        row(
            primary(t("receipt.share"), share, icon=ft.Icons.SHARE),
            secondary(t("receipt.pdf"), share_pdf, icon=ft.Icons.PICTURE_AS_PDF),
        ),
        row(secondary(t("receipt.done"), lambda _: state.go("client"), icon=ft.Icons.DONE)),
    ]
    return Body(t("receipt.title"), controls, back=True)

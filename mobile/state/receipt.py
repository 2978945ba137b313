"""The receipt a collector hands over: number, client, amount in figures and in Spanish words,
method, reference, date and time, collector (domain.md, "Receipts"). Plain text, so it can be
shared to any chat app; the amount in words stays Spanish in either UI language because it is
the legal wording of the receipt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal

from mobile.state.i18n import Texts
from shared.words import amount_in_words


@dataclass(frozen=True)
class ReceiptView:
    receipt_no: str
    client_name: str
    client_code: str
    amount: Decimal
    method: str
    reference: str
    at: datetime
    collector: str
    voided: bool = False


def receipt_lines(receipt: ReceiptView, t: Texts, tz: tzinfo | str | None = None) -> list[str]:
    words = amount_in_words(receipt.amount)
    lines = [
        t("app.title").upper(),
        t("receipt.number", number=receipt.receipt_no),
        t("receipt.client", name=receipt.client_name, code=receipt.client_code),
        t("receipt.amount", amount=t.money(receipt.amount)),
        t("receipt.words", words=words[0].upper() + words[1:]),
        t("receipt.method", method=t(f"method.{receipt.method}")),
    ]
    if receipt.reference:
        lines.append(t("receipt.reference", reference=receipt.reference))
    lines += [
        t("receipt.date", date=t.datetime(receipt.at, tz)),
        t("receipt.collector", name=receipt.collector),
    ]
    if receipt.voided:
        lines.append(t("client.voided").upper())
    return lines


def receipt_text(receipt: ReceiptView, t: Texts, tz: tzinfo | str | None = None) -> str:
    return "\n".join(receipt_lines(receipt, t, tz))

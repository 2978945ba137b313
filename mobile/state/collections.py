"""A client's agreements and open disputes, and the collector's cash in hand, as plain values
for the screens: the server's view (the mirror, as of the last pull) plus what this phone
recorded since, so a proposal or a glosa shows at once, signal or not. No Flet, no database.

A proposal or dispute made here is shown from the outbox until the mirror lists it (the server
keeps it under the event's id) or the server has reflected the event in a later client put
(then it was decided and is no longer open: the mirror is the truth).

An agreement's installments and standing are recomputed on the phone at today's business date
(shared.agreements.compliance_of_paid) from what the server counted as paid at the pull plus
the payments recorded here it has not reflected yet: a missed installment turns the agreement
broken offline, and a payment taken here shows on its installments at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal

from mobile.services.cash import CashPayment, Handover
from mobile.services.field_collections import AGREEMENT_PROPOSED, DISPUTE_OPENED
from mobile.services.portfolio import ClientRecord, LocalEvent, ServerAgreement
from shared.agreements import Installment, compliance_of_paid
from shared.calendar import business_date
from shared.money import ZERO, money

BROKEN = "broken"


@dataclass(frozen=True)
class InstallmentView:
    number: int
    due_date: date
    amount: Decimal
    paid: Decimal
    status: str  # paid / partial / pending / late / missed


@dataclass(frozen=True)
class AgreementView:
    id: str
    standing: str  # proposed / on_track / broken / completed
    total: Decimal
    installments: tuple[InstallmentView, ...]
    local_state: str | None = None  # only on this phone so far: the outbox row's state
    reason: str = ""  # why the server held it, when it did

    @property
    def broken(self) -> bool:
        return self.standing == BROKEN

    @property
    def paid(self) -> Decimal:
        return sum((i.paid for i in self.installments), ZERO)


@dataclass(frozen=True)
class DisputeView:
    id: str
    invoice_number: str
    amount: Decimal
    kind: str  # dispute (glosa) / return (devolución)
    reason_code: str
    local_state: str | None = None
    reason: str = ""


def not_reflected(event: LocalEvent, record: ClientRecord) -> bool:
    """The mirror does not include this event's effect yet (sent or not)."""
    if event.state in ("pending", "held", "conflict") or event.server_seq is None:
        return True
    return event.server_seq > record.change_seq


def unreflected_paid(record: ClientRecord, events: Iterable[LocalEvent]) -> Decimal:
    """Money this phone collected from the client that the mirror does not include yet (net of
    voids not reflected yet), as the visible balance counts it."""
    total = ZERO
    for e in events:
        if e.client_id != record.id or not not_reflected(e, record) or e.amount is None:
            continue
        if e.type == "payment.collected":
            total += e.amount
        elif e.type == "payment.voided":
            total -= e.amount
    return total


def _server_agreement(
    agreement: ServerAgreement, extra_paid: Decimal, today: date | None
) -> AgreementView:
    outcomes = [(i.due_date, i.amount, i.paid, i.status) for i in agreement.installments]
    standing = agreement.standing
    if today is not None and outcomes:  # else the server's word as it came
        paid = sum((i.paid for i in agreement.installments), ZERO) + extra_paid
        schedule = [Installment(i.due_date, i.amount) for i in agreement.installments]
        now = compliance_of_paid(schedule, paid, today)
        outcomes = [(i.due_date, i.amount, i.paid, str(i.status)) for i in now.installments]
        # Approval is the office's: a proposal stays proposed whatever has been paid.
        standing = standing if standing == "proposed" else str(now.standing)
    return AgreementView(
        id=agreement.id,
        standing=standing,
        total=agreement.total,
        installments=tuple(
            InstallmentView(n, *outcome) for n, outcome in enumerate(outcomes, start=1)
        ),
    )


def _local_agreement(event: LocalEvent) -> AgreementView:
    items = sorted(
        (date.fromisoformat(str(i["due_date"])), money(str(i["amount"])))
        for i in event.payload.get("installments") or ()
    )
    installments = tuple(
        InstallmentView(n, due, amount, ZERO, "pending")
        for n, (due, amount) in enumerate(items, start=1)
    )
    return AgreementView(
        id=event.event_id,
        standing="proposed",
        total=sum((i.amount for i in installments), ZERO),
        installments=installments,
        local_state=event.state,
        reason=event.status_reason or "",
    )


def agreements_of(
    record: ClientRecord, events: Sequence[LocalEvent], today: date | None = None
) -> list[AgreementView]:
    """The server's proposed and active agreements (recomputed at `today` when given), then the
    ones proposed here it does not list yet; broken ones first (what the collector must act
    on)."""
    extra = unreflected_paid(record, events) if today is not None else ZERO
    views = [_server_agreement(a, extra, today) for a in record.agreements]
    known = {a.id for a in record.agreements}
    views += [
        _local_agreement(e)
        for e in events
        if e.type == AGREEMENT_PROPOSED
        and e.client_id == record.id
        and e.event_id not in known
        and not_reflected(e, record)
    ]
    return sorted(views, key=lambda v: not v.broken)  # stable: server order kept otherwise


def disputes_of(record: ClientRecord, events: Iterable[LocalEvent]) -> list[DisputeView]:
    views = [
        DisputeView(d.id, d.invoice_number, d.amount, d.kind, d.reason_code)
        for d in record.disputes
    ]
    known = {d.id for d in record.disputes}
    for e in events:
        if e.type != DISPUTE_OPENED or e.client_id != record.id or e.event_id in known:
            continue
        if not not_reflected(e, record):
            continue
        views.append(
            DisputeView(
                id=e.event_id,
                invoice_number=str(e.payload["invoice_number"]),
                amount=money(str(e.payload["amount"])),
                kind=str(e.payload.get("kind", "dispute")),
                reason_code=str(e.payload["reason_code"]),
                local_state=e.state,
                reason=e.status_reason or "",
            )
        )
    return views


def disputed_by_invoice(disputes: Iterable[DisputeView]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for d in disputes:
        totals[d.invoice_number] = totals.get(d.invoice_number, ZERO) + d.amount
    return totals


# --- cash in hand ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CashLine:
    event_id: str
    receipt_no: str
    client_name: str
    amount: Decimal
    at: datetime


@dataclass(frozen=True)
class CashView:
    lines: tuple[CashLine, ...]  # oldest first
    total: Decimal
    oldest_days: int | None  # business days since the oldest payment (0: today)
    handovers: tuple[Handover, ...]  # newest first

    @property
    def oldest(self) -> CashLine | None:
        return self.lines[0] if self.lines else None


def cash_view(
    payments: Sequence[CashPayment],
    handovers: Sequence[Handover],
    names: Mapping[str, str],
    *,
    now: datetime,
    tz: tzinfo | str | None = None,
) -> CashView:
    lines = tuple(
        CashLine(p.event_id, p.receipt_no, names.get(p.client_id, p.client_id[:8]), p.amount, p.at)
        for p in sorted(payments, key=lambda p: p.at)
    )
    today = business_date(now, tz)
    oldest = (today - business_date(lines[0].at, tz)).days if lines else None
    return CashView(
        lines=lines,
        total=sum((line.amount for line in lines), ZERO),
        oldest_days=oldest,
        handovers=tuple(handovers),
    )

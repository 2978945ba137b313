"""Mi semana: the collector's own week from what this phone recorded (domain.md, "Weekly visit
counts"): visits, effective contacts, distinct clients, money collected net of voids, and the
week's commission estimate (shared/commissions.py). The server's figures are the official ones;
these are what the collector can see offline.

The estimate allocates this week's payments, in the order they were recorded, oldest due first
(or to the invoices the collector chose) over the client's mirrored open invoices, each payment
reducing what the next one sees; each part takes the rate of its invoice's bucket on the payment's
business day. Voided payments count for nothing. The mirror is as of the last pull, so an invoice
a synced payment already closed is no longer there: that payment's part falls on the next open
invoice or on credit (which earns nothing), so with rates that grow with age (the default) the
estimate errs low, never high, on the lines.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal

from mobile.services.portfolio import ClientRecord, LocalEvent
from mobile.state.clients import EFFECTIVE_OUTCOMES
from shared.allocation import OpenInvoice, allocate_payment
from shared.calendar import IsoWeek, business_date, week_of
from shared.commissions import (
    Applied,
    CommissionLine,
    CommissionRules,
    WeekCommission,
    load_rules,
    payment_lines,
    week_commission,
)
from shared.money import ZERO, money


@dataclass(frozen=True)
class WeekSummary:
    week: IsoWeek
    visits: int
    effective_contacts: int
    clients_visited: int
    payments: int
    collected: Decimal
    promises: int
    commission: WeekCommission  # an estimate: "Comisión estimada"


def _payment_lines(
    payments: Sequence[LocalEvent],
    records: Iterable[ClientRecord],
    rules: CommissionRules,
    tz: tzinfo | str | None,
) -> list[CommissionLine]:
    by_client: dict[str, list[LocalEvent]] = defaultdict(list)
    for event in payments:
        by_client[event.client_id].append(event)
    invoices = {r.id: r.invoices for r in records}
    lines: list[CommissionLine] = []
    for client_id, events in by_client.items():
        open_now = {i.number: i for i in invoices.get(client_id, ())}
        balances = {number: line.balance for number, line in open_now.items()}
        for event in sorted(events, key=lambda e: (e.device_time, e.device_seq)):
            candidates = [
                OpenInvoice(n, open_now[n].due_date, b, n) for n, b in balances.items() if b > ZERO
            ]
            chosen = [str(n) for n in event.payload.get("invoice_numbers") or ()]
            applied = []
            for part in allocate_payment(
                money(str(event.payload["amount"])), candidates, chosen or None
            ):
                due = None if part.key is None else open_now[part.key].due_date
                applied.append(Applied(part.key, part.amount, due))
                if part.key is not None:
                    balances[part.key] -= part.amount
            paid_on = business_date(event.device_time, tz)
            lines.extend(payment_lines(rules, event.event_id, paid_on, applied))
    return lines


def week_summary(
    events: Iterable[LocalEvent],
    *,
    now: datetime,
    tz: tzinfo | str | None = None,
    records: Iterable[ClientRecord] = (),
    rules: CommissionRules | None = None,
) -> WeekSummary:
    week = week_of(now, tz)
    listed = list(events)
    voided = {e.ref_event_id for e in listed if e.type == "payment.voided"}
    mine = [e for e in listed if week_of(e.device_time, tz) == week]
    visits = [e for e in mine if e.type == "visit.recorded"]
    payments = [e for e in mine if e.type == "payment.collected" and e.event_id not in voided]
    effective = sum(1 for e in visits if e.payload["outcome"] in EFFECTIVE_OUTCOMES)
    rules = rules or load_rules()
    return WeekSummary(
        week=week,
        visits=len(visits),
        effective_contacts=effective,
        clients_visited=len({e.client_id for e in visits}),
        payments=len(payments),
        collected=sum((money(str(e.payload["amount"])) for e in payments), ZERO),
        promises=sum(1 for e in mine if e.type == "promise.made"),
        commission=week_commission(rules, _payment_lines(payments, records, rules, tz), effective),
    )

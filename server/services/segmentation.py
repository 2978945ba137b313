"""Portfolio segmentation: today's clients grouped by client type (segment), payment agreement,
aging bucket or status, with the client count, balance, overdue balance and disputed amount of
each group, and the XLSX of the same table.

Groups:
- `segment`: grupo, convenio_externo, entidad_externa, particular;
- `agreement`: `broken` (an approved agreement with a missed installment, by shared.agreements),
  `active` (approved and on track or completed), `proposed` (waiting for the office), `none`;
- `bucket`: the aging bucket of the client's oldest invoice that still owes something (`al_dia`
  when none is past due), or `sin_saldo` when no invoice owes anything;
- `status`: `legal` (an open referral to a law firm), `active`, `closed`.
Balances are today's projections (client.balance, invoice.balance); `disputed` is the amount of
open glosas and devoluciones. Every client lands in exactly one group, so the groups add up to
the total. Office only.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, tzinfo
from decimal import Decimal
from typing import Final, Literal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from server.repositories import legal as legal_repo
from server.repositories import segmentation as seg_repo
from server.services import agreements, visit_counts
from server.services.access import Actor, require_office
from server.services.kpi_exports import SEGMENT_NAMES
from server.services.spreadsheets import Column, Sheet, workbook_bytes
from shared.aging import DEFAULT_EDGES, bucket_for, bucket_names, days_past_due
from shared.clients import MoneyStr
from shared.formatting import format_date
from shared.money import ZERO

By = Literal["segment", "agreement", "bucket", "status"]
NO_BALANCE: Final = "sin_saldo"

BY_NAMES: Final[dict[str, str]] = {
    "segment": "Tipo de cliente",
    "agreement": "Acuerdo de pago",
    "bucket": "Edad de cartera",
    "status": "Estado",
}
AGREEMENT_NAMES: Final = {
    "active": "Acuerdo vigente",
    "broken": "Acuerdo incumplido",
    "proposed": "Acuerdo propuesto",
    "none": "Sin acuerdo",
}
STATUS_NAMES: Final = {
    "active": "Activo",
    "legal": "En cobro jurídico",
    "closed": "Cerrado",
}


def bucket_label(name: str) -> str:
    if name == NO_BALANCE:
        return "Sin saldo"
    if name == "al_dia":
        return "Al día"
    if name.startswith("mas_"):
        return f"Más de {name[4:]} días"
    return f"{name.replace('_', '-')} días"


class SegmentGroup(BaseModel):
    key: str
    label: str
    clients: int
    balance: MoneyStr
    overdue: MoneyStr
    disputed: MoneyStr = Field(description="open glosas and devoluciones")


class SegmentationReport(BaseModel):
    by: By
    as_of: date
    collector: str | None
    groups: list[SegmentGroup] = Field(description="every group of the view, empty ones too")
    total: SegmentGroup


class _Tally:
    def __init__(self) -> None:
        self.clients = 0
        self.balance = ZERO
        self.overdue = ZERO
        self.disputed = ZERO

    def add(self, balance: Decimal, overdue: Decimal, disputed: Decimal) -> None:
        self.clients += 1
        self.balance += balance
        self.overdue += overdue
        self.disputed += disputed

    def group(self, key: str, label: str) -> SegmentGroup:
        return SegmentGroup(
            key=key,
            label=label,
            clients=self.clients,
            balance=self.balance,
            overdue=self.overdue,
            disputed=self.disputed,
        )


def agreement_groups(
    session: Session, client_ids: Sequence[uuid.UUID], today: date, tz: tzinfo
) -> dict[uuid.UUID, str]:
    """Each client with a live agreement: `broken`, `active` or `proposed`, from the standing the
    phone gets (server/services/agreements.py, shared/agreements.py); the worst one wins."""
    rank = {"proposed": 1, "active": 2, "broken": 3}
    found: dict[uuid.UUID, str] = {}
    for client_id, items in agreements.for_phones(session, client_ids, tz=tz, as_of=today).items():
        kinds = [a.standing if a.standing in ("proposed", "broken") else "active" for a in items]
        found[client_id] = max(kinds, key=rank.__getitem__)
    return found


def segmentation(
    session: Session,
    actor: Actor,
    *,
    by: By,
    today: date,
    tz: tzinfo,
    edges: Sequence[int] = DEFAULT_EDGES,
    collector: str | None = None,
) -> SegmentationReport:
    require_office(actor)
    if collector is not None:
        visit_counts.collector_id(session, collector)  # 422 unknown_collector, not zeros
    facts = seg_repo.client_facts(session, today, collector)
    disputed = seg_repo.open_disputed(session)
    keys: dict[str, str]
    if by == "segment":
        keys = dict(SEGMENT_NAMES)
    elif by == "agreement":
        keys = dict(AGREEMENT_NAMES)
        standing = agreement_groups(session, [c.id for c in facts], today, tz)
    elif by == "bucket":
        keys = {name: bucket_label(name) for name in [*bucket_names(edges), NO_BALANCE]}
    else:
        keys = dict(STATUS_NAMES)
        legal = legal_repo.referred_client_ids(session)
    tallies: dict[str, _Tally] = {key: _Tally() for key in keys}
    total = _Tally()
    for c in facts:
        if by == "segment":
            key = c.segment
        elif by == "agreement":
            key = standing.get(c.id, "none")
        elif by == "bucket":
            key = (
                NO_BALANCE
                if c.oldest_open_due is None
                else bucket_for(days_past_due(c.oldest_open_due, today), edges)
            )
        else:
            key = "legal" if c.id in legal else ("closed" if c.status == "closed" else "active")
        amount = disputed.get(c.id, ZERO)
        tallies.setdefault(key, _Tally()).add(c.balance, c.overdue, amount)
        total.add(c.balance, c.overdue, amount)
    return SegmentationReport(
        by=by,
        as_of=today,
        collector=collector,
        groups=[t.group(key, keys.get(key, key)) for key, t in tallies.items()],
        total=total.group("total", "Total"),
    )


def segmentation_workbook(report: SegmentationReport) -> bytes:
    who = f" · gestor {report.collector}" if report.collector else ""
    sheet = Sheet(
        name=BY_NAMES[report.by],
        title=f"Segmentación de cartera por {BY_NAMES[report.by].lower()}",
        subtitle=f"Al {format_date(report.as_of)}{who}",
        columns=[
            Column(BY_NAMES[report.by]),
            Column("Clientes", "int", total=True),
            Column("Saldo", "money", total=True),
            Column("Vencido", "money", total=True),
            Column("En glosa", "money", total=True),
        ],
        rows=[[g.label, g.clients, g.balance, g.overdue, g.disputed] for g in report.groups],
        totals_label="Total",
        notes=(
            "Saldos de hoy por cliente; cada cliente cuenta en un solo grupo.",
            "En glosa: glosas y devoluciones abiertas.",
        ),
    )
    return workbook_bytes([sheet])

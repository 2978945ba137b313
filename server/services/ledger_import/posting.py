"""Bulk posting: the bulk twin of `server.services.ledger.post_charge` and `post_adjustment`, for
imports of 100,000 invoices where one ORM round trip per entry would take minutes.

It keeps exactly the invariants of `server.repositories.ledger.add_entry`:
- every entry has allocations that add up to its amount (here: one allocation per entry, to its
  invoice, of the whole amount);
- `client.balance` moves by the sum of its entries' amounts, `invoice.balance` by the sum of its
  allocations, in the same transaction, as relative updates (`balance = balance + x`) so a
  concurrent writer never loses an update; each touched client's `version` goes up.
Clients and invoices created by the same import start from a zero balance, so the caller inserts
them with their delta already in place (`open_invoice` returns a new invoice's balance,
`take_new_client_balance` a new client's) instead of inserting and then updating: the same
arithmetic, one statement fewer per row. Never commits.

Amounts are integer cents here (the Money column type stores cents): the plan adds them up as
ints and `bulk_insert` hands them to the driver as they are.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import repeat
from typing import Any, Final, cast

from sqlalchemy import BigInteger, Table, Uuid, bindparam, update
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from server.db.base import Money
from server.db.models import Client, Invoice, LedgerAllocation, LedgerEntry
from server.services.ledger_import.ids import TimeOrderedIds
from shared.money import MAX_AMOUNT

MAX_CENTS: Final = int(MAX_AMOUNT * 100)
_ENTRY_COLUMNS: Final = ("id", "client_id", "kind", "amount", "effective_date", "reason")
_ALLOCATION_COLUMNS: Final = ("entry_id", "invoice_id", "amount")


@dataclass
class BulkPosting:
    """Entries to write in one go, with the projection deltas (cents) they imply. Entries get
    time-ordered ids in the order they are posted."""

    ids: TimeOrderedIds = field(default_factory=TimeOrderedIds)
    # (id, client_id, kind, cents, effective_date, reason)
    entries: list[tuple[uuid.UUID, uuid.UUID, str, int, date, str]] = field(default_factory=list)
    # (entry_id, invoice_id, cents)
    allocations: list[tuple[uuid.UUID, uuid.UUID, int]] = field(default_factory=list)
    client_deltas: dict[uuid.UUID, int] = field(default_factory=lambda: defaultdict(int))
    invoice_deltas: dict[uuid.UUID, int] = field(default_factory=lambda: defaultdict(int))
    charges: int = 0
    adjustments: int = 0
    adjustments_net: int = 0  # cents

    def charge(self, *, client_id: uuid.UUID, invoice_id: uuid.UUID, number: str, cents: int,
               effective_date: date, new_invoice: bool = False) -> None:  # fmt: skip
        """Like `ledger.post_charge`: the invoice's original amount, positive."""
        if not 0 < cents <= MAX_CENTS:
            raise ValueError("an invoice charges a positive amount")
        self._add(client_id, invoice_id, "charge", cents, effective_date, f"Factura {number}",
                  new_invoice)  # fmt: skip
        self.charges += 1

    def adjust(self, *, client_id: uuid.UUID, invoice_id: uuid.UUID, cents: int,
               effective_date: date, reason: str, new_invoice: bool = False) -> None:  # fmt: skip
        """Like `ledger.post_adjustment` on one invoice: signed, never zero, with a reason."""
        if cents == 0 or abs(cents) > MAX_CENTS or not reason.strip():
            raise ValueError("an adjustment moves a non-zero amount and has a reason")
        self._add(client_id, invoice_id, "adjustment", cents, effective_date, reason, new_invoice)
        self.adjustments += 1
        self.adjustments_net += cents

    def open_invoice(self, *, client_id: uuid.UUID, invoice_id: uuid.UUID, number: str,
                     amount: int, balance: int, charged_on: date, adjusted_on: date,
                     reason: str) -> int:  # fmt: skip
        """A new invoice's charge of `amount` and, when `balance` differs, its adjustment to it.
        Returns the balance those entries add up to: the invoice is inserted with it, so no
        delta is kept for an UPDATE."""
        self.charge(client_id=client_id, invoice_id=invoice_id, number=number, cents=amount,
                    effective_date=charged_on, new_invoice=True)  # fmt: skip
        if balance != amount:
            self.adjust(client_id=client_id, invoice_id=invoice_id, cents=balance - amount,
                        effective_date=adjusted_on, reason=reason, new_invoice=True)  # fmt: skip
        return amount + (balance - amount)

    def _add(self, client_id: uuid.UUID, invoice_id: uuid.UUID, kind: str, cents: int,
             effective_date: date, reason: str, new_invoice: bool) -> None:  # fmt: skip
        entry_id = self.ids.next()
        self.entries.append((entry_id, client_id, kind, cents, effective_date, reason))
        self.allocations.append((entry_id, invoice_id, cents))
        self.client_deltas[client_id] += cents
        if not new_invoice:
            self.invoice_deltas[invoice_id] += cents

    def take_new_client_balance(self, client_id: uuid.UUID) -> int:
        return self.client_deltas.pop(client_id, 0)


def write_posting(
    session: Session,
    posting: BulkPosting,
    *,
    source: str,
    import_batch_id: uuid.UUID | None,
    created_by: uuid.UUID | None,
    recorded_at: datetime,
    touched_clients: Iterable[uuid.UUID] = (),
) -> None:
    """Insert the entries and allocations, then move the remaining projections. Clients in
    `touched_clients` get their version bumped even without a balance change."""
    if posting.entries:
        constants = {"recorded_at": recorded_at, "source": source,
                     "import_batch_id": import_batch_id, "created_by": created_by}  # fmt: skip
        bulk_insert(session, _table(LedgerEntry), _ENTRY_COLUMNS, posting.entries, constants)
        bulk_insert(session, _table(LedgerAllocation), _ALLOCATION_COLUMNS, posting.allocations)
    invoices = _table(Invoice)
    # Sorted ids: concurrent writers take row locks in one order, so they queue, not deadlock.
    invoice_updates = [
        {"b_id": k, "delta": v} for k, v in sorted(posting.invoice_deltas.items()) if v
    ]
    if invoice_updates:
        session.execute(
            update(invoices)
            .where(invoices.c.id == bindparam("b_id"))
            .values(balance=invoices.c.balance + bindparam("delta", type_=BigInteger())),
            invoice_updates,
        )
    clients = _table(Client)
    client_ids = set(posting.client_deltas) | set(touched_clients)
    client_updates = [
        {"b_id": k, "delta": posting.client_deltas.get(k, 0)} for k in sorted(client_ids)
    ]
    if client_updates:
        session.execute(
            update(clients)
            .where(clients.c.id == bindparam("b_id"))
            .values(
                balance=clients.c.balance + bindparam("delta", type_=BigInteger()),
                version=clients.c.version + 1,
            ),
            client_updates,
        )


def bulk_insert(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    constants: Mapping[str, Any] | None = None,
) -> None:
    """Insert plain rows (values in `columns` order, then `constants` in every row) as fast as
    the driver allows, in the session's transaction: COPY on PostgreSQL (psycopg), one
    executemany elsewhere.

    Each value goes through its column type's own bind processor (what SQLAlchemy would send),
    EXCEPT Money columns, which take int cents as stored: this bulk path skips the Money
    TypeDecorator's Decimal-to-cents conversion, the one place that does. A value repeated down a
    column (a date, a client id) is converted once. Not for JSON columns (COPY's text format
    would not write them as SQLAlchemy does); the callers write none here.
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    convert = {
        name: _bind_processor(table.c[name], dialect) for name in (*columns, *(constants or ()))
    }
    # Column by column (C-level zips): convert, then add the constants, then rows again.
    by_column: list[Iterable[Any]] = list(zip(*rows, strict=True))
    for index, name in enumerate(columns):
        processor = convert[name]
        if processor is None:
            continue
        if table.c[name].primary_key or isinstance(table.c[name].type, Uuid):
            # (nearly) unique, or as cheap to convert as to look up
            by_column[index] = map(processor, by_column[index])
        else:
            by_column[index] = _converted(cast(Sequence[Any], by_column[index]), processor)
    for name, value in (constants or {}).items():
        processor = convert[name]
        by_column.append(repeat(value if processor is None else processor(value)))
    columns = (*columns, *(constants or ()))
    records = zip(*by_column, strict=False)  # the endless repeats stop with the real columns
    preparer = dialect.identifier_preparer
    target = f"{preparer.format_table(table)} ({', '.join(preparer.quote(c) for c in columns)})"
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor, cursor.copy(f"COPY {target} FROM STDIN") as copy:
            for record in records:
                copy.write_row(record)
        return
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    placeholders = ", ".join([marker] * len(columns))
    connection.exec_driver_sql(
        f"INSERT INTO {target} VALUES ({placeholders})",  # noqa: S608 - names quoted from metadata
        list(records),
    )


def _bind_processor(column: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    if isinstance(column.type, Money):
        return None  # already cents (see bulk_insert)
    processor: Callable[[Any], Any] | None = column.type.dialect_impl(dialect).bind_processor(
        dialect
    )
    return processor


def _converted(values: Sequence[Any], convert: Callable[[Any], Any]) -> list[Any]:
    done = {value: convert(value) for value in set(values)}
    return [done[value] for value in values]


def _table(model: type[Any]) -> Table:
    # Core, not the ORM: its unit of work costs more than the database for 100,000 plain rows.
    return cast(Table, model.__table__)

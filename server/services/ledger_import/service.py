"""The ledger import use case: read a file, validate every row, then apply it to the ledger in
bulk, all in the caller's transaction (never commits).

Decisions (api.md "Ledger import file"):
- All or nothing: any bad row rejects the whole file unless `skip_bad_rows`. A dry run writes
  nothing and reports what a real run would do with the valid rows (and whether it would be
  rejected).
- Clients are matched by code, invoices by number. Master data of an existing client is updated
  from the file; a blank cell never erases a value; the collector changes only when the `gestor`
  cell names one (each change is audited).
- New invoice: a charge of its amount and, when the file's balance is lower, an adjustment of
  (balance - amount), "Saldo según importación (pagos previos al sistema)".
- Existing invoice: when the file gives a balance that differs from the ledger's current balance,
  one adjustment of the difference (source `import`, with the batch id). Without a balance cell the
  file says nothing about it: no adjustment (so field payments are not undone by a file that only
  lists invoices). Importing the same file twice therefore posts nothing the second time.
- An invoice number that already belongs to another client is a row error
  (`invoice_belongs_to_other_client`): moving debt between debtors is a reconciliation, not a
  data refresh. A changed original amount is a warning (`amount_changed`) and is not rewritten:
  the charge is history. Changed issue/due dates are updated (they are facts, not money).
"""

from __future__ import annotations

import gc
import hashlib
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, insert, update
from sqlalchemy.orm import Session

from server.db.base import Base, utcnow
from server.db.models import AuditLog, Client, ImportBatch, Invoice
from server.repositories import imports as imports_repo
from server.services import changes as change_log
from server.services.ledger_import.ids import TimeOrderedIds
from server.services.ledger_import.posting import BulkPosting, bulk_insert, write_posting
from server.services.ledger_import.reader import RawRow, read_sheet
from server.services.ledger_import.rows import (
    ColumnMap,
    ImportRow,
    is_blank_row,
    locate_header,
    parse_row,
)
from server.services.ledger_import.summary import ImportSummary, RowIssue, capped
from shared.money import from_cents

NEW_INVOICE_REASON = "Saldo según importación (pagos previos al sistema)"
Progress = Callable[[str, int, int | None], None]  # (stage, rows done, rows expected or None)
_CLIENT_FIELDS = ("name", "tax_id", "segment", "address", "city", "lat", "lon", "phones")
_INVOICE_COLUMNS = ("id", "client_id", "number", "issue_date", "due_date", "amount", "balance")


def _no_progress(stage: str, done: int, total: int | None) -> None:
    pass


@dataclass(frozen=True)
class ImportOptions:
    filename: str
    sha256: str
    as_of: date  # the business date: adjustments are effective on it
    user_id: uuid.UUID | None = None
    imported_by: str = "cli"
    dry_run: bool = False
    skip_bad_rows: bool = False


def file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def run_import(
    session: Session,
    path: Path,
    *,
    as_of: date,
    filename: str | None = None,
    sha256: str | None = None,
    user_id: uuid.UUID | None = None,
    imported_by: str = "cli",
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    progress: Progress = _no_progress,
) -> ImportSummary:
    """Import a CSV or XLSX ledger file (see the module docstring for what happens)."""
    options = ImportOptions(
        filename=filename or path.name,
        sha256=sha256 or file_sha256(path),
        as_of=as_of,
        user_id=user_id,
        imported_by=imported_by,
        dry_run=dry_run,
        skip_bad_rows=skip_bad_rows,
    )
    with cycle_collection_paused():
        sheet = read_sheet(path)
        return import_rows(
            session, sheet.rows, options, size_hint=sheet.size_hint, progress=progress
        )


def import_records(
    session: Session, records: Sequence[Mapping[str, object]], options: ImportOptions
) -> ImportSummary:
    """Import rows given as dicts keyed by header (e.g. the reference scenario's rows)."""
    headers = list(records[0]) if records else []
    rows: list[RawRow] = [(1, tuple(headers))]
    rows += [(i, tuple(r.get(h) for h in headers)) for i, r in enumerate(records, start=2)]
    return import_rows(session, iter(rows), options)


def import_rows(
    session: Session,
    rows: Iterator[RawRow],
    options: ImportOptions,
    *,
    size_hint: int | None = None,
    progress: Progress = _no_progress,
) -> ImportSummary:
    """Import raw rows (header first); the core shared by files and records."""
    with cycle_collection_paused():
        return _import_rows(session, rows, options, size_hint, progress)


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while an import runs.

    An import of 100,000 invoices keeps millions of small objects alive (cells, rows, ids,
    entries) and creates none of them in reference cycles; the collector, triggered by every few
    hundred allocations, walked that growing heap again and again: 2.4 s of a 10 s import. Memory
    is still freed by reference counting; cycles made elsewhere meanwhile wait until the end. Only
    the caller that paused it turns it back on (nested or concurrent imports leave it alone)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _import_rows(
    session: Session,
    rows: Iterator[RawRow],
    options: ImportOptions,
    size_hint: int | None,
    progress: Progress,
) -> ImportSummary:
    _, columns = locate_header(rows)
    summary = ImportSummary(
        filename=options.filename,
        sha256=options.sha256,
        imported_by=options.imported_by,
        dry_run=options.dry_run,
        skip_bad_rows=options.skip_bad_rows,
        written=False,
        rejected=False,
        ignored_columns=list(columns.ignored),
    )
    valid, errors = _read_rows(rows, columns, summary, size_hint, progress)
    progress("checking", summary.rows_read, summary.rows_read)
    state = _load_state(session, valid)
    valid = _check_against_database(valid, columns, state, errors)
    errors.sort(key=lambda issue: issue.row or 0)
    bad_rows = {issue.row for issue in errors}
    summary.rows_skipped = len(bad_rows)
    summary.error_count = len(errors)
    summary.errors = capped(errors)
    summary.rejected = bool(errors) and not options.skip_bad_rows
    summary.same_file_as_batch = imports_repo.latest_batch_with_sha256(session, options.sha256)
    if summary.rejected and not options.dry_run:
        return summary
    plan = _plan(valid, state, options, summary)
    if not options.dry_run and valid:
        progress("writing", 0, len(valid))
        _write(session, plan, options, summary)
        progress("writing", len(valid), len(valid))
    return summary


def _read_rows(
    rows: Iterator[RawRow],
    columns: ColumnMap,
    summary: ImportSummary,
    size_hint: int | None,
    progress: Progress,
) -> tuple[list[ImportRow], list[RowIssue]]:
    valid: list[ImportRow] = []
    errors: list[RowIssue] = []
    first_row: dict[str, int] = {}
    header = columns.header("invoice_number")
    for number, values in rows:
        if is_blank_row(values):
            continue
        summary.rows_read += 1
        if summary.rows_read % 2000 == 0:
            progress("reading", number, size_hint)
        result = parse_row(number, values, columns)
        if isinstance(result, list):
            errors.extend(result)
            continue
        earlier = first_row.setdefault(result.invoice_number, number)
        if earlier != number:
            errors.append(RowIssue(
                row=number, column=header, code="duplicate_invoice", value=result.invoice_number,
                message=f"la factura ya aparece en la fila {earlier} del archivo",
            ))  # fmt: skip
            continue
        valid.append(result)
    return valid, errors


@dataclass
class _State:
    clients: dict[str, Any]
    invoices: dict[str, Any]
    users: dict[str, Any]


def _load_state(session: Session, valid: list[ImportRow]) -> _State:
    return _State(
        clients=imports_repo.clients_by_code(session, (r.client_code for r in valid)),
        invoices=imports_repo.invoices_by_number(session, (r.invoice_number for r in valid)),
        users=imports_repo.users_by_username(session, {r.collector for r in valid if r.collector}),
    )


def _check_against_database(
    valid: list[ImportRow], columns: ColumnMap, state: _State, errors: list[RowIssue]
) -> list[ImportRow]:
    kept: list[ImportRow] = []
    for row in valid:
        ok = True
        invoice = state.invoices.get(row.invoice_number)
        if invoice is not None and invoice.client_code != row.client_code:
            ok = False
            errors.append(RowIssue(
                row=row.row, column=columns.header("invoice_number"), value=row.invoice_number,
                code="invoice_belongs_to_other_client",
                message=f"la factura ya existe para el cliente {invoice.client_code}",
            ))  # fmt: skip
        if row.collector is not None:
            user = state.users.get(row.collector)
            if user is None or not user.active or user.role != "collector":
                ok = False
                errors.append(RowIssue(
                    row=row.row, column=columns.header("collector"), value=row.collector,
                    code="unknown_collector",
                    message="no hay un gestor activo con ese usuario",
                ))  # fmt: skip
        if ok:
            kept.append(row)
    return kept


@dataclass
class _Plan:
    """What to write. Ids are time-ordered and rows grouped by client, so each table's primary
    key and its client/invoice/entry id indexes grow at their end (see ids.py)."""

    ids: TimeOrderedIds = field(default_factory=TimeOrderedIds)
    posting: BulkPosting = field(init=False)
    new_clients: list[dict[str, Any]] = field(default_factory=list)
    client_changes: list[dict[str, Any]] = field(default_factory=list)
    assignments: list[dict[str, Any]] = field(default_factory=list)
    # _INVOICE_COLUMNS order, amounts in cents
    new_invoices: list[tuple[Any, ...]] = field(default_factory=list)
    invoice_changes: list[dict[str, Any]] = field(default_factory=list)
    # the collector each client of the file has after the import (its pull scope)
    owners: dict[uuid.UUID, uuid.UUID | None] = field(default_factory=dict)
    invoice_clients: set[uuid.UUID] = field(default_factory=set)  # an invoice's dates changed

    def __post_init__(self) -> None:
        self.posting = BulkPosting(ids=self.ids)


def _plan(
    valid: list[ImportRow], state: _State, options: ImportOptions, summary: ImportSummary
) -> _Plan:
    plan = _Plan()
    client_ids = _plan_clients(valid, state, plan, summary)
    order = {code: index for index, code in enumerate(client_ids)}
    warnings: list[RowIssue] = []
    for row in sorted(valid, key=lambda r: order[r.client_code]):  # stable: file order within
        client_id = client_ids[row.client_code]
        existing = state.invoices.get(row.invoice_number)
        if existing is None:
            _plan_new_invoice(row, client_id, options, plan)
            summary.invoices_created += 1
        else:
            _plan_existing_invoice(row, existing, options, plan, summary, warnings)
    summary.rows_imported = len(valid)
    summary.charges_posted = plan.posting.charges
    summary.adjustments_posted = plan.posting.adjustments
    summary.adjustments_net = from_cents(plan.posting.adjustments_net)
    warnings.sort(key=lambda issue: issue.row or 0)
    summary.warning_count = len(warnings)
    summary.warnings = capped(warnings)
    return plan


def _plan_clients(
    valid: list[ImportRow], state: _State, plan: _Plan, summary: ImportSummary
) -> dict[str, uuid.UUID]:
    """Merge each client's rows (later non-blank cells win) and compare with the database."""
    merged: dict[str, dict[str, Any]] = {}
    for row in valid:
        fields = merged.setdefault(row.client_code, {})
        values = {
            "name": row.client_name, "tax_id": row.tax_id, "segment": row.segment,
            "address": row.address, "city": row.city, "lat": row.lat, "lon": row.lon,
            "phones": row.phones,
            "collector_id": state.users[row.collector].id if row.collector else None,
        }  # fmt: skip
        fields.update({k: v for k, v in values.items() if v is not None})
    now = utcnow()
    ids: dict[str, uuid.UUID] = {}
    for code, fields in merged.items():
        existing = state.clients.get(code)
        if existing is None:
            client_id = plan.ids.next()
            plan.new_clients.append({
                "id": client_id, "code": code, "name": fields["name"],
                "tax_id": fields.get("tax_id", ""), "segment": fields.get("segment", "particular"),
                "address": fields.get("address", ""), "city": fields.get("city", ""),
                "lat": fields.get("lat"), "lon": fields.get("lon"),
                "location_source": "ledger" if fields.get("lat") is not None else None,
                "phones": fields.get("phones", []), "channels": [],
                "collector_id": fields.get("collector_id"), "status": "active",
                "version": 1, "created_at": now, "updated_at": now,
            })  # fmt: skip
            summary.clients_created += 1
        else:
            client_id = existing.id
            changes = {k: v for k, v in fields.items() if getattr(existing, k) != v}
            if "lat" in changes or "lon" in changes:
                changes["location_source"] = "ledger"  # the ledger's word beats a learned one
            if changes:
                summary.clients_updated += 1
                plan.client_changes.append({"id": client_id, "updated_at": now, **changes})
                if "collector_id" in changes:
                    plan.assignments.append({
                        "client_id": client_id, "from": existing.collector_id,
                        "to": changes["collector_id"],
                    })  # fmt: skip
        ids[code] = client_id
        kept = existing.collector_id if existing is not None else None
        plan.owners[client_id] = fields.get("collector_id", kept)
    return ids


def _plan_new_invoice(
    row: ImportRow, client_id: uuid.UUID, options: ImportOptions, plan: _Plan
) -> None:
    invoice_id = plan.ids.next()
    amount = _cents(row.amount)
    balance = plan.posting.open_invoice(
        client_id=client_id, invoice_id=invoice_id, number=row.invoice_number, amount=amount,
        balance=amount if row.balance is None else _cents(row.balance),
        charged_on=row.issue_date or row.due_date, adjusted_on=options.as_of,
        reason=NEW_INVOICE_REASON,
    )  # fmt: skip
    plan.new_invoices.append((invoice_id, client_id, row.invoice_number, row.issue_date,
                              row.due_date, amount, balance))  # fmt: skip


def _plan_existing_invoice(
    row: ImportRow,
    existing: Any,
    options: ImportOptions,
    plan: _Plan,
    summary: ImportSummary,
    warnings: list[RowIssue],
) -> None:
    if row.amount != existing.amount:
        warnings.append(RowIssue(
            row=row.row, column=None, code="amount_changed", value=f"{row.amount:.2f}",
            message=f"el valor original registrado es {existing.amount:.2f}; no se reescribe",
        ))  # fmt: skip
    changes: dict[str, date] = {}
    if row.due_date != existing.due_date:
        changes["due_date"] = row.due_date
    if row.issue_date is not None and row.issue_date != existing.issue_date:
        changes["issue_date"] = row.issue_date
    if changes:
        plan.invoice_changes.append({"id": existing.id, **changes})
        plan.invoice_clients.add(existing.client_id)
        summary.invoices_updated += 1
    difference = row.balance - existing.balance if row.balance is not None else Decimal("0.00")
    if difference:
        reason = (
            f"Saldo según importación de {options.filename}: "
            f"{existing.balance:.2f} → {row.balance:.2f}"
        )
        plan.posting.adjust(
            client_id=existing.client_id,
            invoice_id=existing.id,
            cents=_cents(difference),
            effective_date=options.as_of,
            reason=reason,
        )
    elif not changes:
        summary.invoices_unchanged += 1


def _write(session: Session, plan: _Plan, options: ImportOptions, summary: ImportSummary) -> None:
    batch = ImportBatch(filename=options.filename[:300], sha256=options.sha256,
                        user_id=options.user_id, summary={})  # fmt: skip
    session.add(batch)
    session.flush()
    summary.batch_id = batch.id
    posting = plan.posting
    if plan.new_clients:
        for client in plan.new_clients:
            client["balance"] = from_cents(posting.take_new_client_balance(client["id"]))
        session.execute(insert(_table(Client)), plan.new_clients)
    if plan.new_invoices:
        bulk_insert(session, _table(Invoice), _INVOICE_COLUMNS, plan.new_invoices,
                    {"created_at": utcnow()})  # fmt: skip
    if plan.client_changes:
        session.execute(update(Client), plan.client_changes)
    if plan.invoice_changes:
        session.execute(update(Invoice), plan.invoice_changes)
    changed = {c["id"] for c in plan.client_changes} | plan.invoice_clients
    affected = changed | {c["id"] for c in plan.new_clients} | set(posting.client_deltas)
    write_posting(
        session,
        posting,
        source="import",
        import_batch_id=batch.id,
        created_by=options.user_id,
        recorded_at=utcnow(),
        touched_clients=changed,
    )
    audit: list[dict[str, Any]] = [{
        "actor_id": options.user_id, "action": "client.assigned", "entity": "client",
        "entity_id": str(a["client_id"]),
        "details": {"from": _str(a["from"]), "to": _str(a["to"]), "import_batch_id": str(batch.id)},
    } for a in plan.assignments]  # fmt: skip
    audit.append({
        "actor_id": options.user_id, "action": "ledger.imported", "entity": "import_batch",
        "entity_id": str(batch.id),
        "details": {"filename": options.filename, "sha256": options.sha256,
                    "imported_by": options.imported_by, "rows_imported": summary.rows_imported,
                    "adjustments_net": f"{summary.adjustments_net:.2f}"},
    })  # fmt: skip
    session.execute(insert(_table(AuditLog)), audit)
    # Last, so the server_seq counter stays locked only until the commit that follows.
    change_log.clients_removed(
        session, [(a["client_id"], a["from"]) for a in plan.assignments if a["from"] is not None]
    )
    change_log.clients_put(session, [(cid, plan.owners[cid]) for cid in sorted(affected)])
    summary.written = True
    batch.summary = summary.model_dump(mode="json")
    session.flush()


def _table(model: type[Base]) -> Table:
    # Core inserts: the ORM's bulk path costs more than the database for 100,000 plain rows.
    return cast(Table, model.__table__)


def _cents(amount: Decimal) -> int:
    return int(amount.scaleb(2))  # amounts here have two decimals: exact


def _str(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)

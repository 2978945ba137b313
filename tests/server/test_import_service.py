"""The ledger import against a real database (SQLite and PostgreSQL): what it writes, what it
refuses, and that the ledger's projections always equal the sums of their entries."""

from __future__ import annotations

import gc
import uuid
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import AuditLog, Client, ImportBatch, Invoice, LedgerEntry
from server.repositories.ledger import recomputed_client_balances, recomputed_invoice_balances
from server.services.ledger_import.ids import TimeOrderedIds
from server.services.ledger_import.service import (
    NEW_INVOICE_REASON,
    ImportOptions,
    import_records,
    run_import,
)
from server.services.ledger_import.summary import ImportSummary
from shared.errors import InvalidInput

AS_OF = date(2026, 11, 23)
HEADER = "codigo_cliente;nombre_cliente;factura;fecha_vencimiento;valor;saldo"


def write_csv(folder: Path, lines: Sequence[str], *, encoding: str = "utf-8") -> Path:
    path = folder / f"cartera-{uuid.uuid4().hex[:6]}.csv"
    path.write_bytes("\r\n".join(lines).encode(encoding))
    return path


def write_xlsx(folder: Path, rows: Sequence[Sequence[object]]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    path = folder / f"cartera-{uuid.uuid4().hex[:6]}.xlsx"
    workbook.save(path)
    return path


def do_import(session: Session, path: Path, **options: object) -> ImportSummary:
    summary = run_import(session, path, as_of=AS_OF, **options)  # type: ignore[arg-type]
    session.commit()
    return summary


def assert_projections_match_entries(session: Session) -> None:
    clients = recomputed_client_balances(session)
    for client_id, balance in session.execute(select(Client.id, Client.balance)):
        assert balance == clients.get(client_id, Decimal("0.00"))
    invoices = recomputed_invoice_balances(session)
    for invoice_id, balance in session.execute(select(Invoice.id, Invoice.balance)):
        assert balance == invoices.get(invoice_id, Decimal("0.00"))


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def invoice(session: Session, number: str) -> Invoice:
    found = session.scalar(select(Invoice).where(Invoice.number == number))
    assert found is not None
    return found


def test_new_invoices_charge_the_amount_and_adjust_to_the_balance(
    session: Session, tmp_path: Path
) -> None:
    path = write_csv(tmp_path, [
        HEADER,
        "C-1;Clínica San Rafael S.A.S.;FE-1;15/03/2025;$ 1.234.567,89;1.000.000",
        "C-1;Clínica San Rafael S.A.S.;FE-2;2025-04-01;500000;",
    ])  # fmt: skip
    summary = do_import(session, path)
    assert (summary.rows_read, summary.clients_created, summary.invoices_created) == (2, 1, 2)
    assert (summary.charges_posted, summary.adjustments_posted) == (2, 1)
    assert summary.adjustments_net == Decimal("-234567.89")  # 1,000,000.00 - 1,234,567.89
    assert summary.written and not summary.rejected
    fe1 = invoice(session, "FE-1")
    assert (fe1.amount, fe1.balance) == (Decimal("1234567.89"), Decimal("1000000.00"))
    assert invoice(session, "FE-2").balance == Decimal("500000.00")  # balance defaults to amount
    client = session.scalar(select(Client).where(Client.code == "C-1"))
    assert client is not None and client.balance == Decimal("1500000.00")
    assert client.segment == "particular" and client.name == "Clínica San Rafael S.A.S."
    entries = session.scalars(select(LedgerEntry).where(LedgerEntry.client_id == client.id)).all()
    assert sorted((e.kind, e.amount) for e in entries) == [
        ("adjustment", Decimal("-234567.89")),
        ("charge", Decimal("500000.00")),
        ("charge", Decimal("1234567.89")),
    ]
    assert all(e.source == "import" and e.import_batch_id == summary.batch_id for e in entries)
    adjustment = next(e for e in entries if e.kind == "adjustment")
    assert adjustment.reason == NEW_INVOICE_REASON and adjustment.effective_date == AS_OF
    batch = session.get(ImportBatch, summary.batch_id)
    assert batch is not None and batch.summary["invoices_created"] == 2
    assert_projections_match_entries(session)


def test_same_file_twice_changes_nothing(session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path, [HEADER, "C-2;Ana;FE-10;15/03/2025;1000;400"])
    first = do_import(session, path)
    entries = count(session, LedgerEntry)
    second = do_import(session, path)
    assert (second.invoices_created, second.adjustments_posted, second.clients_updated) == (0, 0, 0)
    assert second.invoices_unchanged == 1
    assert second.same_file_as_batch == first.batch_id
    assert count(session, LedgerEntry) == entries
    assert invoice(session, "FE-10").balance == Decimal("400.00")


def test_changed_balance_posts_one_adjustment_of_the_difference(
    session: Session, tmp_path: Path
) -> None:
    do_import(session, write_csv(tmp_path, [HEADER, "C-3;Ana;FE-20;15/03/2025;1000;1000"]))
    summary = do_import(session, write_csv(tmp_path, [HEADER, "C-3;Ana;FE-20;15/03/2025;1000;650"]))
    assert (summary.adjustments_posted, summary.adjustments_net) == (1, Decimal("-350.00"))
    fe = invoice(session, "FE-20")
    assert fe.balance == Decimal("650.00") and fe.amount == Decimal("1000.00")
    history = session.scalars(
        select(LedgerEntry.amount).where(LedgerEntry.client_id == fe.client_id)
    ).all()
    assert sorted(history) == [Decimal("-350.00"), Decimal("1000.00")]  # the charge is untouched
    # A balance going back up is an adjustment too (e.g. a payment the ERP reversed).
    up = do_import(session, write_csv(tmp_path, [HEADER, "C-3;Ana;FE-20;15/03/2025;1000;700"]))
    assert up.adjustments_net == Decimal("50.00")
    assert_projections_match_entries(session)


def test_without_a_balance_column_existing_balances_are_left_alone(
    session: Session, tmp_path: Path
) -> None:
    do_import(session, write_csv(tmp_path, [HEADER, "C-4;Ana;FE-30;15/03/2025;1000;300"]))
    lines = ["codigo_cliente;nombre_cliente;factura;fecha_vencimiento;valor",
             "C-4;Ana;FE-30;15/03/2025;1000"]  # fmt: skip
    summary = do_import(session, write_csv(tmp_path, lines))
    assert summary.adjustments_posted == 0
    assert invoice(session, "FE-30").balance == Decimal("300.00")


def test_changed_amount_is_a_warning_and_not_rewritten(session: Session, tmp_path: Path) -> None:
    do_import(session, write_csv(tmp_path, [HEADER, "C-5;Ana;FE-40;15/03/2025;1000;1000"]))
    summary = do_import(session, write_csv(tmp_path, [HEADER, "C-5;Ana;FE-40;15/03/2025;1200;"]))
    assert [w.code for w in summary.warnings] == ["amount_changed"]
    assert summary.warnings[0].row == 2
    assert invoice(session, "FE-40").amount == Decimal("1000.00")


def test_master_data_is_updated_but_blank_cells_erase_nothing(
    session: Session, tmp_path: Path, make_user: Callable[..., object]
) -> None:
    gestor = make_user("collector", username="gestor-a").user  # type: ignore[attr-defined]
    make_user("collector", username="gestor-b")
    header = (
        "codigo_cliente,nombre_cliente,direccion,segmento,gestor,factura,fecha_vencimiento,valor"
    )
    do_import(session, write_csv(tmp_path, [
        header, "C-6,Ana,Cra 7 # 45-10,Entidad Externa,gestor-a,FE-50,15/03/2025,1000",
    ]))  # fmt: skip
    client = session.scalar(select(Client).where(Client.code == "C-6"))
    assert client is not None
    assert (client.segment, client.collector_id) == ("entidad_externa", gestor.id)
    summary = do_import(session, write_csv(tmp_path, [
        header, "C-6,Ana María,,,,FE-50,15/03/2025,1000",
    ]))  # fmt: skip
    assert summary.clients_updated == 1
    session.expire_all()
    client = session.get(Client, client.id)
    assert client is not None and client.name == "Ana María"
    assert (client.address, client.collector_id) == ("Cra 7 # 45-10", gestor.id)
    do_import(
        session, write_csv(tmp_path, [header, "C-6,Ana María,,,gestor-b,FE-50,15/03/2025,1000"])
    )
    session.expire_all()
    moved = session.get(Client, client.id)
    assert moved is not None and moved.collector_id != gestor.id
    audit = session.scalars(select(AuditLog).where(AuditLog.action == "client.assigned")).all()
    assert [a.details["from"] for a in audit][-1] == str(gestor.id)


def test_bad_rows_reject_the_whole_file(session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path, [
        HEADER,
        "C-7;Ana;FE-60;15/03/2025;1000;",
        "C-7;Ana;FE-61;31/02/2025;1000;",
        "C-8;Bo;FE-62;15/03/2025;-5;",
        "C-8;Bo;FE-63;15/03/2025;99999999999999999999;",
        "C-8;Bo;FE-64;15/03/2025;100;200",
        "C-8;Bo;FE-60;15/03/2025;100;",
        ";Bo;FE-65;15/03/2025;1.23.4;",
    ])  # fmt: skip
    before = count(session, LedgerEntry)
    summary = do_import(session, path)
    assert summary.rejected and not summary.written and summary.batch_id is None
    assert count(session, LedgerEntry) == before and count(session, ImportBatch) == 0
    assert [(e.row, e.column, e.code) for e in summary.errors] == [
        (3, "fecha_vencimiento", "invalid_date"),
        (4, "valor", "amount_not_positive"),
        (5, "valor", "amount_out_of_range"),
        (6, "saldo", "balance_exceeds_amount"),
        (7, "factura", "duplicate_invoice"),
        (8, "codigo_cliente", "missing_value"),
        (8, "valor", "invalid_amount"),
    ]
    assert summary.rows_skipped == 6 and summary.error_count == 7
    assert summary.errors[0].value == "31/02/2025"


def test_skip_bad_rows_imports_the_good_ones(session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path, [
        HEADER, "C-9;Ana;FE-70;15/03/2025;1000;", "C-9;Ana;FE-71;15/03/2025;abc;",
    ])  # fmt: skip
    summary = do_import(session, path, skip_bad_rows=True)
    assert summary.written and not summary.rejected
    assert (summary.rows_imported, summary.rows_skipped, summary.invoices_created) == (1, 1, 1)
    assert session.scalar(select(Invoice.id).where(Invoice.number == "FE-71")) is None


def test_dry_run_writes_nothing_and_reports_the_plan(session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path, [HEADER, "C-10;Ana;FE-80;15/03/2025;1000;250"])
    summary = do_import(session, path, dry_run=True)
    assert summary.dry_run and not summary.written and summary.batch_id is None
    assert (summary.invoices_created, summary.adjustments_net) == (1, Decimal("-750.00"))
    assert count(session, Client) == 0 and count(session, LedgerEntry) == 0
    assert count(session, ImportBatch) == 0


def test_invoice_of_another_client_is_a_row_error(session: Session, tmp_path: Path) -> None:
    do_import(session, write_csv(tmp_path, [HEADER, "C-11;Ana;FE-90;15/03/2025;1000;"]))
    summary = do_import(session, write_csv(tmp_path, [HEADER, "C-12;Bo;FE-90;15/03/2025;1000;"]))
    assert [(e.row, e.code) for e in summary.errors] == [(2, "invoice_belongs_to_other_client")]
    assert "C-11" in summary.errors[0].message
    assert summary.rejected


def test_unknown_or_non_collector_user_is_a_row_error(
    session: Session, tmp_path: Path, make_user: Callable[..., object]
) -> None:
    make_user("supervisor", username="jefa")
    lines = [
        "codigo_cliente,nombre_cliente,factura,fecha_vencimiento,valor,gestor",
        "C-13,Ana,FE-100,15/03/2025,1000,nadie",
        "C-14,Bo,FE-101,15/03/2025,1000,jefa",
    ]
    summary = do_import(session, write_csv(tmp_path, lines))
    assert [(e.row, e.column, e.code) for e in summary.errors] == [
        (2, "gestor", "unknown_collector"),
        (3, "gestor", "unknown_collector"),
    ]


def test_missing_required_column_is_a_file_error(session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path, ["codigo_cliente;nombre;factura;valor", "C-1;Ana;FE-1;100"])
    with pytest.raises(InvalidInput) as info:
        do_import(session, path)
    assert info.value.code == "missing_columns"
    assert info.value.details["missing"] == ["nombre_cliente", "fecha_vencimiento"]
    assert count(session, ImportBatch) == 0


def test_injection_looking_text_is_stored_verbatim(session: Session, tmp_path: Path) -> None:
    name = "Robert'); DROP TABLE client;-- <script>alert(1)</script>"
    formula = '=HYPERLINK("http://x")'
    quoted = formula.replace('"', '""')
    path = write_csv(tmp_path, [
        "codigo_cliente,nombre_cliente,direccion,factura,fecha_vencimiento,valor",
        f'C-15,"{name}","{quoted}",FE-110,15/03/2025,1000',
    ])  # fmt: skip
    do_import(session, path)
    client = session.scalar(select(Client).where(Client.code == "C-15"))
    assert client is not None and (client.name, client.address) == (name, formula)


def test_records_import_matches_the_file_import(session: Session) -> None:
    records = [{"codigo_cliente": "C-16", "nombre_cliente": "Ana", "factura": "FE-120",
                "fecha_vencimiento": "15/03/2025", "valor": "1.000", "saldo": "0"}]  # fmt: skip
    options = ImportOptions(filename="escenario", sha256="0" * 64, as_of=AS_OF)
    summary = import_records(session, records, options)
    assert (summary.invoices_created, summary.adjustments_net) == (1, Decimal("-1000.00"))
    assert invoice(session, "FE-120").balance == Decimal("0.00")


def test_xlsx_with_formulas_merged_cells_and_dates(session: Session, tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Cartera a noviembre"])  # a title line above the header
    sheet.append(["Código Cliente", "Nombre Cliente", "Factura", "Fecha Vencimiento", "Valor",
                  "Saldo"])  # fmt: skip
    sheet.append(["C-17", "Ana", "FE-130", date(2025, 3, 15), 1000, 600])
    sheet.append([None, None, "FE-131", 45731, 2000.5, None])
    sheet.merge_cells("A3:A4")
    sheet.merge_cells("B3:B4")
    path = tmp_path / "cartera.xlsx"
    workbook.save(path)
    summary = do_import(session, path)
    assert (summary.error_count, summary.invoices_created, summary.clients_created) == (0, 2, 1)
    fe131 = invoice(session, "FE-131")
    assert (fe131.due_date, fe131.amount) == (date(2025, 3, 15), Decimal("2000.50"))
    assert_projections_match_entries(session)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rounds=st.lists(
        st.lists(
            st.tuples(
                st.integers(0, 3),  # client
                st.integers(0, 5),  # invoice
                st.integers(1, 10_000),  # amount in pesos
                st.one_of(st.none(), st.integers(0, 100)),  # balance as % of amount, or absent
            ),
            min_size=1,
            max_size=8,
        ),
        min_size=1,
        max_size=4,
    )
)
def test_projections_equal_entries_after_any_sequence_of_imports(
    session: Session, rounds: list[list[tuple[int, int, int, int | None]]]
) -> None:
    """Whatever sequence of files arrives (balances up or down, duplicates, changed amounts, bad
    rows skipped), every client balance is the sum of its entries and every invoice balance the
    sum of its allocations; and the last import's balances are what the ledger holds."""
    run = uuid.uuid4().hex[:8]
    owner: dict[int, int] = {}
    for records_spec in rounds:
        records = []
        expected: dict[str, Decimal] = {}
        for client, number, pesos, percent in records_spec:
            # An invoice keeps its first client, so later rounds never hit the other-client rule.
            client = owner.setdefault(number, client)
            amount = Decimal(pesos)
            balance = None if percent is None else (amount * percent / 100).quantize(Decimal("1"))
            records.append({
                "codigo_cliente": f"{run}-C{client}", "nombre_cliente": f"Cliente {client}",
                "factura": f"{run}-F{number}", "fecha_vencimiento": "15/03/2025",
                "valor": str(amount), "saldo": "" if balance is None else str(balance),
            })  # fmt: skip
        options = ImportOptions(filename="prop", sha256="1" * 64, as_of=AS_OF, skip_bad_rows=True)
        import_records(session, records, options)
        session.commit()
        seen: set[str] = set()
        for record in records:
            if record["factura"] in seen:
                continue  # the later duplicate was refused
            seen.add(record["factura"])
            if record["saldo"]:
                expected[record["factura"]] = Decimal(record["saldo"])
        for factura, balance in expected.items():
            assert invoice(session, factura).balance == balance
        assert_projections_match_entries(session)


def test_bulk_written_rows_read_back_through_the_orm(session: Session, tmp_path: Path) -> None:
    """Rows written by the bulk path (cents, driver-level inserts or COPY) read back like rows
    written by the ORM: Decimal amounts, dates, aware datetimes, time-ordered ids."""
    path = write_xlsx(tmp_path, [
        ["codigo_cliente", "nombre_cliente", "factura", "fecha_emision", "fecha_vencimiento",
         "valor", "saldo"],
        ["C-30", "Ana", "FE-300", date(2025, 2, 1), date(2025, 3, 15), 1234.56, "1.000,01"],
        ["C-30", "Ana", "FE-301", None, "15/04/2025", "99,99", None],
    ])  # fmt: skip
    summary = do_import(session, path)
    session.expire_all()
    fe300, fe301 = invoice(session, "FE-300"), invoice(session, "FE-301")
    assert (fe300.amount, fe300.balance) == (Decimal("1234.56"), Decimal("1000.01"))
    assert (fe300.issue_date, fe300.due_date) == (date(2025, 2, 1), date(2025, 3, 15))
    assert (fe301.issue_date, fe301.balance) == (None, Decimal("99.99"))
    assert fe300.created_at.tzinfo is not None and fe300.id < fe301.id  # UUIDv7, file order
    entries = session.scalars(select(LedgerEntry).order_by(LedgerEntry.id)).all()
    assert [(e.kind, e.amount, e.effective_date) for e in entries] == [
        ("charge", Decimal("1234.56"), date(2025, 2, 1)),  # charged on the issue date
        ("adjustment", Decimal("-234.55"), AS_OF),  # 1,000.01 - 1,234.56
        ("charge", Decimal("99.99"), date(2025, 4, 15)),  # no issue date: the due date
    ]
    assert all(e.recorded_at.tzinfo is not None and e.id.version == 7 for e in entries)
    assert all(e.import_batch_id == summary.batch_id and e.source == "import" for e in entries)
    client = session.scalar(select(Client).where(Client.code == "C-30"))
    assert client is not None and client.balance == Decimal("1100.00")  # 1,000.01 + 99.99
    assert_projections_match_entries(session)


def test_time_ordered_ids() -> None:
    ids = TimeOrderedIds()
    made = [ids.next() for _ in range(1000)]
    assert made == sorted(made) and len(set(made)) == 1000
    assert {(u.version, u.variant) for u in made} == {(7, uuid.RFC_4122)}
    assert uuid.UUID(str(made[0])) == made[0] and hash(made[0]) == hash(uuid.UUID(int=made[0].int))
    now_ms = 1_795_000_000_000
    assert TimeOrderedIds(now_ms).next().int >> 80 == now_ms  # the first 48 bits: Unix ms
    assert TimeOrderedIds(now_ms).next() != TimeOrderedIds(now_ms).next()  # random counters


def test_the_garbage_collector_is_restored_even_after_an_error(
    session: Session, tmp_path: Path
) -> None:
    assert gc.isenabled()
    with pytest.raises(InvalidInput):
        do_import(session, write_csv(tmp_path, ["nada;que;ver", "1;2;3"]))
    assert gc.isenabled()
    gc.disable()
    try:
        do_import(session, write_csv(tmp_path, [HEADER, "C-31;Ana;FE-310;15/03/2025;1000;"]))
        assert not gc.isenabled()  # it was off before: left off
    finally:
        gc.enable()

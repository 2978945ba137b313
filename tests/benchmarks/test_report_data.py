"""The report benchmark's data generator (benchmarks/report_data.py), on a tiny shape: the rows it
COPYs are the ones the app would have written (ledger projections add up, payments follow their
visits and are allocated oldest due first, flags are stored in their canonical form), the keys
and indexes it drops during the load come back, and a complete database is kept, not rebuilt."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, timedelta

import pytest
import sqlalchemy as sa

from benchmarks.report_data import EFFECTIVE, NOT_EFFECTIVE, Shape, ensure
from server.db import migrate
from shared.visits import EFFECTIVE_OUTCOMES, join_flags, split_flags
from sync.protocol import VISIT_OUTCOMES
from tests.pg import fresh_database, require_postgres, worker_database_name

pytestmark = pytest.mark.postgres

TINY = Shape(collectors=3, weeks=6, last_week="2025-W47", clients_per_collector=6, seed=11)


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    base = require_postgres()
    with fresh_database(base, worker_database_name(base, "report_data")) as db_url:
        yield db_url


@pytest.fixture(scope="module")
def engine(url: str) -> Iterator[sa.Engine]:
    generated = ensure(url, TINY, log=lambda _: None)
    assert generated.generated
    engine = sa.create_engine(url)
    yield engine
    engine.dispose()


def scalar(engine: sa.Engine, sql: str) -> object:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql)).scalar_one()


def test_outcomes_are_the_protocols_split_as_the_weekly_counts_do() -> None:
    assert set(EFFECTIVE) == EFFECTIVE_OUTCOMES
    assert sorted((*EFFECTIVE, *NOT_EFFECTIVE)) == sorted(VISIT_OUTCOMES)


def test_counts_match_the_shape(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        users = conn.execute(sa.text("SELECT role, count(*) FROM app_user GROUP BY role")).all()
        clients = conn.execute(sa.text("SELECT count(*) FROM client")).scalar_one()
        visits = conn.execute(sa.text("SELECT count(*) FROM visit")).scalar_one()
    assert dict(users) == {"collector": 3, "supervisor": 1}
    assert clients == 18
    assert visits > 0


def test_every_entry_is_allocated_exactly(engine: sa.Engine) -> None:
    assert scalar(
        engine,
        "SELECT count(*) FROM ledger_entry e WHERE e.amount <>"
        " (SELECT coalesce(sum(a.amount), 0) FROM ledger_allocation a WHERE a.entry_id = e.id)",
    ) == 0  # fmt: skip


def test_projections_are_the_sums_of_the_entries(engine: sa.Engine) -> None:
    assert scalar(
        engine,
        "SELECT count(*) FROM invoice i WHERE i.balance <>"
        " (SELECT coalesce(sum(a.amount), 0) FROM ledger_allocation a WHERE a.invoice_id = i.id)",
    ) == 0  # fmt: skip
    assert scalar(
        engine,
        "SELECT count(*) FROM client c WHERE c.balance <>"
        " (SELECT coalesce(sum(e.amount), 0) FROM ledger_entry e WHERE e.client_id = c.id)",
    ) == 0  # fmt: skip


def test_one_payment_per_payment_visit_by_the_clients_collector(engine: sa.Engine) -> None:
    """On the visit's business day, except a visit from a skewed clock (its day is the clock's;
    the payment's is the day it was received)."""
    with engine.connect() as conn:
        visits = conn.execute(
            sa.text(
                "SELECT user_id, client_id, business_date, flags LIKE '%clock%' FROM visit"
                " WHERE outcome = 'payment'"
            )
        ).all()
        payments = conn.execute(
            sa.text(
                "SELECT e.created_by, e.client_id, e.effective_date FROM ledger_entry e"
                " JOIN client c ON c.id = e.client_id AND c.collector_id = e.created_by"
                " WHERE e.kind = 'payment' AND e.source = 'sync' AND e.event_id IS NOT NULL"
                " AND e.amount < 0"
            )
        ).all()
        all_payments = conn.execute(
            sa.text("SELECT count(*) FROM ledger_entry WHERE kind = 'payment'")
        ).scalar_one()
    assert all_payments == len(payments) == len(visits) > 0
    assert Counter((who, client) for who, client, _, _ in visits) == Counter(
        (who, client) for who, client, _ in payments
    )
    on_time = Counter((who, client, day) for who, client, day, skewed in visits if not skewed)
    paid = Counter(payments)
    assert all(paid[key] >= n for key, n in on_time.items())


def test_payments_are_allocated_oldest_due_first_and_credit_last(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT a.entry_id, i.due_date FROM ledger_allocation a"
                " JOIN ledger_entry e ON e.id = a.entry_id"
                " LEFT JOIN invoice i ON i.id = a.invoice_id"
                " WHERE e.kind = 'payment' ORDER BY a.entry_id, a.id"
            )
        ).all()
    by_entry: dict[object, list[date | None]] = {}
    for entry_id, due in rows:
        by_entry.setdefault(entry_id, []).append(due)
    for dues in by_entry.values():
        known = [d for d in dues if d is not None]
        assert known == sorted(known)
        assert None not in dues[:-1]  # the client's credit is only ever the remainder


def test_reversals_undo_their_payment_allocation_by_allocation(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        mismatched = conn.execute(
            sa.text(
                "SELECT count(*) FROM ledger_entry r JOIN ledger_entry p ON p.id = r.reverses_id"
                " WHERE r.kind = 'reversal' AND (p.kind <> 'payment' OR r.amount <> -p.amount"
                " OR r.created_by <> p.created_by OR r.effective_date < p.effective_date"
                " OR (SELECT array_agg((a.invoice_id, -a.amount) ORDER BY a.id)"
                "     FROM ledger_allocation a WHERE a.entry_id = r.id)"
                " <> (SELECT array_agg((a.invoice_id, a.amount) ORDER BY a.id)"
                "     FROM ledger_allocation a WHERE a.entry_id = p.id))"
            )
        ).scalar_one()
    assert mismatched == 0


def test_visits_carry_canonical_flags_and_a_consistent_verdict(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT v.flags, v.verified, v.lat IS NULL, c.lat IS NULL, v.business_date,"
                " v.device_time FROM visit v JOIN client c ON c.id = v.client_id"
            )
        ).all()
    tz_offset = timedelta(hours=-5)  # Bogotá
    for flags, verified, no_fix, unknown, business, device_time in rows:
        names = split_flags(flags)
        assert flags == join_flags(names)
        assert ("no_fix" in names) == no_fix
        assert ("client_location_unknown" in names) == unknown
        spoiling = {"far_from_client", "poor_accuracy", "no_fix", "client_location_unknown"}
        assert verified == spoiling.isdisjoint(names)
        local_day = (device_time.astimezone(UTC) + tz_offset).date()
        assert business == local_day
        if "clock_behind" not in names:
            assert TINY.first_monday <= business <= TINY.last_sunday
            assert business.weekday() != 6  # nobody works on Sunday


def test_keys_and_indexes_come_back_as_the_migrations_made_them(
    url: str, engine: sa.Engine
) -> None:
    migrate.check(url)  # the models and the database agree (indexes, uniques, foreign keys)
    with engine.connect() as conn:
        invalid = conn.execute(
            sa.text("SELECT count(*) FROM pg_constraint WHERE NOT convalidated")
        ).scalar_one()
    assert invalid == 0


def test_a_complete_database_is_kept_and_a_new_shape_regenerates() -> None:
    base = require_postgres()
    shape = Shape(collectors=1, weeks=3, last_week="2025-W47", clients_per_collector=2)
    with fresh_database(base, worker_database_name(base, "report_data_keep")) as url:
        first = ensure(url, shape, log=lambda _: None)
        assert first.generated
        engine = sa.create_engine(url)
        try:
            made_at = scalar(engine, "SELECT generated_at FROM bench.report_data")
            kept = ensure(url, shape, log=lambda _: None)
            assert not kept.generated and kept.counts == first.counts
            assert scalar(engine, "SELECT generated_at FROM bench.report_data") == made_at
        finally:
            engine.dispose()  # a regeneration drops the database
        remade = ensure(url, replace(shape, collectors=2), log=lambda _: None)
        assert remade.generated and remade.counts["collectors"] == 2

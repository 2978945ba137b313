"""Mi semana's commission estimate from the phone's own data, worked by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from mobile.services.portfolio import load_clients, load_events
from mobile.services.recording import record_payment, record_visit, void_payment
from mobile.state.week import WeekSummary, week_summary
from shared.commissions import CommissionRules, parse_rules
from tests.mobile.conftest import MORNING
from tests.mobile.test_state_clients import add_client

TZ = "America/Bogota"


def _week(db: sessionmaker[Session], rules: CommissionRules | None = None) -> WeekSummary:
    return week_summary(load_events(db), now=MORNING, tz=TZ, records=load_clients(db), rules=rules)


def _pay(db: sessionmaker[Session], client: str, amount: int, at: datetime, *chosen: str) -> str:
    receipt = record_payment(
        db,
        client_id=client,
        amount=Decimal(amount),
        method="cash",
        now=at,
        invoice_numbers=chosen or None,
    )
    return receipt.event_id


def test_the_estimate_allocates_oldest_due_first_at_the_bucket_of_the_day_of_payment(
    db: sessionmaker[Session],
) -> None:
    # Monday 23/11/2026. Each invoice has a balance of $ 10.000.
    # Ana: F-0 200 days late (5 %), F-1 45 days (2 %), F-2 due in 5 days (0,5 %).
    ana = add_client(db, "Ana", "30000", overdue_days=(200, 45, -5))
    # 15.000: F-0 10.000 x 5 % = 500, F-1 5.000 x 2 % = 100.
    _pay(db, ana, 15000, MORNING)
    # 12.000 an hour later sees what is left: F-1 5.000 x 2 % = 100, F-2 7.000 x 0,5 % = 35.
    _pay(db, ana, 12000, MORNING + timedelta(hours=1))
    # Voided the same day, and one of last week: neither counts.
    voided = _pay(db, ana, 20000, MORNING + timedelta(hours=2))
    void_payment(
        db, payment_event_id=voided, reason="error", now=MORNING + timedelta(hours=3), tz=TZ
    )
    _pay(db, ana, 50000, MORNING - timedelta(days=3))
    # Beto: F-0 100 days late (4 %), F-1 10 days (1 %); the collector chose F-1: 10.000 x 1 % = 100.
    beto = add_client(db, "Beto", "20000", overdue_days=(100, 10))
    _pay(db, beto, 10000, MORNING, "F-1")
    # Caro: F-0 due 30/10. Paid Sunday 29/11 at 22:00 in Bogotá (03:00 UTC on the 30th): 30 days
    # late on the business day, so 1_30 at 1 % = 100 (the UTC date would make it 31_60, 200).
    # Then 10.000 more, after she owes nothing: 10.000 goes to credit and earns nothing.
    caro = add_client(db, "Caro", "10000", overdue_days=(24,))
    _pay(db, caro, 10000, datetime(2026, 11, 30, 3, 0, tzinfo=UTC))
    _pay(db, caro, 10000, datetime(2026, 11, 30, 3, 5, tzinfo=UTC))

    week = _week(db)
    by_payment = [(x.invoice, x.bucket, x.amount, x.commission) for x in week.commission.lines]
    assert sorted(by_payment, key=str) == sorted(
        [
            ("F-0", "mas_180", Decimal("10000.00"), Decimal("500.00")),
            ("F-1", "31_60", Decimal("5000.00"), Decimal("100.00")),
            ("F-1", "31_60", Decimal("5000.00"), Decimal("100.00")),
            ("F-2", "al_dia", Decimal("7000.00"), Decimal("35.00")),
            ("F-1", "1_30", Decimal("10000.00"), Decimal("100.00")),
            ("F-0", "1_30", Decimal("10000.00"), Decimal("100.00")),
            (None, None, Decimal("10000.00"), Decimal("0.00")),
        ],
        key=str,
    )
    assert week.commission.lines_total == Decimal("935.00")
    assert (week.commission.bonus, week.commission.total) == (Decimal("0.00"), Decimal("935.00"))
    assert week.commission.version == "2026-1"
    assert week.collected == Decimal("57000.00")  # 15 + 12 + 10 + 10 + 10 thousand, no void


def test_the_bonus_comes_when_the_weeks_effective_contacts_reach_the_target(
    db: sessionmaker[Session],
) -> None:
    rules = parse_rules(
        {
            "version": "t-1",
            "aging": {"edges": [30]},
            "rates": {"al_dia": "1", "1_30": "1", "mas_30": "1"},
            "bonus": {"effective_contacts": 2, "amount": "50000"},
        }
    )
    client = add_client(db, "Dora", "10000", overdue_days=(5,))
    record_visit(db, client_id=client, outcome="contacted", now=MORNING)
    record_visit(db, client_id=client, outcome="not_found", now=MORNING + timedelta(hours=1))
    record_visit(db, client_id=client, outcome="contacted", now=MORNING - timedelta(days=7))
    one = _week(db, rules=rules)
    assert (one.effective_contacts, one.commission.bonus) == (1, Decimal("0.00"))
    record_visit(db, client_id=client, outcome="payment", now=MORNING + timedelta(hours=2))
    _pay(db, client, 1000, MORNING + timedelta(hours=2))  # 1.000 x 1 % = 10
    two = _week(db, rules=rules)
    assert (two.effective_contacts, two.commission.bonus) == (2, Decimal("50000.00"))
    assert two.commission.total == Decimal("50010.00")
    assert two.commission.version == "t-1"

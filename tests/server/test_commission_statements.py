"""Commission statements (services/commission_statements.py) over the worked example of
tests/server/commission_world.py, whose docstring computes every figure by hand."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy.orm import Session

from server.services import ledger
from server.services.commission_statements import (
    Statement,
    load_commission_rules,
    period_weeks,
    statements,
)
from server.settings import Settings
from shared.calendar import IsoWeek
from shared.errors import InvalidInput
from tests.server.commission_world import World, build
from tests.server.sync_helpers import invoice, payment, push, register_phone, statuses

NOV = (date(2026, 11, 1), date(2026, 11, 30))
DEC = (date(2026, 12, 1), date(2026, 12, 31))


@pytest.fixture
def world(
    client: TestClient, session: Session, clock: Any, make_user: Any, make_client: Any
) -> World:
    return build(client, session, clock, make_user, make_client)


def _of(found: list[Statement], who: Any) -> Statement:
    (statement,) = [s for s in found if s.collector_id == who.user.id]
    return statement


def _lines(statement: Statement) -> list[tuple[Any, ...]]:
    return [
        (ln.kind, ln.day, ln.invoice, ln.amount, ln.bucket, ln.percent, ln.commission)
        for ln in statement.lines
    ]  # fmt: skip


def test_november_statement_of_ana(session: Session, world: World) -> None:
    ana = _of(statements(session, *NOV), world.ana)
    assert _lines(ana) == [
        ("payment", date(2026, 11, 10), "FA-1", D("500000.00"), "31_60", D(2), D("10000.00")),
        ("payment", date(2026, 11, 10), "FA-2", D("100000.00"), "al_dia", D("0.5"), D("500.00")),
        ("payment", date(2026, 11, 12), "FB-1", D("200000.00"), "91_180", D(4), D("8000.00")),
        ("payment", date(2026, 11, 12), None, D("50000.00"), None, D(0), D("0.00")),
        ("payment", date(2026, 11, 20), "FA-2", D("33333.00"), "al_dia", D("0.5"), D("166.67")),
    ]  # fmt: skip
    assert (ana.payments, ana.collected, ana.reversals, ana.reversed) == (
        3, D("883333.00"), 0, D("0.00"),
    )  # fmt: skip
    assert (ana.commission, ana.bonus, ana.total) == (
        D("18666.67"), D("100000.00"), D("118666.67"),
    )  # fmt: skip
    assert ana.rule_version == "2026-1"
    assert [ln.client_code for ln in ana.lines] == ["C-A", "C-A", "C-B", "C-B", "C-A"]
    assert all(ln.receipt.startswith("K7Q-") for ln in ana.lines)
    assert all(ln.held is None for ln in ana.lines)
    weeks = [(w.week, w.effective_contacts, w.bonus) for w in ana.weeks]
    assert weeks == [
        ("2026-W44", 0, D("0.00")),
        ("2026-W45", 0, D("0.00")),
        ("2026-W46", 40, D("100000.00")),  # the target hit exactly
        ("2026-W47", 39, D("0.00")),  # one short; the not_found visit does not count
        ("2026-W48", 1, D("0.00")),  # 00:30 Monday 23/11 is W48, 23:30 Sunday 22/11 was W47
    ]


def test_another_collectors_payment_counts_for_them_not_for_the_clients_owner(
    session: Session, world: World
) -> None:
    found = statements(session, *NOV)
    beto = _of(found, world.beto)
    assert _lines(beto) == [
        ("payment", date(2026, 11, 15), "FA-2", D("100000.00"), "al_dia", D("0.5"), D("500.00")),
    ]  # fmt: skip
    assert beto.lines[0].held == "client_reassigned"  # held by the push, counted, shown
    assert (beto.collected, beto.commission, beto.bonus) == (D("100000.00"), D("500.00"), 0)
    ana = _of(found, world.ana)
    assert str(beto.lines[0].payment_id) not in {str(ln.payment_id) for ln in ana.lines}
    # one collector only
    (only,) = statements(session, *NOV, collector_id=world.beto.user.id)
    assert only == beto


def test_the_reversal_takes_the_commission_back_in_its_own_month(
    session: Session, world: World
) -> None:
    ana = _of(statements(session, *DEC), world.ana)
    assert _lines(ana) == [
        ("reversal", date(2026, 12, 2), "FA-2", D("-33333.00"), "al_dia", D("0.5"), D("-166.67")),
    ]  # fmt: skip
    assert ana.lines[0].paid_on == date(2026, 11, 20)
    assert (ana.payments, ana.reversals, ana.reversed) == (0, 1, D("33333.00"))
    assert (ana.commission, ana.bonus, ana.total) == (D("-166.67"), 0, D("-166.67"))
    assert [w.week for w in ana.weeks] == ["2026-W49", "2026-W50", "2026-W51", "2026-W52"]
    # November is not rewritten by the December void
    assert _of(statements(session, *NOV), world.ana).commission == D("18666.67")
    # a period holding both: the payment and its reversal, net zero for P3
    both = _of(statements(session, date(2026, 11, 1), date(2026, 12, 31)), world.ana)
    assert both.commission == D("18666.67") - D("166.67")


def test_collectors_without_activity_get_a_zero_statement(
    session: Session, world: World, make_user: Any
) -> None:
    idle = make_user("collector")
    statement = _of(statements(session, *NOV), idle)
    assert (statement.lines, statement.commission, statement.total) == ([], 0, 0)
    assert len(statement.weeks) == 5


def test_rules_file_changes_rates_and_version(
    session: Session, world: World, tmp_path: Path
) -> None:
    text = Path("shared/rules/commissions.toml").read_text(encoding="utf-8")
    text = text.replace('version = "2026-1"', 'version = "2027-prueba"')
    text = text.replace('31_60 = "2"', '31_60 = "3"').replace(
        "effective_contacts = 40", "effective_contacts = 39"
    )
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    ana = _of(statements(session, *NOV, rules=load_commission_rules(path)), world.ana)
    # FA-1 500.000 at 3 % = 15.000 instead of 10.000; W46 (40) and W47 (39) both reach 39
    assert ana.rule_version == "2027-prueba"
    assert ana.commission == D("23666.67")
    assert ana.bonus == D("200000.00")


def test_period_weeks_are_those_whose_sunday_is_in_the_period() -> None:
    assert [w.label for w in period_weeks(*NOV)] == [
        "2026-W44", "2026-W45", "2026-W46", "2026-W47", "2026-W48",
    ]  # fmt: skip
    # 2026-W53 (28/12/2026 to 03/01/2027) belongs to January 2027
    assert IsoWeek(2026, 53) not in period_weeks(*DEC)
    assert period_weeks(date(2027, 1, 1), date(2027, 1, 31))[0] == IsoWeek(2026, 53)
    assert period_weeks(date(2026, 11, 2), date(2026, 11, 7)) == []  # Monday to Saturday


def test_bad_periods(session: Session) -> None:
    with pytest.raises(InvalidInput):
        statements(session, date(2026, 12, 1), date(2026, 11, 1))
    with pytest.raises(InvalidInput):
        statements(session, date(2025, 1, 1), date(2026, 1, 2))  # 367 days


def test_money_from_suspense_counts_for_its_collector_when_posted(
    client: TestClient, session: Session, world: World, make_client: Any
) -> None:
    """Ana's $ 40.000 for a client the server did not know went to suspense (not a ledger
    payment: nothing in November); the office posts it on 05/12 to client D, whose FD-1 (due
    01/09/2026) is 95 days past due then -> 91_180, 4 % = $ 1.600, in December, for ana."""
    phone = register_phone(client, world.ana)
    unknown = uuid.uuid4()
    parked = payment(phone, unknown, "40000.00", device_time="2026-12-02T10:00:00-05:00")
    assert statuses(push(client, phone, [parked])) == [("held", "client_unknown")]
    d = make_client("C-D", collector=world.ana.user)
    invoice(session, d, "FD-1", date(2026, 9, 1), "90000.00")
    ledger.post_payment(
        session,
        client_id=d.id,
        amount=D("40000.00"),
        effective_date=date(2026, 12, 5),
        source="manual",
        event_id=uuid.UUID(parked["event_id"]),
        reason="Recaudo en suspenso aplicado por revisión",
        created_by=world.office.user.id,
    )
    session.commit()
    ana = _of(statements(session, *DEC), world.ana)
    assert _lines(ana)[-1] == (
        "payment", date(2026, 12, 5), "FD-1", D("40000.00"), "91_180", D(4), D("1600.00"),
    )  # fmt: skip
    assert ana.lines[-1].held == "client_unknown"
    assert ana.commission == D("1600.00") - D("166.67")
    office = [s for s in statements(session, *DEC) if s.collector_id == world.office.user.id]
    assert office == []  # the supervisor who posted it earns nothing


def test_rules_path_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert Settings().commission_rules_path is None  # the shipped file
    assert load_commission_rules(None).version == "2026-1"
    monkeypatch.setenv("RECAUDO_COMMISSION_RULES", "shared/rules/commissions.toml")
    assert Settings().commission_rules_path == Path("shared/rules/commissions.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text('version = "x"\n[aging]\nedges = [30]\n[rates]\nal_dia = "1"\n')
    for value in (str(bad), str(tmp_path / "missing.toml")):
        monkeypatch.setenv("RECAUDO_COMMISSION_RULES", value)
        with pytest.raises(ValidationError):
            Settings()

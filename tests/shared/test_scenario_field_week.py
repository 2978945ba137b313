"""The demo's week of field work (shared.scenario.field_week): the same for a seed, every plan
made by the real planner over the collector's own clients, visits in legal hours but the one
meant to be late, amounts within what each client owes, and each case a supervisor must see."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from shared.contact_rules import is_contact_allowed, load_rules
from shared.scenario import FieldDay, field_week, reference_scenario

AS_OF = date(2026, 11, 23)
DAYS = [date(2026, 11, d) for d in (17, 18, 19, 20, 21)]  # 16/11 is a holiday, 22/11 a Sunday
TZ = ZoneInfo("America/Bogota")


@pytest.fixture(scope="module")
def week() -> list[FieldDay]:
    return field_week(reference_scenario(AS_OF), DAYS, TZ)


def test_same_seed_same_week(week: list[FieldDay]) -> None:
    assert field_week(reference_scenario(AS_OF), DAYS, TZ) == week


def test_one_plan_per_collector_and_day_over_their_own_clients(week: list[FieldDay]) -> None:
    scenario = reference_scenario(AS_OF)
    owner = {r["codigo_cliente"]: r["gestor"] for r in scenario.rows}
    assert sorted((fd.collector, fd.day) for fd in week) == sorted(
        (p.username, d) for p in scenario.collectors for d in DAYS
    )
    for fd in week:
        assert fd.plan and len(set(fd.plan)) == len(fd.plan)
        assert {owner[c] for c in fd.plan} | {owner[c] for c, _ in fd.skipped} == {fd.collector}
        assert not set(fd.plan) & {c for c, _ in fd.skipped}
        assert fd.plan_distance_m > 0
        times = [s.at for s in fd.stops]
        assert times == sorted(times) and all(t.date() == fd.day for t in times)


def test_visits_in_legal_hours_but_the_late_one(week: list[FieldDay]) -> None:
    rules = load_rules("CO")
    outside = [
        (fd.collector, s.at)
        for fd in week
        for s in fd.stops
        if not is_contact_allowed(rules, s.at, TZ)
    ]
    assert len(outside) == 1 and outside[0][1].time() == time(19, 40)


def test_the_cases_a_supervisor_must_see(week: list[FieldDay]) -> None:
    stops = [(fd, s) for fd in week for s in fd.stops]
    assert sum(1 for _, s in stops if s.notes == "Visita registrada desde la oficina") == 1
    assert sum(1 for _, s in stops if s.accuracy_m == 180.0) == 1
    assert sum(1 for _, s in stops if s.void_reason) == 1
    scenario = reference_scenario(AS_OF)
    owner = {r["codigo_cliente"]: r["gestor"] for r in scenario.rows}
    foreign = [(fd, s) for fd, s in stops if owner[s.client_code] != fd.collector]
    assert len(foreign) == 1 and foreign[0][1].payment is not None


def test_payments_stay_within_what_each_client_owes(week: list[FieldDay]) -> None:
    owed: dict[str, Decimal] = defaultdict(Decimal)
    for r in reference_scenario(AS_OF).rows:
        owed[r["codigo_cliente"]] += Decimal(r["saldo"].replace(".", ""))
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for fd in week:
        for s in fd.stops:
            if s.payment is not None:
                assert Decimal(0) < s.payment[0] <= Decimal(6_000_000)
                paid[s.client_code] += s.payment[0]
            if s.promise is not None:
                assert s.promise[1] > fd.day
    assert paid and all(paid[c] <= owed[c] for c in paid)

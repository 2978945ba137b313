"""Client read models and the pure rules behind lists, statements and aging."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from shared.aging import DEFAULT_EDGES, bucket_for, bucket_names
from shared.clients import (
    AgingItem,
    ClientSummary,
    MoneyStr,
    aging_report,
    due_date_range,
    fold,
    fold_tax_id,
    invoice_line,
    overdue_and_worst,
)

D = Decimal


class Holder(BaseModel):
    amount: MoneyStr


class TestMoneyStr:
    def test_serialises_as_two_decimal_string_in_json_and_python(self) -> None:
        h = Holder(amount=D("250000"))
        assert h.model_dump_json() == '{"amount":"250000.00"}'
        assert h.model_dump() == {"amount": "250000.00"}
        assert Holder(amount=D("2.5E+5")).model_dump_json() == '{"amount":"250000.00"}'

    def test_parses_strings_and_ints_to_cents(self) -> None:
        assert Holder.model_validate_json('{"amount": "1234.5"}').amount == D("1234.50")
        assert Holder.model_validate({"amount": 7}).amount == D("7.00")
        assert Holder.model_validate({"amount": "-0.005"}).amount == D("-0.00")

    @pytest.mark.parametrize("raw", ['{"amount": 10.5}', '{"amount": "abc"}', '{"amount": "1e30"}'])
    def test_refuses_floats_garbage_and_out_of_range(self, raw: str) -> None:
        with pytest.raises(ValidationError):
            Holder.model_validate_json(raw)

    @given(st.integers(min_value=-(10**17), max_value=10**17))
    def test_round_trips_through_json(self, cents: int) -> None:
        h = Holder(amount=D(cents) / 100)
        assert Holder.model_validate_json(h.model_dump_json()) == h

    def test_openapi_says_string(self) -> None:
        schema = ClientSummary.model_json_schema(mode="serialization")
        assert schema["properties"]["balance"]["type"] == "string"


def test_fold_ignores_case_and_accents() -> None:
    assert fold("Clínica PEÑA Úrsula") == "clinica pena ursula"
    assert fold("Cli\u0301nica") == "clinica"  # decomposed (NFD) text too
    assert fold_tax_id("900.123.456-7") == "9001234567"


class TestDueDateRange:
    today = date(2025, 6, 1)

    def test_worked_examples(self) -> None:
        assert due_date_range("al_dia", self.today) == (date(2025, 6, 1), None)
        # 1..30 days past due: due between May 2 (30 days) and May 31 (1 day)
        assert due_date_range("1_30", self.today) == (date(2025, 5, 2), date(2025, 5, 31))
        assert due_date_range("31_60", self.today) == (date(2025, 4, 2), date(2025, 5, 1))
        # more than 360 days: due on or before 2024-06-05 (361 days before)
        assert due_date_range("mas_360", self.today) == (None, date(2024, 6, 5))

    def test_unknown_bucket(self) -> None:
        with pytest.raises(ValueError, match="unknown bucket"):
            due_date_range("0_15", self.today)

    @given(
        days=st.integers(min_value=-400, max_value=1000),
        edges=st.lists(st.integers(1, 50), min_size=0, max_size=6).map(
            lambda steps: tuple(sum(steps[: i + 1]) for i in range(len(steps)))
        ),
    )
    def test_agrees_with_bucket_for(self, days: int, edges: tuple[int, ...]) -> None:
        due = self.today - timedelta(days=days)
        for name in bucket_names(edges):
            low, high = due_date_range(name, self.today, edges)
            inside = (low is None or due >= low) and (high is None or due <= high)
            assert inside == (bucket_for(days, edges) == name)


def test_invoice_line_and_worst_bucket() -> None:
    as_of = date(2025, 3, 31)
    lines = [
        invoice_line(
            number="F-2",
            due_date=date(2025, 3, 3),
            amount=D(250000),
            balance=D(230000),
            as_of=as_of,
        ),
        invoice_line(
            number="F-3", due_date=date(2025, 3, 31), amount=D(50000), balance=D(20000), as_of=as_of
        ),
        invoice_line(
            number="F-1", due_date=date(2024, 1, 31), amount=D(100), balance=D(0), as_of=as_of
        ),
    ]
    assert [(ln.bucket, ln.days_past_due) for ln in lines] == [
        ("1_30", 28),
        ("al_dia", 0),
        ("mas_360", 425),
    ]
    # The settled F-1 counts for neither the overdue sum nor the worst bucket.
    assert overdue_and_worst(lines) == (D("230000.00"), "1_30")
    assert overdue_and_worst([]) == (D("0.00"), None)


def test_aging_report_worked_example() -> None:
    as_of = date(2025, 6, 1)
    items = [
        AgingItem("ana", "grupo", date(2025, 6, 10), D("100.00")),  # al_dia
        AgingItem("ana", "grupo", date(2025, 5, 1), D("50.00")),  # 31 days: 31_60
        AgingItem("ana", "particular", date(2024, 1, 1), D("25.50")),  # 517 days: mas_360
        AgingItem(None, "particular", date(2025, 5, 31), D("10.00")),  # 1 day: 1_30
        AgingItem("beto", "grupo", date(2025, 5, 2), D("0.00")),  # settled: not open
        AgingItem("beto", "grupo", None, D("-40.00")),  # overpayment
    ]
    report = aging_report(items, as_of=as_of)
    assert report.buckets == bucket_names(DEFAULT_EDGES)
    assert report.totals == {
        "al_dia": D(100),
        "1_30": D(10),
        "31_60": D(50),
        "61_90": D(0),
        "91_180": D(0),
        "181_360": D(0),
        "mas_360": D("25.50"),
    }
    assert report.counts == {"al_dia": 1, "1_30": 1, "31_60": 1, "61_90": 0, "91_180": 0,
                             "181_360": 0, "mas_360": 1}  # fmt: skip
    assert (report.total, report.invoice_count) == (D("185.50"), 4)
    assert (report.unapplied_credit, report.net_balance) == (D(40), D("145.50"))
    rows = {r.collector: r for r in report.by_collector}
    assert [r.collector for r in report.by_collector] == ["ana", "beto", None]
    assert (rows["ana"].total, rows["ana"].invoice_count) == (D("175.50"), 3)
    assert (rows["beto"].total, rows["beto"].unapplied_credit) == (D(0), D(40))
    assert rows[None].totals["1_30"] == D(10)
    assert [(r.segment, r.total, r.net_balance) for r in report.by_segment] == [
        ("grupo", D(150), D(110)),
        ("particular", D("35.50"), D("35.50")),
    ]
    dumped = report.model_dump(mode="json")
    assert dumped["totals"]["mas_360"] == "25.50"
    assert dumped["as_of"] == "2025-06-01"


def test_client_summary_refuses_unknown_segment() -> None:
    with pytest.raises(ValidationError):
        ClientSummary(
            id=uuid.uuid4(),
            code="C-1",
            name="x",
            tax_id="",
            segment="otro",  # type: ignore[arg-type]
            collector=None,
            status="active",
            balance=D(0),
            overdue_balance=D(0),
            worst_bucket=None,
        )

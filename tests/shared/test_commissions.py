"""Commission rules: worked examples computed by hand, and the algebra as properties."""

from __future__ import annotations

import tomllib
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.commissions import (
    Applied,
    CommissionRules,
    line_commission,
    load_rules,
    parse_rules,
    payment_lines,
    reversal_lines,
    week_commission,
)

RULES = load_rules()
PAID = date(2026, 11, 23)  # a Monday


def _due(days_past: int) -> date:
    return PAID - timedelta(days=days_past)


def test_the_packaged_rules_are_the_defaults_of_domain_md() -> None:
    assert RULES.version == "2026-1"
    assert dict(RULES.rates) == {
        "al_dia": Decimal("0.5"),
        "1_30": Decimal("1"),
        "31_60": Decimal("2"),
        "61_90": Decimal("3"),
        "91_180": Decimal("4"),
        "mas_180": Decimal("5"),
    }
    assert (RULES.bonus_target, RULES.bonus_amount) == (40, Decimal("100000.00"))


@pytest.mark.parametrize(
    ("days_past", "bucket"),
    [(-5, "al_dia"), (0, "al_dia"), (1, "1_30"), (30, "1_30"), (31, "31_60"), (60, "31_60"),
     (61, "61_90"), (90, "61_90"), (91, "91_180"), (180, "91_180"), (181, "mas_180"),
     (2000, "mas_180")],
)  # fmt: skip
def test_the_bucket_is_the_invoices_age_on_the_day_of_payment(days_past: int, bucket: str) -> None:
    assert RULES.bucket(_due(days_past), PAID) == bucket


def test_a_payment_split_over_two_invoices_and_credit() -> None:
    # $ 300.000 paid on an invoice 45 days late (balance 250.000, 2 %) and one not yet due
    # (balance 40.000, 0,5 %); the last 10.000 stays as credit and earns nothing.
    lines = payment_lines(
        RULES,
        "p1",
        PAID,
        [
            Applied("F-1", Decimal("250000"), _due(45)),
            Applied("F-2", Decimal("40000"), _due(-10)),
            Applied(None, Decimal("10000"), None),
        ],
    )
    assert [(x.invoice, x.bucket, x.percent, x.commission) for x in lines] == [
        ("F-1", "31_60", Decimal("2"), Decimal("5000.00")),  # 250.000 x 2 %
        ("F-2", "al_dia", Decimal("0.5"), Decimal("200.00")),  # 40.000 x 0,5 %
        (None, None, Decimal("0.00"), Decimal("0.00")),
    ]


def test_each_line_rounds_to_the_cent_half_up() -> None:
    # 1,00 x 0,5 % = 0,005: half up gives 0,01 (banker's rounding would give 0,00).
    assert line_commission(RULES, Decimal("1.00"), "al_dia") == Decimal("0.01")
    # 333,33 x 0,5 % = 1,66665 -> 1,67; 12.345,67 x 3 % = 370,3701 -> 370,37.
    assert line_commission(RULES, Decimal("333.33"), "al_dia") == Decimal("1.67")
    assert line_commission(RULES, Decimal("12345.67"), "61_90") == Decimal("370.37")


def test_a_week_with_a_reversal_and_the_bonus_hit_exactly() -> None:
    # Week: p1 = 100.000 on a 200-day-old invoice (5 % = 5.000), p2 = 50.000 on a 10-day-old one
    # (1 % = 500); a payment of last week (80.000 at 4 % = 3.200) reversed this week takes 3.200
    # back here. Lines: 5.000 + 500 - 3.200 = 2.300; 40 effective contacts = the target: +100.000.
    p1 = payment_lines(RULES, "p1", PAID, [Applied("F-9", Decimal("100000"), _due(200))])
    p2 = payment_lines(RULES, "p2", PAID, [Applied("F-3", Decimal("50000"), _due(10))])
    old = payment_lines(
        RULES, "p0", PAID - timedelta(days=7), [Applied("F-5", Decimal("80000"), _due(100))]
    )
    week = week_commission(RULES, [*p1, *p2, *reversal_lines(old)], effective_contacts=40)
    assert [x.commission for x in week.lines] == [
        Decimal("5000.00"), Decimal("500.00"), Decimal("-3200.00")
    ]  # fmt: skip
    assert week.lines_total == Decimal("2300.00")
    assert week.bonus == Decimal("100000.00")
    assert week.total == Decimal("102300.00")
    assert week.version == "2026-1"
    assert week_commission(RULES, week.lines, effective_contacts=39).total == Decimal("2300.00")


def test_an_installation_file_replaces_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        'version = "acme-7"\n[aging]\nedges = [30]\n'
        '[rates]\nal_dia = "0"\n1_30 = "1.5"\nmas_30 = "2.25"\n'
        '[bonus]\neffective_contacts = 10\namount = "50000"\n',
        encoding="utf-8",
    )
    rules = load_rules(path)
    assert (rules.version, rules.bonus_target, rules.bonus_amount) == (
        "acme-7",
        10,
        Decimal("50000.00"),
    )
    # 1.000 x 2,25 % = 22,50 on an invoice 31 days late.
    lines = payment_lines(rules, "p", PAID, [Applied("F", Decimal("1000"), _due(31))])
    assert (lines[0].bucket, lines[0].commission) == ("mas_30", Decimal("22.50"))


@pytest.mark.parametrize(
    ("rates", "message"),
    [
        ('al_dia = "1"\n1_30 = "1"', "missing"),  # no rate for mas_30
        ('al_dia = "1"\n1_30 = "1"\nmas_30 = "1"\nmas_90 = "1"', "extra"),
        ('al_dia = 0.5\n1_30 = "1"\nmas_30 = "1"', "floats"),
        ('al_dia = "-1"\n1_30 = "1"\nmas_30 = "1"', "non-negative"),
        ('al_dia = "101"\n1_30 = "1"\nmas_30 = "1"', "at most 100"),
    ],
)
def test_malformed_rules_are_refused_with_the_reason(rates: str, message: str) -> None:
    data = tomllib.loads(f'version = "x"\n[aging]\nedges = [30]\n[rates]\n{rates}\n')
    with pytest.raises(ValueError, match=message):
        parse_rules(data, "test.toml")


_BUCKETS = [name for name, _ in RULES.rates]
_amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000000"), places=2)


@given(
    parts=st.lists(_amounts, min_size=1, max_size=8),
    bucket=st.sampled_from(_BUCKETS),
)
def test_commission_is_additive_over_splits_up_to_per_line_rounding(
    parts: list[Decimal], bucket: str
) -> None:
    whole = line_commission(RULES, sum(parts, Decimal(0)), bucket)
    split = sum((line_commission(RULES, p, bucket) for p in parts), Decimal(0))
    # Each rounding moves a line by at most half a cent.
    assert abs(whole - split) <= Decimal("0.005") * (len(parts) + 1)


@given(
    parts=st.lists(st.tuples(_amounts, st.integers(-400, 4000)), min_size=1, max_size=6),
    contacts=st.integers(0, 100),
)
def test_a_payment_never_earns_negative_and_its_reversal_cancels_exactly(
    parts: list[tuple[Decimal, int]], contacts: int
) -> None:
    lines = payment_lines(
        RULES, "p", PAID, [Applied(f"F-{i}", a, _due(d)) for i, (a, d) in enumerate(parts)]
    )
    assert all(x.commission >= 0 for x in lines)
    # Never more than the top rate of what was paid.
    top = max(p for _, p in RULES.rates)
    assert sum(x.commission for x in lines) <= sum(a for a, _ in parts) * top / 100 + Decimal(
        "0.005"
    ) * len(parts)
    cancelled = week_commission(RULES, [*lines, *reversal_lines(lines)], contacts)
    assert cancelled.lines_total == 0
    assert cancelled.total == (RULES.bonus_amount if contacts >= 40 else 0)


def test_rules_are_frozen() -> None:
    with pytest.raises(AttributeError):
        RULES.version = "other"  # type: ignore[misc]
    assert isinstance(RULES, CommissionRules)

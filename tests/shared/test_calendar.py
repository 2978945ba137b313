from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.calendar import (
    IsoWeek,
    business_date,
    business_tz,
    day_bounds,
    require_aware,
    week_of,
    weeks_in_year,
)
from shared.errors import InvalidInput

BOGOTA = business_tz("America/Bogota")


class TestBusinessDay:
    def test_sunday_night_in_bogota_is_monday_in_utc_but_counts_on_sunday(self) -> None:
        # 23:30 Sunday 22 Nov 2026 in Bogotá (UTC-5) is 04:30 Monday 23 Nov in UTC.
        visit = datetime(2026, 11, 23, 4, 30, tzinfo=UTC)
        assert business_date(visit) == date(2026, 11, 22)
        assert week_of(visit) == IsoWeek(2026, 47)
        assert week_of(visit).sunday == date(2026, 11, 22)

    def test_monday_just_after_midnight_in_bogota_is_the_next_week(self) -> None:
        assert week_of(datetime(2026, 11, 23, 5, 0, tzinfo=UTC)) == IsoWeek(2026, 48)
        assert week_of(datetime(2026, 11, 23, 4, 59, 59, tzinfo=UTC)) == IsoWeek(2026, 47)

    def test_offset_of_the_device_does_not_matter_only_the_instant(self) -> None:
        # The same instant written with a Madrid offset (UTC+1) lands on the same Bogotá day.
        madrid = datetime(2026, 11, 23, 5, 30, tzinfo=timezone(timedelta(hours=1)))
        assert business_date(madrid) == date(2026, 11, 22)

    def test_other_business_timezone(self) -> None:
        visit = datetime(2026, 11, 23, 4, 30, tzinfo=UTC)
        assert business_date(visit, "Europe/Madrid") == date(2026, 11, 23)
        assert business_date(visit, business_tz("UTC")) == date(2026, 11, 23)

    def test_naive_datetime_is_refused(self) -> None:
        with pytest.raises(InvalidInput) as err:
            business_date(datetime(2026, 11, 22, 23, 30))  # noqa: DTZ001
        assert err.value.code == "naive_datetime"
        with pytest.raises(InvalidInput):
            require_aware(datetime(2026, 1, 1), "device_time")  # noqa: DTZ001

    def test_unknown_timezone_is_invalid_input(self) -> None:
        with pytest.raises(InvalidInput) as err:
            business_tz("America/Medellin")
        assert err.value.code == "invalid_timezone"

    def test_day_bounds_are_local_midnights(self) -> None:
        start, end = day_bounds(date(2026, 11, 22))
        assert start.astimezone(UTC) == datetime(2026, 11, 22, 5, 0, tzinfo=UTC)
        assert end - start == timedelta(days=1)


class TestIsoWeek:
    @pytest.mark.parametrize(
        ("day", "label"),
        [
            (date(2026, 12, 31), "2026-W53"),  # Thursday: 2026 has 53 weeks
            (date(2027, 1, 1), "2026-W53"),  # Friday of the same week, calendar year 2027
            (date(2027, 1, 4), "2027-W01"),
            (date(2020, 12, 31), "2020-W53"),
            (date(2021, 1, 3), "2020-W53"),  # Sunday closing 2020-W53
            (date(2024, 12, 30), "2025-W01"),  # Monday in 2024 that starts 2025's first week
            (date(2025, 12, 29), "2026-W01"),
            (date(2026, 3, 5), "2026-W10"),
        ],
    )
    def test_week_of_a_date(self, day: date, label: str) -> None:
        assert IsoWeek.of(day).label == label
        assert str(IsoWeek.of(day)) == label

    def test_parse_and_days(self) -> None:
        week = IsoWeek.parse("2020-W53")
        assert week == IsoWeek(2020, 53)
        assert week.monday == date(2020, 12, 28)
        assert week.sunday == date(2021, 1, 3)
        assert week.days()[0] == week.monday and week.days()[-1] == week.sunday
        assert len(week.days()) == 7

    @pytest.mark.parametrize(
        "label", ["2021-W53", "2026-W00", "2026-W54", "2026-W1", "2026W01", "26-W01", "", "x"]
    )
    def test_parse_rejects(self, label: str) -> None:
        with pytest.raises(InvalidInput) as err:
            IsoWeek.parse(label)
        assert err.value.code == "invalid_week"

    def test_weeks_in_year(self) -> None:
        assert [weeks_in_year(y) for y in (2020, 2021, 2025, 2026, 2027)] == [53, 52, 52, 53, 52]

    def test_shift_crosses_year_ends(self) -> None:
        assert IsoWeek(2026, 53).shift(1) == IsoWeek(2027, 1)
        assert IsoWeek(2021, 1).shift(-1) == IsoWeek(2020, 53)
        assert IsoWeek(2026, 1).shift(-1) == IsoWeek(2025, 52)

    def test_bounds_in_bogota(self) -> None:
        start, end = IsoWeek(2026, 48).bounds(BOGOTA)
        assert start.astimezone(UTC) == datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
        assert end.astimezone(UTC) == datetime(2026, 11, 30, 5, 0, tzinfo=UTC)

    def test_weeks_order_by_time(self) -> None:
        assert IsoWeek(2020, 53) < IsoWeek(2021, 1) < IsoWeek(2021, 2)


@given(st.dates(min_value=date(1900, 1, 8), max_value=date(2999, 12, 20)))
def test_every_date_lies_in_its_week(day: date) -> None:
    week = IsoWeek.of(day)
    assert week.monday <= day <= week.sunday
    assert week.monday.weekday() == 0
    assert IsoWeek.parse(week.label) == week
    assert week.shift(1).monday == week.monday + timedelta(days=7)
    assert week.shift(-1).shift(1) == week


# Hypothesis takes naive bounds and attaches the zones itself.
AWARE = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.timezones(),
)


@given(AWARE)
def test_instant_lies_within_its_week_bounds(moment: datetime) -> None:
    start, end = week_of(moment).bounds()
    assert start <= moment < end
    day_start, day_end = day_bounds(business_date(moment))
    assert day_start <= moment < day_end

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.calendar import business_date, business_tz
from shared.contact_rules import (
    CHANNEL_NOT_AUTHORISED,
    CLOSED_DAY,
    DAILY_LIMIT,
    HOLIDAY,
    OUTSIDE_HOURS,
    UNKNOWN_CHANNEL,
    Window,
    allowed_windows,
    available_countries,
    channel_violation,
    check_contact,
    daily_limit_violation,
    holiday_name,
    is_contact_allowed,
    load_rules,
    next_allowed,
    parse_rules,
    time_violation,
)

BOGOTA = business_tz("America/Bogota")
CO = load_rules("CO")


def bog(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BOGOTA)


def code(at: datetime) -> str | None:
    violation = time_violation(CO, at)
    return None if violation is None else violation.code


class TestColombianHours:
    """Ley 2300: Mon-Fri 7:00-19:00, Sat 8:00-15:00, never Sundays nor holidays.
    November 2026: Mon 16 is a holiday (Independencia de Cartagena, moved), Sat 21, Sun 22."""

    @pytest.mark.parametrize(
        ("at", "expected"),
        [
            (bog(11, 23, 7, 0), None),  # Monday opening
            (bog(11, 23, 6, 59), OUTSIDE_HOURS),
            (bog(11, 23, 18, 59), None),
            (bog(11, 23, 19, 0), OUTSIDE_HOURS),  # the end is excluded
            (bog(11, 20, 12, 0), None),  # Friday
            (bog(11, 21, 8, 0), None),  # Saturday opening
            (bog(11, 21, 7, 59), OUTSIDE_HOURS),
            (bog(11, 21, 14, 59), None),
            (bog(11, 21, 15, 0), OUTSIDE_HOURS),
            (bog(11, 22, 10, 0), CLOSED_DAY),  # Sunday
            (bog(11, 16, 10, 0), HOLIDAY),  # a Monday holiday
            (bog(12, 8, 10, 0), HOLIDAY),  # Tuesday, Inmaculada Concepción
            (bog(12, 25, 10, 0), HOLIDAY),
        ],
    )
    def test_examples(self, at: datetime, expected: str | None) -> None:
        assert code(at) == expected
        assert is_contact_allowed(CO, at) == (expected is None)

    def test_instants_are_read_on_the_bogota_clock(self) -> None:
        assert code(datetime(2026, 11, 23, 12, 0, tzinfo=UTC)) is None  # 07:00 in Bogotá
        assert code(datetime(2026, 11, 23, 11, 59, tzinfo=UTC)) == OUTSIDE_HOURS
        # 00:30 UTC Tuesday is 19:30 Monday in Bogotá.
        assert code(datetime(2026, 11, 24, 0, 30, tzinfo=UTC)) == OUTSIDE_HOURS

    def test_reasons_speak_spanish(self) -> None:
        holiday = time_violation(CO, bog(11, 16, 10))
        assert holiday is not None
        assert holiday.message == (
            "16/11/2026 es festivo (Independencia de Cartagena (observado)): "
            "no se permite contactar"
        )
        sunday = time_violation(CO, bog(11, 22, 10))
        assert sunday is not None and sunday.message == "no se permite contactar los domingos"
        late = time_violation(CO, bog(11, 21, 16, 5))
        assert late is not None
        assert late.message == "fuera del horario permitido (08:00-15:00) a las 16:05"

    def test_holiday_names(self) -> None:
        assert holiday_name(CO, date(2026, 7, 20)) == "Día de la Independencia"
        assert holiday_name(CO, date(2026, 7, 21)) is None


class TestWindows:
    def test_weekday_saturday_sunday_holiday(self) -> None:
        assert allowed_windows(CO, date(2026, 11, 23)) == [(bog(11, 23, 7), bog(11, 23, 19))]
        assert allowed_windows(CO, date(2026, 11, 21)) == [(bog(11, 21, 8), bog(11, 21, 15))]
        assert allowed_windows(CO, date(2026, 11, 22)) == []
        assert allowed_windows(CO, date(2026, 11, 16)) == []

    def test_windows_follow_the_given_timezone(self) -> None:
        ((start, end),) = allowed_windows(CO, date(2026, 11, 23), "UTC")
        assert start == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
        assert end == datetime(2026, 11, 23, 19, 0, tzinfo=UTC)

    @pytest.mark.parametrize(
        ("after", "expected"),
        [
            (bog(11, 23, 10, 15), bog(11, 23, 10, 15)),  # already allowed
            (bog(11, 23, 6, 0), bog(11, 23, 7, 0)),
            (bog(11, 23, 19, 0), bog(11, 24, 7, 0)),
            (bog(11, 13, 20, 0), bog(11, 14, 8, 0)),  # Friday night -> Saturday 8:00
            (bog(11, 21, 16, 0), bog(11, 23, 7, 0)),  # Saturday afternoon -> Monday
            (bog(11, 14, 16, 0), bog(11, 17, 7, 0)),  # over Sunday and holiday Monday 16
            (bog(12, 24, 20, 0), bog(12, 26, 8, 0)),  # Christmas Friday -> Saturday 26
        ],
    )
    def test_next_allowed(self, after: datetime, expected: datetime) -> None:
        result = next_allowed(CO, after)
        assert result == expected
        assert result.utcoffset() == timedelta(hours=-5)

    def test_next_allowed_gives_up_when_rules_never_allow(self) -> None:
        never = parse_rules({"country": "XX", "timezone": "UTC"})
        with pytest.raises(ValueError, match="no contact"):
            next_allowed(never, datetime(2026, 1, 1, tzinfo=UTC))


class TestChannelsAndDailyLimit:
    def test_channels(self) -> None:
        authorised = ["whatsapp", "visit"]
        assert channel_violation(CO, "whatsapp", authorised) is None
        phone = channel_violation(CO, "phone", authorised)
        assert phone is not None and phone.code == CHANNEL_NOT_AUTHORISED
        unknown = channel_violation(CO, "telegram", ["telegram"])
        assert unknown is not None and unknown.code == UNKNOWN_CHANNEL

    def test_exempt_channel_needs_no_authorisation(self) -> None:
        rules = parse_rules(
            {"country": "XX", "channels": {"known": ["letter"], "exempt": ["letter"]}}
        )
        assert channel_violation(rules, "letter", []) is None

    def test_one_contact_per_business_day(self) -> None:
        at = bog(11, 23, 15, 0)
        assert daily_limit_violation(CO, at, []) is None
        same_day = daily_limit_violation(CO, at, [bog(11, 23, 8, 0)])
        assert same_day is not None and same_day.code == DAILY_LIMIT
        # 23:30 Sunday in Bogotá is Monday in UTC, but another business day.
        assert daily_limit_violation(CO, at, [datetime(2026, 11, 23, 4, 30, tzinfo=UTC)]) is None

    def test_check_contact_lists_every_broken_rule(self) -> None:
        codes = [
            v.code
            for v in check_contact(
                CO,
                bog(11, 22, 10),
                channel="phone",
                authorised=["visit"],
                earlier_contacts=[bog(11, 22, 9)],
            )
        ]
        assert codes == [CLOSED_DAY, CHANNEL_NOT_AUTHORISED, DAILY_LIMIT]
        assert check_contact(CO, bog(11, 23, 10), channel="visit", authorised=["visit"]) == []


class TestRulesAreData:
    def test_packaged_file(self) -> None:
        assert "CO" in available_countries()
        assert CO.country == "CO"
        assert CO.law == "Ley 2300 de 2023"
        assert CO.contacts_per_day == 1
        assert CO.hours[5] == (Window(time(8), time(15)),)
        assert CO.hours[6] == ()
        assert "visit" in CO.channels

    def test_unknown_country(self) -> None:
        with pytest.raises(ValueError, match="no contact rules"):
            load_rules("XX")

    def test_another_country_needs_only_a_file(self) -> None:
        text = """
            country = "PE"
            timezone = "America/Lima"
            [hours]
            monday = ["08:00-13:00", "14:00-20:00"]
            tuesday = ["08:00-20:00"]
            [holidays]
            country = "PE"
            [channels]
            known = ["phone"]
        """
        peru = parse_rules(tomllib.loads(text), "pe.toml")
        lima = business_tz("America/Lima")
        assert peru.contacts_per_day is None
        # 28 and 29 July 2026 (Tuesday, Wednesday) are Peru's national days.
        assert code_of(peru, datetime(2026, 7, 28, 10, tzinfo=lima)) == HOLIDAY
        assert code_of(peru, datetime(2026, 7, 27, 13, 30, tzinfo=lima)) == OUTSIDE_HOURS  # lunch
        assert code_of(peru, datetime(2026, 7, 27, 14, 0, tzinfo=lima)) is None
        assert code_of(peru, datetime(2026, 7, 30, 10, tzinfo=lima)) == CLOSED_DAY  # Thursday
        assert next_allowed(peru, datetime(2026, 7, 27, 13, 30, tzinfo=lima)) == datetime(
            2026, 7, 27, 14, 0, tzinfo=lima
        )

    @pytest.mark.parametrize(
        "data",
        [
            {"hours": {}},  # no country
            {"country": "XX", "hours": {"monday": ["7-19"]}},
            {"country": "XX", "hours": {"monday": ["19:00-07:00"]}},
            {"country": "XX", "hours": {"monday": ["25:00-26:00"]}},
            {"country": "XX", "hours": {"monday": ["08:00-12:00", "11:00-13:00"]}},
            {"country": "XX", "hours": {"lunes": ["08:00-12:00"]}},
            {"country": "XX", "timezone": "Mars/Olympus"},
            {"country": "XX", "holidays": {"country": "ZZ"}},
            {"country": "XX", "holidays": {"country": "CO", "subdivision": "ZZ"}},
        ],
    )
    def test_malformed_rules_are_refused(self, data: dict[str, Any]) -> None:
        with pytest.raises(ValueError):
            parse_rules(data)


def code_of(rules: Any, at: datetime) -> str | None:
    violation = time_violation(rules, at)
    return None if violation is None else violation.code


AWARE = st.datetimes(
    min_value=datetime(2024, 1, 1),  # noqa: DTZ001
    max_value=datetime(2028, 12, 31),  # noqa: DTZ001
    timezones=st.timezones(),
)


@given(AWARE)
def test_next_allowed_is_the_first_allowed_instant(moment: datetime) -> None:
    found = next_allowed(CO, moment)
    assert found >= moment
    assert is_contact_allowed(CO, found)
    # Compared in UTC: Python never calls an ambiguous wall time (a fold) equal across zones.
    if found.astimezone(UTC) != moment.astimezone(UTC):
        assert not is_contact_allowed(CO, moment)
        # Contact was not allowed a minute before either: `found` opens a window.
        assert found - timedelta(minutes=1) < moment or not is_contact_allowed(
            CO, found - timedelta(minutes=1)
        )
        assert found.timetz().replace(tzinfo=None) in (time(7), time(8))


@given(AWARE)
def test_allowed_exactly_inside_the_days_windows(moment: datetime) -> None:
    windows = allowed_windows(CO, business_date(moment))
    inside = any(start <= moment < end for start, end in windows)
    assert is_contact_allowed(CO, moment) == inside

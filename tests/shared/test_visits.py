"""The verdict on a visit (location, clock, legal hours), the stored flags, and learned client
locations: worked examples computed by hand, and properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from geopy.distance import geodesic
from hypothesis import given
from hypothesis import strategies as st

from shared.contact_rules import load_rules, time_violation
from shared.geo import Fix, Point, distance_m
from shared.visits import (
    FLAG_ORDER,
    NOTE_FLAGS,
    REVIEW_FLAGS,
    LegalHours,
    fix_of,
    good_for_learning,
    is_flagged,
    join_flags,
    learned_location,
    near_m,
    outside_legal_hours,
    split_flags,
    unflagged_forms,
    verify_visit,
)

BOGOTA = ZoneInfo("America/Bogota")
RULES = load_rules("CO")
CLIENT = Point(4.65, -74.06)
# Tuesday 24 November 2026, 10:00 in Bogotá: inside the legal hours (Mon-Fri 7:00-19:00).
TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=BOGOTA)


def away(metres: float, bearing: float = 0.0, origin: Point = CLIENT) -> Point:
    """The point `metres` from `origin` along `bearing` (degrees from north), on WGS-84."""
    p = geodesic(meters=metres).destination((origin.lat, origin.lon), bearing)
    return Point(p.latitude, p.longitude)


def verdict(
    fix: Fix | None,
    *,
    at: datetime = TUESDAY_10,
    received: datetime | None = None,
    client: Point | None = CLIENT,
) -> tuple[bool, tuple[str, ...]]:
    v = verify_visit(
        fix,
        client,
        device_time=at,
        received_at=received or at + timedelta(minutes=3),
        hours=LegalHours(RULES, BOGOTA),
    )
    return v.verified, v.flags


class TestLocation:
    def test_140_m_away_with_20_m_accuracy_is_verified(self) -> None:
        # Radius 150 + 20 = 170 m; 140 m is inside.
        v = verify_visit(
            Fix(away(140), 20),
            CLIENT,
            device_time=TUESDAY_10,
            received_at=TUESDAY_10,
            hours=LegalHours(RULES, BOGOTA),
        )
        assert (v.verified, v.flags) == (True, ())
        assert v.distance_m == pytest.approx(140, abs=0.01)
        assert v.stored_flags == ""
        assert not v.flagged and v.review_reason is None

    def test_300_m_away_with_20_m_accuracy_is_not(self) -> None:
        assert verdict(Fix(away(300, 90), 20)) == (False, ("far_from_client",))

    def test_just_outside_the_radius(self) -> None:
        assert verdict(Fix(away(171), 20)) == (False, ("far_from_client",))
        assert verdict(Fix(away(169), 20)) == (True, ())

    def test_poor_accuracy_never_verifies(self) -> None:
        # 120 m accuracy: radius min(150 + 120, 250) = 250 m, 10 m away is inside, but a fix
        # worse than 100 m could be anywhere.
        assert verdict(Fix(away(10), 120)) == (False, ("poor_accuracy",))
        assert verdict(Fix(away(300), 120)) == (False, ("far_from_client", "poor_accuracy"))

    def test_no_fix_and_no_client_location_only_explain(self) -> None:
        verified, flags = verdict(None, client=None)
        assert (verified, flags) == (False, ("no_fix", "client_location_unknown"))
        assert not is_flagged(flags)

    def test_a_fix_without_accuracy_is_poor(self) -> None:
        fix = fix_of(CLIENT.lat, CLIENT.lon, None)
        assert fix is not None
        assert verdict(fix) == (False, ("poor_accuracy",))
        assert fix_of(None, CLIENT.lon, 5.0) is None


class TestClock:
    def test_device_clock_16_minutes_ahead(self) -> None:
        at = TUESDAY_10
        assert verdict(Fix(CLIENT, 5), at=at, received=at - timedelta(minutes=16)) == (
            True,  # the location still verifies; the clock is flagged
            ("clock_ahead",),
        )

    def test_14_minutes_ahead_is_not_flagged(self) -> None:
        at = TUESDAY_10
        assert verdict(Fix(CLIENT, 5), at=at, received=at - timedelta(minutes=14)) == (True, ())

    def test_received_15_days_later(self) -> None:
        at = TUESDAY_10
        _, flags = verdict(Fix(CLIENT, 5), at=at, received=at + timedelta(days=15))
        assert flags == ("clock_behind",)


class TestLegalHours:
    def test_sunday_23_30(self) -> None:
        # 23:30 Sunday in Bogotá is 04:30 Monday UTC: Sunday allows no contact in Colombia.
        at = datetime(2026, 11, 30, 4, 30, tzinfo=UTC)
        assert verdict(Fix(CLIENT, 5), at=at) == (True, ("outside_legal_hours",))

    def test_a_national_holiday(self) -> None:
        # Monday 16 November 2026: Independencia de Cartagena (observed), 10:00.
        at = datetime(2026, 11, 16, 10, 0, tzinfo=BOGOTA)
        assert verdict(Fix(CLIENT, 5), at=at)[1] == ("outside_legal_hours",)

    def test_19_30_on_a_weekday(self) -> None:
        at = datetime(2026, 11, 24, 19, 30, tzinfo=BOGOTA)
        assert verdict(Fix(CLIENT, 5), at=at)[1] == ("outside_legal_hours",)
        assert verdict(Fix(CLIENT, 5), at=at.replace(hour=18, minute=59))[1] == ()

    def test_saturday_afternoon(self) -> None:
        # Saturdays 8:00-15:00.
        at = datetime(2026, 11, 28, 15, 0, tzinfo=BOGOTA)
        assert verdict(Fix(CLIENT, 5), at=at)[1] == ("outside_legal_hours",)
        assert verdict(Fix(CLIENT, 5), at=at.replace(hour=14))[1] == ()

    def test_every_flag_at_once_in_order(self) -> None:
        at = datetime(2026, 11, 29, 12, 0, tzinfo=BOGOTA)  # a Sunday
        v = verify_visit(
            Fix(away(400), 150),
            CLIENT,
            device_time=at,
            received_at=at - timedelta(hours=1),
            hours=LegalHours(RULES, BOGOTA),
        )
        assert v.stored_flags == "far_from_client,poor_accuracy,clock_ahead,outside_legal_hours"
        assert v.review_reason == "far_from_client"

    @given(
        st.datetimes(
            min_value=datetime(2025, 1, 1),  # noqa: DTZ001 (hypothesis wants naive bounds)
            max_value=datetime(2027, 12, 31),  # noqa: DTZ001
            timezones=st.timezones(),
        )
    )
    def test_the_fast_check_agrees_with_the_contact_rules(self, at: datetime) -> None:
        expected = time_violation(RULES, at, BOGOTA) is not None
        assert outside_legal_hours(RULES, at, BOGOTA) == expected
        assert LegalHours(RULES, BOGOTA).outside(at) == expected

    def test_window_edges(self) -> None:
        monday = datetime(2026, 11, 23, 7, 0, tzinfo=BOGOTA)
        assert not outside_legal_hours(RULES, monday, BOGOTA)  # 07:00 is inside
        assert outside_legal_hours(RULES, monday - timedelta(seconds=1), BOGOTA)
        assert outside_legal_hours(RULES, monday.replace(hour=19), BOGOTA)  # 19:00 is out


class TestStoredFlags:
    def test_order_and_round_trip(self) -> None:
        assert join_flags(["no_fix", "clock_behind", "no_fix"]) == "clock_behind,no_fix"
        assert split_flags("clock_behind,no_fix") == ("clock_behind", "no_fix")
        assert split_flags("") == ()
        with pytest.raises(ValueError, match="unknown"):
            join_flags(["teleported"])

    def test_unflagged_forms_are_the_note_flags_alone(self) -> None:
        assert unflagged_forms() == (
            "",
            "no_fix",
            "client_location_unknown",
            "no_fix,client_location_unknown",
        )

    @given(st.sets(st.sampled_from(FLAG_ORDER)))
    def test_flagged_iff_not_an_unflagged_form(self, flags: set[str]) -> None:
        stored = join_flags(flags)
        assert is_flagged(flags) == (stored not in unflagged_forms())
        assert set(split_flags(stored)) == flags
        assert set(FLAG_ORDER) == REVIEW_FLAGS | NOTE_FLAGS


class TestNearDistance:
    @given(
        st.floats(-80, 80),
        st.floats(-180, 180),
        st.floats(0, 9_000),
        st.floats(0, 360, exclude_max=True),
    )
    def test_agrees_with_the_geodesic_within_a_centimetre(
        self, lat: float, lon: float, metres: float, bearing: float
    ) -> None:
        a = Point(lat, lon)
        b = away(metres, bearing, origin=a)
        assert near_m(a, b) == pytest.approx(distance_m(a, b), abs=0.01)

    def test_far_points_use_the_geodesic(self) -> None:
        a, b = Point(4.65, -74.06), Point(6.25, -75.56)  # Bogotá to Medellín, ~240 km
        assert near_m(a, b) == distance_m(a, b)


class TestLearnedLocation:
    def test_three_agreeing_fixes(self) -> None:
        fixes = [away(10, 0), away(20, 90), away(15, 200)]
        found = learned_location(fixes)
        assert found is not None
        # The median of the latitudes and of the longitudes: each the middle fix's.
        assert found.lat == sorted(p.lat for p in fixes)[1]
        assert found.lon == sorted(p.lon for p in fixes)[1]
        assert distance_m(found, CLIENT) < 20

    def test_two_are_not_enough(self) -> None:
        assert learned_location([away(10), away(20)]) is None

    def test_an_outlier_is_left_out(self) -> None:
        fixes = [away(5, 0), away(5, 120), away(5, 240), away(2_000, 45)]
        found = learned_location(fixes)
        assert found is not None and distance_m(found, CLIENT) < 10

    def test_scattered_fixes_teach_nothing(self) -> None:
        # Three fixes 500 m apart: no three lie within 100 m of their median.
        assert learned_location([away(0), away(500, 0), away(500, 180)]) is None

    def test_what_may_teach(self) -> None:
        assert good_for_learning(Fix(CLIENT, 50), ("client_location_unknown",))
        assert not good_for_learning(Fix(CLIENT, 51), ())
        assert not good_for_learning(Fix(CLIENT, 10), ("clock_ahead",))
        assert not good_for_learning(None, ())

    @given(st.permutations([away(5, 0), away(30, 90), away(12, 180), away(40, 270)]))
    def test_order_does_not_matter(self, fixes: list[Point]) -> None:
        assert learned_location(fixes) == learned_location(
            sorted(fixes, key=lambda p: (p.lat, p.lon))
        )

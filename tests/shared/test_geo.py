from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import InvalidInput
from shared.geo import (
    CLIENT_LOCATION_UNKNOWN,
    CLOCK_AHEAD,
    CLOCK_BEHIND,
    FAR_FROM_CLIENT,
    NO_FIX,
    POOR_ACCURACY,
    Fix,
    Point,
    VisitCheck,
    check_visit,
    clock_flags,
    distance_m,
    verification_radius_m,
)

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
CLIENT = Point(4.65, -74.06)
# WGS-84 meridian arc at 4.65° N: 111132.954 - 559.822 cos(2φ) + 1.175 cos(4φ) ≈ 110581 m per
# degree of latitude, so 0.001° north of the client is about 110.6 m away.
M_PER_MILLIDEGREE = 110.58


def north(millidegrees: float) -> Point:
    return Point(CLIENT.lat + millidegrees / 1000, CLIENT.lon)


def visit(
    fix: Fix | None, client: Point | None = CLIENT, device_time: datetime = NOW
) -> VisitCheck:
    return check_visit(fix, client, device_time=device_time, received_at=NOW)


class TestDistance:
    def test_a_degree_of_longitude_on_the_equator(self) -> None:
        # Equatorial circumference 40 075 016.686 m / 360.
        assert distance_m(Point(0, 0), Point(0, 1)) == pytest.approx(111319.49, abs=0.01)

    def test_north_of_the_client(self) -> None:
        assert distance_m(CLIENT, north(1)) == pytest.approx(M_PER_MILLIDEGREE, abs=0.05)

    def test_invalid_coordinates(self) -> None:
        for lat, lon in [(91, 0), (0, 181), (math.nan, 0), (0, math.inf)]:
            with pytest.raises(InvalidInput) as err:
                Point(lat, lon)
            assert err.value.code == "invalid_coordinates"
        with pytest.raises(InvalidInput):
            Fix(CLIENT, -1)


class TestRadius:
    @pytest.mark.parametrize(
        ("accuracy", "radius"), [(0, 150), (10, 160), (99.5, 249.5), (100, 250), (500, 250)]
    )
    def test_base_plus_accuracy_capped(self, accuracy: float, radius: float) -> None:
        assert verification_radius_m(accuracy) == radius


class TestCheckVisit:
    def test_close_and_precise_is_verified(self) -> None:
        result = visit(Fix(north(1), 10))  # 110.6 m, radius 160
        assert result.verified and result.flags == () and not result.suspicious
        assert result.radius_m == 160
        assert result.distance_m == pytest.approx(110.58, abs=0.05)

    def test_accuracy_widens_the_radius(self) -> None:
        # 165.9 m away: outside 150 + 10, inside 150 + 30.
        assert visit(Fix(north(1.5), 10)).flags == (FAR_FROM_CLIENT,)
        assert not visit(Fix(north(1.5), 10)).verified
        assert visit(Fix(north(1.5), 30)).verified

    def test_accuracy_of_exactly_100_m_still_verifies(self) -> None:
        result = visit(Fix(north(2.2), 100))  # 243.3 m, radius 250
        assert result.verified and result.flags == ()

    def test_poor_accuracy_never_verifies(self) -> None:
        result = visit(Fix(north(0.2), 150))  # 22 m away but good only to 150 m
        assert not result.verified
        assert result.flags == (POOR_ACCURACY,)
        assert result.radius_m == 250

    def test_far_and_poor(self) -> None:
        result = visit(Fix(north(2.4), 300))  # 265.4 m, radius capped at 250
        assert result.flags == (FAR_FROM_CLIENT, POOR_ACCURACY)

    def test_missing_fix_or_client_location(self) -> None:
        no_fix = visit(None)
        assert not no_fix.verified and no_fix.flags == (NO_FIX,) and no_fix.distance_m is None
        unknown = visit(Fix(north(0), 5), client=None)
        assert not unknown.verified and unknown.flags == (CLIENT_LOCATION_UNKNOWN,)

    def test_clock_skew_is_flagged_but_location_still_verified(self) -> None:
        result = visit(Fix(north(1), 10), device_time=NOW + timedelta(minutes=16))
        assert result.verified and result.flags == (CLOCK_AHEAD,)


class TestClock:
    @pytest.mark.parametrize(
        ("offset", "flags"),
        [
            (timedelta(0), ()),
            (timedelta(minutes=15), ()),
            (timedelta(minutes=15, seconds=1), (CLOCK_AHEAD,)),
            (-timedelta(days=14), ()),
            (-timedelta(days=14, seconds=1), (CLOCK_BEHIND,)),
            (-timedelta(days=3), ()),  # an offline week is normal, not suspicious
        ],
    )
    def test_thresholds(self, offset: timedelta, flags: tuple[str, ...]) -> None:
        assert clock_flags(NOW + offset, NOW) == flags

    def test_naive_device_time_is_refused(self) -> None:
        with pytest.raises(InvalidInput):
            clock_flags(datetime(2026, 11, 23, 10, 0), NOW)  # noqa: DTZ001


POINTS = st.builds(
    Point, st.floats(min_value=-89.9, max_value=89.9), st.floats(min_value=-180, max_value=180)
)
NEAR = st.builds(north, st.floats(min_value=-5, max_value=5))


@given(POINTS, POINTS)
def test_distance_is_symmetric_and_non_negative(a: Point, b: Point) -> None:
    assert distance_m(a, b) >= 0
    assert distance_m(a, b) == pytest.approx(distance_m(b, a), abs=1e-6)
    assert distance_m(a, a) == 0


@given(NEAR, NEAR, NEAR)
def test_triangle_inequality(a: Point, b: Point, c: Point) -> None:
    assert distance_m(a, c) <= distance_m(a, b) + distance_m(b, c) + 1e-6


@given(NEAR, st.floats(min_value=0, max_value=1000))
def test_verified_means_within_radius_with_usable_accuracy(where: Point, accuracy: float) -> None:
    result = visit(Fix(where, accuracy))
    assert result.distance_m is not None and result.radius_m is not None
    assert 150 <= result.radius_m <= 250
    assert result.verified == (result.distance_m <= result.radius_m and accuracy <= 100)
    assert (FAR_FROM_CLIENT in result.flags) == (result.distance_m > result.radius_m)
    assert (POOR_ACCURACY in result.flags) == (accuracy > 100)

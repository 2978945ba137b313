"""Distances and the open-path solver: haversine against geopy, exact optima by Held-Karp."""

from __future__ import annotations

import itertools
import math
import random

import pytest
from geopy.distance import geodesic
from hypothesis import given
from hypothesis import strategies as st

from shared.geo import Point
from shared.routing.distance import distance_matrix, haversine_m
from shared.routing.tsp import path_length, solve_open_path

bogota = st.builds(Point, st.floats(4.45, 4.83), st.floats(-74.20, -74.00))


def held_karp(dist: list[list[float]]) -> float:
    """Exact shortest open path from node 0 through every node (dynamic programming)."""
    n = len(dist)
    if n == 1:
        return 0.0
    best: dict[tuple[int, int], float] = {(1 << j, j): dist[0][j] for j in range(1, n)}
    for size in range(2, n):
        for subset in itertools.combinations(range(1, n), size):
            mask = sum(1 << k for k in subset)
            for j in subset:
                rest = mask ^ (1 << j)
                best[(mask, j)] = min(best[(rest, k)] + dist[k][j] for k in subset if k != j)
    full = (1 << n) - 2
    return min(best[(full, j)] for j in range(1, n))


def test_worked_example_one_hundredth_of_a_degree_north() -> None:
    # R·Δφ = 6371008.8 m x 0.01 x π/180
    assert haversine_m(Point(4.60, -74.08), Point(4.61, -74.08)) == pytest.approx(1111.95, abs=0.01)


@given(bogota, bogota)
def test_haversine_is_within_0_6_percent_of_geopy_in_bogota(a: Point, b: Point) -> None:
    exact = geodesic((a.lat, a.lon), (b.lat, b.lon)).meters
    assert math.isclose(haversine_m(a, b), exact, rel_tol=0.006, abs_tol=1e-6)


@given(st.lists(bogota, min_size=1, max_size=8), st.floats(1.0, 2.0))
def test_matrix_is_symmetric_and_scaled(points: list[Point], factor: float) -> None:
    d = distance_matrix(points, factor)
    for i, j in itertools.product(range(len(points)), repeat=2):
        assert d[i][j] == d[j][i]
        assert math.isclose(d[i][j], haversine_m(points[i], points[j]) * factor, rel_tol=1e-9)


@given(st.lists(bogota, min_size=1, max_size=9), st.integers(0, 2**32))
def test_open_path_is_optimal_on_small_instances(points: list[Point], seed: int) -> None:
    d = distance_matrix(points)
    order = solve_open_path(d, seed=seed)
    assert order[0] == 0 and sorted(order) == list(range(len(points)))
    assert path_length(d, order) <= held_karp(d) + 1e-6


def test_is_deterministic_and_a_local_optimum_on_a_larger_instance() -> None:
    rng = random.Random(7)
    points = [Point(rng.uniform(4.45, 4.83), rng.uniform(-74.2, -74.0)) for _ in range(80)]
    d = distance_matrix(points)
    order = solve_open_path(d, seed=3)
    assert order == solve_open_path(d, seed=3)
    assert sorted(order) == list(range(80)) and order[0] == 0
    length = path_length(d, order)
    for i, j in itertools.combinations(range(1, 80), 2):  # no 2-opt move improves it
        moved = order[:i] + order[i : j + 1][::-1] + order[j + 1 :]
        assert path_length(d, moved) >= length - 1e-6

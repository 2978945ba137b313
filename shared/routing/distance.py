"""Distances for the planner: haversine on a sphere, in metres.

Rules of this file: geopy's geodesic costs about 75 µs a pair (0.8 s for 150 stops on the server,
seconds on a phone), so the planner uses haversine with the mean Earth radius instead. At
Bogotá's latitude it is within 0.6 % of the WGS-84 geodesic (checked against geopy in
tests/shared/test_routing_distance.py); the road network's detour (a factor of about 1.3, ±20-30 %
per street) dwarfs that, and a constant scale error never changes the order of visits.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Final

from shared.geo import Point

EARTH_RADIUS_M: Final = 6_371_008.8  # IUGG mean radius


def haversine_m(a: Point, b: Point) -> float:
    """Great-circle distance in metres."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat = lat2 - lat1
    dlon = math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def distance_matrix(points: Sequence[Point], factor: float = 1.0) -> list[list[float]]:
    """Symmetric matrix of haversine distances times `factor` (the detour factor), in metres."""
    n = len(points)
    rad = [(math.radians(p.lat), math.radians(p.lon)) for p in points]
    cos_lat = [math.cos(lat) for lat, _ in rad]
    scale = 2 * EARTH_RADIUS_M * factor
    out = [[0.0] * n for _ in range(n)]
    for i in range(n):
        lat1, lon1 = rad[i]
        row = out[i]
        for j in range(i + 1, n):
            lat2, lon2 = rad[j]
            h = (
                math.sin((lat2 - lat1) / 2) ** 2
                + cos_lat[i] * cos_lat[j] * math.sin((lon2 - lon1) / 2) ** 2
            )
            value = scale * math.asin(min(1.0, math.sqrt(h)))
            row[j] = value
            out[j][i] = value
    return out


def nearest(row: Sequence[float], nodes: Iterable[int], k: int) -> list[int]:
    """The `k` nodes closest by `row` (a matrix row), ties by index."""
    return sorted(nodes, key=lambda j: (row[j], j))[:k]

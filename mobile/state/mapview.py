"""Mapa as values: the day's stops with coordinates in the order of Hoy (numbered), the route
line, and the area the map opens on (every stop and the collector).

Once a route is planned, Hoy's order is the planner's: the stops carry their route numbers and
the line runs from the plan's start through every stop in planned order. Before that, Hoy's order
is a priority, not a route: drawn through sixty stops it is a tangle, so the line goes only to the
next `NEXT_STOPS`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mobile.services.portfolio import ClientRecord
from mobile.state.clients import ClientRow
from shared.geo import Point

BOGOTA = Point(4.6486, -74.0628)  # where an empty map opens: the business' home city
NEXT_STOPS = 5


@dataclass(frozen=True)
class Stop:
    order: int  # 1-based position in the day's list
    client_id: str
    name: str
    point: Point
    promise_today: bool


@dataclass(frozen=True)
class MapView:
    stops: tuple[Stop, ...]
    route: tuple[Point, ...]  # the collector first when known, then the stops in order
    center: Point
    position: Point | None
    without_location: int  # clients of the list the map cannot show
    planned: bool = False  # the stops and the line follow a planned route
    bounds: tuple[Point, Point] | None = None  # south-west and north-east of what to show


MARGIN = 0.08  # of the span on each side: a 48 px pin at the edge stays whole on the screen


def _bounds(points: list[Point]) -> tuple[Point, Point] | None:
    if len(points) < 2:
        return None
    lats, lons = [p.lat for p in points], [p.lon for p in points]
    dlat = (max(lats) - min(lats)) * MARGIN
    dlon = (max(lons) - min(lons)) * MARGIN
    return (
        Point(max(-90.0, min(lats) - dlat), max(-180.0, min(lons) - dlon)),
        Point(min(90.0, max(lats) + dlat), min(180.0, max(lons) + dlon)),
    )


def map_view(
    rows: Iterable[ClientRow],
    records: Mapping[str, ClientRecord],
    position: Point | None,
    home: Point = BOGOTA,
    next_stops: int = NEXT_STOPS,
    route_start: Point | None = None,
) -> MapView:
    """`rows` in Hoy's order; rows with a `stop_no` are a planned route (`route_start` is where
    it begins), drawn alone and in full."""
    listed = list(rows)
    planned = [row for row in listed if row.stop_no is not None]
    if planned:
        return _planned_view(planned, records, position, route_start, home)
    stops, missing = [], 0
    for order, row in enumerate(listed, start=1):
        record = records.get(row.id)
        if record is None or record.lat is None or record.lon is None:
            missing += 1
            continue
        stops.append(
            Stop(
                order,
                row.id,
                row.name,
                Point(record.lat, record.lon),
                row.promise_due_today is not None,
            )
        )
    route = ([position] if position else []) + [s.point for s in stops[:next_stops]]
    center = position or (stops[0].point if stops else home)
    shown = [s.point for s in stops] + ([position] if position else [])
    return MapView(tuple(stops), tuple(route), center, position, missing, bounds=_bounds(shown))


def _planned_view(
    rows: list[ClientRow],
    records: Mapping[str, ClientRecord],
    position: Point | None,
    start: Point | None,
    home: Point,
) -> MapView:
    stops, missing = [], 0
    for row in rows:
        record = records.get(row.id)
        if record is None or record.lat is None or record.lon is None or row.stop_no is None:
            missing += 1
            continue
        point = Point(record.lat, record.lon)
        stops.append(Stop(row.stop_no, row.id, row.name, point, row.promise_due_today is not None))
    stops.sort(key=lambda s: s.order)
    route = ([start] if start else []) + [s.point for s in stops]
    center = position or start or (stops[0].point if stops else home)
    shown = route + ([position] if position else [])
    return MapView(
        tuple(stops), tuple(route), center, position, missing, planned=True, bounds=_bounds(shown)
    )

"""Mapa as values: the day's stops with coordinates in the order of Hoy (numbered), the route
line to the next few of them, and where the map opens (the collector, else the first stop).

Hoy's order is a priority, not a route: drawn through sixty stops it is a tangle, so the line
goes only to the next `NEXT_STOPS` until the route planner supplies a real order."""

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


def map_view(
    rows: Iterable[ClientRow],
    records: Mapping[str, ClientRecord],
    position: Point | None,
    home: Point = BOGOTA,
    next_stops: int = NEXT_STOPS,
) -> MapView:
    stops, missing = [], 0
    for order, row in enumerate(rows, start=1):
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
    return MapView(tuple(stops), tuple(route), center, position, missing)

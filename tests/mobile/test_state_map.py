"""Mapa's values: numbered stops in the order of Hoy, the route line, the centre."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from mobile.services.portfolio import load_clients
from mobile.state.mapview import BOGOTA, map_view
from shared.geo import Point
from tests.mobile.test_state_clients import add_client, rows


def test_stops_follow_the_day_and_the_route_starts_at_the_collector(
    db: sessionmaker[Session],
) -> None:
    add_client(db, "Primero", "900", overdue_days=(400,), lat=4.70, lon=-74.05)
    add_client(db, "Sin ubicación", "800", overdue_days=(300,))
    add_client(db, "Tercero", "700", overdue_days=(10,), lat=4.60, lon=-74.10)
    records = {r.id: r for r in load_clients(db)}
    here = Point(4.65, -74.08)

    view = map_view(rows(db), records, here)
    assert [(s.order, s.name) for s in view.stops] == [(1, "Primero"), (3, "Tercero")]
    assert view.route == (here, Point(4.70, -74.05), Point(4.60, -74.10))
    assert view.center == here and view.without_location == 1

    nowhere = map_view(rows(db), records, None)
    assert nowhere.center == Point(4.70, -74.05) and nowhere.route[0] == Point(4.70, -74.05)
    assert map_view(rows(db), records, here, next_stops=1).route == (here, Point(4.70, -74.05))
    assert map_view([], {}, None).center == BOGOTA

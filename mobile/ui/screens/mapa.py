"""Mapa: the day's stops numbered in the order of Hoy (the planned route's numbers once there is
one), the route line in planned order and the collector's position (flet-map). Tiles come from
the configured URL; without tiles (offline, or none set) the stops and the line still draw on a
plain background."""

from __future__ import annotations

from typing import Any

import flet as ft
import flet_map as ftm

from mobile.state.clients import filter_rows
from mobile.state.mapview import Stop, map_view
from mobile.ui import theme as th
from mobile.ui.shell import Body, Ctx
from mobile.ui.widgets import tagged, text
from shared.geo import Point

CHROME_PX = 230  # app bar, navigation bar, summary line and padding around the map


def _at(point: Point) -> ftm.MapLatitudeLongitude:
    return ftm.MapLatitudeLongitude(point.lat, point.lon)


def _pin(ctx: Ctx, stop: Stop) -> ftm.Marker:
    def open_client(_: Any) -> None:
        ctx.state.open_client(stop.client_id)

    return ftm.Marker(
        coordinates=_at(stop.point),
        width=48,  # the whole pin is the touch target
        height=48,
        content=ft.Container(
            content=ft.Text(
                str(stop.order), size=th.BODY, weight=ft.FontWeight.BOLD, color=th.SURFACE
            ),
            alignment=ft.Alignment.CENTER,
            bgcolor=th.WARN_INK if stop.promise_today else th.ACCENT,
            border=ft.Border.all(2, th.SURFACE),
            shape=ft.BoxShape.CIRCLE,
            tooltip=stop.name,
            on_click=open_client,
        ),
    )


def build(ctx: Ctx) -> Body:
    state, t = ctx.state, ctx.t
    position = state.position.point if state.position else None
    view = map_view(
        filter_rows(state.rows, state.filter),
        {r.id: r for r in state.records},
        position,
        route_start=state.route.start if state.route else None,
    )
    layers: list[ft.Control] = []
    if ctx.tile_url:
        layers.append(ftm.TileLayer(url_template=ctx.tile_url))
    if len(view.route) > 1:
        layers.append(
            ftm.PolylineLayer(
                polylines=[
                    ftm.PolylineMarker(
                        coordinates=[_at(p) for p in view.route], color=th.ACCENT, stroke_width=4
                    )
                ]
            )
        )
    if view.position is not None:
        layers.append(
            ftm.CircleLayer(
                circles=[
                    ftm.CircleMarker(
                        coordinates=_at(view.position),
                        radius=9,
                        color=th.OK,
                        border_color=th.SURFACE,
                        border_stroke_width=3,
                    )
                ]
            )
        )
    layers.append(ftm.MarkerLayer(markers=[_pin(ctx, stop) for stop in view.stops]))
    controls: list[ft.Control] = [
        tagged(
            "map-summary",
            text(
                t(
                    "map.route" if view.planned else "map.summary",
                    shown=len(view.stops),
                    stops=t.stops(len(view.stops)),
                    missing=view.without_location,
                ),
                size=th.SMALL,
            ),
        ),
        tagged(
            "map",
            ft.Container(
                content=ftm.Map(
                    layers=layers,
                    initial_center=_at(view.center),
                    initial_zoom=12,
                    initial_camera_fit=(
                        ftm.CameraFit(
                            bounds=ftm.MapLatitudeLongitudeBounds(
                                corner_1=_at(view.bounds[0]), corner_2=_at(view.bounds[1])
                            ),
                            padding=ft.Padding.all(36),
                        )
                        if view.bounds
                        else None
                    ),
                    bgcolor="#DDE3EA",
                ),
                # The screen's height, not more: a map taller than the screen would take the
                # drag that should scroll the page.
                height=max(300, int(getattr(ctx.page, "height", None) or 844) - CHROME_PX),
                border=ft.Border.all(1, th.LINE),
                border_radius=8,
                clip_behavior=ft.ClipBehavior.HARD_EDGE,
            ),
        ),
    ]
    return Body(t("map.title"), controls)

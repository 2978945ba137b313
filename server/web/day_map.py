"""The map of a collector's day, drawn with folium over Leaflet served by this server.

What it shows: the planned route as a dashed line through numbered stops (planned order), the
visits as markers coloured by outcome joined by a solid line in the order they happened, flagged
visits with a thick red ring (and a thin line to the client's known location when the fix was
far from it), payments and promises in the popups. Markers and lines are vectors, so the map is
readable when the tiles do not load (an intranet without internet, a tile server down).
"""

from __future__ import annotations

import json
from functools import cache
from html import escape
from typing import Any

from server.services.collector_day import CollectorDay, DayVisit
from server.web import labels
from server.web.templating import Formats

BOGOTA = (4.65, -74.09)
PLAN_COLOUR = "#5b4bb7"
FLAG_COLOUR = "#d0021b"


@cache
def _popup_class() -> Any:
    """folium's Popup parses its HTML with jQuery; Leaflet takes an HTML string itself, so this
    one hands it over directly and the page needs nothing but Leaflet. (folium is imported on
    first use: it costs a noticeable share of the server's start-up.)"""
    import folium
    from folium.template import Template

    class Popup(folium.Popup):
        _template = Template(
            """
            var {{this.get_name()}} = L.popup({{ this.options|tojavascript }});
            {% for name, element in this.html._children.items() %}
                {{ this.get_name() }}.setContent(
                    `{{ element.render(**kwargs).replace('\\n',' ') }}`);
            {% endfor %}
            {{ this._parent.get_name() }}.bindPopup({{ this.get_name() }});
        """
        )

    return Popup


def _visit_popup(v: DayVisit, fmt: Formats) -> str:
    client = escape(v.client.name or "cliente desconocido")
    lines = [
        f"<b>{v.number}. {client}</b>",
        f"{escape(v.client.code or '')} · {fmt.time(v.device_time)} · {labels.outcome(v.outcome)}",
    ]
    if v.distance_m is not None:
        lines.append(f"A {fmt.meters(v.distance_m)} del cliente (GPS ± {fmt.meters(v.accuracy_m)})")
    if v.flagged:
        flags = ", ".join(labels.label(labels.FLAGS, f) for f in v.flags)
        lines.append(f'<b style="color:{FLAG_COLOUR}">⚠ {escape(flags)}</b>')
    for p in v.payments:
        state = " (anulado)" if p.voided else " (retenido)" if p.status == "held" else ""
        lines.append(
            f"Pago <b>{fmt.money(p.amount)}</b> {labels.label(labels.METHODS, p.method)}, "
            f"recibo {escape(p.receipt_no)}{state}"
        )
    for pr in v.promises:
        lines.append(f"Promesa {fmt.money(pr.amount)} para el {fmt.date(pr.due_date)}")
    if v.notes:
        lines.append(f"<i>{escape(v.notes)}</i>")
    return "<br>".join(lines)


def day_map(
    day: CollectorDay, fmt: Formats, *, leaflet_js: str, leaflet_css: str, tile_url: str
) -> str:
    """A complete HTML document (the day page shows it in an iframe)."""
    import folium

    _polyline: Any = folium.PolyLine  # no annotations on its constructor
    m = folium.Map(location=BOGOTA, zoom_start=12, tiles=None, control_scale=True, zoom_snap=0.25)
    # Leaflet from this server, not folium's CDN defaults (jQuery, Bootstrap... are not needed).
    m.default_js = [("leaflet", leaflet_js)]
    m.default_css = [("leaflet_css", leaflet_css)]
    if tile_url:
        folium.TileLayer(tiles=tile_url, attr="© OpenStreetMap contributors", max_zoom=19).add_to(m)
    points: list[tuple[float, float]] = []

    planned = [s for s in day.stops if s.client.lat is not None and s.client.lon is not None]
    route = [(s.client.lat, s.client.lon) for s in planned]
    if len(route) > 1:
        _polyline(
            route,
            color=PLAN_COLOUR,
            weight=3,
            opacity=0.8,
            dash_array="8 8",
            class_name="plan-line",
        ).add_to(m)
    for s in planned:
        assert s.client.lat is not None and s.client.lon is not None
        state = "done" if s.done else "missed"
        folium.Marker(
            (s.client.lat, s.client.lon),
            icon=folium.DivIcon(
                html=f'<div class="stop-number {state}">{s.position}</div>',
                class_name="stop-icon",
                # Above its client's point, so the visit's marker there stays in sight.
                icon_size=(22, 22),
                icon_anchor=(11, 30),
            ),
            tooltip=f"Parada {s.position}: {s.client.name}",
        ).add_to(m)
        points.append((s.client.lat, s.client.lon))

    fixes = [v for v in day.visits if v.lat is not None and v.lon is not None]
    track = [(v.lat, v.lon) for v in fixes]
    if len(track) > 1:
        _polyline(track, color="#1d1d1f", weight=3, opacity=0.85, class_name="visit-line").add_to(m)
    for v in fixes:
        assert v.lat is not None and v.lon is not None
        where = (v.lat, v.lon)
        points.append(where)
        if v.flagged and v.client.lat is not None and v.client.lon is not None:
            _polyline(
                [where, (v.client.lat, v.client.lon)],
                color=FLAG_COLOUR,
                weight=2,
                dash_array="2 6",
                class_name="flag-gap",
            ).add_to(m)
        colour = labels.outcome_colour(v.outcome)
        marker = folium.CircleMarker(
            where,
            radius=9 if v.flagged else 7,
            color=FLAG_COLOUR if v.flagged else "#ffffff",
            weight=4 if v.flagged else 2,
            fill=True,
            fill_color=colour,
            fill_opacity=0.95,
            class_name=f"visit-marker outcome-{v.outcome}{' flagged' if v.flagged else ''}",
            tooltip=f"{v.number}. {v.client.name or ''}",
        )
        _popup_class()(_visit_popup(v, fmt), max_width=280).add_to(marker)
        marker.add_to(m)
    root = m.get_root()
    if points:
        lats = [p[0] for p in points]
        lons = [p[1] for p in points]
        bounds = [(min(lats), min(lons)), (max(lats), max(lons))]
        m.fit_bounds(bounds, padding=(24, 24))
        # Fit again when the frame changes size (a phone turned, a window resized).
        refit = (
            f"window.addEventListener('resize', function () {{ {m.get_name()}.invalidateSize();"
            f" {m.get_name()}.fitBounds({json.dumps(bounds)}, {{padding: [24, 24]}}); }});"
        )
        root.script.add_child(folium.Element(refit))  # type: ignore[attr-defined]
    root.header.add_child(folium.Element(_STYLE))  # type: ignore[attr-defined]
    return str(root.render())


_STYLE = """<style>
.leaflet-container { background: #e9eef2; font: 13px/1.35 system-ui, sans-serif; }
.stop-number { position: relative; width: 22px; height: 22px; border-radius: 50%;
  box-sizing: border-box; background: #fff; border: 2px solid #5b4bb7; color: #5b4bb7;
  font: 700 11px/18px system-ui; text-align: center; }
.stop-number::after { content: ""; position: absolute; left: 9px; top: 20px; width: 0; height: 0;
  border: 4px solid transparent; border-top: 6px solid #5b4bb7; border-bottom: 0; }
.stop-number.missed::after { border-top-color: #8a8f98; }
.stop-number.missed { border-style: dashed; color: #8a8f98; border-color: #8a8f98; }
</style>"""

"""Inline SVG charts (no script, no build step): horizontal bars for a phone and for print."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from markupsafe import Markup


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    values: tuple[int, ...]  # one per row


def bar_chart(rows: list[str], series: list[Series], *, title: str) -> Markup:
    """One group of horizontal bars per row (e.g. a collector), one bar per series, each bar
    labelled with its value; the scale is the largest value."""
    label_w, width, bar_h, gap, pad = 118, 480, 15, 3, 12
    group_h = len(series) * (bar_h + gap) + pad
    legend_h = 26
    height = legend_h + max(1, len(rows)) * group_h
    top = max((v for s in series for v in s.values), default=0) or 1
    span = width - label_w - 48
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    x = label_w
    for s in series:
        parts.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{s.colour}"/>')
        parts.append(f'<text x="{x + 17}" y="16" class="legend">{escape(s.name)}</text>')
        x += 26 + 7 * len(s.name)
    for i, row in enumerate(rows):
        y0 = legend_h + i * group_h
        mid = y0 + (group_h - pad) / 2 + 4
        parts.append(
            f'<text x="{label_w - 8}" y="{mid:.0f}" class="row" text-anchor="end">'
            f"{escape(row)}</text>"
        )
        for j, s in enumerate(series):
            value = s.values[i]
            y = y0 + j * (bar_h + gap)
            w = span * value / top
            parts.append(
                f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" rx="2" '
                f'fill="{s.colour}"><title>{escape(s.name)}: {value}</title></rect>'
            )
            parts.append(
                f'<text x="{label_w + w + 5:.1f}" y="{y + bar_h - 3}" class="value">{value}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # every text above is escaped

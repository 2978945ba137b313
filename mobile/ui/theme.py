"""Colours and sizes for a phone read in the street: dark text on white (contrast above 12:1),
one strong accent, bold amounts, and every touch target at least 48 px high (Material's minimum)."""

from __future__ import annotations

from typing import Final

import flet as ft

INK: Final = "#111827"  # body text on white: 17.7:1
MUTED: Final = "#374151"  # secondary text: 10.3:1
ACCENT: Final = "#0B3D91"  # buttons and app bar: 10.6:1 against white text
ACCENT_SOFT: Final = "#E6EDF8"
DANGER: Final = "#A50E0E"
WARN_BG: Final = "#FFF4CC"
WARN_INK: Final = "#5C4300"
OK: Final = "#0F6B2F"
LINE: Final = "#9CA3AF"
SURFACE: Final = "#FFFFFF"
CARD: Final = "#F3F4F6"

TAP: Final = 52  # button height, above the 48 px minimum
BODY: Final = 16
SMALL: Final = 14
TITLE: Final = 20
AMOUNT: Final = 28


def theme() -> ft.Theme:
    return ft.Theme(color_scheme_seed=ACCENT, use_material3=True)

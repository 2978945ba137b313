"""Small building blocks shared by the screens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flet as ft

from mobile.ui import theme as th

Handler = Callable[[Any], Any]


def text(value: str, *, size: int = th.BODY, bold: bool = False, color: str = th.INK) -> ft.Text:
    return ft.Text(
        value, size=size, color=color, weight=ft.FontWeight.BOLD if bold else ft.FontWeight.NORMAL
    )


def heading(value: str) -> ft.Text:
    return text(value, size=th.TITLE, bold=True)


def primary(label: str, on_click: Handler, *, icon: ft.IconData | None = None) -> ft.Control:
    return ft.FilledButton(
        content=label,
        icon=icon,
        on_click=on_click,
        height=th.TAP,
        expand=True,
        style=ft.ButtonStyle(
            bgcolor=th.ACCENT,
            color=th.SURFACE,
            text_style=ft.TextStyle(size=th.BODY, weight=ft.FontWeight.BOLD),
        ),
    )


def secondary(
    label: str, on_click: Handler, *, icon: ft.IconData | None = None, compact: bool = False
) -> ft.Control:
    return ft.OutlinedButton(
        content=label,
        icon=icon,
        on_click=on_click,
        height=th.TAP,
        expand=True,
        style=ft.ButtonStyle(
            color=th.ACCENT,
            side=ft.BorderSide(width=2, color=th.ACCENT),
            text_style=ft.TextStyle(
                size=th.SMALL if compact else th.BODY, weight=ft.FontWeight.BOLD
            ),
            padding=ft.Padding.symmetric(horizontal=8 if compact else 16),
        ),
    )


def row(*controls: ft.Control) -> ft.Row:
    return ft.Row(controls=list(controls), spacing=8)


def card(*controls: ft.Control, on_click: Handler | None = None) -> ft.Container:
    return ft.Container(
        content=ft.Column(controls=list(controls), spacing=4),
        bgcolor=th.CARD,
        border=ft.Border.all(1, th.LINE),
        border_radius=8,
        padding=12,
        on_click=on_click,
    )


def notice(value: str, *, danger: bool = False) -> ft.Container:
    return ft.Container(
        content=text(value, color=th.DANGER if danger else th.WARN_INK, bold=True),
        bgcolor=th.WARN_BG,
        border_radius=8,
        padding=12,
    )


def field(
    label: str,
    value: str,
    on_change: Handler,
    *,
    error: str | None = None,
    numeric: bool = False,
    password: bool = False,
    multiline: bool = False,
    hint: str | None = None,
) -> ft.TextField:
    return ft.TextField(
        label=label,
        value=value,
        on_change=on_change,
        error=error,
        error_style=ft.TextStyle(size=th.SMALL, color=th.DANGER, weight=ft.FontWeight.BOLD),
        error_max_lines=3,
        hint_text=hint,
        keyboard_type=ft.KeyboardType.NUMBER if numeric else ft.KeyboardType.TEXT,
        password=password,
        can_reveal_password=password,
        multiline=multiline,
        min_lines=3 if multiline else None,
        text_size=th.BODY + 2 if numeric else th.BODY,
        border_color=th.MUTED,
        border_width=2,
    )


def tagged(identifier: str, control: ft.Control) -> ft.Semantics:
    """A stable handle for end-to-end tests (`[flt-semantics-identifier=...]`)."""
    return ft.Semantics(content=control, identifier=identifier)

"""Printable reports (fpdf2): the base every `?format=pdf` report and the supervisor's print pages
build on, so they look alike and are written once.

    pdf = ReportPDF("Comisiones", period="01/11/2026 a 30/11/2026", generated_at=now, tz=tz)
    pdf.add_page()
    pdf.heading("Ana Gómez")
    pdf.key_values([("Recaudado", "$ 1.234.567"), ("Comisión", "$ 24.691")])
    pdf.table([PdfColumn("Cliente", 3), PdfColumn("Valor", 2, "money")], rows, totals=[...])
    pdf.bar_chart("Recaudo por semana", [("S45", Decimal(10)), ...], value_text=format_money)
    return pdf.to_bytes()

A4, margins 15 mm; every page repeats the report title, its period and when it was generated (on
the business clock, `dd/mm/aaaa HH:mm`) and ends with "Página N de M". Text uses DejaVu Sans when
the system has it (any Unicode); otherwise the core Helvetica, whose Latin-1 covers Spanish
(á é í ó ú ñ ¿ ¡), with other characters replaced. Money columns are right-aligned and take
Decimal (formatted es-CO here) or text already formatted. The bar chart is drawn with rectangles
and text: no plotting library, nothing rasterised.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Final, Literal

from fpdf import FPDF
from fpdf.fonts import FontFace

from shared.formatting import format_date, format_datetime, format_money, format_number

PdfKind = Literal["text", "money", "number", "date", "percent"]
PdfValue = str | int | Decimal | date | None

FONT_DIRS: Final = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts/dejavu"),
)
_FAMILY: Final = "DejaVu"
_CORE: Final = "Helvetica"
_HEADING_FILL: Final = (221, 230, 240)
_BAR_FILL: Final = (52, 101, 164)
_ZEBRA: Final = (245, 247, 250)
_MUTED: Final = (85, 85, 85)


@dataclass(frozen=True)
class PdfColumn:
    header: str
    weight: float = 1.0  # share of the page width
    kind: PdfKind = "text"


def dejavu_dir() -> Path | None:
    """Where DejaVu Sans (regular and bold) is installed, if anywhere."""
    for folder in FONT_DIRS:
        if (folder / "DejaVuSans.ttf").is_file() and (folder / "DejaVuSans-Bold.ttf").is_file():
            return folder
    return None


class ReportPDF(FPDF):
    """An A4 report page set with the shared header, footer, table and chart helpers."""

    def __init__(
        self,
        title: str,
        *,
        generated_at: datetime,
        tz: tzinfo | str | None = None,
        period: str = "",
        locale: str = "es_CO",
        currency: str = "COP",
        landscape: bool = False,
    ) -> None:
        super().__init__(orientation="L" if landscape else "P", unit="mm", format="A4")
        self.report_title = title
        self.period = period
        self.locale = locale
        self.currency = currency
        self.generated_text = format_datetime(generated_at, tz, locale)
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=18)
        self.set_title(title)
        self.set_creator("Recaudo")
        folder = dejavu_dir()
        self.unicode = folder is not None
        if folder is not None:
            self.add_font(_FAMILY, "", str(folder / "DejaVuSans.ttf"))
            self.add_font(_FAMILY, "B", str(folder / "DejaVuSans-Bold.ttf"))
            self.report_font = _FAMILY
        else:
            self.report_font = _CORE
        self.set_font(self.report_font, size=10)

    # --- page furniture ------------------------------------------------------------------------

    def header(self) -> None:
        self.set_font(self.report_font, "B", 14)
        self.cell(0, 8, self.t(self.report_title), new_x="LMARGIN", new_y="NEXT")
        self.set_font(self.report_font, "", 9)
        self.set_text_color(*_MUTED)
        left = self.t(f"Periodo: {self.period}") if self.period else ""
        self.cell(self.epw / 2, 5, left)
        self.cell(self.epw / 2, 5, self.t(f"Generado: {self.generated_text}"), align="R")
        self.ln(5)
        self.set_draw_color(*_MUTED)
        self.line(self.l_margin, self.get_y() + 1, self.l_margin + self.epw, self.get_y() + 1)
        self.set_text_color(0, 0, 0)
        self.ln(5)
        self.set_font(self.report_font, "", 10)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(self.report_font, "", 8)
        self.set_text_color(*_MUTED)
        self.cell(0, 5, self.t(f"Página {self.page_no()} de {{nb}}"), align="C")
        self.set_text_color(0, 0, 0)

    # --- text ----------------------------------------------------------------------------------

    def t(self, text: str) -> str:
        """`text` as the current font can draw it (core fonts: Latin-1, others become '?')."""
        if self.unicode:
            return text
        return text.encode("latin-1", "replace").decode("latin-1")

    def heading(self, text: str, size: float = 12) -> None:
        self.ln(2)
        self.set_font(self.report_font, "B", size)
        self.multi_cell(0, 7, self.t(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font(self.report_font, "", 10)
        self.ln(1)

    def paragraph(self, text: str, size: float = 10) -> None:
        self.set_font(self.report_font, "", size)
        self.multi_cell(0, 5, self.t(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def key_values(self, pairs: Sequence[tuple[str, str]], label_width: float = 55) -> None:
        """A small summary block: bold labels, values right-aligned in a second column."""
        for label, value in pairs:
            self.set_font(self.report_font, "B", 10)
            self.cell(label_width, 6, self.t(label))
            self.set_font(self.report_font, "", 10)
            self.cell(45, 6, self.t(value), align="R", new_x="LMARGIN", new_y="NEXT")
        self.ln(2)

    def text_of(self, value: PdfValue, kind: PdfKind) -> str:
        """How a cell shows `value`: money and numbers in the report's locale, dates dd/mm/aaaa."""
        if value is None:
            return ""
        if kind == "money" and isinstance(value, Decimal | int):
            return format_money(value, self.currency, self.locale)
        if kind == "number" and isinstance(value, Decimal | int):
            return format_number(value, self.locale)
        if kind == "percent" and isinstance(value, Decimal | int):
            return f"{format_number(Decimal(value), self.locale)} %"
        if kind == "date" and isinstance(value, date):
            return format_date(value, self.locale)
        return str(value)

    # --- tables --------------------------------------------------------------------------------

    def table_rows(
        self,
        columns: Sequence[PdfColumn],
        rows: Sequence[Sequence[PdfValue]],
        *,
        totals: Sequence[PdfValue] | None = None,
        font_size: float = 8.5,
    ) -> None:
        """A table across the page width: bold shaded header repeated on every page, money and
        numbers right-aligned, an optional bold totals row."""
        aligns = tuple(
            "RIGHT" if c.kind in ("money", "number", "percent") else "LEFT" for c in columns
        )
        self.set_font(self.report_font, "", font_size)
        bold = FontFace(emphasis="BOLD")
        self.set_fill_color(255, 255, 255)
        with self.table(
            col_widths=tuple(c.weight for c in columns),
            text_align=aligns,
            headings_style=FontFace(emphasis="BOLD", fill_color=_HEADING_FILL),
            borders_layout="SINGLE_TOP_LINE",
            cell_fill_color=_ZEBRA,
            cell_fill_mode="ROWS",
            line_height=font_size * 0.55,
            padding=(0.8, 1.2),
            repeat_headings=1,
            width=self.epw,
        ) as table:
            header = table.row()
            for column in columns:
                header.cell(self.t(column.header))
            for values in rows:
                row = table.row()
                for column, value in zip(columns, values, strict=True):
                    row.cell(self.t(self.text_of(value, column.kind)))
            if totals is not None:
                row = table.row()
                for column, value in zip(columns, totals, strict=True):
                    row.cell(self.t(self.text_of(value, column.kind)), style=bold)
        self.set_font(self.report_font, "", 10)
        self.ln(3)

    # --- charts --------------------------------------------------------------------------------

    def bar_chart(
        self,
        title: str,
        bars: Sequence[tuple[str, Decimal | int]],
        *,
        value_text: Callable[[Decimal], str] | None = None,
        height: float = 55,
    ) -> None:
        """Vertical bars with their labels under and values over them; negative values draw as
        zero-height bars (a chart of amounts or counts). Starts a new page if it does not fit."""
        if not bars:
            return
        show = value_text or (lambda v: format_number(v, self.locale))
        needed = height + 22
        if self.get_y() + needed > self.page_break_trigger:
            self.add_page()
        self.set_font(self.report_font, "B", 10)
        self.cell(0, 6, self.t(title), new_x="LMARGIN", new_y="NEXT")
        top = self.get_y() + 5
        base = top + height
        left = self.l_margin
        peak = max((Decimal(v) for _, v in bars), default=Decimal(0))
        slot = self.epw / len(bars)
        bar_w = slot * 0.6
        self.set_draw_color(*_MUTED)
        self.line(left, base, left + self.epw, base)
        self.set_fill_color(*_BAR_FILL)
        label_size = 7 if len(bars) <= 16 else 5.5
        for i, (label, raw) in enumerate(bars):
            value = Decimal(raw)
            bar_h = float(value / peak) * height if peak > 0 and value > 0 else 0.0
            x = left + i * slot + (slot - bar_w) / 2
            if bar_h > 0:
                self.rect(x, base - bar_h, bar_w, bar_h, style="F")
            self.set_font(self.report_font, "", label_size)
            self.set_xy(left + i * slot, base - bar_h - 4)
            self.cell(slot, 4, self.t(show(value)), align="C")
            self.set_xy(left + i * slot, base + 1)
            self.cell(slot, 4, self.t(label), align="C")
        self.set_xy(left, base + 7)
        self.set_fill_color(255, 255, 255)
        self.set_font(self.report_font, "", 10)
        self.ln(3)

    def to_bytes(self) -> bytes:
        return bytes(self.output())

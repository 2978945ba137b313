"""Amounts, dates, coordinates and headers as people type them (worked examples by hand)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import InvalidInput
from shared.money import MAX_AMOUNT
from shared.parsing import (
    normalize_key,
    parse_amount,
    parse_coordinate,
    parse_date,
    parse_text,
)


class TestParseAmount:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("$ 1.234.567,89", "1234567.89"),
            ("1234567.89", "1234567.89"),
            ("1,234,567.89", "1234567.89"),
            ("1.234.567", "1234567.00"),
            ("1.234", "1234.00"),  # one group of three: thousands, as Colombian ERPs print it
            ("1,234", "1234.00"),
            ("1234,5", "1234.50"),
            ("0,50", "0.50"),
            ("COP 250.000", "250000.00"),
            ("$\u00a01\u00a0234\u00a0567", "1234567.00"),  # spaces (also non-breaking) as groups
            ("-1.234,50", "-1234.50"),
            ("(1.234)", "-1234.00"),  # accounting negative
            ("1.234-", "-1234.00"),  # ERP credit notation
            ("+15", "15.00"),
        ],
    )
    def test_reads_colombian_and_english_formats(self, text: str, expected: str) -> None:
        assert parse_amount(text) == Decimal(expected)

    @pytest.mark.parametrize(
        ("value", "expected"),
        [(1234567, "1234567.00"), (1234.5, "1234.50"), (0.1 + 0.2, "0.30"), (Decimal("7"), "7.00")],
    )
    def test_reads_spreadsheet_numbers(self, value: object, expected: str) -> None:
        assert parse_amount(value) == Decimal(expected)

    @pytest.mark.parametrize(
        "text",
        ["abc", "1e5", "1.23.456", "1.234,567", "12,34.56", "1.234.", "1..2", "--5", "0x10", "1/2"],
    )
    def test_refuses_what_is_not_an_amount(self, text: str) -> None:
        with pytest.raises(InvalidInput) as info:
            parse_amount(text)
        assert info.value.code == "invalid_amount"

    def test_refuses_more_than_two_decimals_instead_of_rounding(self) -> None:
        with pytest.raises(InvalidInput, match="más de dos decimales"):
            parse_amount("12.3456")
        with pytest.raises(InvalidInput, match="más de dos decimales"):
            parse_amount("1.234,567")

    def test_three_digits_after_one_separator_group_thousands(self) -> None:
        assert parse_amount("10,125") == Decimal("10125.00")
        with pytest.raises(InvalidInput, match="tres dígitos"):
            parse_amount("1234.567")  # a first group longer than three digits

    @pytest.mark.parametrize(
        "value", ["9" * 30, "1.000.000.000.000.000,01", 10**20, "9" * 70, float("inf")]
    )
    def test_refuses_huge_amounts(self, value: object) -> None:
        with pytest.raises(InvalidInput) as info:
            parse_amount(value)
        assert info.value.code in ("amount_out_of_range", "invalid_amount")

    def test_the_largest_amount_is_accepted(self) -> None:
        assert parse_amount("1.000.000.000.000.000,00") == MAX_AMOUNT

    @pytest.mark.parametrize("value", [None, "", "   "])
    def test_blank_is_a_missing_value(self, value: object) -> None:
        with pytest.raises(InvalidInput) as info:
            parse_amount(value)
        assert info.value.code == "missing_value"

    def test_booleans_are_not_amounts(self) -> None:
        with pytest.raises(InvalidInput):
            parse_amount(True)

    @given(st.integers(min_value=-(10**17) + 1, max_value=10**17 - 1))
    def test_colombian_and_english_renderings_read_back(self, cents: int) -> None:
        amount = Decimal(cents).scaleb(-2)
        english = f"{amount:,.2f}"
        colombian = english.replace(",", "_").replace(".", ",").replace("_", ".")
        assert parse_amount(english) == amount
        assert parse_amount(f"$ {colombian}") == amount
        assert parse_amount(f"{amount:.2f}") == amount


class TestParseDate:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("15/03/2025", date(2025, 3, 15)),
            ("5/3/2025", date(2025, 3, 5)),
            ("15-03-2025", date(2025, 3, 15)),
            ("2025-03-15", date(2025, 3, 15)),
            ("2025/03/15", date(2025, 3, 15)),
            ("2025-03-15 00:00:00", date(2025, 3, 15)),
            ("29/02/2024", date(2024, 2, 29)),
            (
                45731,
                date(2025, 3, 15),
            ),  # Excel serial (1900 system), worked out: 1899-12-30 + 45731
            ("45731", date(2025, 3, 15)),
            (45731.0, date(2025, 3, 15)),
            (datetime(2025, 3, 15, 10, 30), date(2025, 3, 15)),  # noqa: DTZ001 - openpyxl's
            (date(2025, 3, 15), date(2025, 3, 15)),
            (61, date(1900, 3, 1)),
        ],
    )
    def test_reads_day_first_iso_serials_and_objects(self, value: object, expected: date) -> None:
        assert parse_date(value) == expected

    @pytest.mark.parametrize(
        "value",
        ["31/02/2025", "29/02/2025", "32/01/2025", "15/13/2025", "15/03/25", "03-15", "mañana",
         "2025-02-30", 45731.5, -1, 60, "15/03/1850", True],
    )  # fmt: skip
    def test_refuses_impossible_or_ambiguous_dates(self, value: object) -> None:
        with pytest.raises(InvalidInput) as info:
            parse_date(value)
        assert info.value.code == "invalid_date"

    def test_blank_is_a_missing_value(self) -> None:
        with pytest.raises(InvalidInput) as info:
            parse_date(" ")
        assert info.value.code == "missing_value"

    @given(st.dates(min_value=date(1901, 1, 1), max_value=date(2199, 12, 31)))
    def test_both_text_forms_read_back(self, day: date) -> None:
        assert parse_date(day.strftime("%d/%m/%Y")) == day
        assert parse_date(day.isoformat()) == day


class TestParseCoordinate:
    def test_accepts_comma_decimals(self) -> None:
        assert parse_coordinate("4,6482", limit=90) == pytest.approx(4.6482)
        assert parse_coordinate("-74.0621", limit=180) == pytest.approx(-74.0621)
        assert parse_coordinate(-74, limit=180) == -74.0

    @pytest.mark.parametrize(("value", "limit"), [("91", 90), ("-180,5", 180), ("norte", 90),
                                                  ("NaN", 90), ("1,2,3", 90)])  # fmt: skip
    def test_refuses_out_of_range_or_text(self, value: str, limit: int) -> None:
        with pytest.raises(InvalidInput) as info:
            parse_coordinate(value, limit=limit)
        assert info.value.code == "invalid_coordinate"


class TestHeadersAndText:
    @pytest.mark.parametrize(
        "header", ["Código Cliente", "CODIGO_CLIENTE", "codigo-cliente", " código  cliente ",
                   "Codigo.Cliente"],
    )  # fmt: skip
    def test_case_accents_and_separators_do_not_matter(self, header: str) -> None:
        assert normalize_key(header) == "codigo_cliente"

    def test_other_marks(self) -> None:
        assert normalize_key("Nº Factura") == "no_factura"
        assert normalize_key("Fecha de Emisión") == "fecha_de_emision"
        assert normalize_key(None) == ""

    def test_text_cells_lose_the_spreadsheet_float_tail(self) -> None:
        assert parse_text(17.0) == "17"
        assert parse_text(17.5) == "17.5"
        assert parse_text("  C-001 ") == "C-001"
        assert parse_text(None) == ""


class TestFastPathsAgreeWithTheGeneralRules:
    """Each parser reads the usual shapes on a fast path; a leading space sends the same text
    through the general rules (which strip it), so the two can be compared on any input."""

    @staticmethod
    def outcome(parse: Callable[[object], object], value: object) -> object:
        try:
            return parse(value)
        except InvalidInput as exc:
            return exc.code

    @given(st.text(alphabet="0123456789.,", min_size=1, max_size=24))
    def test_amounts(self, text: str) -> None:
        assert self.outcome(parse_amount, text) == self.outcome(parse_amount, f" {text}")

    @given(
        st.integers(0, 10**17),
        st.sampled_from(["{:,.2f}", "{:,.0f}", "{:.2f}", "{:.1f}", "{:.0f}"]),
        st.booleans(),
    )
    def test_rendered_amounts(self, cents: int, pattern: str, colombian: bool) -> None:
        text = pattern.format(Decimal(cents).scaleb(-2))
        if colombian:
            text = text.replace(",", "_").replace(".", ",").replace("_", ".")
        assert self.outcome(parse_amount, text) == self.outcome(parse_amount, f" {text}")

    @given(st.text(alphabet="0123456789/", min_size=10, max_size=10))
    def test_dates(self, text: str) -> None:
        assert self.outcome(parse_date, text) == self.outcome(parse_date, f" {text}")

    def test_worked_examples(self) -> None:
        assert parse_amount("1.285.000") == Decimal("1285000.00")  # fast: dotted groups
        assert parse_amount("1,234.5") == Decimal("1234.50")  # fast: comma groups, decimals
        assert parse_amount("0,5") == Decimal("0.50")  # fast: plain with a decimal comma
        assert parse_date("05/03/2025") == date(2025, 3, 5)
        assert parse_date(date(2025, 3, 5)) == date(2025, 3, 5)  # calamine's typed cells


def test_messages_are_spanish_and_codes_english() -> None:
    cases: list[tuple[Callable[[], object], str, str]] = [
        (lambda: parse_amount("abc"), "invalid_amount", "no es un valor"),
        (lambda: parse_amount(" "), "missing_value", "falta el valor"),
        (lambda: parse_amount("9" * 70), "amount_out_of_range", "fuera de rango"),
        (lambda: parse_date("31/02/2025"), "invalid_date", "no existe esa fecha"),
        (lambda: parse_date("mañana"), "invalid_date", "no es una fecha"),
        (lambda: parse_coordinate("95", limit=90), "invalid_coordinate", "no es una coordenada"),
    ]
    for parse, code, words in cases:
        with pytest.raises(InvalidInput) as info:
            parse()
        assert (info.value.code, words in info.value.message) == (code, True)

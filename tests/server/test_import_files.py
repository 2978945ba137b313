"""Files full of trouble, read without a database: encodings, delimiters, blank lines, header
variants, formulas with and without cached values, merged cells, files that are not ledgers."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from server.services.ledger_import.reader import (
    FORMULA_WITHOUT_VALUE,
    _uncomputed_cells,
    _uncomputed_cells_by_search,
    read_sheet,
    sniff_delimiter,
)
from server.services.ledger_import.rows import (
    ImportRow,
    locate_header,
    parse_row,
    parse_row_in_full,
)
from server.services.ledger_import.summary import RowIssue
from shared.errors import InvalidInput

LINES = [
    "Código Cliente;Nombre Cliente;Factura;Fecha Vencimiento;Valor;Saldo",
    "C-001;Peñalosa & Cía;FE-1;15/03/2025;$ 1.234.567,89;1.000",
    "",
    "C-002;José Núñez;FE-2;2025-04-01;2.500;",
]


def parsed(path: Path) -> tuple[list[ImportRow], list[RowIssue]]:
    rows = read_sheet(path).rows
    _, columns = locate_header(rows)
    good: list[ImportRow] = []
    bad: list[RowIssue] = []
    for number, values in rows:
        if not any(v not in (None, "") for v in values):
            continue
        result = parse_row(number, values, columns)
        if isinstance(result, list):
            bad.extend(result)
        else:
            good.append(result)
    return good, bad


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("latin-1", b""), ("cp1252", b""),
     ("utf-16", b"")],
)  # fmt: skip
def test_csv_encodings_and_bom(tmp_path: Path, encoding: str, prefix: bytes) -> None:
    path = tmp_path / "cartera.csv"
    path.write_bytes(prefix + "\r\n".join(LINES).encode(encoding))
    good, bad = parsed(path)
    assert bad == []
    assert [(r.row, r.client_name, r.amount, r.balance) for r in good] == [
        (2, "Peñalosa & Cía", Decimal("1234567.89"), Decimal("1000.00")),
        (4, "José Núñez", Decimal("2500.00"), None),  # row 3 is blank and still counted
    ]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    header = delimiter.join(["codigo_cliente", "nombre_cliente", "factura", "fecha_vencimiento",
                             "valor"])  # fmt: skip
    row = delimiter.join(["C-1", '"Gómez, Ana; y Cía"', "FE-1", "15/03/2025", '"1.234,50"'])
    path = tmp_path / "cartera.csv"
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")
    good, bad = parsed(path)
    assert bad == []
    assert (good[0].client_name, good[0].amount) == ("Gómez, Ana; y Cía", Decimal("1234.50"))


def test_a_quoted_delimiter_does_not_fool_the_sniffer() -> None:
    assert sniff_delimiter('"a,b,c,d";x;y\n') == ";"


@pytest.mark.parametrize(
    "code_header",
    ["Código Cliente", "CODIGO_CLIENTE", "codigo-cliente", "client_code", "Client Code"],
)
def test_header_variants(tmp_path: Path, code_header: str) -> None:
    path = tmp_path / "cartera.csv"
    path.write_text(
        f"{code_header},Client Name,Invoice Number,Due Date,Amount,Balance,Notas\n"
        'C-9,Ana,FE-9,2025-03-15,"1,234,567.89",0\n',
        encoding="utf-8",
    )
    rows = read_sheet(path).rows
    _, columns = locate_header(rows)
    assert columns.ignored == ("Notas",)
    good, bad = parsed(path)
    assert bad == [] and good[0].client_code == "C-9" and good[0].amount == Decimal("1234567.89")


def test_english_and_spanish_names_for_one_field_clash(tmp_path: Path) -> None:
    path = tmp_path / "cartera.csv"
    path.write_text("codigo_cliente,client_code,nombre_cliente,factura,fecha_vencimiento,valor\n")
    with pytest.raises(InvalidInput) as info:
        locate_header(read_sheet(path).rows)
    assert info.value.code == "duplicate_column"


def test_cell_errors_name_row_column_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "cartera.csv"
    path.write_text(
        "codigo_cliente,nombre_cliente,factura,fecha_vencimiento,valor,segmento,latitud,longitud\n"
        "C-1,Ana,FE-1,31/02/2025,1000,vip,4;6482,-74.06\n"
        "C-2,Bo,FE-2,15/03/2025,1000,grupo,95,-74.06\n"
        'C-3,Ca,FE-3,15/03/2025,1000,Convenio Externo,"4,6482",\n',
        encoding="utf-8",
    )
    good, bad = parsed(path)
    assert good == []
    assert [(i.row, i.column, i.code) for i in bad] == [
        (2, "fecha_vencimiento", "invalid_date"),
        (2, "segmento", "invalid_segment"),
        (2, "latitud", "invalid_coordinate"),
        (3, "latitud", "invalid_coordinate"),
        (4, "longitud", "missing_value"),
    ]


def test_text_longer_than_the_database_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cartera.csv"
    path.write_text(
        f"codigo_cliente,nombre_cliente,factura,fecha_vencimiento,valor\n{'C' * 65},Ana,F,"
        "15/03/2025,1\n"
    )
    _, bad = parsed(path)
    assert [(i.column, i.code) for i in bad] == [("codigo_cliente", "value_too_long")]


def _xlsx_with_formulas(path: Path, cached: str | None) -> None:
    """A workbook whose `valor` is a formula; `cached` writes Excel's computed value into the
    XML (openpyxl itself never writes one, like a program that never opened Excel)."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["codigo_cliente", "nombre_cliente", "factura", "fecha_vencimiento", "valor",
                  "base"])  # fmt: skip
    sheet.append(["C-1", "Ana", "FE-1", date(2025, 3, 15), "=F2*2", 600])
    workbook.save(path)
    if cached is None:
        return
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    xml, replaced = re.subn(r"<f>F2\*2</f>\s*<v\s*/>|<f>F2\*2</f><v></v>|<f>F2\*2</f>",
                            f"<f>F2*2</f><v>{cached}</v>", xml, count=1)  # fmt: skip
    assert replaced == 1
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)


def test_xlsx_formula_reads_its_cached_value(tmp_path: Path) -> None:
    path = tmp_path / "cartera.xlsx"
    _xlsx_with_formulas(path, cached="1200")
    good, bad = parsed(path)
    assert bad == [] and good[0].amount == Decimal("1200.00")
    assert good[0].due_date == date(2025, 3, 15)


def test_xlsx_formula_without_cached_value_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "cartera.xlsx"
    _xlsx_with_formulas(path, cached=None)
    values = [v for _, v in read_sheet(path).rows]
    assert values[1][4] is FORMULA_WITHOUT_VALUE
    _, bad = parsed(path)
    assert [(i.row, i.column, i.code) for i in bad] == [(2, "valor", "formula_without_value")]


def test_xlsx_merged_cells_fill_their_range(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["codigo_cliente", "nombre_cliente", "factura", "fecha_vencimiento", "valor"])
    sheet.append(["C-1", "Ana", "FE-1", "15/03/2025", 100])
    sheet.append([None, None, "FE-2", "15/03/2025", 200])
    sheet.append([None, None, "FE-3", "15/03/2025", 300])
    sheet.append(["C-2", "Bo", "FE-4", "15/03/2025", 400])
    sheet.merge_cells("A2:A4")
    sheet.merge_cells("B2:B4")
    path = tmp_path / "cartera.xlsx"
    workbook.save(path)
    good, bad = parsed(path)
    assert bad == []
    assert [(r.row, r.client_code, r.client_name) for r in good] == [
        (2, "C-1", "Ana"), (3, "C-1", "Ana"), (4, "C-1", "Ana"), (5, "C-2", "Bo"),
    ]  # fmt: skip


def test_xlsx_blank_rows_keep_numbering(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["codigo_cliente", "nombre_cliente", "factura", "fecha_vencimiento", "valor"])
    sheet["A5"], sheet["B5"], sheet["C5"], sheet["D5"], sheet["E5"] = "C", "N", "F", 45731, "x"
    path = tmp_path / "cartera.xlsx"
    workbook.save(path)
    _, bad = parsed(path)
    assert [(i.row, i.column, i.code) for i in bad] == [(5, "valor", "invalid_amount")]


@pytest.mark.parametrize(
    "content",
    [b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, b"%PDF-1.7\n", b"\x00\x01\x02binary",
     b"PK\x03\x04not really a zip"],
)  # fmt: skip
def test_files_that_are_not_ledgers(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "cartera.xlsx"
    path.write_bytes(content)
    with pytest.raises(InvalidInput) as info:
        rows = read_sheet(path).rows
        next(rows)
    assert info.value.code == "unsupported_file_type"


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "vacio.csv"
    path.write_text("\n\n")
    with pytest.raises(InvalidInput) as info:
        locate_header(read_sheet(path).rows)
    assert info.value.code == "empty_file"


_CELLS = {
    "codigo_cliente": st.sampled_from(["C-1", " C-2 ", "", None, 17.0, "C" * 70, "  "]),
    "nombre_cliente": st.sampled_from(["Ana", "", None, True, " Bo "]),
    "factura": st.sampled_from(["FE-1", "", None, 1234, 12.5]),
    "fecha_vencimiento": st.sampled_from(
        ["15/03/2025", "31/02/2025", " 15/03/2025", 45731, date(2025, 3, 15), "", None, "x"]
    ),
    "fecha_emision": st.sampled_from(["01/03/2025", "01/04/2025", "", None, " ", "2025-03-01"]),
    "valor": st.sampled_from(["1.000", "1000", "0", "-5", "$ 1.000", 1000.0, "", None, "1,5"]),
    "saldo": st.sampled_from(["500", "1.000", "2.000", "", None, " ", "-1", 0.0]),
    "segmento": st.sampled_from(["Grupo", "particular", "vip", "", None, "  "]),
    "latitud": st.sampled_from(["4,65", "95", "", None, 4.6, " "]),
    "longitud": st.sampled_from(["-74,06", "", None, "x", -74.0]),
    "telefono": st.sampled_from(["310 1 / 320 2", "", None, 3101234567.0]),
    "gestor": st.sampled_from(["gestor1", "", None]),
}


@given(st.fixed_dictionaries(_CELLS), st.integers(0, 3), st.booleans())
def test_fast_row_parser_agrees_with_the_general_validation(
    cells: dict[str, object], dropped: int, formula: bool
) -> None:
    """The fast parser either declines (None) or returns exactly what the general validation
    returns; rows shorter than the header and formula cells included."""
    headers = list(cells)
    _, columns = locate_header(iter([(1, tuple(headers))]))
    values = tuple(cells.values())[: len(headers) - dropped]
    if formula and values:
        values = (*values[:-1], FORMULA_WITHOUT_VALUE)
    fast = columns.fast.parse(2, values)
    assert fast is None or fast == parse_row_in_full(2, values, columns)


def test_fast_row_parser_takes_the_usual_row() -> None:
    _, columns = locate_header(iter([(1, tuple(_CELLS))]))
    values = ("C-1", "Ana", "FE-1", "15/03/2025", "01/03/2025", "1.000", "500", "Grupo",
              "4,65", "-74,06", "310 1 / 320 2", "gestor1")  # fmt: skip
    row = columns.fast.parse(2, values)
    assert row is not None and row == parse_row_in_full(2, values, columns)
    assert (row.amount, row.balance, row.segment, row.phones) == (
        Decimal("1000.00"), Decimal("500.00"), "grupo", ["310 1", "320 2"],
    )  # fmt: skip


def test_xlsx_shared_and_far_column_formulas_without_value(tmp_path: Path) -> None:
    """Formula cells with no cached value anywhere in the sheet (a shared formula, a column past
    Z) are flagged; a formula with its value, and blank cells, are not."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["codigo_cliente", "nombre_cliente", "factura", "fecha_vencimiento", "valor"])
    sheet.append(["C-1", "Ana", "FE-1", "15/03/2025", 100])
    sheet["AB2"] = "=E2*2"
    path = tmp_path / "cartera.xlsx"
    workbook.save(path)
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    # E3 shares the formula of E2 (`t="shared"`); openpyxl writes neither a value.
    row3 = ('<row r="3"><c r="A3" t="inlineStr"><is><t>C-2</t></is></c>'
            '<c r="E3"><f t="shared" si="0"/></c></row>')  # fmt: skip
    xml = xml.replace("</sheetData>", row3 + "</sheetData>")
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)
    rows = dict(read_sheet(path).rows)
    assert rows[2][27] is FORMULA_WITHOUT_VALUE  # AB = column 28
    assert rows[3][4] is FORMULA_WITHOUT_VALUE and rows[3][0] == "C-2"
    assert rows[2][:5] == ("C-1", "Ana", "FE-1", "15/03/2025", 100.0)


def test_xlsx_merge_below_the_data_adds_no_rows(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["codigo_cliente", "nombre_cliente", "factura", "fecha_vencimiento", "valor"])
    sheet.append(["C-1", "Ana", "FE-1", "15/03/2025", 100])
    sheet.merge_cells("A2:A40")
    path = tmp_path / "cartera.xlsx"
    workbook.save(path)
    good, bad = parsed(path)
    assert bad == [] and [(r.row, r.client_code) for r in good] == [(2, "C-1")]


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        # plain cells: a formula without value, one with, one with an empty value, a shared one
        (b'<row r="2"><c r="A2"><f>B2</f></c><c r="B2"><f>1+1</f><v>2</v></c>'
         b'<c r="AA2" s="1"><f>B2</f><v></v></c><c r="C2"><f t="shared" si="0"/></c></row>',
         [(1, 0), (1, 26), (1, 2)]),
        # a cell without reference: only the XML parse can place it
        (b'<row r="3"><c r="A3"/><c><f>A3</f></c></row>', [(2, 1)]),
        # prefixed tags
        (b'<x:row r="4"><x:c r="B4"><x:f>1</x:f></x:c></x:row>', [(3, 1)]),
    ],
)  # fmt: skip
def test_formula_scan_by_search_agrees_with_the_xml_parse(
    xml: bytes, expected: list[tuple[int, int]]
) -> None:
    """The byte search either declines (unusual XML) or finds what the XML parse finds."""
    namespaces = 'xmlns="urn:main" xmlns:x="urn:main"'
    document = f"<worksheet {namespaces}><sheetData>".encode() + xml + b"</sheetData></worksheet>"
    by_parse = _uncomputed_cells(io.BytesIO(document))
    by_search = _uncomputed_cells_by_search(io.BytesIO(document))
    assert by_parse == expected
    assert by_search in (None, by_parse)
    assert (by_search is None) == (expected != [(1, 0), (1, 26), (1, 2)])

"""Choosing json / xlsx / pdf from ?format= or Accept, and the download responses."""

from __future__ import annotations

import pytest

from server.api.formats import (
    JSON,
    MEDIA_TYPES,
    PDF,
    XLSX,
    choose_format,
    file_response,
)
from shared.errors import InvalidInput

XLSX_TYPE = MEDIA_TYPES[XLSX]


@pytest.mark.parametrize(
    ("requested", "accept", "expected"),
    [
        (None, None, JSON),
        (None, "*/*", JSON),
        (None, "application/json", JSON),
        (None, XLSX_TYPE, XLSX),
        (None, "application/pdf", PDF),
        ("XLSX", "application/pdf", XLSX),  # the query wins over the header
        (None, f"application/pdf;q=0.5, {XLSX_TYPE};q=0.9", XLSX),  # by q
        (None, f"application/pdf, {XLSX_TYPE}", PDF),  # equal q: the first listed
        (None, "application/pdf;q=0", JSON),  # q=0 refuses it
        (None, "text/html, application/xhtml+xml", JSON),  # a browser: JSON
    ],
)
def test_choose_format(requested: str | None, accept: str | None, expected: str) -> None:
    assert choose_format(requested, accept, offered=(JSON, XLSX, PDF)) is expected


def test_unoffered_formats() -> None:
    # pdf by Accept on a report without pdf: the next acceptable one, or JSON
    assert choose_format(None, "application/pdf", offered=(JSON, XLSX)) is JSON
    with pytest.raises(InvalidInput) as err:
        choose_format("pdf", None, offered=(JSON, XLSX))
    assert err.value.code == "invalid_format"
    with pytest.raises(InvalidInput):
        choose_format("csv", None)


def test_file_response_headers() -> None:
    response = file_response(b"PK..", XLSX, "comisiones_2026-11")
    assert response.media_type == XLSX_TYPE
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"comisiones_2026-11.xlsx\"; filename*=UTF-8''comisiones_2026-11.xlsx"
    )
    accented = file_response(b"%PDF", PDF, "estado_José Ñ")
    assert accented.media_type == "application/pdf"
    assert 'filename="estado_Jos_.pdf"' in accented.headers["content-disposition"]
    assert (
        "filename*=UTF-8''estado_Jos%C3%A9%20%C3%91.pdf" in accented.headers["content-disposition"]
    )

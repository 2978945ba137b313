"""Which representation a report answers in (api.md, "Exports"), and the file responses.

`?format=json|xlsx|pdf` wins; without it the Accept header decides (highest q first, the first
listed among equals), and anything else (`*/*`, `application/json`, no header) is JSON. A report
lists the formats it offers; asking for another one is `invalid_input` (422) naming them.

    fmt = choose_format(format, request.headers.get("accept"), offered=(JSON, XLSX, PDF))
    if fmt is ExportFormat.XLSX:
        return file_response(workbook_bytes(sheets), fmt, "comisiones_2026-11")

Declare the file types in the route's OpenAPI with `responses=file_responses(XLSX, PDF)`.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated, Any, Final

from fastapi import Query
from fastapi.responses import Response

from server.services.download_names import attachment
from shared.errors import InvalidInput


class ExportFormat(StrEnum):
    JSON = "json"
    XLSX = "xlsx"
    PDF = "pdf"


JSON: Final = ExportFormat.JSON
XLSX: Final = ExportFormat.XLSX
PDF: Final = ExportFormat.PDF

MEDIA_TYPES: Final = {
    ExportFormat.JSON: "application/json",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.PDF: "application/pdf",
}
_BY_MEDIA_TYPE: Final = {media: fmt for fmt, media in MEDIA_TYPES.items()}

# The query parameter as a route declares it: `format: FormatQuery = None`. An enum, so the
# OpenAPI document lists the values; a report that does not offer one answers `invalid_format`.
FormatQuery = Annotated[
    ExportFormat | None,
    Query(alias="format", description="json, xlsx or pdf (where offered); or an Accept header"),
]


def choose_format(
    requested: str | None,
    accept: str | None,
    offered: Iterable[ExportFormat] = (JSON, XLSX),
) -> ExportFormat:
    """The format of the answer: `requested` (the `format` query value) or the Accept header."""
    allowed = tuple(offered)
    if requested:
        try:
            fmt = ExportFormat(requested.strip().lower())
        except ValueError:
            fmt = None
        if fmt is None or fmt not in allowed:
            raise InvalidInput(
                f"format must be one of {', '.join(allowed)}",
                code="invalid_format",
                details={"format": requested, "offered": list(allowed)},
            )
        return fmt
    for media in _accepted(accept or ""):
        fmt = _BY_MEDIA_TYPE.get(media)
        if fmt is not None and fmt in allowed:
            return fmt
    return ExportFormat.JSON


def _accepted(header: str) -> list[str]:
    """Media types of an Accept header, best first (q descending, stable); q=0 means 'not'."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        media, *params = (piece.strip() for piece in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media and q > 0:
            ranked.append((-q, position, media.lower()))
    return [media for _, _, media in sorted(ranked)]


def file_response(content: bytes, fmt: ExportFormat, stem: str) -> Response:
    """A download: the format's media type and `attachment; filename="<stem>.<ext>"` (an ASCII
    name for every client, plus the exact UTF-8 name in `filename*`)."""
    disposition = attachment(f"{stem}.{fmt.value}", fallback=f"export.{fmt.value}")
    return Response(
        content=content,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": disposition},
    )


def file_responses(*formats: ExportFormat) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entry declaring the file types a route may answer besides JSON."""
    content: dict[str, Any] = {MEDIA_TYPES[JSON]: {}}
    for fmt in formats:
        content[MEDIA_TYPES[fmt]] = {"schema": {"type": "string", "format": "binary"}}
    return {
        200: {
            "content": content,
            "description": "JSON, or the file asked for with ?format= or Accept",
        }
    }

"""The import summary: one shape for the API response, the CLI and `ImportBatch.summary`."""

from __future__ import annotations

import uuid
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_serializer

MAX_LISTED_ISSUES = 1000  # a file with 100,000 bad rows should not produce a 100,000-line answer


class RowIssue(BaseModel):
    """A problem with one cell or row, as the user sees it: row number (header is row 1 in a file
    without a title), the column's header text, a stable reason code and the cell's text."""

    model_config = ConfigDict(frozen=True)

    row: int | None
    column: str | None
    code: str
    message: str
    value: str | None = None


class ImportSummary(BaseModel):
    batch_id: uuid.UUID | None = None
    filename: str
    sha256: str
    imported_by: str
    dry_run: bool
    skip_bad_rows: bool
    written: bool = Field(description="whether anything was saved (false for a dry run)")
    rejected: bool = Field(
        description="bad rows stopped the whole import (or would, for a dry run)"
    )
    rows_read: int = 0
    rows_imported: int = 0
    rows_skipped: int = 0
    clients_created: int = 0
    clients_updated: int = 0
    invoices_created: int = 0
    invoices_updated: int = 0
    invoices_unchanged: int = 0
    charges_posted: int = 0
    adjustments_posted: int = 0
    adjustments_net: Decimal = Decimal("0.00")
    ignored_columns: list[str] = Field(default_factory=list)
    error_count: int = 0
    errors: list[RowIssue] = Field(default_factory=list)
    warning_count: int = 0
    warnings: list[RowIssue] = Field(default_factory=list)
    same_file_as_batch: uuid.UUID | None = Field(
        default=None, description="an earlier import of a file with the same sha256"
    )

    @field_serializer("adjustments_net")
    def _money(self, value: Decimal) -> str:
        return f"{value:.2f}"


def capped(issues: list[RowIssue]) -> list[RowIssue]:
    return issues[:MAX_LISTED_ISSUES]

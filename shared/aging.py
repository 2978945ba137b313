"""Aging of receivables: days past due and the bucket they fall in (domain.md, "Aging buckets")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from itertools import pairwise
from typing import Final

# Upper edges (inclusive, in days past due) of the default buckets after `al_dia`.
DEFAULT_EDGES: Final[tuple[int, ...]] = (30, 60, 90, 180, 360)
CURRENT: Final = "al_dia"


def days_past_due(due_date: date, as_of: date) -> int:
    """Business date minus due date; zero or negative means not yet overdue."""
    return (as_of - due_date).days


def bucket_names(edges: Sequence[int] = DEFAULT_EDGES) -> list[str]:
    """`al_dia`, `1_30`, `31_60`, ..., `mas_360` for the given edges."""
    names = [CURRENT]
    low = 1
    for edge in edges:
        names.append(f"{low}_{edge}")
        low = edge + 1
    names.append(f"mas_{edges[-1]}" if edges else "vencido")
    return names


def bucket_for(days: int, edges: Sequence[int] = DEFAULT_EDGES) -> str:
    """The bucket of an invoice `days` past due."""
    if days <= 0:
        return CURRENT
    low = 1
    for edge in edges:
        if days <= edge:
            return f"{low}_{edge}"
        low = edge + 1
    return f"mas_{edges[-1]}" if edges else "vencido"


def validate_edges(edges: Sequence[int]) -> tuple[int, ...]:
    """Edges must be positive and strictly increasing."""
    result = tuple(int(e) for e in edges)
    if any(e <= 0 for e in result) or any(b <= a for a, b in pairwise(result)):
        raise ValueError(f"aging edges must be positive and strictly increasing: {list(edges)}")
    return result

"""How valuable a visit is today: `stop_priority`, the number the phone gives each stop.

Rules of this file: the planner keeps the stops with the largest sum of priorities, so the scale
is chosen for that sum to mean what a supervisor would choose:
- a promise due today is worth 100 points, more than any client can earn from the rest together
  (at most 90), so a promise stop is dropped only for two or more other strong stops, never for
  one;
- the overdue balance earns up to 40 points on a log scale (10 at $ 100.000, 20 at $ 1.000.000,
  30 at $ 10.000.000, 40 from $ 100.000.000): a large balance matters more, but ten small ones
  still outweigh one large;
- the oldest aging bucket earns 5 points per bucket past `al_dia` (30 for the sixth, `mas_360`):
  older debt is harder to recover and pays more commission;
- days since the last visit earn 1 point every 3 days, up to 20 (60 days; never visited: 20),
  so nobody is forgotten.
A client with nothing overdue and nothing due still gets 1 point, so a free slot is still used.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Final

PROMISE_POINTS: Final = 100.0
BALANCE_POINTS_PER_DECADE: Final = 10.0
BALANCE_FLOOR: Final = Decimal("10000")  # below this the balance adds nothing
MAX_BALANCE_POINTS: Final = 40.0
BUCKET_POINTS: Final = 5.0
MAX_BUCKET_RANK: Final = 6  # mas_360 with the default edges; older buckets earn no more
RECENCY_DAYS_PER_POINT: Final = 3
MAX_RECENCY_POINTS: Final = 20.0
BASE_POINTS: Final = 1.0


def stop_priority(
    *,
    promise_due_today: bool,
    overdue_balance: Decimal,
    oldest_bucket_rank: int,
    days_since_last_visit: int | None,
) -> float:
    """Priority of visiting a client today (>= 1; see the module rules).

    `oldest_bucket_rank` is the index of the client's oldest aging bucket in
    `shared.aging.bucket_names()` (0 = `al_dia`); `days_since_last_visit` None means never.
    """
    points = BASE_POINTS
    if promise_due_today:
        points += PROMISE_POINTS
    if overdue_balance > BALANCE_FLOOR:
        decades = math.log10(float(overdue_balance / BALANCE_FLOOR))
        points += min(MAX_BALANCE_POINTS, BALANCE_POINTS_PER_DECADE * decades)
    points += BUCKET_POINTS * min(max(oldest_bucket_rank, 0), MAX_BUCKET_RANK)
    if days_since_last_visit is None:
        points += MAX_RECENCY_POINTS
    else:
        points += min(MAX_RECENCY_POINTS, max(days_since_last_visit, 0) // RECENCY_DAYS_PER_POINT)
    return round(points, 3)

"""`push_and_commit` re-runs a chunk PostgreSQL chose as a deadlock or serialization victim,
answers 429 with Retry-After when it loses twice, and lets any other database error through."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from server.services import syncing
from server.services.access import Actor
from shared.errors import RateLimited
from sync.protocol import PushResponse

NOW = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
ANSWER = PushResponse(server_epoch="e", results=())


class _DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _losing(times: int, sqlstate: str, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []

    def push(*_: Any, **__: Any) -> PushResponse:
        calls.append(1)
        if len(calls) <= times:
            raise OperationalError("UPDATE sync_counter", None, _DriverError(sqlstate))
        return ANSWER

    monkeypatch.setattr(syncing, "push", push)
    return calls


def _run(session: Session) -> PushResponse:
    actor = Actor(None, "x", "collector")  # type: ignore[arg-type]  # push is replaced
    return syncing.push_and_commit(
        session,
        actor,
        None,  # type: ignore[arg-type]
        now=NOW,
        tz=ZoneInfo("America/Bogota"),
    )


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_a_deadlock_victim_is_run_again(
    session: Session, monkeypatch: pytest.MonkeyPatch, sqlstate: str
) -> None:
    calls = _losing(1, sqlstate, monkeypatch)
    assert _run(session) is ANSWER and len(calls) == 2


def test_losing_twice_answers_429_with_retry_after(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _losing(2, "40P01", monkeypatch)
    with pytest.raises(RateLimited) as lost:
        _run(session)
    assert lost.value.retry_after_s == syncing.RACE_RETRY_AFTER_S and len(calls) == 2


def test_other_database_errors_are_not_retried(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _losing(1, "53300", monkeypatch)  # too_many_connections
    with pytest.raises(DBAPIError):
        _run(session)
    assert len(calls) == 1

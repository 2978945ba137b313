"""Every query on users and on the failed-login log that throttles password guessing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.db.models import LoginFailure, User


def get_user(session: Session, user_id: uuid.UUID) -> User | None:
    return session.get(User, user_id)


def get_user_by_username(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).one_or_none()


def list_users(session: Session, *, include_inactive: bool = True) -> Sequence[User]:
    query = select(User).order_by(User.username)
    if not include_inactive:
        query = query.where(User.active.is_(True))
    return session.scalars(query).all()


def recent_failures(
    session: Session,
    *,
    since: datetime,
    limit: int,
    username: str | None = None,
    remote_addr: str | None = None,
) -> list[datetime]:
    """The times of the latest `limit` failures after `since` for one username or one address,
    newest first."""
    query = select(LoginFailure.at).where(LoginFailure.at > since)
    if username is not None:
        query = query.where(LoginFailure.username == username)
    if remote_addr is not None:
        query = query.where(LoginFailure.remote_addr == remote_addr)
    return list(session.scalars(query.order_by(LoginFailure.at.desc()).limit(limit)))


def add_login_failure(session: Session, *, username: str, remote_addr: str, at: datetime) -> None:
    session.add(LoginFailure(username=username, remote_addr=remote_addr, at=at))


def clear_login_failures(session: Session, username: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.username == username))


def prune_login_failures(session: Session, *, before: datetime) -> None:
    """Failures older than the window no longer count; deleting them keeps the table small."""
    session.execute(delete(LoginFailure).where(LoginFailure.at < before))

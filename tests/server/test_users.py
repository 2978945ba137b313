"""User creation rules, disabling, and the `recaudo user` commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from server.cli import app as cli_app
from server.db import migrate
from server.db.engine import make_engine, make_session_factory
from server.db.models import AuditLog, User
from server.services import users
from server.services.security import verify_password
from shared.errors import Conflict, InvalidInput, NotFound
from tests.server.conftest import Login

MakeUser = Callable[..., Login]

# --- the rules, without a database ---------------------------------------------------------------


@pytest.mark.parametrize("raw", ["abc", "a" * 64, "a.b_c-1", "  Ana.Perez  ", "J_G-2026"])
def test_valid_usernames_are_normalised(raw: str) -> None:
    assert users.validate_username(raw) == raw.strip().lower()


@pytest.mark.parametrize(
    "raw", ["", "ab", "a" * 65, "ana maría", "ñandú", "ana@empresa.co", "ana/ops", "  a  "]
)
def test_invalid_usernames(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        users.validate_username(raw)
    assert caught.value.code == "invalid_username"


@given(st.text(max_size=80))
def test_a_username_is_either_refused_or_normalised_into_the_allowed_shape(raw: str) -> None:
    try:
        name = users.validate_username(raw)
    except InvalidInput:
        return
    assert name == raw.strip().lower()
    assert users.USERNAME_PATTERN.fullmatch(name)


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=3, max_size=64))
def test_case_does_not_make_a_different_username(name: str) -> None:
    assert users.validate_username(name.upper()) == users.validate_username(name) == name


@pytest.mark.parametrize(
    ("password", "code"), [("", "weak_password"), ("1234567", "weak_password"),
                           ("x" * 257, "password_too_long")]
)  # fmt: skip
def test_bad_passwords(password: str, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        users.validate_password(password)
    assert caught.value.code == code


def test_password_length_edges_are_accepted() -> None:
    users.validate_password("12345678")
    users.validate_password("x" * 256)


# --- with the database --------------------------------------------------------------------------


def test_create_user(session: Session, make_user: MakeUser) -> None:
    admin = make_user("admin")
    user = users.create_user(
        session,
        username=" Gestor.Uno ",
        role="collector",
        password="clave-segura-1",
        full_name=" Gestor Uno ",
        actor_id=admin.user.id,
    )
    session.commit()
    stored = session.scalars(select(User).where(User.username == "gestor.uno")).one()
    assert stored.id == user.id
    assert (stored.full_name, stored.role, stored.active) == ("Gestor Uno", "collector", True)
    assert stored.password_hash.startswith("$argon2")
    assert verify_password(stored.password_hash, "clave-segura-1")
    audit = session.scalars(select(AuditLog).where(AuditLog.entity_id == str(user.id))).one()
    assert (audit.action, audit.entity, audit.actor_id) == ("user.created", "user", admin.user.id)
    assert audit.details == {"username": "gestor.uno", "role": "collector"}


def test_duplicate_username_in_any_case(session: Session) -> None:
    users.create_user(session, username="lucia", role="collector", password="clave-segura-1")
    with pytest.raises(Conflict) as caught:
        users.create_user(session, username="LUCIA", role="admin", password="clave-segura-2")
    assert caught.value.code == "username_taken"
    # the caller's transaction is still usable
    users.create_user(session, username="lucia2", role="admin", password="clave-segura-2")
    session.commit()
    names = session.scalars(select(User.username).where(User.username.like("lucia%"))).all()
    assert sorted(names) == ["lucia", "lucia2"]


def test_invalid_role(session: Session) -> None:
    with pytest.raises(InvalidInput) as caught:
        users.create_user(session, username="mario", role="boss", password="clave-segura-1")
    assert caught.value.code == "invalid_role"


def test_weak_password_creates_nothing(session: Session) -> None:
    with pytest.raises(InvalidInput):
        users.create_user(session, username="nico", role="collector", password="corta")
    assert session.scalars(select(User).where(User.username == "nico")).first() is None


def test_disable_and_enable(session: Session) -> None:
    user = users.create_user(session, username="olivia", role="collector", password="clave-12345")
    users.set_active(session, username="OLIVIA", active=False)
    users.set_active(session, username="olivia", active=False)  # no change, no second row
    users.set_active(session, username="olivia", active=True)
    session.commit()
    actions = session.scalars(
        select(AuditLog.action).where(AuditLog.entity_id == str(user.id)).order_by(AuditLog.id)
    ).all()
    assert actions == ["user.created", "user.disabled", "user.enabled"]
    assert user.active is True
    with pytest.raises(NotFound):
        users.set_active(session, username="nadie", active=False)


def test_list_users(session: Session) -> None:
    users.create_user(session, username="zeta-list", role="admin", password="clave-12345")
    users.create_user(session, username="alfa-list", role="collector", password="clave-12345")
    users.set_active(session, username="zeta-list", active=False)
    every = [u.username for u in users.list_users(session) if u.username.endswith("-list")]
    active = [
        u.username
        for u in users.list_users(session, include_inactive=False)
        if u.username.endswith("-list")
    ]
    assert every == ["alfa-list", "zeta-list"]
    assert active == ["alfa-list"]


# --- the command line ---------------------------------------------------------------------------


@pytest.fixture
def cli_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate.upgrade(url)
    return url


def run(url: str, *args: str, stdin: str | None = None, **env: str) -> Result:
    return CliRunner().invoke(
        cli_app, list(args), input=stdin, env={"RECAUDO_DATABASE_URL": url, **env}
    )


def stored_users(url: str) -> dict[str, tuple[str, str, bool]]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as s:
            return {u.username: (u.role, u.full_name, u.active) for u in s.scalars(select(User))}
    finally:
        engine.dispose()


def password_ok(url: str, username: str, password: str) -> bool:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as s:
            user = s.scalars(select(User).where(User.username == username)).one()
            return verify_password(user.password_hash, password)
    finally:
        engine.dispose()


def test_cli_user_add_with_password_option(cli_db: str) -> None:
    result = run(
        cli_db, "user", "add", "Ana", "--role", "supervisor", "--password", "clave-segura-1",
        "--full-name", "Ana Pérez",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Created ana (supervisor)" in result.output
    assert stored_users(cli_db) == {"ana": ("supervisor", "Ana Pérez", True)}
    assert password_ok(cli_db, "ana", "clave-segura-1")


def test_cli_user_add_reads_the_password_from_the_environment(cli_db: str) -> None:
    result = run(
        cli_db, "user", "add", "beto", "--role", "admin", RECAUDO_PASSWORD="desde-el-entorno"
    )
    assert result.exit_code == 0, result.output
    assert password_ok(cli_db, "beto", "desde-el-entorno")


def test_cli_user_add_prompts_twice_hidden(cli_db: str) -> None:
    # the first pair does not match, so it asks again
    stdin = "clave-uno-111\nclave-dos-222\nclave-uno-111\nclave-uno-111\n"
    result = run(cli_db, "user", "add", "carla", "--role", "collector", stdin=stdin)
    output = result.output
    assert result.exit_code == 0, output
    assert "do not match" in output
    assert "clave-uno-111" not in output  # hidden input is not echoed
    assert password_ok(cli_db, "carla", "clave-uno-111")


def test_cli_user_add_refuses_duplicates_and_bad_input(cli_db: str) -> None:
    ok = run(cli_db, "user", "add", "dora", "--role", "collector", "--password", "clave-12345")
    assert ok.exit_code == 0
    cases = [
        (["dora", "--role", "admin", "--password", "clave-12345"], 1, "username_taken"),
        (["DORA", "--role", "admin", "--password", "clave-12345"], 1, "username_taken"),
        (["x", "--role", "admin", "--password", "clave-12345"], 1, "invalid_username"),
        (["eva", "--role", "admin", "--password", "corta"], 1, "weak_password"),
        (["eva", "--role", "boss", "--password", "clave-12345"], 2, "boss"),
    ]
    for args, exit_code, message in cases:
        result = run(cli_db, "user", "add", *args)
        assert result.exit_code == exit_code, (args, result.output)
        assert message in result.output
    assert set(stored_users(cli_db)) == {"dora"}


def test_cli_user_add_migrates_a_fresh_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = run(url, "user", "add", "admin", "--role", "admin", "--password", "clave-12345")
    assert result.exit_code == 0, result.output
    assert stored_users(url) == {"admin": ("admin", "", True)}


def test_cli_user_list_and_disable(cli_db: str) -> None:
    run(cli_db, "user", "add", "fabio", "--role", "collector", "--password", "clave-12345")
    assert run(cli_db, "user", "disable", "fabio").exit_code == 0
    assert stored_users(cli_db)["fabio"][2] is False
    listed = run(cli_db, "user", "list")
    assert "fabio" in listed.output
    assert "no" in listed.output
    missing = run(cli_db, "user", "disable", "nadie")
    assert missing.exit_code == 1
    assert "user_not_found" in missing.output
    assert run(cli_db, "user", "enable", "fabio").exit_code == 0
    assert stored_users(cli_db)["fabio"][2] is True

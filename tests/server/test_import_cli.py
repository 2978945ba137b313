"""`recaudo import ledger` against a temporary SQLite file: summary, exit codes, JSON output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from server.cli import app
from server.db import migrate
from server.db.engine import make_engine, make_session_factory
from server.db.models import Invoice, LedgerEntry, User

HEADER = "codigo_cliente;nombre_cliente;factura;fecha_vencimiento;valor;saldo"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate.upgrade(url)
    monkeypatch.setenv("RECAUDO_DATABASE_URL", url)
    return url


def write(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "cartera.csv"
    path.write_text("\n".join((HEADER, *rows)), encoding="latin-1")
    return path


def counts(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        found = (
            session.scalar(select(func.count()).select_from(Invoice)) or 0,
            session.scalar(select(func.count()).select_from(LedgerEntry)) or 0,
        )
    engine.dispose()
    return found


def test_imports_and_prints_the_summary(database: str, tmp_path: Path) -> None:
    path = write(
        tmp_path, "C-1;Peñalosa;FE-1;15/03/2025;1.000;250", "C-1;Peñalosa;FE-2;15/03/2025;50;"
    )
    result = CliRunner().invoke(app, ["import", "ledger", str(path)])
    assert result.exit_code == 0, result.output
    assert "Facturas nuevas" in result.output and "-750.00" in result.output
    assert counts(database) == (2, 3)  # two charges and one adjustment


def test_dry_run_writes_nothing(database: str, tmp_path: Path) -> None:
    path = write(tmp_path, "C-1;Ana;FE-1;15/03/2025;1.000;250")
    result = CliRunner().invoke(app, ["import", "ledger", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "simulación" in result.output
    assert counts(database) == (0, 0)


def test_bad_rows_exit_non_zero_and_import_nothing(database: str, tmp_path: Path) -> None:
    path = write(tmp_path, "C-1;Ana;FE-1;15/03/2025;1.000;", "C-2;Bo;FE-2;31/02/2025;5;")
    result = CliRunner().invoke(app, ["import", "ledger", str(path)])
    assert result.exit_code == 1
    assert "invalid_date" in result.output and "no se importó nada" in result.output
    assert counts(database) == (0, 0)
    skipped = CliRunner().invoke(app, ["import", "ledger", str(path), "--skip-bad-rows"])
    assert skipped.exit_code == 0, skipped.output
    assert counts(database) == (1, 1)


def test_every_row_bad_exits_non_zero_even_when_skipping(database: str, tmp_path: Path) -> None:
    path = write(tmp_path, "C-2;Bo;FE-2;31/02/2025;5;")
    result = CliRunner().invoke(app, ["import", "ledger", str(path), "--skip-bad-rows"])
    assert result.exit_code == 1


def test_file_errors_exit_2(database: str, tmp_path: Path) -> None:
    path = tmp_path / "cartera.csv"
    path.write_text("codigo_cliente,valor\nC-1,5\n")
    result = CliRunner().invoke(app, ["import", "ledger", str(path)])
    assert result.exit_code == 2
    assert "missing_columns" in result.output


def test_json_summary_and_importing_user(database: str, tmp_path: Path) -> None:
    engine = make_engine(database)
    with make_session_factory(engine)() as session:
        session.add(User(username="analista", role="admin", password_hash="x"))
        session.commit()
    engine.dispose()
    path = write(tmp_path, "C-1;Ana;FE-1;15/03/2025;1.000;")
    result = CliRunner().invoke(app, ["import", "ledger", str(path), "--as", "analista", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["imported_by"] == "analista" and summary["invoices_created"] == 1
    unknown = CliRunner().invoke(app, ["import", "ledger", str(path), "--as", "nadie"])
    assert unknown.exit_code == 2


def test_a_fresh_database_is_migrated_before_the_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'nuevo.db'}"  # never migrated
    monkeypatch.setenv("RECAUDO_DATABASE_URL", url)
    path = write(tmp_path, "C-1;Ana;FE-1;15/03/2025;1.000;250")
    result = CliRunner().invoke(app, ["import", "ledger", str(path)])
    assert result.exit_code == 0, result.output
    assert counts(url) == (1, 2)  # the invoice; its charge and its adjustment to 250

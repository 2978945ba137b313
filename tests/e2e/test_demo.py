"""`recaudo demo` seeds the reference scenario through the real import, then a week of field work
through the real sync push, and the API serves it."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from server.cli import app as cli
from server.db.engine import make_engine
from server.db.models import InboundEvent, LedgerEntry, RoutePlan, Visit
from server.main import create_app
from server.settings import Settings


def _pesos(text: str) -> Decimal:
    return Decimal(text.replace(".", ""))


def test_demo_seeds_the_reference_scenario(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--data-dir", str(tmp_path), "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "300 clientes, 1500 facturas" in result.output
    assert "supervisor-demo-2026" in result.output
    assert "Trabajo de campo del" in result.output

    example = (tmp_path / "cartera-demo.csv").read_text(encoding="utf-8-sig").splitlines()
    assert example[0].startswith("codigo_cliente;nombre_cliente;nit;")
    rows = [dict(zip(example[0].split(";"), line.split(";"), strict=True)) for line in example[1:]]
    file_total = sum(_pesos(r["saldo"]) for r in rows)
    own = Counter(r["gestor"] for r in {r["codigo_cliente"]: r for r in rows}.values())

    app = create_app(Settings(data_dir=tmp_path, database_url="", environment="test"))
    with TestClient(app) as client:

        def login(username: str) -> dict[str, str]:
            token = client.post(
                "/v1/auth/token", data={"username": username, "password": f"{username}-demo-2026"}
            ).json()["access_token"]
            return {"Authorization": f"Bearer {token}"}

        office = login("supervisor")
        listing = client.get("/v1/clients", params={"limit": 500}, headers=office).json()
        assert listing["total"] == 300
        # The ledger file's balances, less what the field week collected (net of its void).
        engine = make_engine(f"sqlite:///{tmp_path / 'recaudo.db'}")
        with Session(engine) as session:
            field = session.scalar(
                select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                    LedgerEntry.source == "sync"
                )
            )
            statuses = dict(
                session.execute(
                    select(InboundEvent.status, func.count()).group_by(InboundEvent.status)
                ).all()
            )
            visits = session.scalar(select(func.count()).select_from(Visit))
            plans = session.scalar(select(func.count()).select_from(RoutePlan))
        engine.dispose()
        assert Decimal(field) < 0
        assert sum(Decimal(c["balance"]) for c in listing["items"]) == file_total + Decimal(field)
        assert statuses["held"] >= 1 and statuses["applied"] > 100
        assert visits and visits > 100
        assert plans and plans % 5 == 0  # one per demo collector and working day

        mine = client.get("/v1/clients", params={"limit": 500}, headers=login("gestor1")).json()
        assert mine["total"] == own["gestor1"]
        assert {c["collector"] for c in mine["items"]} == {"gestor1"}

    # Running it again starts from scratch instead of importing on top of the old demo.
    again = CliRunner().invoke(cli, ["demo", "--data-dir", str(tmp_path), "--no-serve"])
    assert again.exit_code == 0, again.output
    assert "300 clientes, 1500 facturas" in again.output

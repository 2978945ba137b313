"""The reconciliation and dispute forms of the supervisor's pages: es-CO amounts, linked rows,
and bad input answered with a 422 page that changes nothing (never a 500)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from server.db.models import Client
from server.settings import Settings
from server.web.cookies import SESSION_COOKIE, csrf_token
from tests.server.conftest import Login
from tests.server.sync_helpers import MakeUser, invoice


@pytest.fixture
def office(make_user: MakeUser) -> Login:
    return make_user("supervisor")


def _page(client: TestClient, office: Login, settings: Settings) -> tuple[dict[str, str], str]:
    token = office.headers["Authorization"].removeprefix("Bearer ")
    return {"Cookie": f"{SESSION_COOKIE}={token}"}, csrf_token(token, settings.signing_key)


def _form(csrf: str, **extra: Any) -> dict[str, Any]:
    return {
        "csrf": csrf,
        "as_of": "2026-02-01",
        "client_balance": "$ 60.000",
        "item_invoice": ["FE-P1", "", ""],
        "item_description": ["Glosa descontada", "", ""],
        "item_ours": ["100.000", "", ""],
        "item_theirs": ["60.000", "", ""],
        "item_resolution": ["credit_note", "none", "none"],
        "note_kind": ["credit_note", "credit_note"],
        "note_invoice": ["FE-P1", ""],
        "note_amount": ["40.000", ""],
        "note_reason_code": ["tariffs", "reconciliation"],
        "note_reason": ["Tarifa reconocida", ""],
        "note_item": ["0", ""],
        **extra,
    }


def test_record_a_reconciliation_through_the_page_form(
    client: TestClient, session: Session, make_client: Any, office: Login, settings: Settings
) -> None:
    c = make_client()
    invoice(session, c, "FE-P1", date(2026, 1, 15), "100000.00")
    headers, csrf = _page(client, office, settings)
    r = client.post(
        "/supervisor/reconciliations",
        data={"csrf": csrf, "client_code": c.code, "scheduled_for": "2026-02-01"},
        headers=headers,
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    agenda = client.get("/v1/reconciliations", headers=office.headers).json()["items"]
    (rec,) = [a for a in agenda if a["client"]["id"] == str(c.id)]
    url = f"/supervisor/reconciliations/{rec['id']}/complete"

    bad = [
        _form(csrf, item_resolution=["mystery", "none", "none"]),  # not a resolution
        _form(csrf, note_item=["2", ""]),  # the third difference row is empty
        _form(csrf, client_balance="sesenta mil"),
        _form(csrf, note_amount=["200.000", ""]),  # more than the invoice owes
    ]
    for data in bad:
        r = client.post(url, data=data, headers=headers, follow_redirects=False)
        assert r.status_code == 422, r.text
        assert "text/html" in r.headers["content-type"]
    session.expire_all()
    assert session.get(Client, c.id).balance == Decimal("100000.00")  # type: ignore[union-attr]

    r = client.post(url, data=_form(csrf), headers=headers, follow_redirects=False)
    assert r.status_code == 303, r.text
    done = client.get(f"/v1/reconciliations/{rec['id']}", headers=office.headers).json()
    assert (done["our_balance"], done["client_balance"], done["adjusted_balance"]) == (
        "100000.00",
        "60000.00",
        "60000.00",
    )
    assert done["items"][0]["credit_note_id"] == done["credit_notes"][0]["id"]
    page = client.get(f"/supervisor/reconciliations/{rec['id']}", headers=headers)
    assert page.status_code == 200 and "Diferencia pendiente" in page.text
    for fmt, magic in (("pdf", b"%PDF"), ("xlsx", b"PK")):
        f = client.get(f"/supervisor/reconciliations/{rec['id']}/export.{fmt}", headers=headers)
        assert f.status_code == 200 and f.content.startswith(magic)


def test_open_and_accept_a_dispute_through_the_page_forms(
    client: TestClient, session: Session, make_client: Any, office: Login, settings: Settings
) -> None:
    c = make_client()
    invoice(session, c, "FE-P2", date(2026, 1, 15), "1000000.00")
    headers, csrf = _page(client, office, settings)
    r = client.post(
        "/supervisor/disputes",
        data={
            "csrf": csrf,
            "client_code": c.code,
            "invoice_number": "FE-P2",
            "amount": "$ 300.000",
            "kind": "dispute",
            "reason_code": "coverage",
        },
        headers=headers,
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    (d,) = client.get("/v1/disputes", headers=office.headers, params={"client": str(c.id)}).json()[
        "items"
    ]
    assert d["amount"] == "300000.00" and d["origin"] == "office"
    page = client.get("/supervisor/disputes", headers=headers)
    assert page.status_code == 200 and f"dispute-{d['id']}" in page.text
    refused = client.post(
        f"/supervisor/disputes/{d['id']}/reject", data={"csrf": csrf}, headers=headers
    )
    assert refused.status_code == 422 and "note_required" in refused.text
    r = client.post(
        f"/supervisor/disputes/{d['id']}/accept",
        data={"csrf": csrf, "accepted_amount": "200.000"},
        headers=headers,
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    session.expire_all()
    assert session.get(Client, c.id).balance == Decimal("800000.00")  # type: ignore[union-attr]

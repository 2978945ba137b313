"""Paz y salvo: a certificate that a client owes nothing at a date, with a code anyone can check.

- Issued only when the client's balance at the end of `as_of` (rebuilt from the ledger entries
  effective on or before it, like the statement) is zero or a credit, and no glosa/devolución of
  the client is open: else 409 `balance_not_zero` (with the balance) or `open_dispute`. `as_of`
  may not be after today (422 `as_of_in_future`).
- The code is 12 base32 characters shown `XXXX-XXXX-XXXX` (60 bits), the start of an HMAC-SHA256
  with the server's signing key over (certificate id, client tax id, as_of): it cannot be made up
  without the key, and it is stored (unique) so checking it is one indexed lookup. The check
  also recomputes the HMAC from the stored row and compares in constant time, so a row edited
  by hand (another date or tax id) no longer verifies.
- A code is read back forgivingly: case, spaces and dashes do not matter, and 0/1/8 typed for
  O/I/B are taken as those letters (base32 has no 0, 1 or 8).

Issuing is office only and audited; verification is public (the PDF's link). Never commits.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
import time
import uuid
from collections import deque
from datetime import date, datetime, tzinfo
from typing import Final

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from server.db.models import ClearanceCertificate, Client
from server.repositories import audit as audit_repo
from server.repositories import clearance as clearance_repo
from server.services.access import Actor, require_office
from server.services.clients import visible_client
from server.services.pdf_reports import ReportPDF
from server.settings import Settings
from shared.clients import MoneyStr
from shared.errors import Conflict, InvalidInput, NotFound, RateLimited
from shared.formatting import format_date, format_datetime
from shared.money import ZERO

CODE_CHARS: Final = 12
_NOT_BASE32: Final = re.compile(r"[^A-Z2-7]")
_LOOKALIKES: Final = str.maketrans({"0": "O", "1": "I", "8": "B"})
VERIFY_PATH: Final = "/verificar/"


class Certificate(BaseModel):
    id: uuid.UUID
    code: str = Field(description="XXXX-XXXX-XXXX, printed on the PDF")
    client_id: uuid.UUID
    client_code: str
    client_name: str
    tax_id: str
    as_of: date = Field(description="the client owed nothing at the end of this day")
    balance: MoneyStr = Field(description="the balance at as_of: zero, or negative (a credit)")
    issued_by: str
    issued_at: datetime
    revoked_at: datetime | None
    verify_path: str = Field(description="the public verification page, under the server")


class Verification(BaseModel):
    valid: bool
    code: str
    client_name: str | None = None
    tax_id: str | None = None
    as_of: date | None = None
    issued_at: datetime | None = None


def certificate_code(signing_key: str, certificate_id: uuid.UUID, tax_id: str, as_of: date) -> str:
    """The certificate's code: HMAC-SHA256(key, id|tax id|as_of), 60 bits in base32, grouped."""
    message = f"paz-y-salvo|{certificate_id}|{tax_id}|{as_of.isoformat()}".encode()
    mac = hmac.new(signing_key.encode(), message, hashlib.sha256).digest()
    text = base64.b32encode(mac).decode()[:CODE_CHARS]
    return "-".join(text[i : i + 4] for i in range(0, CODE_CHARS, 4))


def normalize_code(text: str) -> str | None:
    """`text` as a stored code (`XXXX-XXXX-XXXX`), or None if it cannot be one."""
    chars = _NOT_BASE32.sub("", text.upper().translate(_LOOKALIKES))
    if len(chars) != CODE_CHARS or len(text) > 64:
        return None
    return "-".join(chars[i : i + 4] for i in range(0, CODE_CHARS, 4))


def _out(
    cert: ClearanceCertificate, client: Client, issued_by: str, session: Session
) -> Certificate:
    return Certificate(
        id=cert.id,
        code=cert.code,
        client_id=client.id,
        client_code=client.code,
        client_name=client.name,
        tax_id=client.tax_id,
        as_of=cert.as_of,
        balance=clearance_repo.balance_as_of(session, client.id, cert.as_of),
        issued_by=issued_by,
        issued_at=cert.issued_at,
        revoked_at=cert.revoked_at,
        verify_path=VERIFY_PATH + cert.code,
    )


def issue(
    session: Session,
    actor: Actor,
    client_id: uuid.UUID,
    *,
    as_of: date,
    today: date,
    now: datetime,
    signing_key: str,
) -> Certificate:
    """A paz y salvo of the client at `as_of`. 404 `client_not_found`; 409 `balance_not_zero`
    (details: balance), `open_dispute` (details: count, amount); 422 `as_of_in_future`."""
    require_office(actor)
    if as_of > today:
        raise InvalidInput(
            "un paz y salvo no puede ser de una fecha futura",
            code="as_of_in_future",
            details={"as_of": as_of.isoformat(), "today": today.isoformat()},
        )
    client, _ = visible_client(session, actor, client_id)
    balance = clearance_repo.balance_as_of(session, client.id, as_of)
    if balance > ZERO:
        raise Conflict(
            f"el cliente debía {balance} al {as_of.isoformat()}: no está a paz y salvo",
            code="balance_not_zero",
            details={"balance": str(balance), "as_of": as_of.isoformat()},
        )
    disputes, amount = clearance_repo.open_disputes(session, client.id)
    if disputes:
        raise Conflict(
            f"el cliente tiene {disputes} glosa(s) o devolución(es) abierta(s)",
            code="open_dispute",
            details={"count": disputes, "amount": str(amount)},
        )
    cert_id = uuid.uuid4()
    cert = ClearanceCertificate(
        id=cert_id,
        code=certificate_code(signing_key, cert_id, client.tax_id, as_of),
        client_id=client.id,
        as_of=as_of,
        issued_by=actor.user_id,
        issued_at=now,
        revoked_at=None,
    )
    session.add(cert)
    session.flush()
    audit_repo.record(
        session,
        at=now,
        actor_id=actor.user_id,
        action="clearance.issue",
        entity="clearance_certificate",
        entity_id=cert.id,
        details={"client_id": str(client.id), "as_of": as_of.isoformat(), "code": cert.code},
    )
    session.flush()
    return _out(cert, client, actor.username, session)


def get(session: Session, actor: Actor, certificate_id: uuid.UUID) -> Certificate:
    require_office(actor)
    found = clearance_repo.certificate(session, certificate_id)
    if found is None:
        raise NotFound("no such clearance certificate", code="clearance_not_found")
    cert, client, issued_by = found
    return _out(cert, client, issued_by, session)


def of_client(session: Session, actor: Actor, client_id: uuid.UUID) -> list[ClearanceCertificate]:
    """The client's latest certificates (the client page lists them)."""
    require_office(actor)
    return clearance_repo.of_client(session, client_id)


def verify(session: Session, code: str, *, signing_key: str) -> Verification:
    """Public check of a printed code: valid (and whose, at which date) or not."""
    wanted = normalize_code(code)
    found = None if wanted is None else clearance_repo.by_code(session, wanted)
    shown = wanted or code[:64]
    if found is None:
        # The same HMAC work as a hit, so a miss does not answer faster.
        certificate_code(signing_key, uuid.UUID(int=0), "", date(2000, 1, 1))
        return Verification(valid=False, code=shown)
    cert, client = found
    expected = certificate_code(signing_key, cert.id, client.tax_id, cert.as_of)
    if not hmac.compare_digest(expected, cert.code) or cert.revoked_at is not None:
        return Verification(valid=False, code=shown)
    return Verification(
        valid=True,
        code=cert.code,
        client_name=client.name,
        tax_id=client.tax_id,
        as_of=cert.as_of,
        issued_at=cert.issued_at,
    )


def clearance_pdf(
    cert: Certificate,
    *,
    company_name: str,
    company_tax_id: str,
    verify_url: str,
    tz: tzinfo,
    locale: str,
) -> bytes:
    """The printable certificate: company header, client and NIT, the sentence, code and link."""
    pdf = ReportPDF(company_name, generated_at=cert.issued_at, tz=tz, locale=locale)
    pdf.add_page()
    if company_tax_id:
        pdf.paragraph(f"NIT {company_tax_id}", size=9)
    pdf.ln(6)
    pdf.heading("CERTIFICADO DE PAZ Y SALVO", size=16)
    pdf.ln(4)
    who = f"{company_name}" + (f", NIT {company_tax_id}," if company_tax_id else "")
    pdf.paragraph(
        f"{who} certifica que {cert.client_name}, identificado(a) con NIT / CC "
        f"{cert.tax_id or 'sin registrar'}, se encuentra a paz y salvo por todo concepto al "
        f"{format_date(cert.as_of, locale)}.",
        size=12,
    )
    pdf.ln(6)
    facts = (
        ("Cliente", cert.client_name),
        ("NIT / CC", cert.tax_id or "–"),
        ("Fecha de corte", format_date(cert.as_of, locale)),
        ("Expedido", format_datetime(cert.issued_at, tz, locale)),
        ("Código de verificación", cert.code),
    )
    for label, value in facts:  # values left-aligned and wrapped: a client name can be long
        pdf.set_font(pdf.report_font, "B", 10)
        pdf.cell(55, 6, pdf.t(label))
        pdf.set_font(pdf.report_font, "", 10)
        pdf.multi_cell(0, 6, pdf.t(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.paragraph(
        f"Verifique la autenticidad de este certificado con el código {cert.code} en {verify_url}",
        size=10,
    )
    return pdf.to_bytes()


class VerifyLimiter:
    """At most `limit` public verifications per `window_s` per remote address, in this process
    (a code is 60 bits: the limit is against scraping, not against guessing)."""

    def __init__(self, limit: int = 30, window_s: float = 60.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, who: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._hits) > 10_000:  # forget everyone rather than grow without bound
                self._hits.clear()
            hits = self._hits.setdefault(who, deque())
            while hits and hits[0] <= now - self.window_s:
                hits.popleft()
            if len(hits) >= self.limit:
                retry = max(1, int(hits[0] + self.window_s - now) + 1)
                raise RateLimited(
                    "demasiadas verificaciones seguidas; intente en un momento",
                    retry_after_s=retry,
                    code="too_many_verifications",
                )
            hits.append(now)


def verify_limiter(state: object) -> VerifyLimiter:
    """The app's limiter (kept on `app.state`, made on first use)."""
    limiter = getattr(state, "verify_limiter", None)
    if not isinstance(limiter, VerifyLimiter):
        limiter = VerifyLimiter()
        setattr(state, "verify_limiter", limiter)  # noqa: B010
    return limiter


def verify_url(public_url: str, request_base: str, code: str) -> str:
    """Where the printed link points: the configured public address, else the request's."""
    base = (public_url or request_base).rstrip("/")
    return f"{base}{VERIFY_PATH}{code}"


def certificate_pdf(cert: Certificate, settings: Settings, request_base: str) -> bytes:
    """The PDF with the server's company data and verification address."""
    return clearance_pdf(
        cert,
        company_name=settings.company_name,
        company_tax_id=settings.company_tax_id,
        verify_url=verify_url(settings.public_url, request_base, cert.code),
        tz=settings.tz,
        locale=settings.locale,
    )


def pdf_filename(cert: Certificate) -> str:
    return f"paz-y-salvo_{cert.client_code}_{cert.as_of.isoformat()}"

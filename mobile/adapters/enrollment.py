"""First run over HTTP: log in with the collector's password (`POST /v1/auth/token`), then
register this installation (`POST /v1/devices`), then ask who the device belongs to
(`GET /v1/me` with the new device token: the collector's full name for receipts). The password is
used once and never stored; the device token is what every later sync call carries (api.md)."""

from __future__ import annotations

from typing import Any

import httpx

from mobile.state.app import EnrollError, Enrollment


class HttpEnroller:
    def __init__(self, *, timeout_s: float = 20.0, transport: httpx.BaseTransport | None = None):
        self._timeout = timeout_s
        self._transport = transport

    def enroll(
        self, server_url: str, username: str, password: str, *, device_name: str, nonce: str
    ) -> Enrollment:
        try:
            with httpx.Client(
                base_url=server_url, timeout=self._timeout, transport=self._transport
            ) as http:
                login = http.post(
                    "/v1/auth/token", data={"username": username, "password": password}
                )
                if login.status_code in (400, 401, 403):
                    raise EnrollError("error.login")
                login.raise_for_status()
                token = login.json()["access_token"]
                answer = http.post(
                    "/v1/devices",
                    json={"name": device_name, "install_nonce": nonce},
                    headers={"Authorization": f"Bearer {token}"},
                )
                answer.raise_for_status()
                body: dict[str, Any] = answer.json()
                full_name = _full_name(http, str(body["device_token"]))
        except httpx.HTTPStatusError as exc:
            raise EnrollError("error.server", f"HTTP {exc.response.status_code}") from exc
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            raise EnrollError("error.server", type(exc).__name__) from exc
        return Enrollment(
            device_id=str(body["device_id"]),
            device_code=str(body["device_code"]),
            device_token=str(body["device_token"]),
            server_epoch=str(body["server_epoch"]),
            full_name=full_name,
        )


def _full_name(http: httpx.Client, device_token: str) -> str:
    """The name `GET /v1/me` gives, or "" when it fails: the device is registered already, and
    the sync asks again (mobile.services.profile)."""
    try:
        answer = http.get("/v1/me", headers={"Authorization": f"Bearer {device_token}"})
        answer.raise_for_status()
        return str(answer.json()["user"]["full_name"]).strip()
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return ""

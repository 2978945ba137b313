"""The supervisor's pages (`/supervisor/`): server-rendered HTML over the same services as the
API, logged in with a session cookie. `install_pages` registers the routes and static files."""

from __future__ import annotations

from fastapi import FastAPI

from server.web import (
    agreements,
    cash,
    clearance,
    clients,
    day,
    disputes,
    exports,
    legal,
    login,
    portfolio,
    reconciliations,
    review,
    team,
    verify,
)
from server.web.assets import mount_static


def install_pages(app: FastAPI) -> None:
    pages = (login, team, day, review, clients, exports, legal, portfolio, clearance, verify, cash)
    for module in (*pages, disputes, reconciliations, agreements):
        app.include_router(module.router)
    mount_static(app)

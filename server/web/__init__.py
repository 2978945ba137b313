"""The supervisor's pages (`/supervisor/`): server-rendered HTML over the same services as the
API, logged in with a session cookie. `install_pages` registers the routes and static files."""

from __future__ import annotations

from fastapi import FastAPI

from server.web import cash, clients, day, exports, login, review, team
from server.web.assets import mount_static


def install_pages(app: FastAPI) -> None:
    for module in (login, team, day, review, clients, exports, cash):
        app.include_router(module.router)
    mount_static(app)

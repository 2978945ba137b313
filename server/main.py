"""Composition root: `create_app(settings)` builds everything; nothing happens at import time."""

from __future__ import annotations

from datetime import datetime

from fastapi import FastAPI

from server.api import (
    agreements,
    auth,
    cash,
    clearance,
    clients,
    devices,
    disputes,
    imports,
    legal,
    reconciliations,
    report_commissions,
    report_kpis,
    report_segmentation,
    report_visits,
    reports,
    review,
    sync,
    system,
)
from server.api.body_limit import BodyLimit
from server.api.docs import install_docs
from server.api.errors import install_error_handlers
from server.api.openapi import install_openapi
from server.db.engine import make_engine, make_session_factory
from server.settings import Settings
from server.web import install_pages
from shared.contact_rules import holiday_name, load_rules


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    settings.check_production_ready()
    engine = make_engine(settings.effective_database_url)
    app = FastAPI(
        title="Recaudo",
        version="0.1.0",
        summary="Offline-first field collections: sync server, receivables ledger and reports.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    install_error_handlers(app)
    app.add_middleware(BodyLimit, file_limit=lambda: app.state.settings.max_import_bytes)
    install_openapi(app)
    install_docs(app)
    for module in (
        system,
        auth,
        devices,
        clients,
        imports,
        reports,
        report_commissions,
        report_kpis,
        report_visits,
        review,
        sync,
        cash,
        disputes,
        reconciliations,
        agreements,
        legal,
        clearance,
        report_segmentation,
    ):
        app.include_router(module.router)
    install_pages(app)
    # The push checks legal hours: load the rules and this year's holidays now, not in the first
    # push (1-3 s in a cold process, while that phone's request waits).
    holiday_name(load_rules(), datetime.now(settings.tz).date())
    return app

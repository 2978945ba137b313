"""The app each uvicorn worker of the soak serves (`uvicorn --factory benchmarks.soak_app:app`),
kept apart so a worker imports the server and nothing of the load generator."""

from __future__ import annotations

import gc

from fastapi import FastAPI

from server.main import create_app


def app() -> FastAPI:
    """Built as `recaudo serve` builds it: what startup made is frozen out of the garbage
    collector's reach (the database is migrated before the server starts)."""
    built = create_app()
    gc.collect()
    gc.freeze()
    return built

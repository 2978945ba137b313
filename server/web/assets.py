"""Static files of the pages: our CSS, and Leaflet from the git-ignored folder `make web-assets`
fills from the npm registry (never a CDN at run time)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
LEAFLET_DIR = HERE / "vendor" / "node_modules" / "leaflet" / "dist"
STATIC_URL = "/supervisor/static"
LEAFLET_URL = f"{STATIC_URL}/leaflet"
LEAFLET_JS = f"{LEAFLET_URL}/leaflet.js"
LEAFLET_CSS = f"{LEAFLET_URL}/leaflet.css"


def leaflet_installed() -> bool:
    return (LEAFLET_DIR / "leaflet.js").is_file()


def mount_static(app: FastAPI) -> None:
    # The more specific mount first: /supervisor/static/leaflet is not under static/.
    app.mount(LEAFLET_URL, StaticFiles(directory=LEAFLET_DIR, check_dir=False), name="leaflet")
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="supervisor-static")

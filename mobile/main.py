"""The phone app's composition root: settings, the local database, the ports, then Flet.

`python -m mobile.main` opens the app (on a device: the packaged Flet app); `--web` serves it to a
browser with every asset local (`no_cdn`), which is how `make demo` and the end-to-end tests run
it on machines without internet.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import flet as ft
from sqlalchemy.orm import Session, sessionmaker

from mobile.adapters.enrollment import HttpEnroller
from mobile.adapters.location import GeolocatorSource, LocationSource, NoLocation
from mobile.adapters.prefs import load_lang, save_lang
from mobile.adapters.storage import data_dir
from mobile.data.migrate import open_database
from mobile.net.client import SyncClient, Timeouts
from mobile.services.background import BackgroundSync, Backoff, SyncSchedule
from mobile.services.profile import remember_full_name
from mobile.services.syncing import SyncOptions, SyncReport, open_client, sync_once
from mobile.settings import MobileSettings
from mobile.state.app import AppState, SyncPhase, SyncProblem, SyncResult, SyncRunner
from mobile.state.route import planner_with
from mobile.ui.app import mount
from mobile.ui.shell import Ctx
from shared.contact_rules import load_rules
from shared.geo import Point

log = logging.getLogger(__name__)


def now() -> datetime:
    return datetime.now(UTC).astimezone()


def problem_of(report: SyncReport) -> SyncProblem:
    """What the collector is told about a failed cycle (mobile.net.outcomes kinds)."""
    if report.ok:
        return ""
    if report.already_running:
        return "busy"
    if report.error_kind == "retryable" and report.http_status is None:
        return "offline"  # connection refused, DNS, timeout: no signal or no server
    if report.error_kind == "reauth":
        return "reauth"
    if report.error_kind == "revoked":  # the server revoked this device: AppState wipes it
        return "revoked"
    if report.error_kind == "upgrade":
        return "upgrade"
    return "other"


def sync_client(
    db: sessionmaker[Session], settings: MobileSettings, transport: Any = None
) -> SyncClient:
    """This phone's server connection, each request bounded by the configured deadline."""
    return open_client(
        db,
        app_version=settings.app_version,
        transport=transport,
        timeouts=Timeouts(deadline=settings.request_deadline_s),
    )


NOT_REGISTERED = "not_registered"


def run_cycle(
    db: sessionmaker[Session],
    settings: MobileSettings,
    transport: Any = None,
    on_progress: Callable[[SyncReport], None] | None = None,
) -> SyncReport:
    """One sync cycle with this phone's server; then, while the collector's full name is not
    known yet (its registration answer was lost), ask for it. Local faults raise."""
    try:
        client = sync_client(db, settings, transport)
    except Exception as exc:  # not registered yet, a bad URL
        return SyncReport(error_kind=NOT_REGISTERED, error_message=str(exc))
    options = SyncOptions(
        app_version=settings.app_version,
        chunk_events=settings.push_chunk_events,
        ack_retention=timedelta(days=settings.ack_retention_days),
    )
    with client:
        report = sync_once(db, client, options=options, on_progress=on_progress)
        if report.ok:
            remember_full_name(db, client)
    return report


def result_of(report: SyncReport) -> SyncResult:
    return SyncResult(
        ok=report.ok,
        sent=report.pushed,
        received=report.pulled,
        error=report.error_message,
        problem=problem_of(report),
    )


def make_syncer(
    db: sessionmaker[Session], settings: MobileSettings, transport: Any = None
) -> SyncRunner:
    """One sync round for a tap on "Sincronizar ahora"; `transport` (httpx) is for tests."""

    def run(progress: Callable[[SyncPhase, int], None]) -> SyncResult:
        def on_progress(report: SyncReport) -> None:
            if report.phase in ("push", "pull"):
                phase: SyncPhase = "push" if report.phase == "push" else "pull"
                progress(phase, report.pushed if phase == "push" else report.pulled)

        try:
            report = run_cycle(db, settings, transport, on_progress)
        except Exception as exc:  # a local fault (database locked, disk full): a message
            log.exception("sync failed on the phone")
            return SyncResult(ok=False, error=local_error(exc), problem="other")
        if report.error_kind == NOT_REGISTERED:
            return SyncResult(ok=False, error=report.error_message)
        return result_of(report)

    return run


def make_background(
    db: sessionmaker[Session], settings: MobileSettings, state: AppState, transport: Any = None
) -> BackgroundSync:
    """Sync without a tap while the app is open (mobile.services.background), reporting to the
    screen's state; a device not registered yet is simply skipped until it is."""

    def on_report(report: SyncReport) -> None:
        if report.error_kind == NOT_REGISTERED:
            return
        state.background_done(result_of(report))

    schedule = SyncSchedule(
        interval_s=settings.sync_interval_s,
        debounce_s=settings.sync_debounce_s,
        backoff=Backoff(base_s=settings.sync_backoff_base_s, cap_s=settings.sync_backoff_cap_s),
    )
    return BackgroundSync(
        lambda: run_cycle(db, settings, transport),
        on_report=on_report,
        on_start=state.background_started,
        schedule=schedule,
    )


def local_error(exc: Exception) -> str:
    """A local fault, short enough for a message bar (SQLite errors quote whole statements)."""
    text = str(exc).split("\n", 1)[0] or type(exc).__name__
    return text[:160]


def location_source(page: ft.Page) -> LocationSource:
    try:
        import flet_geolocator as ftg

        return GeolocatorSource(ftg.Geolocator())
    except Exception:  # no plugin on this build: visits are recorded without a fix
        return NoLocation()


def app_main(settings: MobileSettings, default_server: str = "") -> Any:
    folder = data_dir(settings)
    db = open_database(folder / settings.database_path.name)
    rules = load_rules("CO")

    async def main(page: ft.Page) -> None:
        async def share_text(text: str) -> None:
            try:
                await ft.Share().share_text(text, title="Recibo")
            except Exception:  # web without the Web Share API: the clipboard still works
                await ft.Clipboard().set(text)

        async def share_file(name: str, data: bytes, mime_type: str) -> bool:
            try:
                await ft.Share().share_files(
                    [ft.ShareFile.from_bytes(data, mime_type=mime_type, name=name)], title=name
                )
            except Exception:  # no share sheet here (a browser without file sharing)
                return False
            return True

        async def share_pdf(name: str, data: bytes) -> bool:
            return await share_file(name, data, "application/pdf")

        async def open_url(url: str) -> None:
            await ft.UrlLauncher().launch_url(url)

        state = AppState(
            db=db,
            clock=now,
            enroller=HttpEnroller(timeout_s=settings.request_deadline_s),
            syncer=make_syncer(db, settings),
            tz=settings.timezone,
            contact_rules=rules,
            lang=load_lang(folder),
            on_lang=partial(save_lang, folder),
            auto_sync_minutes=max(1, round(settings.sync_interval_s / 60)),
            route_start=Point(settings.route_start_lat, settings.route_start_lon),
            day_end=settings.day_end,
            service_minutes=settings.visit_minutes,
            planner=planner_with(settings.route_effort),
            app_version=settings.app_version,
            export_dir=folder / "exportados",  # beside the database, never wiped
        )
        background = make_background(db, settings, state)
        state.on_recorded = background.request
        watch_session(page, background)
        ctx = Ctx(
            page=page,
            state=state,
            location=location_source(page),
            share_text=share_text,
            share_pdf=share_pdf,
            share_file=share_file,
            open_url=open_url,
            tile_url=settings.tile_url,
        )
        mount(ctx, default_server=default_server)
        background.start()

    return main


def watch_session(page: ft.Page, background: BackgroundSync) -> None:
    """The background sync lives as long as the app (a web session: while a browser shows it);
    coming back to the foreground on a phone asks for a sync at once."""

    def lifecycle(e: ft.AppLifecycleStateChangeEvent) -> None:
        if e.state is ft.AppLifecycleState.RESUME:
            background.request()

    page.on_app_lifecycle_state_change = lifecycle
    page.on_connect = lambda _: background.start()
    page.on_disconnect = lambda _: background.stop(timeout_s=None)
    page.on_close = lambda _: background.stop(timeout_s=None)


def settings_from(args: argparse.Namespace) -> MobileSettings:
    """The environment's settings, with the command line's options over them."""
    settings = MobileSettings()
    if args.tile_url is not None:
        settings = settings.model_copy(update={"tile_url": args.tile_url})
    return settings


def run(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="recaudo-app", description="Recaudo collector app")
    parser.add_argument("--web", action="store_true", help="serve to a browser (no CDN)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8550)
    parser.add_argument("--data-dir", help="where the phone database lives")
    parser.add_argument("--server", default="", help="server URL shown on the first-run screen")
    parser.add_argument(
        "--tile-url",
        help="map tiles, {z}/{x}/{y} template; empty for none "
        "(default: RECAUDO_MOBILE_TILE_URL, else OpenStreetMap)",
    )
    args = parser.parse_args(argv)
    if args.data_dir:
        os.environ["RECAUDO_MOBILE_DATA_DIR"] = args.data_dir
    main = app_main(settings_from(args), default_server=args.server)
    if args.web:
        ft.run(
            main,
            view=ft.AppView.WEB_BROWSER,
            host=args.host,
            port=args.port,
            no_cdn=True,
            assets_dir=None,
        )
    else:
        ft.run(main)


if __name__ == "__main__":
    run()

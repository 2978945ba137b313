"""The app's view state and the actions on it, without Flet: the UI renders `AppState` and calls
these methods with plain values; every action that writes is one service call (one local
transaction), so closing the app between two taps loses nothing already confirmed.

Ports the composition root (mobile/main.py) fills in and tests replace with fakes:
`Clock`, `Enroller` (log in and register this device over HTTP) and `SyncRunner` (one sync round).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Literal, Protocol

from sqlalchemy.orm import Session, sessionmaker

from mobile.services.cash import (
    CashPayment,
    Handover,
    load_cash_in_hand,
    load_handovers,
    record_handover,
)
from mobile.services.device import register_device
from mobile.services.field_collections import record_agreement, record_dispute
from mobile.services.portfolio import (
    ClientRecord,
    LocalEvent,
    SyncInfo,
    load_clients,
    load_events,
    load_sync_info,
)
from mobile.services.recording import record_payment, record_promise, record_visit, void_payment
from mobile.services.routes import NO_CLIENT_ID, StoredPlan, load_route_plan, record_route_plan
from mobile.services.wiping import export_and_wipe, is_revoked, kept_rows, wipe_if_clear
from mobile.state.clients import (
    ClientDetail,
    ClientRow,
    TodayFilter,
    client_detail,
    filter_rows,
    today_rows,
)
from mobile.state.collection_forms import AgreementForm, DisputeForm, HandoverForm
from mobile.state.collections import CashView, cash_view
from mobile.state.forms import (
    DEFAULT_PROMISE_HORIZON_DAYS,
    Notice,
    PaymentForm,
    PromiseForm,
    VisitForm,
    visit_warnings,
)
from mobile.state.i18n import Lang, Texts
from mobile.state.mapview import BOGOTA
from mobile.state.receipt import ReceiptView
from mobile.state.route import (
    DEFAULT_DAY_END,
    DEFAULT_SERVICE_MINUTES,
    Planner,
    phone_planner,
    plan_day,
    planned_rows,
)
from mobile.state.syncview import SyncOverview, sync_overview
from mobile.state.week import WeekSummary, week_summary
from shared.calendar import business_date
from shared.commissions import CommissionRules
from shared.contact_rules import ContactRules
from shared.errors import DomainError
from shared.geo import Fix, Point
from shared.money import ZERO

Screen = Literal[
    "setup",
    "today",
    "map",
    "client",
    "visit",
    "promise",
    "payment",
    "confirm",
    "receipt",
    "sync",
    "week",
    "agreement",
    "dispute",
    "cash",
    "handover",
]
PARENT: dict[Screen, Screen] = {
    "agreement": "client",
    "dispute": "client",
    "cash": "week",
    "handover": "cash",
    "client": "today",
    "visit": "client",
    "promise": "client",
    "payment": "client",
    "confirm": "payment",
    "receipt": "client",
    "sync": "today",
    "map": "today",
    "week": "today",
}
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Enrollment:
    device_id: str
    device_code: str
    device_token: str
    server_epoch: str
    full_name: str = ""  # from GET /v1/me; empty when it did not answer (asked again at sync)


class EnrollError(Exception):
    """`key` is a message id (error.login, error.server, ...), `reason` a technical detail."""

    def __init__(self, key: str, reason: str = "") -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


class Enroller(Protocol):
    def enroll(
        self, server_url: str, username: str, password: str, *, device_name: str, nonce: str
    ) -> Enrollment: ...


SyncProblem = Literal["", "offline", "reauth", "revoked", "upgrade", "busy", "other"]


@dataclass(frozen=True)
class SyncResult:
    ok: bool
    sent: int = 0
    received: int = 0
    error: str = ""  # technical detail, shown only for problems without a message of their own
    problem: SyncProblem = ""


SyncPhase = Literal["push", "pull", "done"]
# One sync round; it reports (phase, events sent or changes received so far) as it goes.
SyncRunner = Callable[[Callable[[SyncPhase, int], None]], SyncResult]


@dataclass
class AppState:
    db: sessionmaker[Session]
    clock: Clock
    enroller: Enroller
    syncer: SyncRunner | None = None
    tz: str = "America/Bogota"
    lang: Lang = "es"
    contact_rules: ContactRules | None = None
    commission_rules: CommissionRules | None = None  # None: shared/rules/commissions.toml
    promise_horizon_days: int = DEFAULT_PROMISE_HORIZON_DAYS
    on_change: Callable[[], None] | None = None
    on_lang: Callable[[Lang], None] | None = None  # remember the choice (mobile.adapters.prefs)
    # A field action was saved: the background sync sends it soon (BackgroundSync.request).
    on_recorded: Callable[[], None] | None = None
    # Redraw what a background sync changes (badges, Sincronización) without taking the focus
    # from a field being typed in; None: a full redraw.
    on_status: Callable[[], None] | None = None
    auto_sync_minutes: int = 0  # the background sync's interval; 0: no background sync
    app_version: str = "0.1.0"  # written into an export of pending events
    export_dir: Path = Path("exportados")  # where exports go; never wiped (mobile.main sets it)
    # Route planning: where a plan starts without a GPS fix (web mode, tests), when the working
    # day ends, minutes per visit, and the planner (mobile.state.route).
    route_start: Point = BOGOTA
    day_end: time = DEFAULT_DAY_END
    service_minutes: float = DEFAULT_SERVICE_MINUTES
    planner: Planner = phone_planner

    screen: Screen = "setup"
    filter: TodayFilter = field(default_factory=TodayFilter)
    position: Fix | None = None
    online: bool | None = None  # None: not tried since start
    info: SyncInfo | None = None
    records: list[ClientRecord] = field(default_factory=list)
    events: list[LocalEvent] = field(default_factory=list)
    rows: list[ClientRow] = field(default_factory=list)
    route: StoredPlan | None = None  # today's chosen plan (the newest)
    planning: bool = False
    client_id: str | None = None
    visit: VisitForm = field(default_factory=VisitForm)
    promise: PromiseForm = field(default_factory=PromiseForm)
    payment: PaymentForm = field(default_factory=PaymentForm)
    receipt: ReceiptView | None = None
    agreement: AgreementForm = field(default_factory=AgreementForm)
    dispute: DisputeForm = field(default_factory=DisputeForm)
    handover: HandoverForm = field(default_factory=HandoverForm)
    cash_payments: list[CashPayment] = field(default_factory=list)  # cash in hand, oldest first
    handovers: list[Handover] = field(default_factory=list)  # newest first
    message: str = ""  # one-line feedback (saved, sync result, error)
    message_is_error: bool = False
    setup_error: str = ""
    setup_server: str = ""  # what was typed, kept across re-renders (never the password)
    setup_username: str = ""
    busy: bool = False
    sync_phase: SyncPhase | None = None  # while a sync runs
    sync_count: int = 0
    auto_running: bool = False  # a background cycle is under way
    auto_problem: SyncProblem = ""  # how the last background cycle failed ("" : it completed)
    auto_at: datetime | None = None  # when the last background cycle ended
    # The server revoked this device and events are still unsent: export them, then it wipes.
    revoked: bool = False
    _nonce: str = field(default_factory=lambda: str(uuid.uuid4()))
    # Taps can be handled on several threads: a second tap on "save" must not record twice.
    _writing: threading.Lock = field(default_factory=threading.Lock)
    # A background sync reloads on its own thread while a GPS fix may arrive: one at a time, so
    # rows computed without the fix never replace rows computed with it.
    _loading: threading.RLock = field(default_factory=threading.RLock)

    # --- reading ----------------------------------------------------------------------------

    @property
    def t(self) -> Texts:
        return Texts(self.lang)

    def start(self) -> None:
        """Open on Hoy when the device is registered, else on the first-run screen."""
        self.reload()
        self.screen = "today" if self.info is not None else "setup"
        if is_revoked(self.db):  # revoked in an earlier session, events were still unsent
            self._on_revoked()
            return
        self.notify()

    def reload(self) -> None:
        with self._loading:
            self.info = load_sync_info(self.db)
            self.records = load_clients(self.db)
            self.events = load_events(self.db)
            self.route = load_route_plan(self.db, business_date(self.clock(), self.tz))
            self.cash_payments = load_cash_in_hand(self.db)
            self.handovers = load_handovers(self.db)
            self.rows = self._today()

    def _today(self) -> list[ClientRow]:
        """Hoy's rows: by priority, or in the planned order once a route is chosen."""
        rows = today_rows(
            self.records, self.events, now=self.clock(), tz=self.tz, position=self._point()
        )
        return planned_rows(rows, self.route)

    def locate_client(self, client_id: str) -> Point | None:
        record = next((r for r in self.records if r.id == client_id), None)
        if record is None or record.lat is None or record.lon is None:
            return None
        return Point(record.lat, record.lon)

    def _point(self) -> Point | None:
        return self.position.point if self.position else None

    def visible_rows(self) -> list[ClientRow]:
        return filter_rows(self.rows, self.filter)

    @property
    def pending(self) -> int:
        return sum(1 for e in self.events if e.state == "pending")

    def record(self) -> ClientRecord | None:
        return next((r for r in self.records if r.id == self.client_id), None)

    def detail(self) -> ClientDetail | None:
        record = self.record()
        if record is None:
            return None
        return client_detail(
            record, self.events, now=self.clock(), tz=self.tz, position=self._point()
        )

    def visit_notices(self) -> list[Notice]:
        record = self.record()
        location = Point(record.lat, record.lon) if record and record.lat and record.lon else None
        return visit_warnings(
            now=self.clock(),
            rules=self.contact_rules,
            fix=self.visit.fix,
            client_location=location,
            tz=self.tz,
        )

    def sync_view(self) -> SyncOverview:
        names = {r.id: r.name for r in self.records}
        # Events about no single client are named by their type.
        by_type = {
            "route.planned": self.t("route.event"),
            "cash.handed_over": self.t("cash.title"),
        }
        names[NO_CLIENT_ID] = self.t("route.event")
        return sync_overview(self.events, names, by_type)

    def cash(self) -> CashView:
        """Efectivo en mano: the cash payments recorded here not handed over, and the
        handovers with the server's word on each."""
        names = {r.id: r.name for r in self.records}
        return cash_view(self.cash_payments, self.handovers, names, now=self.clock(), tz=self.tz)

    def dispute_limits(self) -> dict[str, Decimal]:
        """Each open invoice of the client with what can still be disputed on it."""
        detail = self.detail()
        if detail is None:
            return {}
        return {
            inv.number: max(inv.balance - inv.disputed, ZERO)
            for inv in detail.invoices
            if inv.balance > 0
        }

    def week(self) -> WeekSummary:
        return week_summary(
            self.events,
            now=self.clock(),
            tz=self.tz,
            records=self.records,
            rules=self.commission_rules,
        )

    # --- navigation -------------------------------------------------------------------------

    def go(self, screen: Screen) -> None:
        self.screen = screen
        self.message, self.message_is_error = "", False
        self.notify()

    def back(self) -> None:
        self.go(PARENT.get(self.screen, "today"))

    def set_lang(self, lang: Lang) -> None:
        self.lang = lang
        if self.on_lang is not None:
            self.on_lang(lang)
        self.notify()

    def set_filter(self, flt: TodayFilter) -> None:
        self.filter = flt
        self.notify()

    def set_position(self, fix: Fix | None) -> None:
        """A new GPS reading: distances on Hoy, and the visit form keeps its best fix. Only Hoy
        is redrawn for it: elsewhere a redraw would take the focus from a field being typed in
        (the visit screen updates its GPS line in place)."""
        with self._loading:
            self.position = fix
            if fix is not None and self.screen == "visit":
                self.visit.offer_fix(fix)
            self.rows = self._today()
        if self.screen == "today":
            self.notify()

    def open_client(self, client_id: str) -> None:
        self.client_id = client_id
        self.go("client")

    def start_visit(self) -> None:
        self.visit = VisitForm()
        if self.position is not None:
            self.visit.offer_fix(self.position)
        self.go("visit")

    def start_promise(self) -> None:
        self.promise = PromiseForm()
        self.go("promise")

    def start_payment(self) -> None:
        self.payment = PaymentForm()
        self.go("payment")

    def start_agreement(self) -> None:
        """The form starts with the visible balance as the amount and a first installment a
        week from today, monthly; the collector sets the number of installments."""
        record = self.record()
        first = business_date(self.clock(), self.tz) + timedelta(days=7)
        total = self.t.plain_amount(record.balance) if record and record.balance > 0 else ""
        self.agreement = AgreementForm(total=total, first=self.t.date(first))
        self.go("agreement")

    def build_schedule(self) -> bool:
        record = self.record()
        built = self.agreement.generate(
            now=self.clock(),
            lang=self.lang,
            tz=self.tz,
            balance=record.balance if record else None,
        )
        self.notify()
        return built

    def start_dispute(self) -> None:
        self.dispute = DisputeForm()
        self.go("dispute")

    def start_handover(self) -> None:
        """Every payment in hand is chosen by default; the date is today."""
        today = business_date(self.clock(), self.tz)
        self.handover = HandoverForm(
            day=self.t.date(today), selected=[p.event_id for p in self.cash_payments]
        )
        self.go("handover")

    # --- actions that write -----------------------------------------------------------------

    def setup(self, server_url: str, username: str, password: str) -> bool:
        """First run: log in, register this installation, then a first sync when available."""
        url = server_url.strip().rstrip("/")
        self.setup_server, self.setup_username = server_url, username
        self.setup_error = ""
        if not url.startswith(("http://", "https://")):
            self.setup_error = self.t("error.url")
            self.notify()
            return False
        if not username.strip() or not password:
            self.setup_error = self.t("error.required")
            self.notify()
            return False
        with self._writing:  # one registration at a time: each one replaces the device token
            if self.busy or self.screen != "setup":
                return False
            self.busy = True
        self.notify()
        try:
            enrollment = self.enroller.enroll(
                url,
                username.strip(),
                password,
                device_name=f"Recaudo {username}",
                nonce=self._nonce,
            )
        except EnrollError as exc:
            self.setup_error = self.t(exc.key, reason=exc.reason)
            self.online = exc.key != "error.server"
            return False
        finally:
            self.busy = False
            self.notify()
        register_device(
            self.db,
            device_id=enrollment.device_id,
            device_code=enrollment.device_code,
            device_token=enrollment.device_token,
            server_url=url,
            server_epoch=enrollment.server_epoch,
            username=username.strip(),
            full_name=enrollment.full_name,
        )
        self.online = True
        self.reload()
        self.go("today")
        self.sync()
        return True

    def save_visit(self) -> bool:
        with self._writing:
            if self.screen != "visit":  # already saved by an earlier tap
                return False
            values = self.visit.validate()
            if values is None or self.client_id is None:
                self.notify()
                return False
            outcome, notes = values
            fix = self.visit.fix
            return self._write(
                lambda: record_visit(
                    self.db,
                    client_id=self.client_id or "",
                    outcome=outcome,
                    notes=notes,
                    now=self.clock(),
                    lat=fix.point.lat if fix else None,
                    lon=fix.point.lon if fix else None,
                    accuracy_m=fix.accuracy_m if fix else None,
                ),
                "visit.saved",
            )

    def save_promise(self) -> bool:
        with self._writing:
            if self.screen != "promise":  # already saved by an earlier tap
                return False
            values = self.promise.validate(
                now=self.clock(), lang=self.lang, tz=self.tz, horizon_days=self.promise_horizon_days
            )
            if values is None or self.client_id is None:
                self.notify()
                return False
            amount, due = values
            return self._write(
                lambda: record_promise(
                    self.db,
                    client_id=self.client_id or "",
                    amount=amount,
                    due_date=due,
                    now=self.clock(),
                ),
                "promise.saved",
            )

    def save_agreement(self) -> bool:
        with self._writing:
            if self.screen != "agreement":  # already saved by an earlier tap
                return False
            record = self.record()
            values = self.agreement.validate(
                now=self.clock(),
                lang=self.lang,
                tz=self.tz,
                balance=record.balance if record else None,
            )
            if values is None or record is None:
                self.notify()
                return False
            schedule, notes = values
            return self._write(
                lambda: record_agreement(
                    self.db,
                    client_id=record.id,
                    installments=schedule,
                    notes=notes,
                    now=self.clock(),
                ),
                "agreement.saved",
            )

    def save_dispute(self) -> bool:
        with self._writing:
            if self.screen != "dispute":  # already saved by an earlier tap
                return False
            values = self.dispute.validate(available=self.dispute_limits(), lang=self.lang)
            if values is None or self.client_id is None:
                self.notify()
                return False
            invoice, amount, kind, reason, notes = values
            return self._write(
                lambda: record_dispute(
                    self.db,
                    client_id=self.client_id or "",
                    invoice_number=invoice,
                    amount=amount,
                    kind=kind,
                    reason_code=reason,
                    notes=notes,
                    now=self.clock(),
                ),
                "dispute.saved",
            )

    def save_handover(self) -> bool:
        with self._writing:
            if self.screen != "handover":  # already saved by an earlier tap
                return False
            values = self.handover.validate(
                now=self.clock(), tz=self.tz, in_hand={p.event_id for p in self.cash_payments}
            )
            if values is None:
                self.notify()
                return False
            method, reference, day, chosen = values
            try:
                record_handover(
                    self.db,
                    method=method,
                    bank_reference=reference,
                    deposited_on=day,
                    payment_event_ids=chosen,
                    now=self.clock(),
                    tz=self.tz,
                )
            except DomainError as exc:  # nothing was saved: the form stays to retry
                self._save_failed(exc)
                return False
            self.reload()
            self.go("cash")
            self.message = self.t("handover.saved")
            self.notify()
            self._recorded()
            return True

    def review_payment(self) -> bool:
        """Validate the form and show the confirmation step; nothing is written yet."""
        if self.payment.validate(lang=self.lang) is None:
            self.notify()
            return False
        self.go("confirm")
        return True

    def confirm_payment(self) -> bool:
        with self._writing:
            if self.screen != "confirm":  # already saved by an earlier tap
                return False
            draft = self.payment.draft
            record = self.record()
            if draft is None or record is None:
                return False
            try:
                receipt = record_payment(
                    self.db,
                    client_id=record.id,
                    amount=draft.amount,
                    method=draft.method,
                    reference=draft.reference or None,
                    invoice_numbers=draft.invoice_numbers or None,
                    now=self.clock(),
                )
            except DomainError as exc:  # nothing was saved (a full phone): stay to retry
                self._save_failed(exc)
                return False
            self.receipt = ReceiptView(
                receipt_no=receipt.receipt_no,
                client_name=record.name,
                client_code=record.code,
                amount=receipt.amount,
                method=receipt.method,
                reference=draft.reference,
                at=receipt.device_time,
                collector=self.info.collector if self.info else "",
            )
            self.payment = PaymentForm()
            self.reload()
            self.go("receipt")
            self._recorded()
            return True

    def void(self, payment_event_id: str, reason: str) -> bool:
        try:
            void_payment(
                self.db,
                payment_event_id=payment_event_id,
                reason=reason,
                now=self.clock(),
                tz=self.tz,
            )
        except DomainError as exc:
            self.message, self.message_is_error = str(exc), True
            self.notify()
            return False
        self.reload()
        self.message = self.t("void.saved")
        self.notify()
        self._recorded()
        return True

    def plan_route(self) -> bool:
        """Plan the rest of today from the collector's position (else `route_start`) and keep
        the plan with its `route.planned` event in one local transaction. Runs the planner on
        the caller's thread (the UI calls it off the event loop)."""
        with self._writing:
            if self.planning or self.info is None:
                return False
            self.planning = True
        self.notify()
        try:
            start, now = self._point() or self.route_start, self.clock()
            base = today_rows(self.records, self.events, now=now, tz=self.tz, position=start)
            day = plan_day(
                base,
                self.locate_client,
                start=start,
                now=now,
                tz=self.tz,
                rules=self.contact_rules,
                day_end=self.day_end,
                service_minutes=self.service_minutes,
                planner=self.planner,
            )
            record_route_plan(
                self.db,
                plan_date=business_date(now, self.tz),
                order=day.plan.order,
                arrivals=day.plan.arrivals,
                skipped=day.skipped,
                distance_m=float(day.plan.distance_m),
                start=start,
                now=now,
            )
        except DomainError as exc:  # bad data in the mirror (a window, a coordinate)
            self.message, self.message_is_error = str(exc), True
            self.notify()
            return False
        finally:
            self.planning = False
        self.reload()
        self.message = self.t(
            "route.planned", stops=self.t.stops(len(day.plan.order)), skipped=len(day.skipped)
        )
        self.message_is_error = False
        self.notify()
        self._recorded()
        return True

    def sync(self) -> SyncResult | None:
        """One sync round through the injected runner; every outcome shows as a message."""
        if self.revoked:
            self._on_revoked()
            return None
        if self.syncer is None:
            self.message, self.message_is_error = self.t("sync.unavailable"), True
            self.notify()
            return None
        self.busy, self.sync_phase, self.sync_count = True, None, 0
        self.notify()
        try:
            result = self.syncer(self._sync_progress)
        finally:
            self.busy, self.sync_phase = False, None
        if result.problem == "revoked":
            self._on_revoked()
            return result
        self.online = result.ok or result.problem in ("reauth", "upgrade", "busy")
        if result.ok:
            self.auto_problem = ""  # the line about the last automatic sync would be stale
        self.reload()
        if result.ok:
            self.message = self.t("sync.done", sent=result.sent, received=result.received)
        elif result.problem in ("offline", "reauth", "upgrade", "busy"):
            self.message = self.t(f"sync.{result.problem}")
        else:
            self.message = self.t("sync.failed", reason=result.error)
        self.message_is_error = not result.ok
        self.notify()
        return result

    def background_started(self) -> None:
        self.auto_running = True
        self.notify_status()

    def background_done(self, result: SyncResult) -> None:
        """A background cycle ended (on the background thread): the badges, the pending count
        and Sincronización follow it; it never shows a message bar (nobody asked)."""
        self.auto_running = False
        if result.problem == "busy":  # a tap's sync was running: it reports for itself
            self.notify_status()
            return
        if result.problem == "revoked":
            self._on_revoked()
            return
        self.online = result.ok or result.problem in ("reauth", "upgrade")
        self.auto_problem = "" if result.ok else (result.problem or "other")
        self.auto_at = self.clock()
        self.reload()
        self.notify_status()

    def auto_status(self) -> str:
        """One line on Sincronización about the sync that needs no tap."""
        if not self.auto_sync_minutes:
            return ""
        if self.auto_running:
            return self.t("auto.running")
        if self.auto_problem == "offline":
            return self.t("auto.offline")
        if self.auto_problem in ("reauth", "upgrade"):
            return self.t(f"sync.{self.auto_problem}")
        if self.auto_problem:
            return self.t("auto.failed")
        return self.t("auto.every", n=self.auto_sync_minutes)

    # --- a revoked device (lost phone) -------------------------------------------------------

    def _on_revoked(self) -> None:
        """The server revoked this device: wipe it now when nothing is unsent, else keep
        everything and ask for an export (`export_and_wipe`)."""
        with self._writing:  # no record is saved between the check and the wipe
            wiped = wipe_if_clear(self.db)
        if wiped:
            self._first_run(self.t("revoked.wiped"))
            return
        self.revoked = True
        self.reload()
        self.screen = "sync"
        with self.db() as session:
            kept = kept_rows(session)
        self.message, self.message_is_error = self.t("revoked.export", n=kept), True
        self.notify()

    def export_path(self) -> Path:
        code = self.info.device_code if self.info else "telefono"
        return self.export_dir / f"recaudo-pendientes-{code}-{self.clock():%Y%m%d-%H%M%S}.json"

    def export_and_wipe(self, path: Path) -> int | None:
        """Write the pending events of a revoked device to `path` (for the office to load with
        the same push rule), then wipe the phone. None when the export failed: nothing wiped."""
        if not self.revoked:
            return None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._writing:
                written = export_and_wipe(self.db, path, app_version=self.app_version)
        except (OSError, ValueError, RuntimeError, DomainError) as exc:
            self.message = self.t("revoked.export_failed", reason=str(exc)[:160])
            self.message_is_error = True
            self.notify()
            return None
        self._first_run(self.t("revoked.exported", n=written, file=path.name))
        return written

    def _first_run(self, message: str) -> None:
        self.revoked = False
        self.setup_server = self.setup_username = self.setup_error = ""
        self.client_id, self.receipt, self.route = None, None, None
        self.position, self.online = None, None
        self.reload()
        self.screen = "setup"
        self.message, self.message_is_error = message, False
        self.notify()

    # --- plumbing ---------------------------------------------------------------------------

    def _sync_progress(self, phase: SyncPhase, count: int) -> None:
        if (phase, count) != (self.sync_phase, self.sync_count):
            self.sync_phase, self.sync_count = phase, count
            self.notify()

    def sync_status(self) -> str:
        """What the progress bar says: sending, receiving, or just working."""
        if self.sync_phase in ("push", "pull"):
            return self.t(f"sync.{self.sync_phase}", n=self.sync_count)
        return self.t("sync.running")

    def _write(self, action: Callable[[], object], saved_key: str) -> bool:
        try:
            action()
        except DomainError as exc:  # nothing was saved (a full phone): the form stays to retry
            self._save_failed(exc)
            return False
        self.reload()
        self.go("client")
        self.message = self.t(saved_key)
        self.notify()
        self._recorded()
        return True

    def _save_failed(self, exc: DomainError) -> None:
        key = f"error.{exc.code}"  # in the chosen language when the catalog has it
        text = self.t(key)
        self.message, self.message_is_error = (exc.message if text == key else text), True
        self.notify()

    def _recorded(self) -> None:
        if self.on_recorded is not None:
            self.on_recorded()

    def notify_status(self) -> None:
        (self.on_status or self.notify)()

    def notify(self) -> None:
        if self.on_change is not None:
            self.on_change()

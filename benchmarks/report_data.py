"""A year of field work for the report benchmarks, generated straight into PostgreSQL with COPY.

`Shape()` is issue 6's scale: 1,000 collectors x 52 ISO weeks, 60 clients each, about 8 million
visits and 2 million payments. The schema comes from the app's migrations; the rows are the ones
the sync push and the ledger import would have written:

- visits on working days (Monday to Friday, a shorter Saturday, no Sundays, no Colombian national
  holidays, two weeks of vacation per collector), 7:00-19:00 Bogotá time, each with its business
  date, GPS fix, distance, `verified` and `flags` as shared/geo.py decides them (far from the
  client, poor accuracy, no fix, client location unknown, a rare skewed clock, a few outside legal
  hours; stored as `shared.visits.join_flags` writes them), and outcomes spread per collector
  (some reach the weekly bonus, some do not);
- one payment per visit whose outcome is `payment`: a ledger entry (kind payment, source sync,
  created_by the collector, effective on the visit's business day, recorded when it synced)
  allocated oldest due first over the client's invoices issued by then, overpayments left as
  credit, exactly as `shared.allocation.allocate_payment` would; clients pay at different rates,
  so some stay current and others keep a backlog more than 180 days old: every commission bucket
  is hit. About 0.3 % of payments are reversed a few days later (allocation by allocation);
- invoices: a backlog due up to 300 days before the year, then one a month, each with its import
  charge; invoice and client balances are the projections of these entries.

Rows are written day by day, every collector's rows of a day together, so they lie on disk in the
order a server receives them. Fast path: the big tables' keys, indexes and foreign keys are
dropped, five COPY streams (one connection each) are fed in turn, then keys, indexes and foreign
keys are put back exactly as the migrations made them (their definitions are read from the
catalog), and the database is VACUUM ANALYZEd. A marker table records the generator version and
shape: a complete database is kept, so a second run only runs the migrations (new indexes) and
`force=True` regenerates.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from math import cos, radians, sin
from typing import Any

import holidays
import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from server.db import migrate
from shared import geo
from shared.calendar import IsoWeek
from shared.visits import OUTSIDE_LEGAL_HOURS, join_flags

GENERATOR_VERSION = 2  # bump when the rows change: a kept database is then regenerated
# In a schema of its own, so the app's migration check (public schema) never sees it.
MARKER = "bench.report_data"
# Tables written by COPY: their keys and indexes are off during the load.
BULK_TABLES = ("client", "invoice", "ledger_entry", "ledger_allocation", "visit")
UTC_OFFSET_S = 5 * 3600  # Bogotá is UTC-5 all year (no daylight saving)
# shared.visits.EFFECTIVE_OUTCOMES and the others, in the order of the outcome weights.
EFFECTIVE = ("contacted", "promise", "payment", "dispute")
NOT_EFFECTIVE = ("third_party", "not_found", "refused", "wrong_address")
M_PER_DEG = 111_320.0
BOGOTA = (4.65, -74.10)


@dataclass(frozen=True)
class Shape:
    collectors: int = 1000
    weeks: int = 52
    last_week: str = "2025-W52"  # the last week generated: 52 weeks are ISO year 2025
    clients_per_collector: int = 60
    visits_per_collector: int = 8000  # in 52 weeks (scaled to `weeks`), before the spread
    seed: int = 6

    @property
    def first_monday(self) -> date:
        return IsoWeek.parse(self.last_week).shift(1 - self.weeks).monday

    @property
    def last_sunday(self) -> date:
        return IsoWeek.parse(self.last_week).sunday


@dataclass
class Generated:
    """What `ensure` found or made."""

    url: str
    generated: bool
    seconds: float  # of the generation that made this database
    counts: dict[str, int] = field(default_factory=dict)


def database_url(base_url: str, suffix: str = "_reports") -> str:
    """The bench database beside the one `base_url` names (it is created if missing)."""
    url = make_url(base_url)
    return url.set(database=f"{url.database}{suffix}").render_as_string(hide_password=False)


def ensure(
    url: str, shape: Shape, *, force: bool = False, log: Callable[[str], None] = print
) -> Generated:
    """The database at `url` holding `shape`: kept when its marker says it is complete and of
    this generator version and shape, otherwise dropped, recreated, migrated and generated. The
    migrations are run either way, so a kept database gains new revisions (indexes)."""
    if not force:
        found = _marker(url)
        if (
            found is not None
            and found["version"] == GENERATOR_VERSION
            and found["shape"] == asdict(shape)
        ):
            migrate.upgrade(url)
            return Generated(url, False, float(found["seconds"]), dict(found["counts"]))
    _recreate(url)
    migrate.upgrade(url)
    start = time.perf_counter()
    counts = _generate(url, shape, log)
    seconds = time.perf_counter() - start
    with _connect(url) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS bench")
        conn.execute(
            f"CREATE TABLE {MARKER} (version int, shape jsonb, seconds float8, counts jsonb,"
            " generated_at timestamptz DEFAULT now())"
        )
        conn.execute(
            f"INSERT INTO {MARKER} VALUES (%s, %s, %s, %s)",  # noqa: S608 - a constant name
            (GENERATOR_VERSION, json.dumps(asdict(shape)), seconds, json.dumps(counts)),
        )
    return Generated(url, True, seconds, counts)


def _connect(url: str, autocommit: bool = True) -> psycopg.Connection[Any]:
    u = make_url(url)
    return psycopg.connect(
        host=u.host, port=u.port, user=u.username, password=u.password, dbname=u.database,
        autocommit=autocommit,
    )  # fmt: skip


def _marker(url: str) -> dict[str, Any] | None:
    try:
        with _connect(url) as conn:
            row = conn.execute(
                f"SELECT version, shape, seconds, counts FROM {MARKER}"  # noqa: S608
            ).fetchone()
    except psycopg.Error:  # no such database or no marker: not complete
        return None
    if row is None:
        return None
    return {"version": row[0], "shape": row[1], "seconds": row[2], "counts": row[3]}


def _recreate(url: str) -> None:
    name = make_url(url).database
    admin = sa.create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()


# --- keys and indexes off during the load, back afterwards -------------------------------------


@dataclass
class _Keys:
    constraints: list[tuple[str, str, str, str]]  # (table, name, type p|u|f, definition)
    indexes: list[str]  # CREATE INDEX statements

    def restore(self, conn: psycopg.Connection[Any]) -> None:
        conn.execute("SET maintenance_work_mem = '512MB'")
        for kind in ("p", "u"):
            for table, name, k, definition in self.constraints:
                if k == kind:
                    conn.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        for statement in self.indexes:
            conn.execute(statement)
        for table, name, k, definition in self.constraints:
            if k == "f":
                conn.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')


def _drop_keys(conn: psycopg.Connection[Any]) -> _Keys:
    tables = list(BULK_TABLES)
    constraints = conn.execute(
        "SELECT conrelid::regclass::text, conname, contype::text, pg_get_constraintdef(oid)"
        " FROM pg_constraint WHERE contype IN ('p', 'u', 'f')"
        " AND (conrelid::regclass::text = ANY(%s) OR confrelid::regclass::text = ANY(%s))"
        " ORDER BY conrelid::regclass::text, conname",
        (tables, tables),
    ).fetchall()
    indexes = conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " WHERE i.indrelid::regclass::text = ANY(%s)"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid"
        " AND c.contype IN ('p', 'u', 'x'))",
        (tables,),
    ).fetchall()
    keys = _Keys([(t, n, k, d) for t, n, k, d in constraints], [d for _, d in indexes])
    for table, name, kind, _ in keys.constraints:
        if kind == "f":
            conn.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    for table, name, kind, _ in keys.constraints:
        if kind != "f":
            conn.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
    return keys


# --- the generator -----------------------------------------------------------------------------


class _Ids:
    """Random version-4 UUIDs as 32 hex digits (PostgreSQL's uuid input takes them as they are)."""

    def __init__(self, rng: random.Random) -> None:
        self._bits = rng.getrandbits

    def __call__(self) -> str:
        value = (
            (self._bits(128) & ~(0xF000 << 64) & ~(0xC000 << 48)) | (0x4000 << 64) | (0x8000 << 48)
        )
        return f"{value:032x}"


class _Stream:
    """One table's COPY on its own connection, fed text lines in blocks."""

    def __init__(self, url: str, table: str, columns: str) -> None:
        self.conn = _connect(url, autocommit=False)
        self.conn.execute("SET synchronous_commit = off")
        self._cm = self.conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN")
        self.copy = self._cm.__enter__()
        self.lines: list[str] = []
        self.rows = 0

    def add(self, line: str) -> None:
        self.lines.append(line)
        if len(self.lines) >= 20_000:
            self.flush()

    def flush(self) -> None:
        if self.lines:
            self.rows += len(self.lines)
            self.copy.write("".join(self.lines))
            self.lines = []

    def close(self) -> None:
        self.flush()
        self._cm.__exit__(None, None, None)
        self.conn.commit()
        self.conn.close()


def _ts(day_ordinal: int, local_seconds: int) -> str:
    """A local Bogotá moment as a UTC timestamptz literal."""
    seconds = local_seconds + UTC_OFFSET_S
    extra, seconds = divmod(seconds, 86_400)
    day = date.fromordinal(day_ordinal + extra)
    h, rest = divmod(seconds, 3600)
    return f"{day.isoformat()} {h:02d}:{rest // 60:02d}:{rest % 60:02d}+00"


@dataclass
class _Invoice:
    id: str
    number: str
    issue: int  # ordinals
    due: int
    amount: int  # cents
    balance: int


@dataclass
class _Client:
    id: str
    code: str
    lat: float | None
    lon: float | None
    monthly: int  # cents invoiced a month
    pay_rate: float  # share of what is invoiced that gets paid
    weight: float  # how often the collector visits this client, relative to the others
    invoices: list[_Invoice] = field(default_factory=list)
    credit: int = 0  # unapplied, cents (positive: the client has credit)
    mean_payment: float = 0.0  # cents


@dataclass
class _Collector:
    index: int
    user_id: str
    device_id: str
    busy: float  # visits a day, relative to the mean
    cum_outcomes: list[float]
    vacation: int  # ordinal of the Monday of two weeks off
    clients: list[_Client]
    cum_clients: list[float]
    receipts: int = 0


@dataclass
class _Reversal:
    collector: _Collector
    client: _Client
    payment_id: str
    allocations: list[tuple[str | None, int]]  # the payment's, positive cents


_OUTCOMES = (*EFFECTIVE, *NOT_EFFECTIVE)
_SEGMENTS = ("grupo", "convenio_externo", "entidad_externa", "particular")
_NULL = "\\N"


def _generate(url: str, shape: Shape, log: Callable[[str], None]) -> dict[str, int]:
    """Rows are written day by day, every collector's visits and payments of a day together, so
    the tables lie on disk in the order a real server receives them (by time, not by collector):
    a week's visits sit together, one collector's year is spread over the whole table."""
    rng = random.Random(shape.seed)
    new_id = _Ids(rng)
    first, last = shape.first_monday, shape.last_sunday
    holiday_days = {
        d.toordinal()
        for d in holidays.country_holidays("CO", years=range(first.year, last.year + 1))
    }
    days = [
        d for d in range(first.toordinal(), last.toordinal() + 1)
        if date.fromordinal(d).weekday() < 6 and d not in holiday_days
    ]  # fmt: skip
    working_weight = sum(0.5 if date.fromordinal(d).weekday() == 5 else 1.0 for d in days)
    # Two weeks of vacation: the other weeks carry the collector's share of the visits.
    wanted = shape.visits_per_collector * shape.weeks / 52
    per_day = wanted / working_weight * shape.weeks / max(shape.weeks - 2, 1)
    import_at = f"{first - timedelta(days=1)} 13:00:00+00"

    with _connect(url) as conn:
        keys = _drop_keys(conn)
        users = [(new_id(), f"gestor{k + 1:04d}") for k in range(shape.collectors)]
        devices = [new_id() for _ in users]
        batch_id = new_id()
        user_columns = "id, username, full_name, role, password_hash, active, created_at"
        with conn.cursor().copy(f"COPY app_user ({user_columns}) FROM STDIN") as copy:
            copy.write("".join(
                f"{uid}\t{name}\tGestor {name[6:]}\tcollector\tx\tt\t{import_at}\n"
                for uid, name in users
            ))  # fmt: skip
            copy.write(f"{new_id()}\tsupervisor\tSupervisor\tsupervisor\tx\tt\t{import_at}\n")
        device_columns = "id, user_id, name, install_nonce, code, token_hash, created_at"
        with conn.cursor().copy(f"COPY device ({device_columns}) FROM STDIN") as copy:
            copy.write("".join(
                f"{dev}\t{uid}\tTeléfono {name}\t{dev}\tB{k:05d}\t{dev}{k:08d}\t{import_at}\n"
                for k, (dev, (uid, name)) in enumerate(zip(devices, users, strict=True))
            ))  # fmt: skip
        conn.execute(
            "INSERT INTO import_batch (id, filename, sha256, created_at, summary)"
            " VALUES (%s, 'cartera-bench.xlsx', %s, %s, '{}')",
            (batch_id, "0" * 64, import_at),
        )

    collectors = [
        _new_collector(k, uid, dev, shape, rng, new_id, per_day * working_weight)
        for k, ((uid, _), dev) in enumerate(zip(users, devices, strict=True))
    ]
    streams = {
        "client": _Stream(url, "client", "id, code, name, tax_id, segment, address, city, lat, lon,"
                          " location_source, phones, channels, collector_id, status, balance,"
                          " version, created_at, updated_at"),
        "invoice": _Stream(url, "invoice", "id, client_id, number, issue_date, due_date, amount,"
                           " balance, created_at"),
        "entry": _Stream(url, "ledger_entry", "id, client_id, kind, amount, effective_date,"
                         " recorded_at, source, import_batch_id, event_id, reverses_id, reason,"
                         " created_by"),
        "alloc": _Stream(url, "ledger_allocation", "id, entry_id, invoice_id, amount"),
        "visit": _Stream(url, "visit", "id, event_id, client_id, user_id, device_id, device_time,"
                         " received_at, outcome, lat, lon, accuracy_m, notes, business_date,"
                         " distance_m, verified, flags"),
    }  # fmt: skip
    writer = _Writer(streams, new_id, batch_id)
    issued: dict[int, list[tuple[_Client, _Invoice]]] = {}
    for c in (c for col in collectors for c in col.clients):
        for inv in c.invoices:
            issued.setdefault(max(inv.issue, first.toordinal() - 1), []).append((c, inv))
    reversals: dict[int, list[_Reversal]] = {}
    working = set(days)
    started = time.perf_counter()
    try:
        for day in range(first.toordinal() - 1, last.toordinal() + 1):
            recorded = (
                import_at if day < first.toordinal() else f"{date.fromordinal(day)} 13:00:00+00"
            )
            for c, inv in issued.pop(day, ()):
                writer.charge(c, inv, recorded)
            if day in working:
                for col in collectors:
                    _visits(col, day, per_day, shape, rng, writer, reversals)
            for rev in reversals.pop(day, ()):
                writer.reversal(rev, day)
            if date.fromordinal(day).weekday() == 6:
                week = IsoWeek.of(date.fromordinal(day))
                log(
                    f"  report data: {week.label}, {writer.visits:,} visits,"
                    f" {writer.payments:,} payments, {time.perf_counter() - started:.0f} s"
                )
        for col in collectors:
            for c in col.clients:
                writer.client(col, c, import_at)
        for stream in streams.values():
            stream.close()
    except BaseException:
        for stream in streams.values():
            stream.conn.close()
        raise
    log(f"  report data: rows written in {time.perf_counter() - started:.0f} s; keys and indexes")
    with _connect(url) as conn:
        keys.restore(conn)
        for table, value in (("visit", writer.visits), ("ledger_allocation", writer.allocations)):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", (max(value, 1),)
            )
        log(f"  report data: keys back at {time.perf_counter() - started:.0f} s; vacuum analyze")
        conn.execute("VACUUM (ANALYZE)")
    return {
        "collectors": shape.collectors,
        "clients": shape.collectors * shape.clients_per_collector,
        "invoices": writer.invoices,
        "visits": writer.visits,
        "payments": writer.payments,
        "reversals": writer.reversals,
        "allocations": writer.allocations,
    }


def _new_collector(
    k: int, user_id: str, device_id: str, shape: Shape, rng: random.Random, new_id: _Ids,
    visits_a_year: float,
) -> _Collector:  # fmt: skip
    """A collector: how busy, how often the visits reach the debtor, two weeks of vacation, and
    the clients with their invoices (a backlog due up to 300 days before the year, then one a
    month) and what each will pay (its pay rate of what it is invoiced, spread over the payment
    visits it can expect)."""
    randint = rng.randint
    first_ord = shape.first_monday.toordinal()
    last_ord = shape.last_sunday.toordinal()
    busy = rng.uniform(0.6, 1.4)
    pay_share = rng.uniform(0.18, 0.32)
    other_effective = rng.uniform(0.02, 0.16)
    weights = [
        other_effective * 0.55, other_effective * 0.35, pay_share, other_effective * 0.10,
        *(w * (1 - pay_share - other_effective) for w in (0.35, 0.35, 0.2, 0.1)),
    ]  # fmt: skip
    cum_outcomes = [sum(weights[: i + 1]) for i in range(len(weights))]
    area = (BOGOTA[0] + rng.uniform(-0.12, 0.12), BOGOTA[1] + rng.uniform(-0.06, 0.06))
    clients = []
    for j in range(shape.clients_per_collector):
        known = rng.random() > 0.03
        c = _Client(
            id=new_id(), code=f"BC-{k + 1:04d}-{j + 1:02d}",
            lat=area[0] + rng.uniform(-0.02, 0.02) if known else None,
            lon=area[1] + rng.uniform(-0.02, 0.02) if known else None,
            monthly=int(rng.lognormvariate(13.4, 0.6)) // 1000 * 100_000 + 100_000,
            pay_rate=rng.uniform(0.7, 1.35), weight=rng.uniform(0.3, 1.7),
        )  # fmt: skip
        for _ in range(randint(0, 4)):
            due = first_ord - randint(1, 300)
            c.invoices.append(
                _Invoice("", "", due - 30, due, c.monthly * randint(50, 150) // 100, 0)
            )
        offset = randint(0, 29)
        for m in range(13):
            issue = first_ord - 30 + offset + 30 * m
            if issue > last_ord:
                break
            c.invoices.append(
                _Invoice("", "", issue, issue + 30, c.monthly * randint(80, 120) // 100, 0)
            )
        c.invoices.sort(key=lambda i: (i.due, i.issue))
        for n, inv in enumerate(c.invoices):
            inv.id, inv.number = new_id(), f"FB-{k + 1:04d}-{j + 1:02d}-{n + 1:03d}"
            inv.balance = inv.amount
        clients.append(c)
    total_weight = sum(c.weight for c in clients)
    cum_clients, running = [], 0.0
    for c in clients:
        running += c.weight
        cum_clients.append(running)
        expected_payments = visits_a_year * busy * pay_share * c.weight / total_weight
        invoiced = sum(i.amount for i in c.invoices if i.issue >= first_ord - 30)
        c.mean_payment = c.pay_rate * invoiced / max(expected_payments, 1.0)
    vacation = first_ord + 7 * randint(0, shape.weeks - 2)
    return _Collector(k, user_id, device_id, busy, cum_outcomes, vacation, clients, cum_clients)


def _visits(
    col: _Collector, day: int, per_day: float, shape: Shape, rng: random.Random,
    writer: _Writer, reversals: dict[int, list[_Reversal]],
) -> None:  # fmt: skip
    """One collector's working day: the visits, and a payment for each visit that got one."""
    rand, randint = rng.random, rng.randint
    if col.vacation <= day < col.vacation + 14 or rand() < 0.01:  # vacation, a sick day
        return
    saturday = date.fromordinal(day).weekday() == 5
    n = round(per_day * col.busy * (0.5 if saturday else 1.0) * rng.uniform(0.75, 1.25))
    if n <= 0:
        return
    day_iso = date.fromordinal(day).isoformat()
    opens, closes = (8 * 3600, 15 * 3600 - 1) if saturday else (7 * 3600, 19 * 3600 - 1)
    secs = sorted(randint(opens, closes) for _ in range(n))
    if rand() > 0.05:  # synced that evening; else days later (a week offline)
        sync_at = _ts(day, closes + randint(600, 4 * 3600))
    else:
        sync_at = _ts(day + randint(1, 6), randint(7 * 3600, 20 * 3600))
    last_ord = shape.last_sunday.toordinal()
    for c, outcome, s in zip(
        rng.choices(col.clients, cum_weights=col.cum_clients, k=n),
        rng.choices(_OUTCOMES, cum_weights=col.cum_outcomes, k=n),
        secs,
        strict=True,
    ):
        r = rand()
        after_hours = r < 0.002  # flagged for the supervisor, still counted
        if after_hours:
            s = closes + randint(60, 3600)
        device_time, business = _ts(day, s), day_iso
        if r > 0.9995:  # a phone whose clock was weeks behind: its own (wrong) day counts
            skewed = day - randint(15, 40)
            device_time, business = _ts(skewed, s), date.fromordinal(skewed).isoformat()
        g = rand()
        far = poor = False
        if g < 0.015:  # no GPS fix
            lat = lon = acc = dist = _NULL
            verified = "f"
        else:
            accuracy = rng.uniform(4.0, 40.0) if rand() > 0.04 else rng.uniform(101.0, 400.0)
            meters = rng.uniform(0.0, 120.0) if g < 0.92 else rng.uniform(260.0, 3000.0)
            bearing = radians(rng.uniform(0, 360))
            lat_v = (c.lat or BOGOTA[0]) + meters / M_PER_DEG * cos(bearing)
            lon_v = (c.lon or BOGOTA[1]) + meters / (M_PER_DEG * 0.9967) * sin(bearing)
            lat, lon, acc = f"{lat_v:.6f}", f"{lon_v:.6f}", f"{accuracy:.1f}"
            poor = accuracy > 100
            if c.lat is None:
                dist, verified = _NULL, "f"
            else:
                dist = f"{meters:.1f}"
                far = meters > min(150.0 + accuracy, 250.0)
                verified = "f" if far or poor else "t"
        flags = join_flags(
            name
            for name, on in (
                (geo.FAR_FROM_CLIENT, far),
                (geo.POOR_ACCURACY, poor),
                (geo.CLOCK_BEHIND, business != day_iso),
                (OUTSIDE_LEGAL_HOURS, after_hours),
                (geo.NO_FIX, g < 0.015),
                (geo.CLIENT_LOCATION_UNKNOWN, c.lat is None),
            )
            if on
        )
        writer.visit(
            f"{col.user_id}\t{col.device_id}\t{device_time}\t{sync_at}\t{outcome}\t{lat}\t{lon}\t"
            f"{acc}\t\t{business}\t{dist}\t{verified}\t{flags}\n",
            c,
        )
        if outcome == "payment":
            amount = max(
                int(c.mean_payment * rng.uniform(0.4, 1.6)) // 100_000 * 100_000, 1_000_000
            )
            payment_id, parts = writer.payment(col, c, day, amount, sync_at)
            if rand() < 0.003:  # voided on the phone a few days later
                when = min(day + randint(0, 3), last_ord)
                reversals.setdefault(when, []).append(_Reversal(col, c, payment_id, parts))
                for invoice_id, cents in parts:  # the money goes back where it came from
                    if invoice_id is None:
                        c.credit -= cents
                    else:
                        next(i for i in c.invoices if i.id == invoice_id).balance += cents


class _Writer:
    """The COPY lines of each kind of row, and the running ids and counts."""

    def __init__(self, streams: dict[str, _Stream], new_id: _Ids, batch_id: str) -> None:
        self.streams, self.new_id, self.batch_id = streams, new_id, batch_id
        self.visits = self.allocations = self.invoices = self.payments = self.reversals = 0

    def visit(self, rest: str, c: _Client) -> None:
        self.visits += 1
        self.streams["visit"].add(f"{self.visits}\t{self.new_id()}\t{c.id}\t{rest}")

    def _entry(self, line: str, parts: list[tuple[str | None, int]]) -> str:
        entry_id = self.new_id()
        self.streams["entry"].add(f"{entry_id}\t{line}")
        alloc = self.streams["alloc"]
        for invoice_id, cents in parts:
            self.allocations += 1
            alloc.add(f"{self.allocations}\t{entry_id}\t{invoice_id or _NULL}\t{cents}\n")
        return entry_id

    def charge(self, c: _Client, inv: _Invoice, recorded: str) -> None:
        self._entry(
            f"{c.id}\tcharge\t{inv.amount}\t{date.fromordinal(inv.issue)}\t{recorded}\timport\t"
            f"{self.batch_id}\t{_NULL}\t{_NULL}\tFactura {inv.number}\t{_NULL}\n",
            [(inv.id, inv.amount)],
        )

    def payment(
        self, col: _Collector, c: _Client, day: int, amount: int, recorded: str
    ) -> tuple[str, list[tuple[str | None, int]]]:
        """Allocated oldest due first over the invoices issued by then (shared.allocation's
        rule); what is left is the client's credit."""
        remaining, parts = amount, []
        for inv in c.invoices:  # sorted by due date, then issue
            if remaining == 0:
                break
            if inv.balance <= 0 or inv.issue > day:
                continue
            part = min(inv.balance, remaining)
            inv.balance -= part
            remaining -= part
            parts.append((inv.id, part))
        if remaining:
            c.credit += remaining
            parts.append((None, remaining))
        col.receipts += 1
        self.payments += 1
        entry_id = self._entry(
            f"{c.id}\tpayment\t{-amount}\t{date.fromordinal(day)}\t{recorded}\tsync\t{_NULL}\t"
            f"{self.new_id()}\t{_NULL}\tRecibo B{col.index:05d}-{col.receipts:06d}\t"
            f"{col.user_id}\n",
            [(invoice_id, -cents) for invoice_id, cents in parts],
        )
        return entry_id, parts

    def reversal(self, rev: _Reversal, day: int) -> None:
        self.reversals += 1
        amount = sum(cents for _, cents in rev.allocations)
        self._entry(
            f"{rev.client.id}\treversal\t{amount}\t{date.fromordinal(day)}\t{_ts(day, 20 * 3600)}\t"
            f"sync\t{_NULL}\t{_NULL}\t{rev.payment_id}\tAnulado en campo: error de digitación\t"
            f"{rev.collector.user_id}\n",
            list(rev.allocations),
        )

    def client(self, col: _Collector, c: _Client, import_at: str) -> None:
        """The client and its invoices, with their balances as the entries left them."""
        k, j = col.index, col.clients.index(c)
        balance = sum(i.balance for i in c.invoices) - c.credit
        lat = _NULL if c.lat is None else f"{c.lat:.6f}"
        lon = _NULL if c.lon is None else f"{c.lon:.6f}"
        source = _NULL if c.lat is None else "ledger"
        self.streams["client"].add(
            f"{c.id}\t{c.code}\tCliente {c.code}\t900{k:04d}{j:02d}\t{_SEGMENTS[j % 4]}\t"
            f"Cra {j + 1} # {k % 100}-{j}\tBogotá\t{lat}\t{lon}\t{source}\t[]\t[]\t{col.user_id}\t"
            f"active\t{balance}\t1\t{import_at}\t{import_at}\n"
        )
        for inv in c.invoices:
            self.invoices += 1
            self.streams["invoice"].add(
                f"{inv.id}\t{c.id}\t{inv.number}\t{date.fromordinal(inv.issue)}\t"
                f"{date.fromordinal(inv.due)}\t{inv.amount}\t{inv.balance}\t{import_at}\n"
            )

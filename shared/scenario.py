"""The reference scenario (domain.md): a Bogotá portfolio for demos and tests, made from a seed.

About 300 clients across the four segments, 1,500 invoices due over the last 18 months, 5 collectors
with 40-80 clients each, coordinates inside the city, one supervisor and one admin. The ledger comes
out as rows of the import format (api.md, Spanish headers), so a demo loads it through the same
import an analyst uses, and the file doubles as an example of that format.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal

from shared.geo import Point
from shared.money import money
from shared.routing import PlanRequest, Stop, plan_route

SEGMENT_WEIGHTS = {
    "grupo": 0.1,
    "convenio_externo": 0.25,
    "entidad_externa": 0.3,
    "particular": 0.35,
}
LAT_RANGE = (4.45, 4.83)
LON_RANGE = (-74.20, -74.00)

IMPORT_HEADERS = (
    "codigo_cliente",
    "nombre_cliente",
    "nit",
    "segmento",
    "direccion",
    "ciudad",
    "latitud",
    "longitud",
    "telefono",
    "factura",
    "fecha_emision",
    "fecha_vencimiento",
    "valor",
    "saldo",
    "gestor",
)

_FIRST = (
    "María Fernanda", "Juan Carlos", "Luz Marina", "Andrés Felipe", "Diana Carolina",
    "Carlos Alberto", "Paola Andrea", "Jorge Enrique", "Ana Lucía", "Luis Eduardo",
    "Sandra Milena", "Óscar Iván",
    "Claudia Patricia", "Jhon Fredy", "Natalia", "Camilo", "Yolanda", "Héctor", "Ángela",
    "Sebastián",
)  # fmt: skip
_LAST = (
    "Gómez", "Rodríguez", "Martínez", "López", "García", "Hernández", "Pérez", "Sánchez", "Ramírez",
    "Torres", "Díaz", "Vargas", "Castro", "Rojas", "Moreno", "Muñoz", "Ortiz", "Jiménez", "Suárez",
)  # fmt: skip
_COMPANY_KIND = {
    "grupo": ("Clínica", "IPS", "Laboratorio Clínico", "Centro Médico"),
    "convenio_externo": ("EPS", "Fondo de Empleados", "Caja de Compensación", "Cooperativa"),
    "entidad_externa": ("Droguería", "Distribuidora", "Hospital", "Fundación", "Consultorio"),
}
_COMPANY_NAME = (
    "San Rafael", "La Esperanza", "Santa Fe", "El Country", "Los Andes", "Chapinero", "Suba",
    "Usaquén", "Kennedy", "San Cristóbal", "Nueva Granada", "Salitre", "Teusaquillo", "Bolívar",
    "Santa Bárbara", "Modelo", "Marly", "Palermo", "La Sabana", "Fontibón",
)  # fmt: skip
_SUFFIX = ("S.A.S.", "S.A.", "Ltda.", "E.S.E.", "")
_STREET = ("Cra", "Cl", "Av Cra", "Dg", "Tv", "Ak", "Ac")
_COLLECTORS = (
    ("gestor1", "Carolina Ruiz"),
    ("gestor2", "Wilson Pardo"),
    ("gestor3", "Marcela Quintero"),
    ("gestor4", "Édgar Salazar"),
    ("gestor5", "Lina Beltrán"),
)


@dataclass(frozen=True)
class Person:
    username: str
    full_name: str
    role: str
    password: str


@dataclass
class Scenario:
    as_of: date
    people: list[Person]
    rows: list[dict[str, str]] = field(default_factory=list)

    @property
    def collectors(self) -> list[Person]:
        return [p for p in self.people if p.role == "collector"]


def nit_check_digit(base: str) -> int:
    """DIAN's check digit for a NIT (modulo 11 with its prime weights)."""
    weights = (3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67, 71)
    total = sum(int(d) * w for d, w in zip(reversed(base), weights, strict=False))
    rest = total % 11
    return rest if rest in (0, 1) else 11 - rest


def _fmt_date(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def _fmt_amount(amount: Decimal) -> str:
    # The way an ERP export shows pesos: thousands with dots, no decimals.
    return f"{int(amount):,}".replace(",", ".")


def _client_name(rng: random.Random, segment: str) -> str:
    if segment == "particular":
        return f"{rng.choice(_FIRST)} {rng.choice(_LAST)} {rng.choice(_LAST)}"
    kind = rng.choice(_COMPANY_KIND[segment])
    return f"{kind} {rng.choice(_COMPANY_NAME)} {rng.choice(_SUFFIX)}".strip()


def _tax_id(rng: random.Random, segment: str) -> str:
    if segment == "particular":
        return str(rng.randint(10_000_000, 1_099_999_999))  # cédula
    base = str(rng.randint(800_000_000, 901_999_999))
    return f"{base[:3]}.{base[3:6]}.{base[6:]}-{nit_check_digit(base)}"


def _split_clients(rng: random.Random, total: int, groups: int, low: int, high: int) -> list[int]:
    """`groups` counts in [low, high] that add up to `total`."""
    counts = [low] * groups
    for _ in range(total - low * groups):
        choices = [i for i, c in enumerate(counts) if c < high]
        counts[rng.choice(choices)] += 1
    return counts


def reference_scenario(
    as_of: date, seed: int = 2300, clients: int = 300, invoices: int = 1500
) -> Scenario:
    """The same scenario for each (as_of, seed); due dates fall in the 18 months before as_of."""
    rng = random.Random(seed)
    people = [
        Person("admin", "Administración Recaudo", "admin", "admin-demo-2026"),
        Person("supervisor", "Patricia Villamizar", "supervisor", "supervisor-demo-2026"),
    ] + [Person(u, n, "collector", f"{u}-demo-2026") for u, n in _COLLECTORS]
    collectors = [p for p in people if p.role == "collector"]
    per_collector = _split_clients(rng, clients, len(collectors), 40, 80)
    owners = [c.username for c, n in zip(collectors, per_collector, strict=True) for _ in range(n)]
    rng.shuffle(owners)

    segments = list(SEGMENT_WEIGHTS)
    weights = list(SEGMENT_WEIGHTS.values())
    # Every client has at least one invoice; the rest go to clients unevenly (a few big debtors).
    weight = [rng.lognormvariate(0, 1) for _ in range(clients)]
    invoice_counts = [1] * clients
    for i in rng.choices(range(clients), weight, k=invoices - clients):
        invoice_counts[i] += 1

    scenario = Scenario(as_of=as_of, people=people)
    number = 0
    for i in range(clients):
        segment = rng.choices(segments, weights)[0]
        lat = round(rng.uniform(*LAT_RANGE), 6)
        lon = round(rng.uniform(*LON_RANGE), 6)
        client = {
            "codigo_cliente": f"C-{i + 1:05d}",
            "nombre_cliente": _client_name(rng, segment),
            "nit": _tax_id(rng, segment),
            "segmento": segment,
            "direccion": f"{rng.choice(_STREET)} {rng.randint(1, 190)} # "
            f"{rng.randint(1, 120)}-{rng.randint(2, 99)}",
            "ciudad": "Bogotá",
            "latitud": f"{lat}".replace(".", ","),
            "longitud": f"{lon}".replace(".", ","),
            "telefono": f"+57 3{rng.randint(0, 2)}{rng.randint(0, 9)} "
            f"{rng.randint(100, 999)} {rng.randint(1000, 9999)}",
            "gestor": owners[i],
        }
        scale = 5_000_000 if segment != "particular" else 600_000
        for _ in range(invoice_counts[i]):
            number += 1
            due = as_of - timedelta(days=rng.randint(-45, 540))
            issue = due - timedelta(days=rng.choice((30, 30, 45, 60, 90)))
            amount = money(max(50, round(rng.lognormvariate(0, 0.8) * scale / 1000)) * 1000)
            # Older debt is more often paid; some is partly paid; the rest is open.
            paid_odds = min(0.85, max(0.05, (as_of - due).days / 600))
            draw = rng.random()
            if draw < paid_odds * 0.6:
                balance = money(0)
            elif draw < paid_odds:
                balance = money(int(amount * Decimal(rng.randint(10, 90)) / 100_000) * 1000)
            else:
                balance = amount
            invoice = {
                "factura": f"FE-{issue.year}-{number:05d}",
                "fecha_emision": _fmt_date(issue),
                "fecha_vencimiento": _fmt_date(due),
                "valor": _fmt_amount(amount),
                "saldo": _fmt_amount(balance),
            }
            scenario.rows.append({h: (client | invoice)[h] for h in IMPORT_HEADERS})
    return scenario


# --- a week of field activity (for the supervisor's pages and the reports) --------------------

_OUTCOME_WEIGHTS = {
    "contacted": 0.24,
    "promise": 0.2,
    "payment": 0.26,
    "not_found": 0.12,
    "third_party": 0.08,
    "refused": 0.05,
    "wrong_address": 0.03,
    "dispute": 0.02,
}
_METERS_PER_DEGREE = 111_320.0
_MAX_FIELD_AMOUNT = Decimal(6_000_000)


@dataclass(frozen=True)
class FieldStop:
    """One thing a collector did at a client: a visit, and the promise or payment it produced."""

    client_code: str
    at: datetime  # the device's clock, business timezone
    outcome: str
    lat: float
    lon: float
    accuracy_m: float
    notes: str = ""
    promise: tuple[Decimal, date] | None = None  # amount, due date
    payment: tuple[Decimal, str] | None = None  # amount, method
    void_reason: str = ""  # the payment was voided on the spot (then re-taken right)


@dataclass(frozen=True)
class FieldDay:
    collector: str
    day: date
    plan: tuple[str, ...]  # client codes in planned order
    skipped: tuple[tuple[str, str], ...]  # (client code, planner reason)
    stops: tuple[FieldStop, ...]  # in the order they happened
    plan_distance_m: float  # along the planned stops


def _offset(lat: float, lon: float, meters: float, bearing: float) -> tuple[float, float]:
    """A point about `meters` away from (lat, lon) in direction `bearing` (radians)."""
    d_lat = meters * math.cos(bearing) / _METERS_PER_DEGREE
    d_lon = meters * math.sin(bearing) / (_METERS_PER_DEGREE * math.cos(math.radians(lat)))
    return round(lat + d_lat, 6), round(lon + d_lon, 6)


def _pesos(text: str) -> Decimal:
    return Decimal(text.replace(".", ""))


def _far(a: tuple[float, float], b: tuple[float, float]) -> float:
    return (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2


def field_week(
    scenario: Scenario, days: list[date], tz: tzinfo, seed: int = 2300
) -> list[FieldDay]:
    """The collectors' work on `days` (working days, chosen by the caller), the same for each
    (scenario, days, seed): a route plan per collector and day, visits mostly in planned order
    with GPS fixes near the client, promises and payments within the client's balance, and the
    cases a supervisor must see: a visit far from its client, one with poor GPS accuracy, one
    after legal hours, a payment voided and re-taken, and a payment for another collector's
    client (held for review)."""
    rng = random.Random(seed * 7919 + 17)
    where: dict[str, tuple[float, float]] = {}
    owner: dict[str, str] = {}
    balance: dict[str, Decimal] = {}
    for row in scenario.rows:
        code = row["codigo_cliente"]
        where[code] = (
            float(row["latitud"].replace(",", ".")),
            float(row["longitud"].replace(",", ".")),
        )
        owner[code] = row["gestor"]
        balance[code] = balance.get(code, Decimal(0)) + _pesos(row["saldo"])
    collectors = [p.username for p in scenario.collectors]
    own = {u: sorted(c for c, o in owner.items() if o == u) for u in collectors}
    outcomes, weights = list(_OUTCOME_WEIGHTS), list(_OUTCOME_WEIGHTS.values())
    # The special cases, each on one (collector, day).
    specials = {
        "far": (collectors[0], days[min(1, len(days) - 1)]),
        "poor_fix": (collectors[1 % len(collectors)], days[min(2, len(days) - 1)]),
        "late": (collectors[2 % len(collectors)], days[0]),
        "void": (collectors[0], days[-1]),
        "held": (collectors[3 % len(collectors)], days[min(3, len(days) - 1)]),
    }
    result: list[FieldDay] = []
    for day in days:
        saturday = day.weekday() == 5
        for u in collectors:
            mine = [c for c in own[u] if balance[c] > 0] or own[u]
            # A day's candidates: the collector's clients around one of them (a zone), two of
            # them with a short window of their own; the real planner orders and trims them.
            anchor = where[rng.choice(mine)]
            near = sorted(mine, key=lambda c: _far(where[c], anchor))
            chosen = near[: min(len(near), rng.randint(8, 9) if saturday else rng.randint(12, 14))]
            windows = {c: (time(8), time(9, 30)) for c in rng.sample(chosen, min(2, len(chosen)))}
            start = datetime.combine(day, time(8), tzinfo=tz)
            routed = plan_route(
                PlanRequest(
                    start=Point(*anchor),
                    start_time=start,
                    end_time=start.replace(hour=14 if saturday else 17, minute=30),
                    service_minutes=25,
                    stops=tuple(
                        Stop(c, Point(*where[c]), priority=1 + float(i % 3), window=windows.get(c))
                        for i, c in enumerate(chosen)
                    ),
                    timezone=str(tz),
                )
            )
            plan = list(routed.order)
            skipped = tuple((k.id, k.reason) for k in routed.skipped)
            visited = [c for c in plan if rng.random() < 0.88]
            if len(visited) > 3 and rng.random() < 0.5:  # the collector swapped two stops
                i = rng.randrange(len(visited) - 1)
                visited[i], visited[i + 1] = visited[i + 1], visited[i]
            if rng.random() < 0.4:  # a client not in the plan (passing by)
                extra = [c for c in mine if c not in chosen]
                if extra:
                    visited.insert(rng.randrange(len(visited) + 1), rng.choice(extra))
            if specials["held"] == (u, day):
                others = [c for c in owner if owner[c] != u and balance[c] > 0]
                visited.append(sorted(others)[0])
            clock = start + timedelta(minutes=rng.randint(0, 20))
            stops: list[FieldStop] = []
            for n, code in enumerate(visited):
                lat, lon = where[code]
                accuracy = float(rng.randint(6, 28))
                distance = rng.uniform(4, 45)
                notes = ""
                case = next((k for k, v in specials.items() if v == (u, day)), None)
                if case == "far" and n == 2:
                    distance, notes = rng.uniform(1400, 2200), "Visita registrada desde la oficina"
                if case == "poor_fix" and n == 1:
                    accuracy = 180.0
                fix = _offset(lat, lon, distance, rng.uniform(0, 2 * math.pi))
                outcome = rng.choices(outcomes, weights)[0]
                if balance[code] <= 0 and outcome in ("payment", "promise"):
                    outcome = "contacted"
                if (case == "held" and code == visited[-1]) or (case == "void" and n == 0):
                    outcome = "payment"
                planned_at = routed.arrivals.get(code)
                at = max(
                    clock,
                    planned_at + timedelta(minutes=rng.randint(-3, 12)) if planned_at else clock,
                )
                if case == "late" and n == len(visited) - 1:
                    at = datetime.combine(day, time(19, 40), tzinfo=tz)
                    notes = "El cliente pidió la visita después del trabajo"
                share = Decimal(rng.choice((10, 15, 20, 25, 30, 40, 50, 100))) / 100
                amount = max(
                    Decimal(20_000), (balance[code] * share / 1000).quantize(Decimal(1)) * 1000
                )
                # What a collector takes in the street: at most a few million pesos at once.
                amount = min(amount, balance[code], _MAX_FIELD_AMOUNT)
                if amount <= 0:
                    amount = Decimal(50_000)
                promise = payment = None
                void_reason = ""
                if outcome == "promise":
                    promise = (amount, day + timedelta(days=rng.randint(3, 14)))
                elif outcome == "payment":
                    method = rng.choices(("cash", "transfer", "deposit"), (0.6, 0.3, 0.1))[0]
                    payment = (amount, method)
                    balance[code] -= amount
                    if case == "void" and n == 0:
                        void_reason = "Valor mal digitado"
                stops.append(
                    FieldStop(
                        code, at, outcome, *fix, accuracy, notes, promise, payment, void_reason
                    )
                )
                clock = at + timedelta(minutes=rng.randint(22, 30))
            result.append(
                FieldDay(u, day, tuple(plan), skipped, tuple(stops), float(routed.distance_m))
            )
    return result

"""The reference scenario (domain.md): a Bogotá portfolio for demos and tests, made from a seed.

About 300 clients across the four segments, 1,500 invoices due over the last 18 months, 5 collectors
with 40-80 clients each, coordinates inside the city, one supervisor and one admin. The ledger comes
out as rows of the import format (api.md, Spanish headers), so a demo loads it through the same
import an analyst uses, and the file doubles as an example of that format.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from shared.money import money

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

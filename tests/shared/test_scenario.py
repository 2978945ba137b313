from __future__ import annotations

from collections import Counter
from datetime import date

from shared.scenario import (
    IMPORT_HEADERS,
    LAT_RANGE,
    LON_RANGE,
    nit_check_digit,
    reference_scenario,
)

AS_OF = date(2026, 11, 23)


def test_nit_check_digits_of_known_companies() -> None:
    assert nit_check_digit("800197268") == 4  # DIAN
    assert nit_check_digit("890900608") == 9  # Almacenes Éxito
    assert nit_check_digit("860002964") == 4  # Banco de Bogotá


def test_same_seed_same_scenario_other_seed_other_scenario() -> None:
    assert reference_scenario(AS_OF).rows == reference_scenario(AS_OF).rows
    assert reference_scenario(AS_OF).rows != reference_scenario(AS_OF, seed=1).rows


def test_reference_scenario_matches_domain_description() -> None:
    scenario = reference_scenario(AS_OF)
    rows = scenario.rows
    assert len(rows) == 1500
    assert all(tuple(r) == IMPORT_HEADERS for r in rows)
    assert len({r["factura"] for r in rows}) == 1500  # invoice numbers are unique
    clients = {r["codigo_cliente"]: r for r in rows}
    assert len(clients) == 300
    per_collector = Counter(r["gestor"] for r in clients.values())
    assert sorted(per_collector) == [p.username for p in scenario.collectors]
    assert all(40 <= n <= 80 for n in per_collector.values())
    assert set(Counter(r["segmento"] for r in clients.values())) == {
        "grupo",
        "convenio_externo",
        "entidad_externa",
        "particular",
    }
    for r in clients.values():
        lat = float(r["latitud"].replace(",", "."))
        lon = float(r["longitud"].replace(",", "."))
        assert LAT_RANGE[0] <= lat <= LAT_RANGE[1]
        assert LON_RANGE[0] <= lon <= LON_RANGE[1]
    dues = [date(*map(int, reversed(r["fecha_vencimiento"].split("/")))) for r in rows]
    assert min(dues) >= date(2025, 5, 1)  # within about 18 months before as_of
    assert any(d > AS_OF for d in dues)  # some invoices are not yet due
    roles = Counter(p.role for p in scenario.people)
    assert roles == {"collector": 5, "supervisor": 1, "admin": 1}


def test_balances_never_exceed_amounts() -> None:
    def pesos(text: str) -> int:
        return int(text.replace(".", ""))

    rows = reference_scenario(AS_OF).rows
    assert all(0 <= pesos(r["saldo"]) <= pesos(r["valor"]) for r in rows)
    assert any(pesos(r["saldo"]) == 0 for r in rows)
    assert any(0 < pesos(r["saldo"]) < pesos(r["valor"]) for r in rows)

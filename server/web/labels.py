"""The Spanish words the pages show for the codes the data stores."""

from __future__ import annotations

from typing import Final

from server.services.reconciliation_exports import REASONS
from sync.protocol import DISPUTE_REASONS as DISPUTE_REASON_CODES

# Outcome -> (label, marker colour). Money in green, promises in blue, no contact in greys.
OUTCOMES: Final[dict[str, tuple[str, str]]] = {
    "payment": ("Pago", "#1b7f3b"),
    "promise": ("Promesa de pago", "#1f5fbf"),
    "contacted": ("Contacto", "#0f8a8a"),
    "dispute": ("Glosa / objeción", "#7b3fa0"),
    "third_party": ("Atendió un tercero", "#b87800"),
    "refused": ("Se negó", "#a23b2a"),
    "not_found": ("No encontrado", "#6b6f76"),
    "wrong_address": ("Dirección errada", "#3d4148"),
}

FLAGS: Final[dict[str, str]] = {
    "far_from_client": "lejos del cliente",
    "poor_accuracy": "GPS impreciso",
    "clock_ahead": "reloj adelantado",
    "clock_behind": "reloj atrasado",
    "outside_legal_hours": "fuera del horario legal",
    "no_fix": "sin GPS",
    "client_location_unknown": "cliente sin ubicación",
}

SKIP_REASONS: Final[dict[str, str]] = {
    "no_time": "no alcanzó el tiempo",
    "window_closed": "fuera del horario del cliente",
    "unreachable": "sin acceso",
    "no_location": "cliente sin ubicación",
    "low_priority": "baja prioridad",
}

HELD_REASONS: Final[dict[str, str]] = {
    "client_unknown": "cliente desconocido (dinero en cuenta puente)",
    "client_closed": "cliente cerrado",
    "client_reassigned": "cliente de otro gestor",
    "amount_implausible": "monto inverosímil (dinero en cuenta puente)",
    "payment_not_found": "anulación de un pago que no llegó",
    "payment_in_suspense": "anulación de un pago en cuenta puente",
    "void_not_allowed": "anulación de un pago de otro gestor",
    "already_voided": "pago ya anulado",
    "invalid_payload": "evento ilegible",
    "unknown_type": "tipo de evento desconocido",
    "same_event_id_different_content": "mismo evento con otro contenido",
    # disputes (server/services/field_disputes.py)
    "invoice_unknown": "glosa sobre una factura que el cliente no tiene",
    "dispute_exceeds_balance": "glosa mayor que el saldo de la factura",
    "agreement_invalid": "acuerdo con cuotas no válidas",
    # cash handovers (server/services/field_cash.py)
    "payment_unknown": "entrega con un pago que no es de este gestor",
    "payment_repeated": "entrega que nombra un pago dos veces",
    "payment_not_cash": "entrega con un pago que no fue en efectivo",
    "payment_voided": "entrega con un pago anulado",
    "payment_already_handed_over": "entrega con un pago ya entregado",
    "reference_missing": "consignación sin referencia",
    "handover_mismatch": "la entrega no cuadra con sus pagos",
}

HANDOVER_METHODS: Final[dict[str, str]] = {
    "bank_deposit": "Consignación",
    "office": "Entrega en oficina",
}

EVENT_TYPES: Final[dict[str, str]] = {
    "visit.recorded": "Visita",
    "promise.made": "Promesa de pago",
    "payment.collected": "Pago",
    "payment.voided": "Anulación de un pago",
    "route.planned": "Plan de ruta",
    "dispute.opened": "Glosa",
    "agreement.proposed": "Acuerdo de pago propuesto",
    "cash.handed_over": "Entrega de efectivo",
}

METHODS: Final[dict[str, str]] = {
    "cash": "efectivo",
    "transfer": "transferencia",
    "check": "cheque",
    "deposit": "consignación",
}

SEGMENTS: Final[dict[str, str]] = {
    "grupo": "Grupo",
    "convenio_externo": "Convenio externo",
    "entidad_externa": "Entidad externa",
    "particular": "Particular",
}

BUCKETS: Final[dict[str, str]] = {
    "al_dia": "Al día",
    "1_30": "1-30",
    "31_60": "31-60",
    "61_90": "61-90",
    "91_180": "91-180",
    "181_360": "181-360",
    "mas_360": "Más de 360",
}

ENTRY_KINDS: Final[dict[str, str]] = {
    "charge": "Factura",
    "payment": "Pago",
    "adjustment": "Ajuste",
    "reversal": "Reverso",
}


def outcome(code: str) -> str:
    return OUTCOMES.get(code, (code, ""))[0]


def outcome_colour(code: str) -> str:
    return OUTCOMES.get(code, ("", "#444"))[1]


def label(table: dict[str, str], code: str | None) -> str:
    return "" if code is None else table.get(code, code)


# Payment agreements (server/services/agreements.py, shared/agreements.py).
AGREEMENT_STANDINGS: Final[dict[str, str]] = {
    "proposed": "Por aprobar",
    "broken": "Incumplido",
    "on_track": "Al día",
    "completed": "Cumplido",
    "rejected": "Rechazado",
    "cancelled": "Cancelado",
}
INSTALLMENT_STATUSES: Final[dict[str, str]] = {
    "paid": "pagada",
    "partial": "abono parcial",
    "pending": "pendiente",
    "late": "vencida (en gracia)",
    "missed": "incumplida",
}
AGREEMENT_ORIGINS: Final[dict[str, str]] = {
    "field": "propuesto en campo",
    "office": "creado en oficina",
}


# Disputes (glosas y devoluciones) and reconciliations (server/services/disputes.py,
# reconciliations.py).
DISPUTE_KINDS: Final[dict[str, str]] = {"dispute": "Glosa", "return": "Devolución"}
DISPUTE_REASONS: Final[dict[str, str]] = {code: REASONS[code] for code in DISPUTE_REASON_CODES}
NOTE_REASONS: Final[dict[str, str]] = REASONS

"""The sync wire contract ("recaudo-sync v1", see docs/design sync-protocol.md), shared by the
phone and the server. Pure: pydantic models and constants, no I/O.

Every model is frozen and refuses unknown fields: an event is an immutable fact, and a field this
side does not know means the other side speaks a newer `type_version` (or has a bug), never
something to drop silently. Money travels as an ASCII decimal string with at most two decimals
(`WireMoney`); anything else (floats, numbers, sub-cent, exponents, padding, other digits) is
refused, never rounded.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Annotated, Any, Final, Literal, get_args

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    ValidationError,
)

from shared.clients import IsoDate, MoneyStr
from shared.errors import InvalidInput, TooLarge
from shared.money import CENT
from sync.errors import UpgradeRequired

PROTOCOL_VERSION: Final = 1
MAX_EVENTS_PER_PUSH: Final = 200
MAX_PUSH_BYTES: Final = 256 * 1024  # uncompressed request body


_WIRE_AMOUNT = re.compile(r"-?[0-9]+(\.[0-9]{1,2})?")


def _wire_amount(value: object) -> object:
    """A JSON amount must be written exactly as the receipt shows it: `"1.001"` rounded to 1.00,
    `"1E2"`, `" 5.00"` or Arabic-Indic digits would post money nobody wrote. A `Decimal` is this
    side's own value (built in Python, not read from the wire) and is kept."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str) and _WIRE_AMOUNT.fullmatch(value):
        return value
    raise ValueError("an amount travels as a string such as '250000.00' (at most two decimals)")


WireMoney = Annotated[MoneyStr, BeforeValidator(_wire_amount)]
"""`MoneyStr` (cents, range-checked, serialized with two decimals) that parses only the canonical
wire form. The read models of shared/clients.py keep `MoneyStr`: they are not read from phones."""


def _total(value: Decimal) -> Decimal:
    try:
        return value.quantize(CENT, rounding=ROUND_HALF_EVEN)
    except InvalidOperation as exc:  # past the context's 28 digits (or not finite)
        raise ValueError("not a total of amounts") from exc


WireTotal = Annotated[
    Decimal,
    BeforeValidator(_wire_amount),
    AfterValidator(_total),
    PlainSerializer(lambda value: format(_total(value), "f"), return_type=str),
]
"""A sum of many balances (the scope checksum): the wire form of `WireMoney` without its range
(each balance is at most MAX_AMOUNT, a collector's clients together may owe more)."""


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("the amount must be greater than zero")
    return value


PositiveMoney = Annotated[WireMoney, AfterValidator(_positive)]
ShortText = Annotated[str, Field(max_length=500)]
Label = Annotated[str, Field(min_length=1, max_length=100)]


class WireModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- event payloads -------------------------------------------------------------------------

VisitOutcome = Literal[
    "contacted",
    "third_party",
    "not_found",
    "refused",
    "promise",
    "payment",
    "dispute",
    "wrong_address",
]
PaymentMethod = Literal["cash", "transfer", "check", "deposit"]
VISIT_OUTCOMES: Final[tuple[VisitOutcome, ...]] = get_args(VisitOutcome)
PAYMENT_METHODS: Final[tuple[PaymentMethod, ...]] = get_args(PaymentMethod)


class VisitRecorded(WireModel):
    outcome: VisitOutcome
    # No fix indoors or with GPS off: a visit is still a visit, flagged later as unverified.
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None
    accuracy_m: Annotated[float, Field(ge=0, le=1_000_000)] | None = None
    notes: Annotated[str, Field(max_length=2000)] = ""


class PromiseMade(WireModel):
    amount: PositiveMoney
    due_date: IsoDate
    visit_event_id: uuid.UUID | None = None


class PaymentCollected(WireModel):
    amount: PositiveMoney
    method: PaymentMethod
    receipt_no: Label
    reference: ShortText | None = None
    # None: allocate oldest due first; otherwise these invoices first, in this order.
    invoice_numbers: tuple[Label, ...] | None = Field(default=None, max_length=200)
    visit_event_id: uuid.UUID | None = None


class PaymentVoided(WireModel):
    payment_event_id: uuid.UUID
    reason: Annotated[str, Field(min_length=1, max_length=500)]


MAX_ROUTE_STOPS: Final = 500


class SkippedStop(WireModel):
    client_id: uuid.UUID
    reason: Label  # the planner's reason code (shared/routing), e.g. "no_time", "window_closed"


class RoutePlanned(WireModel):
    """The day route a collector chose: clients in planned order and those left out with why."""

    plan_date: IsoDate
    stops: tuple[uuid.UUID, ...] = Field(max_length=MAX_ROUTE_STOPS)
    skipped: tuple[SkippedStop, ...] = Field(default=(), max_length=MAX_ROUTE_STOPS)
    distance_m: Annotated[float, Field(ge=0, le=10_000_000)] | None = None


# --- collections work beyond the visit (issue 7) ---------------------------------------------

MAX_INSTALLMENTS: Final = 60


class Installment(WireModel):
    due_date: IsoDate
    amount: PositiveMoney


class AgreementProposed(WireModel):
    """An installment plan the client accepted in the field; the office approves or rejects it.
    The server keeps it under the event's id (the agreement's id is the event_id)."""

    installments: tuple[Installment, ...] = Field(min_length=1, max_length=MAX_INSTALLMENTS)
    notes: Annotated[str, Field(max_length=2000)] = ""
    visit_event_id: uuid.UUID | None = None


DisputeKind = Literal["dispute", "return"]  # glosa | devolución
# Concept groups of the Colombian health-sector glosa manual (facturación, tarifas, soportes,
# autorización, cobertura, pertinencia), plus returns and anything else.
DisputeReason = Literal[
    "billing", "tariffs", "supports", "authorization", "coverage", "pertinence", "return", "other"
]
DISPUTE_REASONS: Final[tuple[DisputeReason, ...]] = get_args(DisputeReason)


class DisputeOpened(WireModel):
    """The client objects to (part of) an invoice; the office accepts (credit note) or rejects."""

    invoice_number: Label
    amount: PositiveMoney
    kind: DisputeKind = "dispute"
    reason_code: DisputeReason
    notes: Annotated[str, Field(max_length=2000)] = ""
    visit_event_id: uuid.UUID | None = None


HandoverMethod = Literal["bank_deposit", "office"]
MAX_HANDOVER_PAYMENTS: Final = 500


class CashHandedOver(WireModel):
    """Cash a collector deposited (bank reference) or handed to the office, naming the cash
    payments (their event ids) it covers. A supervisor confirms it; if the payments do not add up
    to `amount`, it is still recorded, held for review."""

    amount: PositiveMoney
    method: HandoverMethod
    bank_reference: ShortText = ""
    deposited_on: IsoDate
    payment_event_ids: tuple[uuid.UUID, ...] = Field(min_length=1, max_length=MAX_HANDOVER_PAYMENTS)


# --- the event envelope ---------------------------------------------------------------------

EventType = Literal[
    "visit.recorded",
    "promise.made",
    "payment.collected",
    "payment.voided",
    "route.planned",
    "agreement.proposed",
    "dispute.opened",
    "cash.handed_over",
]
EVENT_TYPES: Final[tuple[EventType, ...]] = get_args(EventType)
# The newest payload version this code understands, per type. A newer one from a phone means
# this side must be upgraded first (426), so nothing is half-understood.
SUPPORTED_TYPE_VERSIONS: Final[dict[str, int]] = dict.fromkeys(EVENT_TYPES, 1)


class _Envelope(WireModel):
    event_id: uuid.UUID
    device_seq: Annotated[int, Field(gt=0, lt=2**63)]
    type_version: Literal[1] = 1
    client_id: uuid.UUID  # may be unknown to the server (then held, money to suspense)
    device_time: AwareDatetime  # data only, never used for ordering


class VisitRecordedEvent(_Envelope):
    type: Literal["visit.recorded"] = "visit.recorded"
    payload: VisitRecorded


class PromiseMadeEvent(_Envelope):
    type: Literal["promise.made"] = "promise.made"
    payload: PromiseMade


class PaymentCollectedEvent(_Envelope):
    type: Literal["payment.collected"] = "payment.collected"
    payload: PaymentCollected


class PaymentVoidedEvent(_Envelope):
    type: Literal["payment.voided"] = "payment.voided"
    payload: PaymentVoided


NO_CLIENT: Final = uuid.UUID(int=0)
"""The `client_id` of an event about no single client (`route.planned`, `cash.handed_over`): the
envelope keeps one shape for every type, so both sides store and dedup every event the same way."""


class RoutePlannedEvent(_Envelope):
    type: Literal["route.planned"] = "route.planned"
    payload: RoutePlanned


class AgreementProposedEvent(_Envelope):
    type: Literal["agreement.proposed"] = "agreement.proposed"
    payload: AgreementProposed


class DisputeOpenedEvent(_Envelope):
    type: Literal["dispute.opened"] = "dispute.opened"
    payload: DisputeOpened


class CashHandedOverEvent(_Envelope):
    type: Literal["cash.handed_over"] = "cash.handed_over"
    payload: CashHandedOver


Event = Annotated[
    VisitRecordedEvent
    | PromiseMadeEvent
    | PaymentCollectedEvent
    | PaymentVoidedEvent
    | RoutePlannedEvent
    | AgreementProposedEvent
    | DisputeOpenedEvent
    | CashHandedOverEvent,
    Field(discriminator="type"),
]


# --- push -----------------------------------------------------------------------------------


class PushRequest(WireModel):
    protocol: Literal[1] = PROTOCOL_VERSION
    device_id: uuid.UUID
    app_version: Annotated[str, Field(min_length=1, max_length=40)]
    events: tuple[Event, ...] = Field(max_length=MAX_EVENTS_PER_PUSH)


PushStatus = Literal["applied", "duplicate", "held", "conflict"]


class PushResult(WireModel):
    """`applied`, `duplicate`, `held`: durably recorded, the phone marks the row acknowledged.
    `conflict`: the same event_id was already recorded with other content; stop resending it."""

    event_id: uuid.UUID
    status: PushStatus
    server_seq: int | None = None
    reason: str | None = None


class PushResponse(WireModel):
    server_epoch: str
    results: tuple[PushResult, ...]


# --- pull ------------------------------------------------------------------------------------

ChangeEntity = Literal["client", "event_status"]
ChangeOp = Literal["put", "remove"]


class Change(WireModel):
    seq: int
    entity: ChangeEntity
    id: str
    op: ChangeOp
    version: int | None = None  # `put` of a client: apply only when newer than the local row
    data: dict[str, Any] | None = None
    reason: str | None = None  # `remove`: why it left the collector's scope ("reassigned")


class OpenInvoice(WireModel):
    number: str
    due_date: date
    balance: WireMoney
    bucket: str  # aging bucket key at the server's business date (shared.aging)


class ActivePromise(WireModel):
    amount: WireMoney
    due_date: date
    status: str = "pending"  # shared.promises status; the server sends pending ones only


class RecentVisit(WireModel):
    day: date  # business date of the visit
    outcome: VisitOutcome


InstallmentStatus = Literal["paid", "partial", "pending", "late", "missed"]
AgreementStanding = Literal["proposed", "on_track", "broken", "completed"]


class InstallmentData(WireModel):
    due_date: date
    amount: WireMoney
    paid: WireMoney = Decimal("0.00")
    status: InstallmentStatus = "pending"


class AgreementData(WireModel):
    """A proposed or active agreement as the phone shows it; `standing` is derived on the server
    from the payments (shared/agreements.py) at the pull's business date."""

    id: uuid.UUID
    standing: AgreementStanding
    total: WireMoney
    installments: tuple[InstallmentData, ...]


class OpenDispute(WireModel):
    id: uuid.UUID
    invoice_number: str
    amount: WireMoney
    kind: DisputeKind = "dispute"
    reason_code: DisputeReason


class ClientData(WireModel):
    """`data` of a client `put`: what the phone needs to work offline. Defaults are omitted on the
    wire (`model_dump(exclude_defaults=True)`) to keep the first sync small."""

    code: str
    name: str
    segment: str = "particular"
    address: str = ""
    city: str = ""
    lat: float | None = None
    lon: float | None = None
    phones: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    status: Literal["active", "closed"] = "active"
    balance: WireMoney
    invoices: tuple[OpenInvoice, ...] = ()
    promises: tuple[ActivePromise, ...] = ()
    visits: tuple[RecentVisit, ...] = ()
    agreements: tuple[AgreementData, ...] = ()
    disputes: tuple[OpenDispute, ...] = ()  # open ones: their amounts are not collectable now
    legal: bool = False  # referred to a law firm: the collector does not collect it


class EventStatusData(WireModel):
    """`data` of an event_status `put`: what the server later decided about one phone event."""

    status: str  # held, applied, voided, ...
    note: str = ""


class ScopeChecksum(WireModel):
    """What the phone's mirror must add up to after applying every page (mismatch → resync)."""

    clients: int
    balance_sum: WireTotal
    digest: str


class PullResponse(WireModel):
    server_epoch: str
    changes: tuple[Change, ...]
    next_cursor: str
    has_more: bool
    scope_checksum: ScopeChecksum | None = None


# --- reading a push body --------------------------------------------------------------------


@dataclass(frozen=True)
class InboundEvent:
    """One event of a push as received. `event` is None when it does not parse; it is then kept
    (raw JSON and the reason code) and held for review, never dropped."""

    event_id: uuid.UUID
    raw: dict[str, Any]
    event: Event | None
    reason: str | None  # "invalid_payload" or "unknown_type" when `event` is None


@dataclass(frozen=True)
class InboundPush:
    device_id: uuid.UUID
    app_version: str
    events: tuple[InboundEvent, ...]


_EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def read_push(data: object) -> InboundPush:
    """Check a decoded push body request-wide, then each event on its own.

    Whole-request refusals (nothing is applied): not an object, a protocol or a `type_version`
    this side does not know (426), too many events (413), an event without a readable event_id
    (422: there is no key to record it under). An event of an unknown `type` is held, not
    refused: the data is kept and can be applied once the server knows the type."""
    if not isinstance(data, dict):
        raise InvalidInput("the push body must be a JSON object", code="invalid_push")
    if data.get("protocol") != PROTOCOL_VERSION:
        raise UpgradeRequired(
            f"protocol {data.get('protocol')!r} is not supported; this server speaks "
            f"{PROTOCOL_VERSION}",
            code="protocol_unsupported",
            details={"supported": [PROTOCOL_VERSION]},
        )
    events = data.get("events")
    if not isinstance(events, list):
        raise InvalidInput("`events` must be a list", code="invalid_push")
    if len(events) > MAX_EVENTS_PER_PUSH:
        raise TooLarge(
            f"at most {MAX_EVENTS_PER_PUSH} events per push; split the backlog into chunks",
            code="too_many_events",
            details={"max_events": MAX_EVENTS_PER_PUSH, "received": len(events)},
        )
    try:
        header = _PushHeader.model_validate({k: data.get(k) for k in ("device_id", "app_version")})
    except ValidationError as exc:
        raise InvalidInput("the push header is not valid", code="invalid_push") from exc
    inbound = tuple(_read_event(i, raw) for i, raw in enumerate(events))
    return InboundPush(header.device_id, header.app_version, inbound)


class _PushHeader(WireModel):
    device_id: uuid.UUID
    app_version: Annotated[str, Field(min_length=1, max_length=40)]


def _read_event(index: int, raw: object) -> InboundEvent:
    event_id = _event_id(raw)
    if event_id is None or not isinstance(raw, dict):
        raise InvalidInput(
            f"event {index} has no valid event_id", code="invalid_event", details={"index": index}
        )
    kind, version = raw.get("type"), raw.get("type_version")
    if not isinstance(kind, str) or kind not in SUPPORTED_TYPE_VERSIONS:  # [] or {}: unhashable
        return InboundEvent(event_id, raw, None, "unknown_type")
    if isinstance(version, int) and version > SUPPORTED_TYPE_VERSIONS[kind]:
        raise UpgradeRequired(
            f"{kind} version {version} is not supported yet",
            code="type_version_unsupported",
            details={"type": kind, "type_version": version, "index": index},
        )
    if _holds_nul(raw):  # PostgreSQL cannot store NUL in text: kept as JSON and held
        return InboundEvent(event_id, raw, None, "invalid_payload")
    try:
        return InboundEvent(event_id, raw, _EVENT_ADAPTER.validate_python(raw), None)
    except ValidationError:
        return InboundEvent(event_id, raw, None, "invalid_payload")


def _holds_nul(raw: object) -> bool:
    """Whether any string (or key) of a decoded JSON value holds a NUL character."""
    pending = [raw]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return True
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def _event_id(raw: object) -> uuid.UUID | None:
    value = raw.get("event_id") if isinstance(raw, dict) else None
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None

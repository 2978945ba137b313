"""Hypothesis strategies for the wire models (also handy for the phone-side tests)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import strategies as st

from sync.protocol import (
    DISPUTE_REASONS,
    PAYMENT_METHODS,
    VISIT_OUTCOMES,
    Change,
    PaymentCollected,
    PaymentCollectedEvent,
    PaymentVoided,
    PaymentVoidedEvent,
    PromiseMade,
    PromiseMadeEvent,
    PullResponse,
    PushRequest,
    PushResponse,
    PushResult,
    ScopeChecksum,
    VisitRecorded,
    VisitRecordedEvent,
)

amounts = st.integers(min_value=1, max_value=10**12).map(lambda c: Decimal(c) / 100)
signed_amounts = st.integers(min_value=-(10**12), max_value=10**12).map(lambda c: Decimal(c) / 100)
text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)
labels = st.text("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-", min_size=1, max_size=20)
offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)
# Hypothesis takes naive bounds and attaches the zone itself.
device_times = st.datetimes(
    min_value=datetime(2020, 1, 1),  # noqa: DTZ001
    max_value=datetime(2035, 1, 1),  # noqa: DTZ001
    timezones=offsets,
)
dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 1, 1))


def _optional(strategy: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.none() | strategy


visits = st.builds(
    VisitRecorded,
    outcome=st.sampled_from(VISIT_OUTCOMES),
    lat=_optional(st.floats(min_value=-90, max_value=90)),
    lon=_optional(st.floats(min_value=-180, max_value=180)),
    accuracy_m=_optional(st.floats(min_value=0, max_value=5000)),
    notes=text,
)
promises = st.builds(
    PromiseMade, amount=amounts, due_date=dates, visit_event_id=_optional(st.uuids())
)
payments = st.builds(
    PaymentCollected,
    amount=amounts,
    method=st.sampled_from(PAYMENT_METHODS),
    receipt_no=labels,
    reference=_optional(text),
    invoice_numbers=_optional(st.lists(labels, max_size=4).map(tuple)),
    visit_event_id=_optional(st.uuids()),
)
voids = st.builds(PaymentVoided, payment_event_id=st.uuids(), reason=text.filter(bool))


def _envelope(cls: type, payload: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.builds(
        cls,
        event_id=st.uuids(),
        device_seq=st.integers(min_value=1, max_value=2**40),
        client_id=st.uuids(),
        device_time=device_times,
        payload=payload,
    )


events = st.one_of(
    _envelope(VisitRecordedEvent, visits),
    _envelope(PromiseMadeEvent, promises),
    _envelope(PaymentCollectedEvent, payments),
    _envelope(PaymentVoidedEvent, voids),
)
push_requests = st.builds(
    PushRequest,
    device_id=st.uuids(),
    app_version=labels,
    events=st.lists(events, max_size=5).map(tuple),
)
push_results = st.builds(
    PushResult,
    event_id=st.uuids(),
    status=st.sampled_from(["applied", "duplicate", "held", "conflict"]),
    server_seq=_optional(st.integers(min_value=1, max_value=2**62)),
    reason=_optional(labels),
)
push_responses = st.builds(
    PushResponse, server_epoch=labels, results=st.lists(push_results, max_size=5).map(tuple)
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(labels, inner, max_size=3),
    max_leaves=8,
)
changes = st.builds(
    Change,
    seq=st.integers(min_value=1, max_value=2**62),
    entity=st.sampled_from(["client", "event_status"]),
    id=labels,
    op=st.sampled_from(["put", "remove"]),
    version=_optional(st.integers(min_value=1, max_value=2**31)),
    data=_optional(st.dictionaries(labels, json_values, max_size=4)),
    reason=_optional(labels),
)
checksums = st.builds(
    ScopeChecksum, clients=st.integers(0, 10**6), balance_sum=signed_amounts, digest=labels
)
pull_responses = st.builds(
    PullResponse,
    server_epoch=labels,
    changes=st.lists(changes, max_size=4).map(tuple),
    next_cursor=labels,
    has_more=st.booleans(),
    scope_checksum=_optional(checksums),
)


# --- field actions of the collections work (issue 7), as the phone's services take them ----------

plan_amounts = st.integers(min_value=1, max_value=10**9).map(lambda c: Decimal(c) / 100)
# An installment plan: days from today to the first due date, then the gaps between dues.
installment_plans = st.tuples(
    st.integers(min_value=-3, max_value=60),
    st.lists(
        st.tuples(st.integers(min_value=7, max_value=40), plan_amounts), min_size=1, max_size=3
    ),
)
dispute_kinds = st.sampled_from(["dispute", "return"])
dispute_reasons = st.sampled_from(DISPUTE_REASONS)
handover_methods = st.sampled_from(["bank_deposit", "office"])

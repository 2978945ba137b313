"""The catalog: every message in both languages with the same placeholders."""

from __future__ import annotations

import string
from datetime import date
from decimal import Decimal

from mobile.state.i18n import CATALOG, Texts
from shared.aging import bucket_names
from sync.protocol import PAYMENT_METHODS, VISIT_OUTCOMES


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_message_has_both_languages_and_the_same_placeholders() -> None:
    for key, (es, en) in CATALOG.items():
        assert es.strip() and en.strip(), key
        assert _fields(es) == _fields(en), key


def test_every_protocol_value_and_bucket_has_a_label() -> None:
    keys = (
        [f"outcome.{o}" for o in VISIT_OUTCOMES]
        + [f"method.{m}" for m in PAYMENT_METHODS]
        + [f"bucket.{b}" for b in bucket_names()]
    )
    assert [k for k in keys if k not in CATALOG] == []


def test_texts_format_in_each_language() -> None:
    es, en = Texts("es"), Texts("en")
    assert es("row.balance", amount=es.money(Decimal("1234567"))) == "Saldo $ 1.234.567"
    assert en("row.balance", amount=en.money(Decimal("1234567.5"))) == "Balance $1,234,567.50"
    assert es.date(date(2026, 3, 5)) == "05/03/2026"
    assert es("no.such.key") == "no.such.key"  # visible on screen, never a crash

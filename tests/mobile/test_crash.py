"""Kill -9 the phone process while it records payments: nothing it reported is lost."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.mobile.conftest import new_device

CHILD = """
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from mobile.data.migrate import open_database
from mobile.services.recording import record_payment

db = open_database(Path(sys.argv[1]))
now = datetime(2026, 11, 23, 10, 0, tzinfo=timezone(timedelta(hours=-5)))
client = "5f0e3c1a-1111-4b7e-9a57-2f8a3f0d6a11"
while True:
    receipt = record_payment(db, client_id=client, amount=Decimal("1000"), method="cash", now=now)
    # Printed only after the commit returned: what the collector would hand the client.
    print(receipt.receipt_no, receipt.event_id, flush=True)
"""


def test_kill_9_while_recording_loses_no_reported_payment(tmp_path: Path) -> None:
    path = tmp_path / "phone.db"
    new_device(path).kw["bind"].dispose()
    rng = random.Random(7)
    reported: dict[str, str] = {}
    for _ in range(3):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(path)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        assert child.stdout is not None
        for _ in range(rng.randint(20, 80)):
            line = child.stdout.readline()
            assert line, "the child stopped before being killed"
            receipt_no, event_id = line.split()
            reported[event_id] = receipt_no
        os.kill(child.pid, signal.SIGKILL)
        rest, _ = child.communicate()
        for line in rest.splitlines():  # printed (so committed) before the kill landed
            receipt_no, event_id = line.split()
            reported[event_id] = receipt_no
        assert child.returncode == -signal.SIGKILL

    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        rows = conn.execute("SELECT event_id, device_seq, payload FROM outbox").fetchall()
        next_seq = conn.execute("SELECT next_device_seq FROM sync_state").fetchone()[0]
    stored = {event_id: (seq, payload) for event_id, seq, payload in rows}
    for event_id, receipt_no in reported.items():
        assert event_id in stored
        assert f'"receipt_no":"{receipt_no}"' in stored[event_id][1]
    device_seqs = sorted(seq for seq, _ in stored.values())
    # No duplicates and no gaps: a seq is taken in the same transaction as its outbox row.
    assert device_seqs == list(range(1, len(device_seqs) + 1))
    assert next_seq == len(device_seqs) + 1
    assert len(stored) >= len(reported) >= 60

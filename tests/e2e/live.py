"""A real `recaudo` server process on a free loopback port, and a real Chromium, for e2e tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def chromium_path() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        raise RuntimeError("Debian's chromium is missing: `make test` installs it (apt-get)")
    return path


@contextmanager
def running_server(data_dir: Path, *extra_env: tuple[str, str]) -> Iterator[str]:
    """`recaudo serve` on SQLite in data_dir; yields the base URL once /healthz answers."""
    port = free_port()
    env = os.environ | {"RECAUDO_DATA_DIR": str(data_dir), "RECAUDO_DATABASE_URL": ""}
    env |= dict(extra_env)
    recaudo = Path(sys.executable).with_name("recaudo")
    log = (data_dir / "server.log").open("wb")
    proc = subprocess.Popen(
        [str(recaudo), "serve", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # a loaded 2-core CI machine takes 30 s and more
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=1).raise_for_status()
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "server did not start:\n" + (data_dir / "server.log").read_text()
                    ) from None
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()

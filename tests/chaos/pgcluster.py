"""A private PostgreSQL cluster for tests that restart or crash PostgreSQL itself.

The machine's shared server on :5432 is never touched: `PrivateCluster` runs `initdb` into a temp
directory of its own, on a free port, trust auth, its unix socket in that directory, and lets a
test `restart` it (`-m fast`, or `-m immediate`: a crash, recovered from the WAL on start) or
`stop` and `start` it. PostgreSQL refuses to run as root, so when the tests run as root every
command runs as the `postgres` OS user (`runuser`). `close` always stops it and deletes the
directory; use it as a context manager.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Literal

from tests.e2e.live import free_port

BIN = Path("/usr/lib/postgresql/15/bin")
Mode = Literal["smart", "fast", "immediate"]


def available() -> str | None:
    """Why a private cluster cannot run here (None when it can)."""
    if not (BIN / "initdb").exists():
        return f"no PostgreSQL binaries in {BIN}"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser"
    return None


class PrivateCluster:
    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="recaudo-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self._as_postgres = os.geteuid() == 0
        self.running = False
        try:
            if self._as_postgres:
                shutil.chown(self.dir, "postgres")
            self._run(
                "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync",
                "-E", "UTF8", "--locale", "C",
            )  # fmt: skip
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise

    @property
    def base_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, tool: str, *args: str) -> None:
        command = [str(BIN / tool), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr or done.stdout}")

    def _options(self) -> str:
        return f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", self._options(),
                  "-w", "-t", "60", "start")  # fmt: skip
        self.running = True

    def stop(self, mode: Mode = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")
        self.running = False

    def restart(self, mode: Mode = "fast") -> None:
        """`pg_ctl restart`: every connection is cut; `immediate` skips the shutdown checkpoint
        (crash recovery from the WAL on the way back up)."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", mode,
                  "-o", self._options(), "-w", "-t", "60", "restart")  # fmt: skip
        self.running = True

    def create_database(self, name: str) -> str:
        import sqlalchemy as sa

        admin = sa.create_engine(self.base_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        finally:
            admin.dispose()
        return self.url(name)

    def recovered_from_crash(self) -> bool:
        """The log says PostgreSQL ran crash recovery (after an `immediate` stop)."""
        return "automatic recovery in progress" in self.log.read_text(errors="replace")

    def close(self) -> None:
        try:
            if self.running or (self.data / "postmaster.pid").exists():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PrivateCluster:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.close()

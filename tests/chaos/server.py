"""The server under test as a real uvicorn process that can be `kill -9`ed and restarted fast.

Importing the app costs about 1.7 s of CPU here, too much for hundreds of kills. So a small
zygote process (`python -m tests.chaos.server`) imports this module (FastAPI, SQLAlchemy, the
app's modules, uvicorn's event loop and HTTP parser) once, builds each server's app with
`create_app` once, then forks one child per `spawn` line it reads on stdin and answers its pid.
A child only runs uvicorn (bind, serve) on the same port every time, so the proxy's upstream never
moves. The zygote ignores SIGCHLD, so the kernel reaps a killed child at once.

`die_after_push_commits`, a test-only argument of the child (never read by production code):
when set, the child SIGKILLs itself just after its n-th commit that recorded pushed events,
before the response is written: the "server committed, response lost" case, hit exactly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import psycopg  # noqa: F401
import sqlalchemy.dialects.postgresql.psycopg
import sqlalchemy.dialects.sqlite.pysqlite  # noqa: F401
import uvicorn
import uvicorn.lifespan.off
import uvicorn.loops.auto
import uvicorn.loops.uvloop
import uvicorn.protocols.http.auto
import uvicorn.protocols.http.httptools_impl
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from server.main import create_app
from server.settings import Settings

SIGNING_KEY = "chaos-signing-key-0123456789-0123456789-abcdef"


def _die_after_push_commits(n: int) -> None:
    """SIGKILL this process right after the n-th commit of a session that recorded new inbound
    events (the push route writes and commits in one worker thread)."""
    count = 0
    pushed = threading.local()

    @event.listens_for(Engine, "after_cursor_execute")
    def _mark(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        # Inbound rows go by COPY on PostgreSQL, which no cursor event sees; the server_seq
        # counter moves in the same transaction, only when a chunk records new events.
        head = statement.lstrip()[:40].upper()
        if head.startswith("INSERT INTO INBOUND_EVENT") or (
            head.startswith("UPDATE SYNC_COUNTER") and "server_seq" in str(parameters)
        ):
            pushed.flag = True

    @event.listens_for(Session, "after_commit")
    def _maybe_die(_session: Session) -> None:
        nonlocal count
        if getattr(pushed, "flag", False):
            pushed.flag = False
            count += 1
            if count >= n:
                os.kill(os.getpid(), signal.SIGKILL)


def _config(database_url: str, port: int, data_dir: str) -> uvicorn.Config:
    """The app and uvicorn's config, built (and loaded) once in the zygote per server: the engine
    inside has not connected yet, so every forked child opens its own connections."""
    settings = Settings(
        environment="test",
        database_url=database_url,
        data_dir=Path(data_dir),
        signing_key=SIGNING_KEY,
    )
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=1,
    )
    config.load()
    return config


def zygote(commands: IO[str], answers: IO[str]) -> None:
    """Fork a server child per `spawn <json>` line; answer each with the child's pid."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    configs: dict[tuple[str, int, str], uvicorn.Config] = {}
    for line in commands:
        verb, _, text = line.partition(" ")
        if verb != "spawn":
            continue
        args = json.loads(text)
        key = (args["database_url"], args["port"], args["data_dir"])
        if key not in configs:
            configs[key] = _config(*key)
        pid = os.fork()
        if pid == 0:
            try:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                devnull = os.open(os.devnull, os.O_RDONLY)
                os.dup2(devnull, 0)
                os.dup2(2, 1)  # the answers pipe stays the zygote's alone
                if args["die_after_push_commits"] > 0:
                    _die_after_push_commits(args["die_after_push_commits"])
                uvicorn.Server(configs[key]).run()
            finally:
                os._exit(0)
        answers.write(f"{pid}\n")
        answers.flush()


class Zygote:
    """The forking parent of every server child (one per test session is enough)."""

    def __init__(self, log_path: Path) -> None:
        self._log = log_path.open("ab")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", __name__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        self.log_path = log_path

    async def spawn(self, **args: object) -> int:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(f"spawn {json.dumps(args)}\n")
        self._proc.stdin.flush()
        # The first answer waits for the zygote's imports: read it off the event loop.
        answer = await asyncio.to_thread(self._proc.stdout.readline)
        if not answer:
            raise RuntimeError(f"the zygote died: see {self.log_path}")
        return int(answer)

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        self._proc.wait(timeout=10)
        self._log.close()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class ServerProcess:
    """One uvicorn child at a time on a fixed port: `start`, `kill` (SIGKILL), `alive`."""

    def __init__(self, zygote: Zygote, database_url: str, port: int, data_dir: Path) -> None:
        self.zygote = zygote
        self.database_url = database_url
        self.port = port
        self.data_dir = data_dir
        self.starts: list[float] = []  # seconds from fork to the port accepting connections
        self.pid: int | None = None

    @property
    def alive(self) -> bool:
        return self.pid is not None and _pid_alive(self.pid)

    async def start(self, die_after_push_commits: int = 0, timeout: float = 60.0) -> None:
        if self.alive:
            raise RuntimeError("the server is already running")
        began = time.perf_counter()
        self.pid = await self.zygote.spawn(
            database_url=self.database_url,
            port=self.port,
            data_dir=str(self.data_dir),
            die_after_push_commits=die_after_push_commits,
        )
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                if not self.alive:
                    raise RuntimeError(f"the server exited: see {self.zygote.log_path}") from None
                if time.perf_counter() - began > timeout:
                    raise TimeoutError("the server did not open its port") from None
                await asyncio.sleep(0.005)
                continue
            writer.close()
            break
        self.starts.append(time.perf_counter() - began)

    def kill(self) -> None:
        """kill -9 (the zygote reaps it); returns once the process is gone."""
        if self.pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        while _pid_alive(self.pid):
            time.sleep(0.001)
        self.pid = None

    async def wait_dead(self, timeout: float) -> bool:
        """Wait for the child to die on its own (true) or for `timeout` to pass (false)."""
        deadline = time.perf_counter() + timeout
        while self.alive:
            if time.perf_counter() > deadline:
                return False
            await asyncio.sleep(0.005)
        return True


if __name__ == "__main__":
    zygote(sys.stdin, sys.stdout)

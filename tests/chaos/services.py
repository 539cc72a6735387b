"""The chaos suite's own servers: a Redis and a PostgreSQL cluster it may restart and wipe.

Never the shared ones on 6379/5432: every fault here would hit other people's tests.
Redis runs with ``appendonly yes`` (a restart keeps its data, as a production Redis does);
PostgreSQL is a cluster made with ``initdb`` in a temporary folder owned by ``postgres``,
started with ``pg_ctl`` on a free port (as user ``postgres`` when the suite runs as root).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis


class ServiceError(RuntimeError):
    """A chaos server could not be started or did not come back."""


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def await_true(check: object, timeout: float, what: str) -> None:
    """Poll ``check()`` every 0.1 s until it is true; ServiceError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise ServiceError(f"{what} within {timeout:.0f} s: it did not")


@dataclass
class OwnRedis:
    """A redis-server of the suite's own, on a free port, persisting to an append-only file."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The broker URL (database 0)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server and wait until it answers PING."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServiceError("redis-server is not on PATH: the chaos suite starts its own")
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir"]
        command += [str(self.folder), "--appendonly", "yes", "--save", "", "--daemonize", "no"]
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
        await_true(self.answers, 15, f"redis-server on port {self.port} to answer")

    def answers(self) -> bool:
        """Whether the server answers PING now."""
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        """A clean shutdown (SIGTERM: the append-only file is flushed), awaited."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None

    def restart(self, down_for: float) -> None:
        """Stop, stay down ``down_for`` seconds, start again on the same port and data."""
        self.stop()
        time.sleep(down_for)  # the outage itself: nothing to await
        self.start()

    def flushall(self) -> None:
        """FLUSHALL: every queue, unacked message and key is gone."""
        client = redis.Redis(port=self.port)
        try:
            client.flushall()
        finally:
            client.close()


@dataclass
class OwnPostgres:
    """A PostgreSQL cluster of the suite's own: ``initdb`` in ``folder``, ``pg_ctl`` on a port."""

    folder: Path
    port: int = field(default_factory=free_port)

    @property
    def admin_url(self) -> str:
        """libpq URL of the maintenance database."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        """SQLAlchemy URL of ``database`` on this cluster."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    @property
    def data(self) -> Path:
        """The cluster's data folder."""
        return self.folder / "data"

    def start(self) -> None:
        """initdb (trust auth, user postgres), then start and wait until it accepts connections."""
        _give_to_postgres(self.folder)
        self._as_postgres("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres")
        self._pg_ctl("start")
        await_true(self.answers, 30, f"PostgreSQL on port {self.port} to accept connections")

    def restart_immediately(self) -> None:
        """``pg_ctl -m immediate restart``: a crash (no checkpoint), then crash recovery."""
        self._pg_ctl("restart", "-m", "immediate")
        await_true(self.answers, 60, f"PostgreSQL on port {self.port} to come back")

    def stop(self) -> None:
        """Stop the cluster fast (``-m fast``); its folder is deleted by the caller."""
        with suppress(ServiceError):
            self._as_postgres("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def answers(self) -> bool:
        """Whether the server accepts a connection now."""
        try:
            with psycopg.connect(self.admin_url, connect_timeout=1):
                return True
        except psycopg.OperationalError:
            return False

    def create_database(self, name: str) -> str:
        """CREATE DATABASE ``name``; returns its SQLAlchemy URL."""
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"'.encode())
        return self.url(name)

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder}"
        log = str(self.folder / "postgres.log")
        self._as_postgres(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", *extra, action
        )

    def _as_postgres(self, tool: str, *args: str) -> None:
        command = [_postgres_tool(tool), *args]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, check=False, timeout=120)
        if done.returncode != 0:
            raise ServiceError(
                f"{' '.join(command)} exited {done.returncode}: "
                f"{done.stderr.decode(errors='replace')[-2000:]}"
            )


def _postgres_tool(name: str) -> str:
    """The path of a PostgreSQL server program (on PATH, else in ``pg_config --bindir``)."""
    found = shutil.which(name)
    if found:
        return found
    config = shutil.which("pg_config")
    if config:
        folder = subprocess.run([config, "--bindir"], capture_output=True, check=True, text=True)
        candidate = Path(folder.stdout.strip()) / name
        if candidate.exists():
            return str(candidate)
    raise ServiceError(f"{name} is not on PATH nor in pg_config --bindir")


def _give_to_postgres(folder: Path) -> None:
    """Make ``folder`` the ``postgres`` user's (initdb runs as that user when we are root)."""
    if os.geteuid() == 0:
        shutil.chown(folder, user="postgres", group="postgres")
        folder.chmod(0o700)


def scratch_folder(prefix: str) -> Path:
    """A fresh temporary folder the ``postgres`` user may enter (pytest's are private to us)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    return folder

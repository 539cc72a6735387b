"""A small process supervisor, like compose's ``restart: unless-stopped``.

It starts the fleet's processes (two prefork workers and beat), restarts one shortly after
it exits, and records every exit: a death the suite caused (``kill -9``) is expected, any
other one is a failure to report (a worker must survive a Redis or PostgreSQL restart).
Each incarnation logs to a file of its own, so a death is reported with its last words.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESTART_DELAY = 0.5
"""Seconds between an exit and the restart (compose waits 0.1 s, doubling on repeats)."""

WORKER_ARGS = [
    "worker",
    "--pool",
    "prefork",
    "--concurrency",
    "2",
    "--loglevel",
    "WARNING",
    "--without-mingle",
    "--without-gossip",
]


@dataclass(frozen=True)
class Death:
    """A process of the fleet that exited.

    Attributes:
        role: ``worker-a``, ``worker-b`` or ``beat``.
        pid: its main process.
        returncode: its exit status (negative: the signal that ended it).
        at: ``time.monotonic()`` when the supervisor saw it gone.
        expected: the suite killed it on purpose (a ``kill -9`` fault).
        during: the fault under way when it died ("" outside one).
        last_words: the end of its log (the traceback of an unrecoverable error).
    """

    role: str
    pid: int
    returncode: int
    at: float
    expected: bool
    during: str
    last_words: str

    def summary(self) -> str:
        """One line for a report: who, how, and the last log line that says why."""
        why = next(
            (line for line in reversed(self.last_words.splitlines()) if "Error" in line),
            self.last_words.strip().splitlines()[-1] if self.last_words.strip() else "",
        )
        return f"{self.role} (pid {self.pid}) exited {self.returncode}: {why.strip()[:300]}"


@dataclass
class Supervisor:
    """Runs ``celery -A tasks.app`` processes by role, restarting each when it exits."""

    env: dict[str, str]
    logs: Path
    deaths: list[Death] = field(default_factory=list)
    during: str = ""
    _processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _log_files: dict[str, Path] = field(default_factory=dict)
    _killing: set[int] = field(default_factory=set)
    _paused: set[str] = field(default_factory=set)
    _incarnations: dict[str, int] = field(default_factory=dict)
    _started: dict[str, datetime] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self, role: str) -> None:
        """Start ``role`` (``worker-*`` or ``beat``) and supervise it."""
        with self._lock:
            self._paused.discard(role)
            self._spawn(role)
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, daemon=True, name="supervisor")
            self._thread.start()

    def pid(self, role: str) -> int:
        """The main process id of ``role``'s current incarnation."""
        with self._lock:
            return self._processes[role].pid

    def incarnation(self, role: str) -> int:
        """How many times ``role`` was started (1: never restarted)."""
        with self._lock:
            return self._incarnations.get(role, 0)

    def started(self, role: str) -> datetime:
        """When ``role``'s current incarnation was started."""
        with self._lock:
            return self._started[role]

    def kill(self, role: str) -> None:
        """kill -9 ``role`` and its pool children (nothing acked); the supervisor restarts it."""
        with self._lock:
            process = self._processes[role]
            self._killing.add(process.pid)
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)

    def hold(self, role: str) -> None:
        """Stop ``role`` for good (SIGTERM, then SIGKILL) until :meth:`start` brings it back."""
        with self._lock:
            self._paused.add(role)
            process = self._processes.pop(role, None)
        if process is not None:
            _end(process)

    def send(self, role: str, number: int) -> None:
        """Send ``number`` (SIGSTOP, SIGCONT) to ``role``'s whole process group."""
        os.killpg(self.pid(role), number)

    def unexpected_deaths(self) -> list[Death]:
        """The deaths the suite did not cause."""
        with self._lock:
            return [death for death in self.deaths if not death.expected]

    def stop_all(self) -> None:
        """Stop supervising and kill every process (the run is over: nothing to finish)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self._lock:
            processes = list(self._processes.values())
            self._processes.clear()
        for process in processes:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)

    def _spawn(self, role: str) -> None:
        count = self._incarnations.get(role, 0) + 1
        self._incarnations[role] = count
        log = self.logs / f"{role}.{count}.log"
        args = [*WORKER_ARGS, "--hostname", f"{role}@%h"] if role.startswith("worker") else []
        if role == "beat":
            args = ["beat", "--loglevel", "WARNING", "--schedule", str(self.logs / "beat-sched")]
        with log.open("ab") as output:
            self._processes[role] = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "tasks.app", *args],
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._log_files[role] = log
        self._started[role] = datetime.now(UTC)

    def _watch(self) -> None:
        due: dict[str, float] = {}
        while not self._stop.wait(0.1):
            with self._lock:
                for role, process in list(self._processes.items()):
                    if process.poll() is not None:
                        self._record_death(role, process)
                        del self._processes[role]
                        due[role] = time.monotonic() + RESTART_DELAY
                for role, when in list(due.items()):
                    if role in self._paused:
                        del due[role]
                    elif time.monotonic() >= when:
                        del due[role]
                        self._spawn(role)

    def _record_death(self, role: str, process: subprocess.Popen[bytes]) -> None:
        expected = process.pid in self._killing
        self._killing.discard(process.pid)
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # orphaned pool children must not linger
        self.deaths.append(
            Death(
                role,
                process.pid,
                int(process.returncode),
                time.monotonic(),
                expected,
                self.during,
                _tail(self._log_files[role]),
            )
        )


def _end(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the main process, SIGKILL its group after 15 s."""
    with suppress(ProcessLookupError):
        process.terminate()
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=15)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=15)


def _tail(path: Path, size: int = 4000) -> str:
    with path.open("rb") as log:
        log.seek(0, os.SEEK_END)
        log.seek(max(0, log.tell() - size))
        return log.read().decode(errors="replace")

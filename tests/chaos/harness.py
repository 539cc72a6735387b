"""The chaos fleet and its wave: start ~200 executions, strike, and watch them recover.

`ChaosFleet` is a migrated store on the suite's own PostgreSQL, the suite's own Redis, and
two prefork workers plus beat under the `Supervisor`, with default timing (nothing
shortened: claims 10 s, heartbeats 2 s, lost after 6 s, lease 120 s). `Wave` starts the
workload, samples progress four times a second from the store, and measures recovery.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import Engine, and_, func, or_, select
from sqlalchemy.exc import SQLAlchemyError

from config.settings import Settings
from engine import connect
from engine._api import Client
from engine._store.db import make_engine
from engine._store.repository import Store
from engine._store.rows import EXECUTIONS, HISTORY, OUTBOX, TASKS, TIMERS
from engine._store.workers import WORKERS, Held
from tasks.fleet import BrokerWatch
from tasks.unacked import UNACKED, delivered_message
from tests.chaos.histories import Shape, numbering_problems, shape_of
from tests.chaos.services import OwnPostgres, OwnRedis, await_true
from tests.chaos.supervisor import Supervisor
from tests.chaos.workload import WAVE, execution_names

ROLE = "arn:aws:iam::111111111111:role/stepline-chaos"
WORKERS_ROLES = ("worker-a", "worker-b")
SAMPLE_EVERY = 0.25
"""Seconds between progress samples (the resolution of every measured time)."""


@dataclass
class ChaosFleet:
    """Two prefork workers and beat, supervised, on the suite's own Redis and PostgreSQL."""

    redis: OwnRedis
    postgres: OwnPostgres
    database_url: str
    home: Path
    supervisor: Supervisor
    store: Store
    client: Client

    @property
    def calls(self) -> Path:
        """The file every handler call appends its idempotency key to."""
        return self.home / "calls.log"

    @classmethod
    def create(
        cls, redis: OwnRedis, postgres: OwnPostgres, database_url: str, home: Path
    ) -> ChaosFleet:
        """A fleet on ``database_url`` (migrated) and ``redis``; not started yet."""
        (home / "logs").mkdir(parents=True, exist_ok=True)
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("STEPLINE_")}
        env = {
            **inherited,  # nothing shortened: every timing setting keeps its default
            "PYTHONPATH": os.pathsep.join(
                [str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")]
            ),
            "STEPLINE_HOME": str(home),
            "STEPLINE_DATABASE_URL": database_url,
            "STEPLINE_BROKER_URL": redis.url,
            "STEPLINE_HANDLERS": "tests.chaos.handlers",
            "STEPLINE_LOG_LEVEL": "WARNING",
            "STEPLINE_CHAOS_CALLS": str(home / "calls.log"),
        }
        store = Store(make_engine(database_url))
        settings = Settings(home=home, database_url=database_url, broker_url=redis.url)
        client = connect(settings, store=store)
        return cls(
            redis, postgres, database_url, home, Supervisor(env, home / "logs"), store, client
        )

    def start(self) -> None:
        """Start both workers and beat; return once both workers announced themselves."""
        since = datetime.now(UTC)
        for role in (*WORKERS_ROLES, "beat"):
            self.supervisor.start(role)
        await_true(
            lambda: all(self.seen_since(role, since) for role in WORKERS_ROLES),
            90,
            "both workers to announce themselves",
        )
        # A broker without the canary looks wiped, and the first duty round would resend
        # every message the wave had published: start the wave on a fleet that checked.
        await_true(self._canary_set, 30, "the fleet's first broker check")

    def _canary_set(self) -> bool:
        client = redis.Redis.from_url(self.redis.url)
        try:
            return bool(client.exists(BrokerWatch.KEY))
        finally:
            client.close()

    def unacked(self) -> list[Held]:
        """The stepline messages Redis holds unacknowledged: received by some worker, not done."""
        client = redis.Redis.from_url(self.redis.url)
        try:
            entries = client.hvals(UNACKED)  # kombu's Redis transport keeps them there
        finally:
            client.close()
        held = (delivered_message(entry) for entry in entries)
        return [message for message in held if message is not None]

    def stop(self) -> None:
        """End every process and close the store's connections."""
        self.supervisor.stop_all()
        self.store.engine.dispose()

    def seen_since(self, role: str, since: datetime) -> bool:
        """Whether worker ``role`` heartbeat (or announced itself) since ``since``."""
        try:
            with self.store.engine.connect() as db:
                seen = db.execute(
                    select(WORKERS.c.seen_at).where(WORKERS.c.name == node(role))
                ).scalar()
        except SQLAlchemyError:
            return False
        return seen is not None and seen >= since

    def held(self, role: str) -> list[Held]:
        """What worker ``role`` held at its last heartbeat."""
        with self.store.engine.connect() as db:
            inflight = db.execute(
                select(WORKERS.c.inflight).where(WORKERS.c.name == node(role))
            ).scalar()
        return [Held.from_stored(value) for value in inflight or []]

    def await_up(self, role: str, timeout: float = 60) -> None:
        """Wait until worker ``role``'s current process heartbeats (after a restart)."""
        await_true(
            lambda: self.seen_since(role, self.supervisor.started(role)),
            timeout,
            f"{role} to be up",
        )


def node(role: str) -> str:
    """The Celery node name of worker ``role`` (``--hostname role@%h``)."""
    return f"{role}@{socket.gethostname()}"


@dataclass
class Recovery:
    """Messages a killed or frozen worker held, and when the fleet had taken them over.

    ``sends``: each message's outbox ``sends`` at the strike; a higher count later means
    the fleet sent it again.
    """

    struck_at: float
    sends: dict[Held, int]
    resent_at: float | None = None
    consumed_at: float | None = None

    @property
    def handover(self) -> float | None:
        """From the strike until each held message was sent again or consumed (None: never)."""
        return None if self.resent_at is None else self.resent_at - self.struck_at

    @property
    def consumed(self) -> float | None:
        """From the strike until every held message was consumed (None: not yet)."""
        return None if self.consumed_at is None else self.consumed_at - self.struck_at

    def check(self, db: Any, now: float) -> None:
        """Note the moments the held messages were all taken over, then all consumed."""
        if self.consumed_at is not None:
            return
        pending = _pending(db, self.sends)
        if self.resent_at is None and all(pending[m] > self.sends[m] for m in pending):
            self.resent_at = now
        if not pending:
            self.resent_at = self.resent_at or now
            self.consumed_at = now


def _pending(db: Any, messages: Iterable[Held]) -> dict[Held, int]:
    """The ``sends`` of those of ``messages`` whose outbox row is not consumed."""
    keys = [
        and_(
            OUTBOX.c.execution_id == message.execution_id,
            OUTBOX.c.thread_id == message.thread_id,
            OUTBOX.c.seq == message.seq,
            OUTBOX.c.kind == message.kind.value,
        )
        for message in messages
    ]
    if not keys:
        return {}
    rows = db.execute(
        select(
            OUTBOX.c.kind, OUTBOX.c.execution_id, OUTBOX.c.thread_id, OUTBOX.c.seq, OUTBOX.c.sends
        ).where(and_(or_(*keys), OUTBOX.c.done.is_(False)))
    ).all()
    return {Held.from_stored([kind, e, t, seq]): int(sends) for kind, e, t, seq, sends in rows}


@dataclass
class Wave:
    """The workload in flight on ``fleet``: started, sampled and measured."""

    fleet: ChaosFleet
    arns: dict[str, str] = field(default_factory=dict)
    started_at: float = 0.0
    finished_at: float | None = None
    samples: list[tuple[float, int, int]] = field(default_factory=list)
    recoveries: list[Recovery] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)

    @property
    def total(self) -> int:
        """How many executions the wave starts."""
        return sum(shape.count for shape in WAVE)

    def start(self) -> None:
        """Create the machines, start every execution, and begin sampling progress."""
        machines = {
            shape.name: self.fleet.client.create_state_machine(
                name=f"chaos-{shape.name}", definition=json.dumps(shape.definition), roleArn=ROLE
            )["stateMachineArn"]
            for shape in WAVE
        }
        self.started_at = time.monotonic()
        for shape, name in execution_names():
            index = int(name.rsplit("-", 1)[1])
            response = self.fleet.client.start_execution(
                stateMachineArn=machines[shape.name],
                name=name,
                input=json.dumps(shape.payload(index)),
            )
            self.arns[name] = response["executionArn"]
        monitor = make_engine(self.fleet.database_url)  # its own pool: the thread's alone
        threading.Thread(
            target=self._sample_until_stopped, args=(monitor,), daemon=True, name="wave"
        ).start()

    def watch(self, held: list[Held], struck_at: float) -> None:
        """Measure how soon the fleet takes over ``held``, a worker's struck at ``struck_at``."""
        with self.fleet.store.engine.connect() as db:
            pending = _pending(db, held)
        # Consumed already: nothing to take over.
        self.recoveries.append(Recovery(struck_at, pending))

    def await_done(self, timeout: float) -> None:
        """Block until every execution left RUNNING (AssertionError after ``timeout`` s)."""
        if not self.done.wait(timeout):
            last = self.samples[-1] if self.samples else None
            raise AssertionError(
                f"the wave did not finish within {timeout:.0f} s (last sample: {last})"
            )

    def stop(self) -> None:
        """Stop sampling."""
        self._stop.set()

    def _sample_until_stopped(self, monitor: Engine) -> None:
        while not self._stop.wait(SAMPLE_EVERY):
            try:
                self._sample(monitor)
            except SQLAlchemyError:
                continue  # the store is away (a PostgreSQL restart): no progress seen
        monitor.dispose()

    def _sample(self, monitor: Engine) -> None:
        with monitor.connect() as db:
            events = db.execute(select(func.count()).select_from(HISTORY)).scalar_one()
            finished = db.execute(
                select(func.count()).where(EXECUTIONS.c.status != "RUNNING")
            ).scalar_one()
            for recovery in self.recoveries:
                recovery.check(db, time.monotonic())
        now = time.monotonic()
        self.samples.append((now, int(events), int(finished)))
        if finished >= self.total and self.finished_at is None:
            self.finished_at = now
            self.done.set()

    def longest_stall(self, after: float) -> float:
        """The longest time after ``after`` with no new history event, until the wave ended."""
        end = self.finished_at or time.monotonic()
        moments = [at for at, _, _ in self.samples if after <= at <= end]
        counts = {at: events for at, events, _ in self.samples}
        longest, since, last = 0.0, after, None
        for at in moments:
            if last is not None and counts[at] > last:
                since = at
            longest = max(longest, at - since)
            last = counts[at]
        return longest


@dataclass(frozen=True)
class Leftovers:
    """Rows a finished wave must not leave behind."""

    unfired_timers: int
    unconsumed_messages: int
    unfinished_tasks: int

    def total(self) -> int:
        """All of them."""
        return self.unfired_timers + self.unconsumed_messages + self.unfinished_tasks


def leftovers(engine: Engine) -> Leftovers:
    """Count timers not fired, outbox messages not consumed and Task rows not DONE."""
    with engine.connect() as db:

        def count(table: Any, condition: Any) -> int:
            return int(
                db.execute(select(func.count()).select_from(table).where(condition)).scalar_one()
            )

        return Leftovers(
            count(TIMERS, TIMERS.c.fired.is_(False)),
            count(OUTBOX, OUTBOX.c.done.is_(False)),
            count(TASKS, TASKS.c.status != "DONE"),
        )


def settled(fleet: ChaosFleet, timeout: float = 60) -> Leftovers:
    """Leftovers once none are left, or as they stand after ``timeout`` s."""
    found = leftovers(fleet.store.engine)
    deadline = time.monotonic() + timeout
    while found.total() and time.monotonic() < deadline:
        time.sleep(SAMPLE_EVERY)
        found = leftovers(fleet.store.engine)
    return found


def handler_calls(path: Path) -> Counter[str]:
    """How many times each idempotency key was called (from the handlers' file)."""
    if not path.exists():
        return Counter()
    return Counter(line for line in path.read_text().splitlines() if line)


def outcome(fleet: ChaosFleet, wave: Wave) -> tuple[dict[str, str], dict[str, Shape], list[str]]:
    """Each execution's status and history shape, and any history numbered wrong."""
    statuses: dict[str, str] = {}
    shapes: dict[str, Shape] = {}
    problems: list[str] = []
    for name, arn in wave.arns.items():
        statuses[name] = fleet.client.describe_execution(executionArn=arn)["status"]
        history = fleet.store.history(arn)
        shapes[name] = shape_of(history)
        problems += [f"{name}: {problem}" for problem in numbering_problems(history)]
    return statuses, shapes, problems


Strike = Callable[[ChaosFleet, Wave], None]

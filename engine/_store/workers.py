"""Worker announcements and heartbeats, and the fleet's duties.

Which queues each worker consumes and what it can run; which messages it holds (its
heartbeat), so those of a worker that falls silent are sent again within seconds; and who
runs the relay and due timers now (a lock any worker may take, ADR 0035).

A worker announces itself when it starts and refreshes ``seen_at`` while it lives. The
runtime reads the announced handler names to route a Lambda-style Task: to its handler's
queue when some worker serves it (alive or not: its message waits there, visibly, until
one is back), and otherwise to the integrations queue, whose consumer fails the task at
once with ``Lambda.ResourceNotFoundException``, as AWS does for a function that does not
exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from engine._store.db import is_sqlite, writing
from engine._store.kinds import MessageKind
from engine._store.rows import OUTBOX, TASKS, utc_required
from engine._store.tables import DutyRow, WorkerRow

WORKERS = WorkerRow.__table__  # type: ignore[attr-defined]
DUTIES = DutyRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Held:
    """A message a worker holds: received, running or waiting for its turn in the worker."""

    kind: MessageKind
    execution_id: int
    thread_id: str
    seq: int

    def stored(self) -> list[object]:
        """The JSON form kept in the worker's row."""
        return [self.kind.value, self.execution_id, self.thread_id, self.seq]

    @classmethod
    def from_stored(cls, value: list[object]) -> Held:
        """Read back :meth:`stored`."""
        kind, execution_id, thread_id, seq = value
        return cls(MessageKind(str(kind)), int(str(execution_id)), str(thread_id), int(str(seq)))


@dataclass(frozen=True)
class Announcement:
    """What one worker serves.

    Attributes:
        name: the worker's node name (``celery@host``).
        queues: the queues it consumes.
        handlers: the Lambda-style handler names it registered.
        integrations: the ``service:action`` integrations it registered.
        seen_at: when it last said it was alive.
    """

    name: str
    queues: tuple[str, ...]
    handlers: tuple[str, ...]
    integrations: tuple[str, ...]
    seen_at: datetime


def announce(
    engine: Engine,
    name: str,
    queues: Iterable[str],
    handlers: Iterable[str],
    integrations: Iterable[str],
    now: datetime,
) -> int:
    """Insert or refresh the announcement of worker ``name`` as its process starts.

    A worker of the same name before it is gone: a process restarted by compose, systemd or
    Kubernetes keeps its name, and comes back sooner than ``lost_after``, so it would never
    be judged lost. What that predecessor held is resent now, as a lost worker's is.

    Returns:
        How many of the predecessor's messages were made due.
    """
    values = {
        "name": name,
        "queues": sorted(set(queues)),
        "handlers": sorted(set(handlers)),
        "integrations": sorted(set(integrations)),
        "started_at": now,
        "seen_at": now,
        "inflight": [],
    }
    insert = sqlite.insert if is_sqlite(engine) else postgresql.insert
    statement = insert(WORKERS).values(values)
    refreshed = {key: statement.excluded[key] for key in values if key != "started_at"}
    with writing(engine) as db:
        before = db.execute(select(WORKERS.c.inflight).where(WORKERS.c.name == name)).scalar()
        released = sum(_release(db, Held.from_stored(value), now) for value in before or [])
        db.execute(statement.on_conflict_do_update(index_elements=["name"], set_=refreshed))
    return released


def announcements(engine: Engine) -> list[Announcement]:
    """Every worker that ever announced itself, most recently seen first."""
    with engine.connect() as db:
        rows = db.execute(select(WORKERS).order_by(WORKERS.c.seen_at.desc())).mappings().all()
    return [
        Announcement(
            row["name"],
            tuple(row["queues"]),
            tuple(row["handlers"]),
            tuple(row["integrations"]),
            utc_required(row["seen_at"]),
        )
        for row in rows
    ]


def heartbeat(engine: Engine, name: str, held: Iterable[Held], now: datetime) -> bool:
    """Worker ``name`` lives and holds ``held``; False if it never announced itself."""
    values = {"seen_at": now, "inflight": [message.stored() for message in held]}
    with writing(engine) as db:
        result = db.execute(update(WORKERS).where(WORKERS.c.name == name).values(values))
    return bool(result.rowcount)


def release_lost(engine: Engine, silent_since: datetime, now: datetime) -> dict[str, int]:
    """Resend what workers silent since ``silent_since`` held; returns how many, by worker.

    Their unconsumed messages become due at once (the relay sends them) and the claims on
    their tasks lapse, so another worker takes them now rather than a lease later. A
    worker that was only frozen and resumes finds its work done or claimed: its late
    report changes nothing (each message is consumed once, by ``seq``).
    """
    with writing(engine) as db:
        lost = db.execute(
            select(WORKERS.c.name, WORKERS.c.inflight).where(WORKERS.c.seen_at < silent_since)
        ).all()
        released: dict[str, int] = {}
        for name, inflight in lost:
            if not inflight:
                continue
            held = [Held.from_stored(value) for value in inflight]
            released[name] = sum(_release(db, message, now) for message in held)
            db.execute(update(WORKERS).where(WORKERS.c.name == name).values(inflight=[]))
    return released


def release_held(engine: Engine, held: Iterable[Held], now: datetime) -> int:
    """Make these messages due at once unless consumed; their claims lapse. Returns how many.

    A worker whose broker connection dropped lost every message it had received (the
    broker keeps them unacknowledged until its visibility timeout): they go out again now.
    """
    with writing(engine) as db:
        return sum(_release(db, message, now) for message in held)


def release_unheld(
    engine: Engine, messages: Iterable[Held], *, live_since: datetime, now: datetime
) -> list[Held]:
    """Resend those of ``messages`` no worker seen since ``live_since`` names in its heartbeat.

    For messages the broker delivered to a worker that is gone, and that no heartbeat ever
    named (it died within a heartbeat of receiving them): unconsumed ones become due at once
    and their claims lapse, as a lost worker's do.

    Returns:
        The messages no live worker holds (resent now, or consumed already): the broker's
        record of their delivery may go.
    """
    with writing(engine) as db:
        held = {
            Held.from_stored(value)
            for (inflight,) in db.execute(
                select(WORKERS.c.inflight).where(WORKERS.c.seen_at >= live_since)
            )
            for value in inflight or []
        }
        unheld = [message for message in dict.fromkeys(messages) if message not in held]
        for message in unheld:
            _release(db, message, now)
    return unheld


def _release(db: Any, message: Held, now: datetime) -> int:
    key = (message.execution_id, message.thread_id, message.seq)
    if message.kind is MessageKind.TASK:
        db.execute(
            update(TASKS)
            .where(
                and_(
                    TASKS.c.execution_id == key[0],
                    TASKS.c.thread_id == key[1],
                    TASKS.c.seq == key[2],
                    TASKS.c.status == "STARTED",
                )
            )
            .values(claimed_until=now)
        )
    result = db.execute(
        update(OUTBOX)
        .where(
            and_(
                OUTBOX.c.execution_id == key[0],
                OUTBOX.c.thread_id == key[1],
                OUTBOX.c.seq == key[2],
                OUTBOX.c.kind == message.kind.value,
                OUTBOX.c.done.is_(False),
                OUTBOX.c.lease_until > now,
            )
        )
        .values(lease_until=now)
    )
    return int(result.rowcount or 0)


def take_duty(
    engine: Engine,
    duty: str,
    holder: str,
    now: datetime,
    until: datetime,
    *,
    free_since: datetime | None = None,
) -> bool:
    """Hold ``duty`` until ``until`` if it is free, expired or already ``holder``'s.

    ``free_since``: a fallback's condition instead (beat's job): the duty has been expired
    since then, whoever held it last. A fallback never renews its hold, so a worker's duty
    thread, which renews its own, takes the duty back within a round (ADR 0041).
    """
    if free_since is None:
        takes = or_(DUTIES.c.holder == holder, DUTIES.c.until < now)
    else:
        takes = DUTIES.c.until < free_since
    with writing(engine) as db:
        renewed = db.execute(
            update(DUTIES)
            .where(and_(DUTIES.c.name == duty, takes))
            .values(holder=holder, until=until)
        )
        if renewed.rowcount:
            return True
        insert = sqlite.insert if is_sqlite(engine) else postgresql.insert
        created = db.execute(
            insert(DUTIES)
            .values(name=duty, holder=holder, until=until)
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(DUTIES.c.name)  # psycopg reports no rowcount for an insert
        )
        return created.first() is not None


def release_unconsumed(engine: Engine, now: datetime) -> int:
    """Make every unconsumed message due at once (the broker lost what it queued)."""
    with writing(engine) as db:
        result = db.execute(
            update(OUTBOX)
            .where(and_(OUTBOX.c.done.is_(False), OUTBOX.c.lease_until > now))
            .values(lease_until=now)
        )
    return int(result.rowcount or 0)


def release_orphans(
    engine: Engine,
    queues: Iterable[str],
    *,
    default_queue: str,
    published_before: datetime,
    live_since: datetime,
    lease: float,
    now: datetime,
) -> int:
    """Resend messages the broker lost: their queue is empty and no live worker holds them.

    A message on an empty ``queues`` member, sent before ``published_before`` (its lease
    of ``lease`` seconds says when), that no worker seen since ``live_since`` names in its
    heartbeat is nowhere: the broker dropped it (a restart that lost its last writes).
    Timers are left out: their rows fire them. A message without a queue went to
    ``default_queue``.
    """
    empty = list(queues)
    on_empty_queue = OUTBOX.c.queue.in_(empty)
    if default_queue in empty:
        on_empty_queue = or_(on_empty_queue, OUTBOX.c.queue.is_(None))
    cutoff = published_before + timedelta(seconds=lease)
    with writing(engine) as db:
        held = {
            Held.from_stored(value)
            for (inflight,) in db.execute(
                select(WORKERS.c.inflight).where(WORKERS.c.seen_at >= live_since)
            )
            for value in inflight or []
        }
        rows = db.execute(
            select(OUTBOX.c.kind, OUTBOX.c.execution_id, OUTBOX.c.thread_id, OUTBOX.c.seq)
            .where(
                and_(
                    OUTBOX.c.done.is_(False),
                    OUTBOX.c.lease_until > now,
                    OUTBOX.c.lease_until <= cutoff,
                    OUTBOX.c.kind != MessageKind.TIMER.value,
                    on_empty_queue,
                )
            )
            .limit(1000)
        ).all()
        lost = [Held.from_stored(list(row)) for row in rows]
        return sum(_release(db, message, now) for message in lost if message not in held)

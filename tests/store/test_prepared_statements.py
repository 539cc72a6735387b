"""`Prepared` stores and reads exactly what SQLAlchemy Core stores and reads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, insert, select, update

from engine._store.db import writing
from engine._store.prepared import Prepared
from engine._store.repository import Store
from engine._store.rows import HISTORY, OUTBOX

DETAILS: dict[str, Any] = {"input": '{"a": [1, 2.5, null]}', "name": "Ünïcode ✓", "none": None}
WHEN = datetime(2026, 12, 6, 5, 30, 1, 123456, tzinfo=UTC)


def _event(event_id: int) -> dict[str, Any]:
    return {
        "execution_id": 7,
        "event_id": event_id,
        "previous_event_id": 0,
        "type": "PassStateEntered",
        "timestamp": "2026-12-06T05:30:01.123Z",
        "thread_id": "",
        "details": DETAILS,
    }


def _message(seq: int) -> dict[str, Any]:
    return {
        "execution_id": 7,
        "thread_id": "",
        "seq": seq,
        "kind": "step",
        "queue": None,
        "shadow": "m.A",
        "timer_id": None,
        "available_at": WHEN,
        "lease_until": WHEN,
        "sends": 0,
        "done": False,
    }


def test_rows_written_by_prepared_read_back_as_cores(store: Store) -> None:
    # Given one history event and one outbox message written by Core, the same by Prepared
    with writing(store.engine) as db:
        db.execute(insert(HISTORY), [_event(1)])
        Prepared(insert(HISTORY)).execute_many(db, [_event(2)])
        db.execute(insert(OUTBOX), [_message(1)])
        Prepared(insert(OUTBOX)).execute(db, _message(2))
    # When both are read back by Core
    with store.engine.connect() as db:
        events = db.execute(select(HISTORY).order_by(HISTORY.c.event_id)).mappings().all()
        messages = db.execute(select(OUTBOX).order_by(OUTBOX.c.seq)).mappings().all()
    # Then they are equal but for their keys
    core, ours = ({**e, "event_id": 0} for e in events)
    assert core == ours
    assert core["details"] == DETAILS
    core, ours = ({**m, "seq": 0, "id": 0} for m in messages)
    assert core == ours


def test_a_prepared_select_reads_what_core_reads(store: Store) -> None:
    # Given an outbox message, marked done by a prepared UPDATE with a value of its own
    with writing(store.engine) as db:
        db.execute(insert(OUTBOX), [_message(1)])
        done = update(OUTBOX).where(OUTBOX.c.seq == bindparam("p_seq")).values(done=True)
        Prepared(done).execute(db, {"p_seq": 1})
    # When Core and Prepared read it
    query = select(OUTBOX).where(and_(OUTBOX.c.execution_id == 7, OUTBOX.c.seq == 1))
    with store.engine.connect() as db:
        by_core = dict(db.execute(query).mappings().one())
        by_prepared = Prepared(query).first(db, {})
        missing = Prepared(query.where(OUTBOX.c.seq == 2)).first(db, {})
    # Then they read the same values, types included, and nothing where nothing is
    assert by_prepared == by_core
    assert by_core["done"] is True
    assert {k: type(v) for k, v in by_prepared.items()} == {k: type(v) for k, v in by_core.items()}
    assert missing is None

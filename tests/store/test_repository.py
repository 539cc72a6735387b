"""The store's round trips, on SQLite and PostgreSQL (the ``store`` fixture runs both)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import exc, func, select

from engine._errors import ExecutionAlreadyExists
from engine._interpreter.history import HistoryEvent
from engine._interpreter.snapshot import (
    Execution,
    ExecutionStatus,
    FanOut,
    Phase,
    Thread,
    ThreadStatus,
)
from engine._interpreter.turn import StepResult, iso_timestamp
from engine._records import ExecutionRecord, MachineRecord, VersionRecord
from engine._store.repository import Store, definition_hash
from engine._store.rows import DEFINITIONS, OUTBOX, TIMERS

T0 = datetime(2024, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)
ACCOUNT = "arn:aws:states:us-east-1:111111111111"
MACHINE_ARN = f"{ACCOUNT}:stateMachine:orders"
ROLE = "arn:aws:iam::111111111111:role/orders"
DEFINITION = '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}'
OTHER_DEFINITION = '{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}'
INPUT = {"zeta": 1, "alpha": [1, {"y": None, "x": True}], "naïve": "ü€", "big": 2**53}


def _machine(definition: str = DEFINITION, versions: int = 0) -> MachineRecord:
    return MachineRecord(
        arn=MACHINE_ARN,
        name="orders",
        definition=definition,
        role_arn=ROLE,
        type="STANDARD",
        creation_date=T0,
        revision_id="r1",
        description="takes orders",
        logging_configuration={"level": "OFF", "includeExecutionData": False},
        tracing_configuration={"enabled": False},
        versions=[
            VersionRecord(
                arn=f"{MACHINE_ARN}:{number}",
                number=number,
                definition=definition,
                role_arn=ROLE,
                creation_date=T0 + timedelta(minutes=number),
                description=f"v{number}",
                revision_id=f"r{number}",
            )
            for number in range(1, versions + 1)
        ],
    )


def _start(store: Store, name: str = "run-1", start: datetime = T0, payload: Any = INPUT) -> int:
    record = ExecutionRecord(
        arn=f"{ACCOUNT}:execution:orders:{name}",
        machine_arn=MACHINE_ARN,
        name=name,
        type="STANDARD",
        status="RUNNING",
        start_date=start,
        input=payload,
    )
    with store.session() as session:
        return session.create_execution(record, DEFINITION, _header(record)).execution_id


def _header(record: ExecutionRecord) -> Execution:
    return Execution(
        arn=record.arn,
        name=record.name,
        state_machine_arn=MACHINE_ARN,
        state_machine_name="orders",
        role_arn=ROLE,
        start_time=iso_timestamp(record.start_date),
        input=record.input,
        seed=7,
    )


def _header_of(store: Store, execution_id: int) -> Execution:
    with store.session(execution_id) as session:
        assert session.load()
        return session.header


def _event(event_id: int, kind: str = "PassStateEntered", thread: str = "root") -> HistoryEvent:
    details: dict[str, Any] = {"name": f"S{event_id}", "input": '{"ü": 1}'}
    return HistoryEvent(event_id, event_id - 1, kind, iso_timestamp(T0), details, thread)


def _thread(thread_id: str = "root", parent: str | None = None, **changes: Any) -> Thread:
    thread = Thread(
        id=thread_id,
        parent_id=parent,
        index=None if parent is None else int(thread_id.rsplit("/", 1)[-1]),
        scope=() if parent is None else ("Map", 0),
        status=ThreadStatus.RUNNING,
        state="A",
        input={"k": [1, 2]},
        variables={"x": {"b": 1, "a": 2}},
    )
    return replace(thread, **changes)


def _apply(store: Store, execution_id: int, result: StepResult) -> None:
    """Commit ``result`` as the runtime does: the threads it steps are read first."""
    with store.session(execution_id) as session:
        assert session.load()
        for thread in result.threads:
            session.thread(thread.id)
        session.apply(result, T0)


def _scalar(store: Store, query: Any) -> Any:
    with store.engine.connect() as db:
        return db.scalar(query)


# --- machines and versions -------------------------------------------------------------


def test_a_machine_with_versions_round_trips(store: Store) -> None:
    # Given a machine with two published versions of the same definition
    machine = _machine(versions=2)
    # When it is saved and read back, the machine and each version by its ARN
    store.save_machine(machine)
    # Then every field comes back as saved, timezone-aware, and the text is stored once
    assert store.machine(MACHINE_ARN) == replace(machine, versions=[], latest_version=2)
    assert [store.version(v.arn) for v in machine.versions] == machine.versions
    assert store.machine(f"{MACHINE_ARN}-missing") is None
    assert store.version(f"{MACHINE_ARN}:3") is None
    assert _scalar(store, select(func.count()).select_from(DEFINITIONS)) == 1


def test_saving_a_machine_again_updates_it_and_appends_new_versions(store: Store) -> None:
    # Given a saved machine with one version
    store.save_machine(_machine(versions=1))
    # When it is saved with a new definition and a second version
    updated = _machine(OTHER_DEFINITION, versions=2)
    updated.update_date = T0 + timedelta(hours=1)
    store.save_machine(updated)
    # Then the machine has the new definition, the first version keeps its own
    stored = store.machine(MACHINE_ARN)
    assert stored is not None
    assert stored.definition == OTHER_DEFINITION
    assert stored.update_date == T0 + timedelta(hours=1)
    versions = store.versions_page(MACHINE_ARN, 0, None).items
    assert [(v.number, v.definition) for v in versions] == [
        (2, OTHER_DEFINITION),
        (1, DEFINITION),
    ]
    assert [m.arn for m in store.machines()] == [MACHINE_ARN]


def test_a_deleted_machine_is_gone_but_its_definitions_stay_readable(store: Store) -> None:
    # Given a machine with a version, and an execution of it
    store.save_machine(_machine(versions=1))
    _start(store)
    # When the machine is deleted
    store.delete_machine(MACHINE_ARN)
    # Then neither it nor its versions are listed, and the execution still reads
    assert store.machine(MACHINE_ARN) is None
    assert store.machines() == []
    assert store.execution(f"{ACCOUNT}:execution:orders:run-1") is not None
    assert store.definition(definition_hash(DEFINITION)) == DEFINITION


def test_a_second_version_with_the_same_number_is_refused(store: Store) -> None:
    # Given a saved machine with version 1
    store.save_machine(_machine(versions=1))
    # When a different version ARN claims number 1 too
    clash = _machine(versions=1)
    clash.versions[0].arn = f"{MACHINE_ARN}:one-again"
    # Then the unique (machine_arn, number) constraint refuses it
    with pytest.raises(exc.IntegrityError):
        store.save_machine(clash)


# --- executions and history -----------------------------------------------------------


def test_executions_round_trip_and_list_newest_first(store: Store) -> None:
    # Given two executions started an hour apart
    first = _start(store, "run-1", T0)
    second = _start(store, "run-2", T0 + timedelta(hours=1))
    # When they are read back
    listed = store.executions(MACHINE_ARN)
    # Then the newest comes first and every field survives, key order of the input included
    assert [e.name for e in listed] == ["run-2", "run-1"]
    record = store.execution(f"{ACCOUNT}:execution:orders:run-1")
    assert record is not None
    assert (record.status, record.start_date, record.stop_date) == ("RUNNING", T0, None)
    assert record.input == INPUT
    assert list(record.input) == list(INPUT)
    assert store.execution_id(record.arn) == first
    assert store.execution_by_id(second) == listed[0]
    assert store.execution(f"{ACCOUNT}:execution:orders:nope") is None
    assert first != second


def test_an_execution_name_is_unique(store: Store) -> None:
    # Given a running execution
    first = _start(store, "run-1")
    # When the same start is made again, and then one with another input
    again = _start(store, "run-1", T0 + timedelta(hours=1))
    # Then the same start finds the first one, and the other is refused
    assert again == first
    with pytest.raises(ExecutionAlreadyExists):
        _start(store, "run-1", payload={"other": True})
    assert [e.start_date for e in store.executions(MACHINE_ARN)] == [T0]


def test_history_comes_back_in_event_id_order(store: Store) -> None:
    # Given an execution whose events are written in two steps, out of order within one
    execution_id = _start(store)
    header = _header_of(store, execution_id)
    _apply(store, execution_id, StepResult(header, history=(_event(1, "ExecutionStarted"),)))
    _apply(store, execution_id, StepResult(header, history=(_event(3), _event(2, thread="x"))))
    # When the history is read
    history = store.history(f"{ACCOUNT}:execution:orders:run-1")
    # Then it is ordered by event id, with every field intact
    assert history == [_event(1, "ExecutionStarted"), _event(2, thread="x"), _event(3)]


def test_two_events_with_the_same_id_are_refused(store: Store) -> None:
    # Given an execution with event 1
    execution_id = _start(store)
    header = _header_of(store, execution_id)
    _apply(store, execution_id, StepResult(header, history=(_event(1),)))
    # When a lost update writes event 1 again
    # Then the primary key refuses it
    with pytest.raises(exc.IntegrityError):
        _apply(store, execution_id, StepResult(header, history=(_event(1),)))


def test_a_finished_execution_records_its_outcome_and_stop_date(store: Store) -> None:
    # Given a running execution
    execution_id = _start(store)
    header = _header_of(store, execution_id)
    # When a step ends it
    done = replace(header, status=ExecutionStatus.SUCCEEDED, output={"ok": [1, 2]}, next_event_id=9)
    with store.session(execution_id) as session:
        assert session.load()
        session.apply(StepResult(done), T0 + timedelta(seconds=5))
    # Then the row, the header and the record all say so
    record = store.execution_by_id(execution_id)
    assert record is not None
    assert (record.status, record.output) == ("SUCCEEDED", {"ok": [1, 2]})
    assert record.stop_date == T0 + timedelta(seconds=5)
    assert _header_of(store, execution_id).next_event_id == 9


def test_a_step_that_raises_commits_nothing(store: Store) -> None:
    # Given an execution
    execution_id = _start(store)
    header = _header_of(store, execution_id)

    def failing_step() -> None:
        with store.session(execution_id) as session:
            assert session.load()
            session.apply(StepResult(header, threads=(_thread(),), history=(_event(1),)), T0)
            session.put_timer("root", 1, "wait", T0)
            session.add_message("step", "root", 1, available_at=T0, lease_until=T0)
            raise RuntimeError("worker died mid-step")

    # When a step writes history, a thread, a timer and a message, then fails
    with pytest.raises(RuntimeError, match="mid-step"):
        failing_step()
    # Then none of it was committed
    assert store.history(f"{ACCOUNT}:execution:orders:run-1") == []
    assert store.threads(execution_id) == []
    assert store.due_timers(T0 + timedelta(days=1), 10) == []
    assert store.due_outbox(T0 + timedelta(days=1), 10) == []


# --- threads ----------------------------------------------------------------------------


def test_threads_are_rows_updated_in_place(store: Store) -> None:
    # Given a root running a Map with two iterations
    execution_id = _start(store)
    header = _header_of(store, execution_id)
    fan_out = FanOut(total=2, started=2, ended="0")
    root = _thread(phase=Phase.BRANCHES, fan_out=fan_out, retry_counts=(1, 0))
    children = (_thread("root/Map.0/0", "root"), _thread("root/Map.0/1", "root"))
    _apply(store, execution_id, StepResult(header, threads=(root, *children)))
    # When one iteration succeeds in a later step
    done = children[0].bump(status=ThreadStatus.SUCCEEDED, output={"r": 0}, phase=Phase.DONE)
    _apply(store, execution_id, StepResult(header, threads=(done,)))
    # Then each thread is one row, the changed one updated, the others untouched
    threads = {t.id: t for t in store.threads(execution_id)}
    assert threads == {root.id: root, done.id: done, children[1].id: children[1]}
    assert store.count_running(execution_id, "root") == 1
    with store.session(execution_id) as session:
        assert session.load()
        assert sorted(t.id for t in session.children("root")) == [done.id, children[1].id]
        assert session.thread("root/Map.0/9") is None


# --- timers -----------------------------------------------------------------------------


def test_due_timers_ignore_fired_and_future_ones(store: Store) -> None:
    # Given a due timer, a future one, and a due one already fired
    execution_id = _start(store)
    with store.session(execution_id) as session:
        due = session.put_timer("root", 1, "wait", T0 - timedelta(seconds=1))
        future = session.put_timer("root", 2, "wait", T0 + timedelta(hours=1))
        fired = session.put_timer("root", 3, "retry", T0 - timedelta(minutes=1))
        session.fire_timer(fired)
    # When the beat job asks what is due now
    # Then only the unfired due timer is, and the next one is the earliest unfired
    assert store.due_timers(T0, 10) == [due]
    assert store.due_timers(T0 + timedelta(days=1), 10) == [due, future]
    assert store.next_timer_due() == T0 - timedelta(seconds=1)
    assert store.timer_execution(future) == execution_id
    assert store.timer_execution(10_000) is None


def test_putting_a_timer_again_moves_it(store: Store) -> None:
    # Given a fired timer
    execution_id = _start(store)
    with store.session(execution_id) as session:
        timer = session.put_timer("root", 1, "heartbeat", T0)
        session.fire_timer(timer)
    # When the same (thread, seq, kind) timer is put again later
    with store.session(execution_id) as session:
        again = session.put_timer("root", 1, "heartbeat", T0 + timedelta(seconds=30))
    # Then it is the same row, unfired, at the new time
    assert again == timer
    assert store.due_timers(T0 + timedelta(seconds=29), 10) == []
    assert store.due_timers(T0 + timedelta(seconds=30), 10) == [timer]


def test_cancelled_timers_are_never_due(store: Store) -> None:
    # Given an execution with two pending timers
    execution_id = _start(store)
    with store.session(execution_id) as session:
        session.put_timer("root", 1, "wait", T0)
        session.put_timer("root", 2, "timeout", T0 + timedelta(days=365))
    # When the execution ends and cancels them
    with store.session(execution_id) as session:
        session.cancel_timers()
    # Then nothing is due, ever
    assert store.due_timers(T0 + timedelta(days=400), 10) == []
    assert store.next_timer_due() is None


def test_due_timers_come_earliest_first_up_to_the_limit(store: Store) -> None:
    # Given five due timers written in scrambled order
    execution_id = _start(store)
    with store.session(execution_id) as session:
        ids = {
            offset: session.put_timer("root", offset, "wait", T0 - timedelta(seconds=offset))
            for offset in (3, 1, 5, 2, 4)
        }
    # When three are asked for
    # Then the three most overdue come, most overdue first
    assert store.due_timers(T0, 3) == [ids[5], ids[4], ids[3]]


# --- outbox -----------------------------------------------------------------------------


def _message(store: Store, execution_id: int, lease: datetime, seq: int = 1) -> int:
    with store.session(execution_id) as session:
        session.add_message(
            "step",
            "root",
            seq,
            available_at=T0,
            lease_until=lease,
            queue="stepline.steps",
            shadow="orders.A",
        )
    assert len(session.messages) == 1
    key = (OUTBOX.c.execution_id == execution_id) & (OUTBOX.c.seq == seq)
    return int(_scalar(store, select(OUTBOX.c.id).where(key)))


def test_an_unconsumed_message_falls_due_when_its_lease_expires(store: Store) -> None:
    # Given a committed message whose lease runs two minutes
    execution_id = _start(store)
    message_id = _message(store, execution_id, T0 + timedelta(minutes=2))
    # When the relay looks before and after the lease
    before = store.due_outbox(T0 + timedelta(seconds=119), 10)
    after = store.due_outbox(T0 + timedelta(minutes=2), 10)
    # Then it is due only after, ids only, as committed, labelled with its execution's ARN
    assert before == []
    assert after[0].execution_arn == f"{ACCOUNT}:execution:orders:run-1"
    assert [(m.id, m.execution_id, m.thread_id, m.seq, m.kind) for m in after] == [
        (message_id, execution_id, "root", 1, "step")
    ]
    assert (after[0].queue, after[0].shadow, after[0].available_at) == (
        "stepline.steps",
        "orders.A",
        T0,
    )


def test_leasing_a_message_pushes_it_back_and_counts_sends(store: Store) -> None:
    # Given a message whose lease expired
    execution_id = _start(store)
    message_id = _message(store, execution_id, T0)
    # When the relay republishes it and renews its lease, then a handler renews it unsent
    store.lease([message_id], T0 + timedelta(minutes=2))
    store.lease([message_id], T0 + timedelta(minutes=5), sent=False)
    store.lease([], T0)
    # Then it is not due before the new lease ends, and one send is counted
    assert store.due_outbox(T0 + timedelta(minutes=4), 10) == []
    assert [m.id for m in store.due_outbox(T0 + timedelta(minutes=5), 10)] == [message_id]
    assert _scalar(store, select(OUTBOX.c.sends).where(OUTBOX.c.id == message_id)) == 1


def test_a_consumed_message_is_never_due_again(store: Store) -> None:
    # Given a message its consumer marked done
    execution_id = _start(store)
    _message(store, execution_id, T0)
    with store.session(execution_id) as session:
        session.consume("step", "root", 1)
    # When the relay looks much later, and a duplicate step decides the same message
    due = store.due_outbox(T0 + timedelta(days=1), 10)
    with store.session(execution_id) as session:
        session.add_message("step", "root", 1, available_at=T0, lease_until=T0)
    # Then it is not due, and stays consumed (the duplicate the session publishes finds its
    # seq advanced and does nothing)
    assert due == []
    assert store.due_outbox(T0 + timedelta(days=1), 10) == []
    assert _scalar(store, select(OUTBOX.c.done).where(OUTBOX.c.seq == 1)) is True


def test_pruning_deletes_old_consumed_messages_only(store: Store) -> None:
    # Given an old consumed message, a recent consumed one and an old unconsumed one
    execution_id = _start(store)
    _message(store, execution_id, T0, seq=1)
    _message(store, execution_id, T0 + timedelta(hours=2), seq=2)
    _message(store, execution_id, T0, seq=3)
    with store.session(execution_id) as session:
        session.consume("step", "root", 1)
        session.consume("step", "root", 2)
    # When the outbox is pruned of what was consumed before T0 + 1 hour
    pruned = store.prune_outbox(T0 + timedelta(hours=1), 100)
    # Then only the old consumed message is gone; the pending one is still due
    assert pruned == 1
    remaining = _scalar(store, select(func.count()).select_from(OUTBOX))
    assert remaining == 2
    assert [m.seq for m in store.due_outbox(T0 + timedelta(days=1), 10)] == [3]


def test_the_same_message_decided_twice_is_one_row_with_the_latest_lease(store: Store) -> None:
    # Given a pending message
    execution_id = _start(store)
    first = _message(store, execution_id, T0)
    # When a retried step decides it again with a later lease
    second = _message(store, execution_id, T0 + timedelta(minutes=2))
    # Then it is the same row, due at the later lease
    assert second == first
    assert store.due_outbox(T0 + timedelta(minutes=1), 10) == []
    assert _scalar(store, select(func.count()).select_from(OUTBOX)) == 1


def test_due_messages_come_by_lease_up_to_the_limit(store: Store) -> None:
    # Given three expired messages written in scrambled lease order
    execution_id = _start(store)
    ids = {
        seq: _message(store, execution_id, T0 - timedelta(seconds=seq), seq) for seq in (2, 3, 1)
    }
    # When two are asked for
    # Then the two longest expired come first
    assert [m.id for m in store.due_outbox(T0, 2)] == [ids[3], ids[2]]


def test_resuming_an_execution_makes_its_unconsumed_messages_due_at_once(store: Store) -> None:
    # Given two leased messages of one execution, one already consumed, and one of another
    execution_id = _start(store)
    other_id = _start(store, name="run-2")
    pending = _message(store, execution_id, T0 + timedelta(minutes=2), seq=1)
    _message(store, execution_id, T0 + timedelta(minutes=2), seq=2)
    with store.session(execution_id) as session:
        session.consume("step", "root", 2)
    _message(store, other_id, T0 + timedelta(minutes=2), seq=1)
    # When the first execution is resumed at T0
    made_due = store.due_execution(execution_id, T0)
    # Then only its unconsumed message is due now; the other execution's waits for its lease
    assert made_due == 1
    assert [m.id for m in store.due_outbox(T0, 10)] == [pending]
    assert store.due_execution(execution_id, T0) == 0  # nothing left to make due


# --- tasks ------------------------------------------------------------------------------


def _task(store: Store, execution_id: int, token: str | None = "token-1", seq: int = 1) -> None:
    with store.session(execution_id) as session:
        session.put_task(
            "root",
            seq,
            {
                "resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "parameters": {"FunctionName": "ask", "Payload": {"n": [1, "ü"]}},
                "state_name": "Ask",
                "attempt": 2,
                "task_token": token,
            },
        )
        session.add_message("task", "root", seq, available_at=T0, lease_until=T0)


def test_a_task_is_scheduled_claimed_and_done(store: Store) -> None:
    # Given a scheduled task with a callback token and its message
    execution_id = _start(store)
    _task(store, execution_id)
    scheduled = store.task(execution_id, "root", 1)
    assert scheduled is not None
    assert (scheduled.status, scheduled.claimed_until, scheduled.attempt) == ("SCHEDULED", None, 2)
    assert scheduled.parameters == {"FunctionName": "ask", "Payload": {"n": [1, "ü"]}}
    # When a worker claims it for two minutes
    with store.session(execution_id) as session:
        session.claim_task("root", 1, T0 + timedelta(minutes=2))
    # Then it is STARTED, and its message is not due while the claim holds
    claimed = store.task_by_token("token-1")
    assert claimed is not None
    assert (claimed.status, claimed.claimed_until) == ("STARTED", T0 + timedelta(minutes=2))
    assert store.due_outbox(T0 + timedelta(minutes=1), 10) == []
    # And when it finishes it is DONE
    with store.session(execution_id) as session:
        session.set_task_status("root", 1, "DONE")
        assert session.task("root", 1) == replace(claimed, status="DONE")


def test_renewing_a_running_task_extends_its_claim_and_message_lease(store: Store) -> None:
    # Given a claimed task
    execution_id = _start(store)
    _task(store, execution_id)
    with store.session(execution_id) as session:
        session.claim_task("root", 1, T0 + timedelta(minutes=2))
    # When its worker renews the claim while the handler runs
    store.lease_task(execution_id, "root", 1, T0 + timedelta(minutes=10))
    # Then both the claim and the message's lease moved
    task = store.task(execution_id, "root", 1)
    assert task is not None
    assert task.claimed_until == T0 + timedelta(minutes=10)
    assert store.due_outbox(T0 + timedelta(minutes=9), 10) == []
    assert len(store.due_outbox(T0 + timedelta(minutes=10), 10)) == 1


def test_unknown_tasks_and_tokens_are_none(store: Store) -> None:
    # Given a task without a token
    execution_id = _start(store)
    _task(store, execution_id, token=None)
    # When other keys and tokens are looked up
    # Then nothing is found
    assert store.task(execution_id, "root", 2) is None
    assert store.task_by_token("token-1") is None
    assert store.task(execution_id, "root", 1) is not None


def test_a_task_token_is_unique(store: Store) -> None:
    # Given a task holding a token
    execution_id = _start(store)
    _task(store, execution_id, token="token-1", seq=1)
    # When another task gets the same token
    # Then the unique token refuses it
    with pytest.raises(exc.IntegrityError):
        _task(store, execution_id, token="token-1", seq=2)


def test_timers_table_keeps_one_row_per_thread_seq_and_kind(store: Store) -> None:
    # Given timers of two kinds for the same thread and seq
    execution_id = _start(store)
    with store.session(execution_id) as session:
        wait = session.put_timer("root", 1, "wait", T0)
        timeout = session.put_timer("root", 1, "timeout", T0)
        again = session.put_timer("root", 1, "wait", T0)
    # When they are counted
    # Then each kind is its own row and the repeat is the same row
    assert wait != timeout
    assert again == wait
    assert _scalar(store, select(func.count()).select_from(TIMERS)) == 2

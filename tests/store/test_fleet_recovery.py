"""Lost workers are noticed from their heartbeats and their messages resent within seconds.

On SQLite and PostgreSQL, with a fake clock: a worker heartbeats the messages it holds;
when it falls silent past ``lost_after``, the duty round makes those messages due (the
relay sends them at once) and drops its claims; the duty lock lets one worker act at a
time; a broker that lost its data has every unconsumed message resent (ADR 0035).
"""

from __future__ import annotations

import json
from datetime import timedelta

from config.settings import Settings
from engine import connect
from engine._clock import FakeClock
from engine._duties import Duties
from engine._resources import HandlerRegistry, outcome_event
from engine._runtime import Runtime
from engine._store.kinds import MessageKind
from engine._store.repository import OutboxMessage, Store
from engine._store.workers import (
    Held,
    announce,
    heartbeat,
    release_orphans,
    release_unconsumed,
    release_unheld,
    take_duty,
)
from engine.testing import InMemoryDispatcher, deliver

ROLE = "arn:aws:iam::111111111111:role/stepline"
WAITING_TASK = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Next": "Work"},
        "Work": {"Type": "Task", "Resource": "arn:aws:lambda:::function:work", "End": True},
    },
}
LOST_AFTER = 6.0


class Fleet:
    """One store, one fake clock, and what a worker would have received (the dispatcher)."""

    def __init__(self, store: Store) -> None:
        self.clock = FakeClock()
        self.dispatcher = InMemoryDispatcher()
        self.handlers = HandlerRegistry()
        self.handlers.register("work", lambda event, context: {"done": True})
        self.client = connect(
            Settings(lease_seconds=120, claim_seconds=10),
            store=store,
            dispatcher=self.dispatcher,
            clock=self.clock,
            handlers=self.handlers,
        )
        self.runtime: Runtime = self.client.backend.runtime
        self.engine = store.engine

    def start(self) -> str:
        machine = self.client.create_state_machine(
            name="work", definition=json.dumps(WAITING_TASK), roleArn=ROLE
        )["stateMachineArn"]
        return str(self.client.start_execution(stateMachineArn=machine, input="{}")["executionArn"])

    def start_another(self) -> str:
        machine = self.client.list_state_machines()["stateMachines"][0]["stateMachineArn"]
        return str(self.client.start_execution(stateMachineArn=machine, input="{}")["executionArn"])

    def join(self, name: str, held: list[Held]) -> None:
        announce(self.engine, name, ["stepline.steps"], ["work"], [], self.clock.now())
        heartbeat(self.engine, name, held, self.clock.now())

    def take(self, kind: MessageKind) -> OutboxMessage:
        """The next published message of ``kind``, as a worker receives it."""
        while True:
            message = self.dispatcher.queue.popleft()
            if message.kind == kind:
                return message
            deliver(self.runtime, self.handlers, message)

    def duties(self, holder: str = "celery@b", healthy_for: float | None = 60.0) -> Duties:
        return Duties(
            self.runtime,
            holder,
            interval=2.0,
            lost_after=LOST_AFTER,
            store_healthy_for=lambda: healthy_for,
        )

    def published_since(self, count: int) -> list[OutboxMessage]:
        return self.dispatcher.published[count:]


def held(message: OutboxMessage) -> Held:
    return Held(MessageKind(message.kind), message.execution_id, message.thread_id, message.seq)


def test_a_silent_workers_step_is_resent_within_seconds_not_a_lease(store: Store) -> None:
    # Given worker A received a step message and then fell silent (killed)
    fleet = Fleet(store)
    fleet.start()
    step = fleet.take(MessageKind.STEP)
    fleet.join("celery@a", [held(step)])
    sent = len(fleet.dispatcher.published)
    # When its silence passes lost_after and a duty round runs on worker B
    fleet.clock.advance(LOST_AFTER + 1)
    fleet.duties().run_round()
    # Then the step goes out again at once, though its lease has 113 s to go
    assert [m.seq for m in fleet.published_since(sent)] == [step.seq]


def test_a_live_workers_messages_stay_with_it(store: Store) -> None:
    # Given worker A holds a step message and keeps heartbeating
    fleet = Fleet(store)
    fleet.start()
    step = fleet.take(MessageKind.STEP)
    fleet.join("celery@a", [held(step)])
    sent = len(fleet.dispatcher.published)
    # When time passes but A's heartbeat is recent
    fleet.clock.advance(LOST_AFTER + 1)
    heartbeat(fleet.engine, "celery@a", [held(step)], fleet.clock.now())
    fleet.duties().run_round()
    # Then nothing is resent
    assert fleet.published_since(sent) == []


def test_a_silent_workers_running_task_is_claimed_by_another_worker(store: Store) -> None:
    # Given worker A claimed a task and is running its handler, then froze
    fleet = Fleet(store)
    execution = fleet.start()
    task = fleet.take(MessageKind.TASK)
    assert fleet.runtime.begin_task(task.execution_id, task.thread_id, task.seq) is not None
    fleet.join("celery@a", [held(task)])
    # When its silence passes lost_after (its 10 s claim has not lapsed yet)
    fleet.clock.advance(LOST_AFTER + 1)
    fleet.duties().run_round()
    # Then the task's message is resent and another worker may claim it now
    resent = fleet.take(MessageKind.TASK)
    assert (resent.thread_id, resent.seq) == (task.thread_id, task.seq)
    assert fleet.runtime.begin_task(task.execution_id, task.thread_id, task.seq) is not None
    # And when B reports, then the frozen worker resumes and reports late, it ends once
    key = (task.execution_id, task.thread_id, task.seq)
    for worker in ("B", "A"):
        outcome = outcome_event(task.thread_id, task.seq, {"done": worker})
        fleet.runtime.finish_task(*key, outcome)
    fleet.dispatcher.run_all(fleet.runtime, fleet.handlers)
    described = fleet.client.describe_execution(executionArn=execution)
    assert (described["status"], described["output"]) == ("SUCCEEDED", '{"done":"B"}')
    history = fleet.client.get_execution_history(executionArn=execution)["events"]
    types = [e["type"] for e in history]
    assert (types.count("LambdaFunctionStarted"), types.count("LambdaFunctionSucceeded")) == (1, 1)


def test_a_refused_task_message_is_resent_when_the_claim_lapses(store: Store) -> None:
    # Given worker A runs a task under a 10 s claim and a duplicate of its message arrives
    fleet = Fleet(store)
    fleet.start()
    task = fleet.take(MessageKind.TASK)
    fleet.runtime.begin_task(task.execution_id, task.thread_id, task.seq)
    fleet.runtime.relay()  # nothing due yet
    sent = len(fleet.dispatcher.published)
    # When worker B is refused (the claim is live) and A then dies without renewing it
    assert fleet.runtime.begin_task(task.execution_id, task.thread_id, task.seq) is None
    fleet.clock.advance(11)
    fleet.runtime.relay()
    # Then the relay sends the message again once the claim lapsed, not a lease later
    assert [m.seq for m in fleet.published_since(sent)] == [task.seq]


def test_no_worker_is_judged_lost_until_the_store_has_been_healthy_a_while(store: Store) -> None:
    # Given worker A's heartbeat is old because the store was down for everyone
    fleet = Fleet(store)
    fleet.start()
    step = fleet.take(MessageKind.STEP)
    fleet.join("celery@a", [held(step)])
    fleet.clock.advance(30)
    sent = len(fleet.dispatcher.published)
    # When B's duty round runs right after its own heartbeats came back
    fleet.duties(healthy_for=1.0).run_round()
    # Then A is not judged (it has had no chance to be seen again)
    assert fleet.published_since(sent) == []


def test_one_holder_runs_the_duties_at_a_time_and_another_takes_over(store: Store) -> None:
    # Given worker A holds the duty lock
    fleet = Fleet(store)
    now = fleet.clock.now()
    assert take_duty(fleet.engine, "relay", "celery@a", now, now + timedelta(seconds=6))
    # When B tries while A's hold lasts, A renews it, and B tries again once it expired
    refused = take_duty(fleet.engine, "relay", "celery@b", now, now + timedelta(seconds=6))
    renewed = take_duty(fleet.engine, "relay", "celery@a", now, now + timedelta(seconds=6))
    later = now + timedelta(seconds=7)
    taken = take_duty(fleet.engine, "relay", "celery@b", later, later + timedelta(seconds=6))
    # Then B is refused, A keeps it, and B takes it over
    assert (refused, renewed, taken) == (False, True, True)
    assert not fleet.duties("celery@a").run_round()


def test_a_broker_that_lost_its_data_has_every_unconsumed_message_resent(store: Store) -> None:
    # Given two executions whose first steps were published (and then flushed from Redis)
    fleet = Fleet(store)
    fleet.start()
    fleet.start_another()
    sent = len(fleet.dispatcher.published)
    # When the broker check makes them due and the relay runs
    released = release_unconsumed(fleet.engine, fleet.clock.now())
    fleet.runtime.relay()
    # Then both go out again
    assert released == 2
    assert len(fleet.published_since(sent)) == 2


class _BrokerDown(InMemoryDispatcher):
    def publish(self, messages: list[OutboxMessage]) -> None:
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def test_messages_that_could_not_be_published_are_due_at_once(store: Store) -> None:
    # Given the broker refuses the publish after the start committed
    fleet = Fleet(store)
    fleet.runtime.dispatcher = _BrokerDown()
    fleet.start()
    # When the broker is back and the relay runs (no lease has passed)
    fleet.runtime.dispatcher = fleet.dispatcher
    relayed = fleet.runtime.relay()
    # Then the unpublished step goes out now
    assert relayed == 1


def test_a_message_the_broker_dropped_is_resent_once_its_queue_is_quiet(store: Store) -> None:
    # Given two published steps: one a live worker holds, one the broker lost
    fleet = Fleet(store)
    fleet.start()
    fleet.start_another()
    lost, running = fleet.take(MessageKind.STEP), fleet.take(MessageKind.STEP)
    fleet.join("celery@a", [held(running)])
    sent = len(fleet.dispatcher.published)
    # When their queue has been empty a while, and then again much later
    fleet.clock.advance(LOST_AFTER + 1)
    heartbeat(fleet.engine, "celery@a", [held(running)], fleet.clock.now())
    released = release_orphans(
        fleet.engine,
        ["stepline.steps"],
        default_queue="stepline.steps",
        published_before=fleet.clock.now() - timedelta(seconds=LOST_AFTER),
        live_since=fleet.clock.now() - timedelta(seconds=LOST_AFTER),
        lease=120,
        now=fleet.clock.now(),
    )
    fleet.runtime.relay()
    # Then only the message nobody holds goes out again
    assert released == 1
    assert [(m.execution_id, m.seq) for m in fleet.published_since(sent)] == [
        (lost.execution_id, lost.seq)
    ]


def test_a_message_sent_a_moment_ago_is_not_judged_lost(store: Store) -> None:
    # Given a step published just now, its queue empty (a worker is receiving it)
    fleet = Fleet(store)
    fleet.start()
    # When the orphan check runs at once
    released = release_orphans(
        fleet.engine,
        ["stepline.steps"],
        default_queue="stepline.steps",
        published_before=fleet.clock.now() - timedelta(seconds=LOST_AFTER),
        live_since=fleet.clock.now() - timedelta(seconds=LOST_AFTER),
        lease=120,
        now=fleet.clock.now(),
    )
    # Then nothing is resent
    assert released == 0


def test_a_worker_restarted_under_its_name_resends_what_its_last_run_held(store: Store) -> None:
    # Given worker A held a step message when it was killed
    fleet = Fleet(store)
    fleet.start()
    step = fleet.take(MessageKind.STEP)
    fleet.join("celery@a", [held(step)])
    sent = len(fleet.dispatcher.published)
    # When it is restarted under the same name (compose, systemd) before it was judged lost
    fleet.clock.advance(2)
    resent = announce(fleet.engine, "celery@a", ["stepline.steps"], ["work"], [], fleet.clock.now())
    fleet.runtime.relay()
    # Then the step goes out again at once, and the new run holds nothing yet
    assert resent == 1
    assert [m.seq for m in fleet.published_since(sent)] == [step.seq]
    assert fleet.duties().run_round()
    assert len(fleet.published_since(sent)) == 1


def test_beats_round_leaves_the_duties_to_a_live_workers_thread(store: Store) -> None:
    # Given worker B's duty thread holds the duty lock
    fleet = Fleet(store)
    assert fleet.duties("celery@b").run_round()
    beat = Duties(fleet.runtime, "celery-beat", interval=2.0, lost_after=LOST_AFTER, fallback=True)
    # When beat's job runs while B holds it, and again once B's hold ran out a moment ago
    while_held = beat.run_round()
    fleet.clock.advance(6.5)
    just_expired = beat.run_round()
    # Then beat takes nothing: B has a round to take the lock back, and does
    assert (while_held, just_expired) == (False, False)
    assert fleet.duties("celery@b").run_round()


def test_beat_runs_the_duties_when_no_worker_does_and_does_not_keep_them(store: Store) -> None:
    # Given no worker's duty thread has held the lock for over a round
    fleet = Fleet(store)
    assert fleet.duties("celery@b").run_round()
    fleet.clock.advance(6 + 2.5)
    beat = Duties(fleet.runtime, "celery-beat", interval=2.0, lost_after=LOST_AFTER, fallback=True)
    # When beat's job runs, and a worker's thread comes back a round later
    taken = beat.run_round()
    fleet.clock.advance(2.5)
    # Then beat ran a round, and the worker takes the lock back from it
    assert taken
    assert fleet.duties("celery@a").run_round()
    assert not beat.run_round()


def test_a_message_received_by_a_dead_worker_and_held_by_none_is_resent(store: Store) -> None:
    # Given two delivered steps: a live worker names one in its heartbeat, nobody the other
    fleet = Fleet(store)
    fleet.start()
    fleet.start_another()
    lost, running = fleet.take(MessageKind.STEP), fleet.take(MessageKind.STEP)
    fleet.join("celery@b", [held(running)])
    sent = len(fleet.dispatcher.published)
    # When the deliveries are judged (a dead worker received the first one)
    now = fleet.clock.now()
    unheld = release_unheld(
        fleet.engine,
        [held(lost), held(running)],
        live_since=now - timedelta(seconds=LOST_AFTER),
        now=now,
    )
    fleet.runtime.relay()
    # Then only the one nobody holds goes out again
    assert unheld == [held(lost)]
    assert [(m.execution_id, m.seq) for m in fleet.published_since(sent)] == [
        (lost.execution_id, lost.seq)
    ]


def test_a_consumed_message_a_dead_worker_received_is_not_sent_again(store: Store) -> None:
    # Given a step a worker consumed before it died (its ack never reached the broker)
    fleet = Fleet(store)
    fleet.start()
    step = fleet.take(MessageKind.STEP)
    deliver(fleet.runtime, fleet.handlers, step)
    sent = len(fleet.dispatcher.published)
    # When its delivery is judged
    now = fleet.clock.now()
    unheld = release_unheld(
        fleet.engine, [held(step)], live_since=now - timedelta(seconds=LOST_AFTER), now=now
    )
    fleet.runtime.relay()
    # Then its delivery record may go, and nothing is sent again
    assert unheld == [held(step)]
    assert fleet.published_since(sent) == []

"""The chaos suite: ~200 executions in flight on two prefork workers and beat, one fault each.

Every run must end as the control run does: the same statuses, the same histories, no
transition twice, no timer or outbox row left behind, no worker dead of anything but the
suite's own kill -9. See tests/chaos/README.md.
"""

from __future__ import annotations

import pytest

from tests.chaos.faults import FAULTS, Fault
from tests.chaos.harness import ChaosFleet
from tests.chaos.histories import difference
from tests.chaos.report import Row
from tests.chaos.runs import Run, run_wave

pytestmark = [
    pytest.mark.chaos,
    pytest.mark.celery,
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.slow,
]

HANDOVER_TARGET = 10.0
"""The issue's target: a killed worker's messages move on within 10 s (median)."""
HANDOVER_LIMIT = 20.0
"""What is asserted: the target with a margin, so a loaded CI machine does not flake."""
EXPECTED = {"failing": "FAILED"}
"""The status each shape ends in when nothing goes wrong (SUCCEEDED unless named here)."""


def fault(name: str) -> Fault:
    """The fault of ``FAULTS`` whose name starts with ``name``."""
    return next(f for f in FAULTS if f.name.startswith(name))


def reported(run: Run, control: Run, rows: list[Row]) -> Row:
    """``run``'s row in the report, printed at once (``pytest -s``)."""
    row = Row.compare(run, control)
    rows.append(row)
    print(f"\n{row}")
    return row


def assert_ends_like_the_control(run: Run, control: Run, row: Row) -> None:
    """Statuses, histories, transitions, leftovers and deaths as the control run's."""
    assert row.completed == row.executions_run == len(control.statuses)
    different = sorted(n for n in control.statuses if run.statuses.get(n) != control.statuses[n])
    assert different == [], f"statuses differ from the control run's: {different[:10]}"
    unlike = sorted(n for n in control.shapes if run.shapes.get(n) != control.shapes[n])
    assert unlike == [], f"histories differ from the control run's: {unlike[:10]}"
    assert row.duplicated_transitions == 0
    assert run.numbering == []
    assert run.leftovers.total() == 0, f"rows left behind: {run.leftovers}"
    assert row.unexpected_deaths == [], "a process died on its own"


def test_the_control_wave_ends_as_each_shape_must(control: Run, report: list[Row]) -> None:
    # Given the wave on a fleet nothing disturbs
    row = reported(control, control, report)
    # Then every execution ended in its shape's status, none left behind anything
    expected = {n: EXPECTED.get(n.rsplit("-", 1)[0], "SUCCEEDED") for n in control.statuses}
    assert control.statuses == expected
    assert control.leftovers.total() == 0, f"rows left behind: {control.leftovers}"
    assert control.numbering == []
    # and every execution of a shape has the same history (nothing ran twice or got lost)
    for kind in {n.rsplit("-", 1)[0] for n in control.shapes}:
        first = control.shapes[f"{kind}-0"]
        unlike = [n for n, s in control.shapes.items() if n.startswith(f"{kind}-") and s != first]
        assert unlike == [], f"{unlike[:5]}:\n{difference(control.shapes[unlike[0]], first)}"
    # and each invocation called its handler once; no process died
    assert row.duplicate_handler_calls == 0
    assert control.deaths == []


def test_kill_9_of_a_worker_every_5_s(fleet: ChaosFleet, control: Run, report: list[Row]) -> None:
    # Given the wave in flight
    # When worker-a is killed -9 every 5 s (the supervisor restarts it each time)
    run = run_wave(fleet, fault("kill -9"))
    # Then the wave ends as the control run did
    row = reported(run, control, report)
    assert_ends_like_the_control(run, control, row)
    # and what each killed worker held was sent again within the target (with a margin)
    assert row.strikes_on_work >= 2, "the kills struck no worker holding work"
    assert None not in run.handovers, "a killed worker's message was never sent again"
    assert None not in run.consumed, "a killed worker's message was never consumed"
    assert row.handover_median_s is not None
    assert row.handover_median_s <= HANDOVER_LIMIT


def test_redis_flushall(fleet: ChaosFleet, control: Run, report: list[Row]) -> None:
    # Given the wave in flight
    # When the broker loses every message (FLUSHALL)
    run = run_wave(fleet, fault("Redis FLUSHALL"))
    # Then the wave ends as the control run did
    assert_ends_like_the_control(run, control, reported(run, control, report))


def test_redis_restart(fleet: ChaosFleet, control: Run, report: list[Row]) -> None:
    # Given the wave in flight
    # When Redis is shut down for 3 s and started again
    run = run_wave(fleet, fault("Redis restart"))
    # Then the wave ends as the control run did, and no worker died of it
    assert_ends_like_the_control(run, control, reported(run, control, report))


def test_postgres_immediate_restart(fleet: ChaosFleet, control: Run, report: list[Row]) -> None:
    # Given the wave in flight
    # When PostgreSQL crashes and recovers (pg_ctl -m immediate restart)
    run = run_wave(fleet, fault("PostgreSQL"))
    # Then the wave ends as the control run did, and no worker died of it
    assert_ends_like_the_control(run, control, reported(run, control, report))


def test_beat_stopped_30_s(fleet: ChaosFleet, control: Run, report: list[Row]) -> None:
    # Given the wave in flight
    # When beat is stopped for 30 s
    run = run_wave(fleet, fault("beat stopped"))
    # Then the wave ends as the control run did (the workers run the duties)
    assert_ends_like_the_control(run, control, reported(run, control, report))


def test_a_worker_frozen_20_s(fleet: ChaosFleet, control: Run, report: list[Row]) -> None:
    # Given the wave in flight
    # When worker-a is frozen (SIGSTOP) for 20 s, then resumed
    run = run_wave(fleet, fault("a worker frozen"))
    # Then the wave ends as the control run did, the late reports changing nothing
    row = reported(run, control, report)
    assert_ends_like_the_control(run, control, row)
    # and everything the frozen worker held was sent again or consumed (how soon is reported:
    # a message it had taken from Redis but not yet recorded may wait for it to resume)
    assert row.strikes_on_work == 1
    assert None not in run.handovers, "a frozen worker's message was never sent again"

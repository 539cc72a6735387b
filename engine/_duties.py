"""The fleet's periodic duties, run by whichever worker holds the duty lock (ADR 0035).

Every round: resend what lost workers held (their heartbeat stopped), relay messages whose
lease ran out, fire due timers, and whatever else the shell adds (continuations, the broker
check). Any worker runs rounds; the store's duty lock lets one of them act at a time, and
when that one dies another takes over within a few rounds. Beat's jobs go through the same
lock, so a fleet without beat still recovers, and one with beat does the work once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta

from engine._observe.metrics import count_lost_workers, count_released
from engine._runtime import Runtime
from engine._store.workers import release_lost, take_duty

log = logging.getLogger("stepline.duties")

DUTY = "relay"
"""The name of the lock every round takes (relay, timers, lost workers)."""


class Duties:
    """Rounds of the fleet's duties on behalf of ``holder`` (a worker's node name).

    Args:
        runtime: the runtime whose store and dispatcher the duties use.
        holder: who takes the lock.
        interval: seconds between rounds; the lock lasts three of them.
        lost_after: seconds of silence after which a worker is lost.
        extra: more jobs for each round the lock is held (each may raise: logged).
        judging: jobs that, like the lost-worker sweep, tell live workers from dead ones by
            their heartbeats: run only when this process may judge (below).
        store_healthy_for: how long this process's own heartbeats have reached the store
            without a failure (None: they are failing). A worker is judged lost only while
            this process has seen the store healthy for ``lost_after``: after an outage
            every heartbeat is old, and live workers need a moment to be seen again.
        fallback: beat's job, not a worker's duty thread: it takes the lock for one round
            only once nobody has held it for a whole round, and never renews it. A
            fallback that renewed would keep the lock from every worker, and the duties
            that judge workers (which it does not run) would never run (ADR 0041).
    """

    def __init__(
        self,
        runtime: Runtime,
        holder: str,
        *,
        interval: float,
        lost_after: float,
        extra: Sequence[Callable[[], object]] = (),
        judging: Sequence[Callable[[], object]] = (),
        store_healthy_for: Callable[[], float | None] | None = None,
        fallback: bool = False,
    ) -> None:
        self.runtime = runtime
        self.holder = holder
        self.interval = interval
        self.lost_after = lost_after
        self.extra = tuple(extra)
        self.judging = tuple(judging)
        self.store_healthy_for = store_healthy_for
        self.fallback = fallback

    def run_round(self) -> bool:
        """One round if the lock is this holder's (or free); False if another holds it."""
        now = self.runtime.clock.now()
        round_length = timedelta(seconds=self.interval)
        if self.fallback:
            until, free_since = now + round_length, now - round_length
        else:
            until, free_since = now + 3 * round_length, None
        engine = self.runtime.store.engine
        if not take_duty(engine, DUTY, self.holder, now, until, free_since=free_since):
            return False
        judging = self._may_judge_workers()
        if judging:
            self._release_lost_workers()
        self._run_jobs(self.judging if judging else ())
        self.runtime.relay()
        self.runtime.fire_due_timers()
        self._run_jobs(self.extra)
        return True

    @staticmethod
    def _run_jobs(jobs: Sequence[Callable[[], object]]) -> None:
        for job in jobs:
            try:
                job()
            except Exception as error:  # one failing job must not stop the next round
                log.warning("fleet duty %s failed: %s", getattr(job, "__name__", job), error)
                log.debug("fleet duty failure", exc_info=True)

    def _may_judge_workers(self) -> bool:
        if self.store_healthy_for is None:
            return True
        healthy = self.store_healthy_for()
        return healthy is not None and healthy >= self.lost_after

    def _release_lost_workers(self) -> None:
        now = self.runtime.clock.now()
        silent_since = now - timedelta(seconds=self.lost_after)
        released = release_lost(self.runtime.store.engine, silent_since, now)
        count_lost_workers(len(released))
        count_released(sum(released.values()), "lost_worker")
        for worker, count in released.items():
            log.warning(
                "worker %s has been silent for over %.0f s: %d of its message(s) resent",
                worker,
                self.lost_after,
                count,
            )

    def run_forever(self, stopped: Callable[[float], bool]) -> None:
        """Run rounds every ``interval`` until ``stopped(timeout)`` says so."""
        while not stopped(self.interval):
            try:
                self.run_round()
            except Exception:  # the store or broker is away: the next round tries again
                log.warning("fleet duties round failed", exc_info=True)

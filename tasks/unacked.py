"""Messages Redis delivered to a worker that died before its next heartbeat (ADR 0041).

A worker names what it holds in its heartbeat every couple of seconds; a message it
received since its last heartbeat is in no heartbeat when it is killed, and Redis keeps it
unacknowledged until its visibility timeout (an hour). The relay's lease (120 s) was its
only way back. Kombu's Redis transport records each delivery in the ``unacked`` hash and
the ``unacked_index`` sorted set (scored by delivery time): a stepline message delivered
over ``lost_after`` seconds ago that no live worker names is one whose worker is gone. It is
made due at once (its claim lapses), and its delivery record is dropped, so the broker does
not deliver it again an hour later.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from datetime import timedelta
from typing import Any

from config.settings import Settings
from engine._consumer import TASK_NAMES
from engine._runtime import Runtime
from engine._store.kinds import MessageKind
from engine._store.workers import Held, release_unheld

log = logging.getLogger("stepline.worker")

UNACKED = "unacked"
UNACKED_INDEX = "unacked_index"
"""Kombu's Redis transport keys (its ``unacked_key`` and ``unacked_index_key`` defaults)."""
BATCH = 500
"""Deliveries looked at per round, oldest first."""

_KINDS = {name: kind for kind, name in TASK_NAMES.items() if kind is not MessageKind.TIMER}


def delivered_message(entry: bytes | str) -> Held | None:
    """The stepline message an ``unacked`` entry carries (None: a timer's or another task's).

    Timers are left out: their rows fire them whatever becomes of their messages.
    """
    try:
        message, _exchange, _routing_key = json.loads(entry)
        kind = _KINDS.get(message["headers"].get("task", ""))
        if kind is None:
            return None
        args = json.loads(base64.b64decode(message["body"]))[0]
        return Held(kind, int(args[0]), str(args[1]), int(args[2]))
    except (ValueError, KeyError, TypeError, IndexError):
        return None  # not a Celery task message of ours


class UnackedSweep:
    """One duty round's look at Redis's unacknowledged deliveries (workers judging only).

    Runs among the duties that judge workers by their heartbeats, so never while this
    process has just come back from a store outage (every heartbeat looks old then).
    """

    def __init__(self, runtime: Runtime, config: Settings, client: Any = None) -> None:
        self.runtime = runtime
        self.config = config
        self._client = client

    def check(self) -> int:
        """Resend what dead workers had received; returns how many deliveries were theirs."""
        client = self._redis()
        cutoff = time.time() - self.config.lost_after_seconds  # kombu scores with time.time()
        tags = client.zrangebyscore(UNACKED_INDEX, "-inf", cutoff, start=0, num=BATCH)
        if not tags:
            return 0
        delivered = {
            tag: message
            for tag, entry in zip(tags, client.hmget(UNACKED, tags), strict=True)
            if entry is not None and (message := delivered_message(entry)) is not None
        }
        now = self.runtime.clock.now()
        live_since = now - timedelta(seconds=self.config.lost_after_seconds)
        unheld = set(
            release_unheld(
                self.runtime.store.engine, delivered.values(), live_since=live_since, now=now
            )
        )
        gone = [tag for tag, message in delivered.items() if message in unheld]
        if gone:
            client.pipeline().zrem(UNACKED_INDEX, *gone).hdel(UNACKED, *gone).execute()
            log.warning("%d message(s) received by workers that are gone sent again", len(gone))
        return len(gone)

    def _redis(self) -> Any:
        if self._client is None:
            import redis

            self._client = redis.Redis.from_url(self.config.celery_broker_url, socket_timeout=5)
        return self._client

"""Runs a job with local-workflow-engine's StateEngine (in its own virtualenv).

Its engine is event-driven over AMQP; here its event queue is an in-memory deque and its
task dispatcher calls the no-op handler inline, so only the state engine is timed (no
broker). Queued events are encoded as its own dispatcher encodes them (ujson when
installed, as there): the engine reuses and mutates an event after publishing it.
"""

from __future__ import annotations

import collections
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from common import main
from local_workflow_engine.state_engine import StateEngine

try:
    import ujson as json
except ImportError:  # its own dispatcher falls back the same way
    import json  # type: ignore[no-redef]

Json = Any
MACHINE_ARN = "arn:aws:states:local:0123456789:stateMachine:bench"


class InMemoryEvents:
    """The event dispatcher's surface the state engine uses, over a deque."""

    def __init__(self, engine: StateEngine) -> None:
        self.engine = engine
        engine.event_dispatcher = self
        self.queue: collections.deque[Json] = collections.deque()
        self.count = 0

    def publish(self, item: Json, threadsafe: bool = False, start_execution: bool = False) -> None:
        self.queue.append(json.dumps(item))

    def set_timeout(self, callback: Any, delay_ms: float) -> None:
        # Only retry backoffs and Waits use it; the benchmark's machines have neither
        # beyond the Task's zero-delay first attempt, which runs in turn.
        self.queue.append(callback)

    def acknowledge(self, id: int) -> None:
        pass

    def broadcast(self, subject: str, item: Json, carrier_properties: Json = None) -> None:
        pass

    def drain(self) -> None:
        while self.queue:
            self.count += 1
            item = self.queue.popleft()
            if callable(item):
                item()
            else:
                self.engine.notify(json.loads(item), self.count)


def prepare(job: Json) -> Any:
    logging.disable(logging.CRITICAL)
    # Its machine store is a JSON file, written only when a machine is added.
    store = str(Path(tempfile.mkdtemp()) / "asl_store.json")
    engine = StateEngine({"state_engine": {"store_url": store, "execution_ttl": 86400}})
    engine.task_dispatcher.execute_task = lambda resource, parameters, callback, timeout, context: (
        callback(parameters)
    )
    events = InMemoryEvents(engine)
    engine.asl_store[MACHINE_ARN] = {
        "definition": job["definition"],
        "name": "bench",
        "stateMachineArn": MACHINE_ARN,
        "status": "ACTIVE",
        "type": "STANDARD",
    }

    def run(data: Json) -> Json:
        events.publish({"data": data, "context": {"StateMachine": {"Id": MACHINE_ARN}}})
        events.drain()
        (execution,) = (e for e in engine.executions.values() if e["status"] != "RUNNING")
        engine.executions.clear()  # keep memory flat over thousands of executions
        engine.execution_history.clear()
        return json.loads(execution["output"])

    return run


if __name__ == "__main__":
    main(prepare)

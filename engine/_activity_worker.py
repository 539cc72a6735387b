"""`ActivityWorker`: serve an activity with a Python function, as an AWS activity worker does.

Poll GetActivityTask; run ``fn(input)`` while a thread sends SendTaskHeartbeat; answer with
SendTaskSuccess (the result as JSON) or SendTaskFailure (Error = the exception's class name,
Cause = its message). Works on any client: ``engine.connect()`` or ``Client.local()``.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine._api.base import given
from engine._errors import ClientError

if TYPE_CHECKING:
    from engine._api import Client

Json = Any
log = logging.getLogger("stepline.activities")


class ActivityWorker:
    """Takes the tasks of one activity and runs ``fn`` on each.

    Args:
        client: the client to poll and answer through.
        activity_arn: the activity served.
        fn: called with the task's input (parsed JSON); its return value is the output.
        worker_name: recorded in ``ActivityStarted`` (default: host name and thread).
        heartbeat_seconds: how often a running ``fn`` is reported alive (None: never).
    """

    def __init__(
        self,
        client: Client,
        activity_arn: str,
        fn: Callable[[Json], Json],
        *,
        worker_name: str | None = None,
        heartbeat_seconds: float | None = 10.0,
    ) -> None:
        self.client = client
        self.activity_arn = activity_arn
        self.fn = fn
        self.worker_name = worker_name or f"{socket.gethostname()}-{threading.get_ident()}"
        self.heartbeat_seconds = heartbeat_seconds

    def run_once(self) -> bool:
        """Poll once (up to the client's poll time); run the task taken. False: none came."""
        task = self.client.get_activity_task(
            **given(activityArn=self.activity_arn, workerName=self.worker_name)
        )
        token = task.get("taskToken")
        if not token:
            return False
        self._serve(token, json.loads(task["input"]))
        return True

    def run_forever(self, stop: threading.Event | None = None) -> None:
        """Serve tasks until ``stop`` is set (checked between polls)."""
        stop = stop or threading.Event()
        while not stop.is_set():
            self.run_once()

    def _serve(self, token: str, task_input: Json) -> None:
        done = threading.Event()
        beating = self._start_heartbeats(token, done)
        try:
            result = self.fn(task_input)
        except Exception as exc:  # the function's failure is the task's: report it
            done.set()
            self._answer(
                self.client.send_task_failure,
                taskToken=token,
                error=type(exc).__name__,
                cause=str(exc),
            )
            return
        finally:
            done.set()
            if beating is not None:
                beating.join()
        self._answer(self.client.send_task_success, taskToken=token, output=json.dumps(result))

    def _start_heartbeats(self, token: str, done: threading.Event) -> threading.Thread | None:
        if not self.heartbeat_seconds:
            return None
        interval = self.heartbeat_seconds
        thread = threading.Thread(
            target=self._beat, args=(token, done, interval), daemon=True, name="stepline-beat"
        )
        thread.start()
        return thread

    def _beat(self, token: str, done: threading.Event, interval: float) -> None:
        while not done.wait(interval):
            try:
                self.client.send_task_heartbeat(taskToken=token)
            except ClientError as error:  # timed out or stopped: nobody listens any more
                log.warning("heartbeat for activity %s refused: %s", self.activity_arn, error)
                return

    def _answer(self, send: Callable[..., Any], **request: Any) -> None:
        try:
            send(**request)
        except ClientError as error:  # the task timed out meanwhile: its answer is late
            log.warning("answer for activity %s refused: %s", self.activity_arn, error)

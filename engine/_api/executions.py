"""Execution operations of the boto3-shaped client."""

from __future__ import annotations

import uuid
from typing import Any

from engine import _errors as errors
from engine._api.base import (
    STATUSES,
    ClientBase,
    at_most,
    at_most_bytes,
    aws_events,
    backend_token,
    list_item,
    one_of,
    require,
    seed,
    with_token,
)
from engine._api.map_run_children import ChildExecutionOperations, is_child_arn
from engine._api.redrive import repeated
from engine._dataflow.nesting import loads_within_depth
from engine._interpreter.events import TaskFailed, TaskHeartbeat, TaskSucceeded
from engine._interpreter.snapshot import ExecutionStatus
from engine._records import AliasRecord, MachineRecord, VersionRecord

Json = Any
ERROR_LENGTH = 256
"""The longest ``error`` StopExecution and SendTaskFailure take (botocore's model)."""
CAUSE_LENGTH = 32768
"""The longest ``cause`` they take."""


class ExecutionOperations(ChildExecutionOperations, ClientBase):
    """Execution operations of the boto3-shaped client."""

    def start_execution(
        self,
        *,
        stateMachineArn: str | None = None,
        name: str | None = None,
        input: str | None = None,
        traceHeader: str | None = None,
        **_: Any,
    ) -> dict[str, Json]:
        """StartExecution (idempotent on ``name`` for a running execution with the same input)."""
        arn, test_case = self._test_case(require(stateMachineArn, "stateMachineArn"))
        record, version, alias = self._start_target(arn)
        self._check_test_case(record, test_case, stateMachineArn)
        name = name or str(uuid.uuid4())
        self._check_name(name, "execution")
        payload = self._input(input)
        execution_arn = self._execution_arn(record, name)
        execution = self._new_execution(
            record, version, execution_arn, name, payload, alias, test_case
        )
        # The backend answers a name already taken (same input and running: that one).
        started = self.backend.start(execution, self._compiled(record, version), seed())
        return {"executionArn": started.arn, "startDate": started.start_date}

    def start_sync_execution(
        self,
        *,
        stateMachineArn: str | None = None,
        name: str | None = None,
        input: str | None = None,
        **_: Any,
    ) -> dict[str, Json]:
        """StartSyncExecution: runs an EXPRESS machine to completion in-process."""
        arn, test_case = self._test_case(require(stateMachineArn, "stateMachineArn"))
        record, version, alias = self._start_target(arn)
        self._check_test_case(record, test_case, stateMachineArn)
        if record.type != "EXPRESS":
            raise errors.StateMachineTypeNotSupported(
                "This operation is only supported by EXPRESS state machines"
            )
        name = name or str(uuid.uuid4())
        self._check_name(name, "execution")
        payload = self._input(input)
        execution_arn = self._execution_arn(record, name)
        execution = self._new_execution(
            record, version, execution_arn, name, payload, alias, test_case
        )
        done = self.sync_backend.start(execution, self._compiled(record, version), seed())
        described = self._describe(done)
        # StartSyncExecution's output has no version, alias or redrive members
        from engine._api.boto import operation_model  # botocore's model: only Express runs

        members = operation_model("StartSyncExecution").output_shape.members
        response = {key: value for key, value in described.items() if key in members}
        response["billingDetails"] = {
            "billedMemoryUsedInMB": 64,
            "billedDurationInMilliseconds": 100,
        }
        return response

    def describe_execution(self, *, executionArn: str | None = None, **_: Any) -> dict[str, Json]:
        """DescribeExecution (of a Distributed Map child too: with its ``mapRunArn``)."""
        if is_child_arn(executionArn):
            return self._describe_child(executionArn)
        return self._describe(self._execution(require(executionArn, "executionArn")))

    def stop_execution(
        self,
        *,
        executionArn: str | None = None,
        error: str | None = None,
        cause: str | None = None,
        **_: Any,
    ) -> dict[str, Json]:
        """StopExecution: the execution ends ABORTED with ``error``/``cause``."""
        record = self._execution(require(executionArn, "executionArn"))
        at_most(error, "error", ERROR_LENGTH)
        at_most(cause, "cause", CAUSE_LENGTH)
        if record.status == ExecutionStatus.RUNNING:
            record = self.backend.stop(record.arn, error, cause)
        return {"stopDate": record.stop_date or self.clock.now()}

    def redrive_execution(
        self, *, executionArn: str | None = None, clientToken: str | None = None, **_: Any
    ) -> dict[str, Json]:
        """RedriveExecution: restart an unsuccessful execution from its unsuccessful states.

        The same ``clientToken`` within 15 minutes of the redrive it made answers that
        redrive again instead of refusing a running execution.

        Raises:
            ExecutionDoesNotExist: no execution has the ARN.
            ExecutionNotRedrivable: it succeeded, runs, is EXPRESS or is past AWS's limits.
        """
        record = self._execution(require(executionArn, "executionArn"))
        if repeated(record, clientToken, self.clock.now()):
            return {"redriveDate": record.redrive_date}
        verdict = self._redrivability(record)
        if verdict.reason is not None:
            raise errors.ExecutionNotRedrivable(verdict.reason)
        redriven = self.backend.redrive(record.arn, clientToken)
        if redriven is None or redriven.redrive_date is None:  # another call redrove it first
            return self._redriven_meanwhile(record.arn, clientToken)
        return {"redriveDate": redriven.redrive_date}

    def _redriven_meanwhile(self, arn: str, client_token: str | None) -> dict[str, Json]:
        """The answer when a concurrent call redrove the execution first.

        Raises:
            ExecutionNotRedrivable: that call used another clientToken (or none).
        """
        current = self._execution(arn)
        if repeated(current, client_token, self.clock.now()):
            return {"redriveDate": current.redrive_date}
        raise errors.ExecutionNotRedrivable(
            self._redrivability(current).reason
            or f"Execution is {ExecutionStatus.RUNNING} and cannot be redriven"
        )

    def get_execution_history(
        self,
        *,
        executionArn: str | None = None,
        maxResults: int = 1000,
        reverseOrder: bool = False,
        nextToken: str | None = None,
        includeExecutionData: bool = True,
        **_: Any,
    ) -> dict[str, Json]:
        """GetExecutionHistory, paginated, optionally newest first."""
        if is_child_arn(executionArn):
            return self._child_history(
                executionArn, maxResults, bool(reverseOrder), nextToken, includeExecutionData
            )
        record = self._execution(require(executionArn, "executionArn"))
        scope = ("GetExecutionHistory", record.arn, bool(reverseOrder))
        page = self.backend.history_page(
            record.arn,
            limit=maxResults,
            reverse=bool(reverseOrder),
            token=backend_token(nextToken, scope),
        )
        events = aws_events(page.items, bool(includeExecutionData))
        return with_token({"events": events}, page.next_token, scope)

    def list_executions(
        self,
        *,
        stateMachineArn: str | None = None,
        statusFilter: str | None = None,
        maxResults: int = 100,
        nextToken: str | None = None,
        redriveFilter: str | None = None,
        mapRunArn: str | None = None,
        **_: Any,
    ) -> dict[str, Json]:
        """ListExecutions, newest first, filtered by status and by being redriven or not.

        Lists a state machine's (or version's, alias's) executions, or with ``mapRunArn``
        the child executions of a Distributed Map's Map Run.

        Raises:
            ValidationException: neither or both of stateMachineArn and mapRunArn.
        """
        if (stateMachineArn is None) == (mapRunArn is None):
            given = "both" if mapRunArn is not None else "neither"
            raise errors.ValidationException(
                "1 validation error detected: exactly one of 'stateMachineArn' and "
                f"'mapRunArn' must be given, got {given}"
            )
        if mapRunArn is not None:
            one_of(redriveFilter, "redriveFilter", ("REDRIVEN", "NOT_REDRIVEN"))
            redriven = _redriven(redriveFilter)
            return self._list_children(mapRunArn, statusFilter, redriven, maxResults, nextToken)
        arn = require(stateMachineArn, "stateMachineArn")
        record, version, alias = self._listed_target(arn)
        if record.type == "EXPRESS":
            raise errors.StateMachineTypeNotSupported(
                f"ListExecutions: '{arn}' is an EXPRESS state machine; expected a STANDARD one "
                "(AWS keeps no Express executions to list)"
            )
        one_of(statusFilter, "statusFilter", STATUSES)
        one_of(redriveFilter, "redriveFilter", ("REDRIVEN", "NOT_REDRIVEN"))
        scope = ("ListExecutions", arn, statusFilter)
        page = self.backend.executions_page(
            record.arn,
            version_arn=version.arn if version else None,
            alias_arn=alias.arn if alias else None,
            status=statusFilter,
            redriven=_redriven(redriveFilter),
            limit=maxResults,
            token=backend_token(nextToken, scope),
        )
        items = [list_item(r) for r in page.items]
        return with_token({"executions": items}, page.next_token, scope)

    # --- helpers --------------------------------------------------------------------

    def _listed_target(
        self, arn: str
    ) -> tuple[MachineRecord, VersionRecord | None, AliasRecord | None]:
        """The machine, version or alias whose executions ListExecutions lists."""
        parts = arn.split(":") if isinstance(arn, str) else []
        if len(parts) == 8 and not parts[7].isdigit():
            self._check_arn(arn, "stateMachine")
            alias = self.backend.alias(arn)
            if alias is None:
                raise errors.StateMachineDoesNotExist(f"State Machine Does Not Exist: '{arn}'")
            record, _version = self._machine(alias.machine_arn)
            return record, None, alias
        record, version = self._machine(arn)
        return record, version, None

    # --- callbacks (.waitForTaskToken) ----------------------------------------------

    def send_task_success(
        self, *, taskToken: str | None = None, output: str | None = None, **_: Any
    ) -> dict[str, Json]:
        """SendTaskSuccess: the task waiting on ``taskToken`` returns ``output`` (JSON text)."""
        token = require(taskToken, "taskToken")
        text = at_most_bytes(require(output, "output"), "output", self.limits.payload_bytes)
        try:
            value = loads_within_depth(text)
        except (TypeError, ValueError) as exc:
            raise errors.InvalidOutput(f"Invalid Output: '{exc}'") from exc
        self.backend.callback(token, lambda thread, seq: TaskSucceeded(thread, seq, value))
        return {}

    def send_task_failure(
        self,
        *,
        taskToken: str | None = None,
        error: str | None = None,
        cause: str | None = None,
        **_: Any,
    ) -> dict[str, Json]:
        """SendTaskFailure: the task waiting on ``taskToken`` fails with ``error``/``cause``."""
        token = require(taskToken, "taskToken")
        at_most(error, "error", ERROR_LENGTH)
        at_most(cause, "cause", CAUSE_LENGTH)
        self.backend.callback(
            token, lambda thread, seq: TaskFailed(thread, seq, error or "", cause)
        )
        return {}

    def send_task_heartbeat(self, *, taskToken: str | None = None, **_: Any) -> dict[str, Json]:
        """SendTaskHeartbeat: the task waiting on ``taskToken`` is alive."""
        self.backend.callback(require(taskToken, "taskToken"), TaskHeartbeat)
        return {}


REDRIVE_FIELDS = ("redriveCount", "redriveDate", "redriveStatus", "redriveStatusReason")
_REDRIVE_FILTERS = {"REDRIVEN": True, "NOT_REDRIVEN": False}


def _redriven(redrive_filter: str | None) -> bool | None:
    """ListExecutions' ``redriveFilter`` as the backends take it (None: no filter).

    Raises:
        ValidationException: not REDRIVEN or NOT_REDRIVEN.
    """
    if redrive_filter is None:
        return None
    if redrive_filter not in _REDRIVE_FILTERS:
        raise errors.ValidationException(
            f"1 validation error detected: Value '{redrive_filter}' at 'redriveFilter' failed "
            f"to satisfy constraint: Member must satisfy enum value set: {sorted(_REDRIVE_FILTERS)}"
        )
    return _REDRIVE_FILTERS[redrive_filter]

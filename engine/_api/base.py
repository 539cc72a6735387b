"""The shared core of `engine._api.Client`: backends, request checks, response shapes."""

from __future__ import annotations

import json
import random
import re
import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from typing import Any, Protocol

from engine import _errors as errors
from engine._api.redrive import Redrivability, redrivability
from engine._asl.definition import load_and_check
from engine._asl.load import definition_size_bytes
from engine._asl.parse import build_state_machine
from engine._clock import Clock, SystemClock
from engine._dataflow.nesting import loads_within_depth
from engine._dataflow.sizes import utf8_exceeds
from engine._errors import DefinitionSyntaxError, Diagnostic
from engine._integrations.mocks import split_test_case
from engine._interpreter.events import Event, MapRunUpdated
from engine._interpreter.history import HistoryEvent
from engine._interpreter.snapshot import ExecutionStatus
from engine._interpreter.turn import Limits
from engine._records import (
    AliasRecord,
    ChildExecutionRecord,
    Compiled,
    ExecutionQuery,
    ExecutionRecord,
    ExecutionSummary,
    MachineRecord,
    MapRunRecord,
    Page,
    VersionRecord,
    decode_token,
    encode_token,
)

Json = Any
DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "111111111111"
_NAME = re.compile(r"^[^\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]{1,80}$")
_EXECUTION_NAME = re.compile(r"^[^\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]{1,80}$")
_TYPES = ("STANDARD", "EXPRESS")
EXPRESS_SECONDS = 300
"""The longest an Express execution runs (AWS: five minutes), then it is TIMED_OUT."""
STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")
"""ListExecutions' ``statusFilter`` values, in botocore's order."""


class Backend(Protocol):
    """Where the API keeps machines and executions, and how it runs them."""

    def save_machine(self, record: MachineRecord) -> None:
        """Insert or replace a state machine record."""
        ...

    def machine(self, arn: str) -> MachineRecord | None:
        """The machine with ``arn`` (not a version ARN), or None; its versions are not read."""
        ...

    def version(self, arn: str) -> VersionRecord | None:
        """The published version with ``arn``, or None."""
        ...

    def machines_page(self, limit: int, token: str | None) -> Page[MachineRecord]:
        """A page of machines, oldest first (``limit`` 0: 1000; the token is opaque)."""
        ...

    def versions_page(self, machine_arn: str, limit: int, token: str | None) -> Page[VersionRecord]:
        """A page of a machine's versions, newest first."""
        ...

    def delete_machine(self, arn: str) -> None:
        """Forget a machine, its versions, aliases and tags (its executions stay readable)."""
        ...

    def purge_if_deleting(self, arn: str) -> None:
        """Forget the DELETING machine ``arn`` if none of its executions runs any more."""
        ...

    def delete_version(self, arn: str) -> None:
        """Forget a published version (its number is not reused)."""
        ...

    def save_alias(self, record: AliasRecord) -> None:
        """Insert or replace an alias."""
        ...

    def alias(self, arn: str) -> AliasRecord | None:
        """The alias with ``arn``, or None."""
        ...

    def aliases_page(self, machine_arn: str, limit: int, token: str | None) -> Page[AliasRecord]:
        """A page of a machine's aliases, by name."""
        ...

    def delete_alias(self, arn: str) -> None:
        """Forget an alias (and its tags)."""
        ...

    def tags(self, arn: str) -> dict[str, str]:
        """The tags of resource ``arn`` (a machine or an activity; empty when none)."""
        ...

    def save_tags(self, arn: str, tags: dict[str, str]) -> None:
        """Replace the tags of resource ``arn``."""
        ...

    def execution_definition(self, arn: str) -> tuple[str, str] | None:
        """The definition text and role ARN the execution ``arn`` runs with, or None."""
        ...

    def execution(self, arn: str) -> ExecutionRecord | None:
        """The execution with ``arn``, or None."""
        ...

    def executions_page(
        self,
        machine_arn: str,
        *,
        version_arn: str | None = None,
        alias_arn: str | None = None,
        status: str | None = None,
        redriven: bool | None = None,
        limit: int = 0,
        token: str | None = None,
    ) -> Page[ExecutionRecord]:
        """A page of a machine's executions, newest first, filtered.

        Filters: one version or alias, one status, redriven (True) or never redriven (False).
        """
        ...

    def search_executions(
        self, query: ExecutionQuery, *, limit: int = 50, token: str | None = None
    ) -> Page[ExecutionSummary]:
        """A page of any machine's executions, newest first (the web console's listing)."""
        ...

    def history(self, arn: str) -> list[HistoryEvent]:
        """The execution's history, oldest first."""
        ...

    def history_page(
        self, arn: str, *, limit: int = 0, reverse: bool = False, token: str | None = None
    ) -> Page[HistoryEvent]:
        """A page of the execution's history, oldest (or, ``reverse``, newest) first."""
        ...

    def map_run(self, arn: str) -> MapRunRecord | None:
        """The Map Run ``arn``, or None."""
        ...

    def map_runs(self, execution_arn: str) -> list[MapRunRecord]:
        """The Map Runs of an execution, newest first."""
        ...

    def update_map_run(self, run: MapRunRecord, update: MapRunUpdated) -> None:
        """Deliver ``update`` to the running Map Run ``run`` (its Map's thread)."""
        ...

    def child_execution(self, arn: str) -> ChildExecutionRecord | None:
        """The Distributed Map child execution ``arn``, or None (ADR 0034)."""
        ...

    def child_executions(self, map_run_arn: str) -> list[ChildExecutionRecord]:
        """Every child execution of the Map Run ``map_run_arn``, in index order."""
        ...

    def start(self, record: ExecutionRecord, compiled: Compiled, seed: int) -> ExecutionRecord:
        """Persist and start ``record``; returns it (finished, for synchronous backends).

        A name already taken by a running execution with the same input returns that
        execution (`engine._records.restart`).

        Raises:
            ExecutionAlreadyExists: the name is taken otherwise.
        """
        ...

    def stop(self, arn: str, error: str | None, cause: str | None) -> ExecutionRecord:
        """Abort a running execution."""
        ...

    def redrive(self, arn: str, client_token: str | None) -> ExecutionRecord | None:
        """Restart an ended execution from its unsuccessful states (RedriveExecution).

        Returns None when it is no longer in a redrivable end state (another call won).
        """
        ...

    def callback(self, token: str, event: Callable[[str, int], Event]) -> None:
        """Deliver ``event(thread, seq)`` to the task waiting on ``token`` (SendTask*).

        Raises:
            TaskDoesNotExist: no task was ever given ``token``.
            TaskTimedOut: its task is no longer waiting (answered, timed out, stopped).
        """
        ...


def require(value: Any, name: str) -> Any:
    """``value``, or a MissingRequiredParameter naming ``name``."""
    if value is None:
        raise errors.MissingRequiredParameter(f"Missing required parameter: '{name}'")
    return value


def one_of(value: Any, name: str, allowed: Iterable[str]) -> Any:
    """``value`` when it is None or one of ``allowed``.

    Raises:
        ValidationException: it is another value (AWS's wording, naming the parameter).
    """
    members = list(allowed)
    if value is not None and value not in members:
        raise errors.ValidationException(
            f"1 validation error detected: Value '{value}' at '{name}' failed to satisfy "
            f"constraint: Member must satisfy enum value set: [{', '.join(members)}]"
        )
    return value


def at_most_bytes(text: str, name: str, limit: int) -> str:
    """``text`` when it is at most ``limit`` bytes as UTF-8, measured before it is parsed.

    Raises:
        ValidationException: it is larger (AWS's wording for a length constraint, which
            for payloads AWS counts in UTF-8 bytes).
    """
    if isinstance(text, str) and utf8_exceeds(text, limit):
        raise errors.ValidationException(
            f"1 validation error detected: Value at '{name}' failed to satisfy constraint: "
            f"Member must have length less than or equal to {limit}"
        )
    return text


def at_most(text: str | None, name: str, limit: int) -> str | None:
    """``text`` when it is None or at most ``limit`` characters long.

    Raises:
        ValidationException: it is longer (AWS's wording, naming the parameter).
    """
    if text is not None and len(text) > limit:
        raise errors.ValidationException(
            f"1 validation error detected: Value at '{name}' failed to satisfy constraint: "
            f"Member must have length less than or equal to {limit} (got {len(text)})"
        )
    return text


def within(number: Any, name: str, low: int, high: int) -> Any:
    """``number`` when it is an integer in ``low..high``.

    Raises:
        ValidationException: it is outside (AWS's wording, naming the parameter).
    """
    if isinstance(number, int) and not isinstance(number, bool) and low <= number <= high:
        return number
    raise errors.ValidationException(
        f"1 validation error detected: Value '{number}' at '{name}' failed to satisfy "
        f"constraint: Member must have value between {low} and {high}"
    )


def _check(text: str, machine_type: str) -> tuple[Json, list[Diagnostic]]:
    """The definition's JSON and every problem with it (syntax errors included)."""
    try:
        # The size was checked first, against the client's limit (`ClientBase._check_size`).
        return load_and_check(text, state_machine_type=machine_type, max_bytes=None)
    except DefinitionSyntaxError as exc:
        return None, [Diagnostic("/", str(exc), "INVALID_JSON_DESCRIPTION")]
    except errors.InvalidDefinition as exc:
        return None, list(exc.diagnostics)


@lru_cache(maxsize=256)
def _compile_text(text: str, machine_type: str) -> Compiled:
    """The model of a valid definition; cached, so each start reuses a stored one's model."""
    raw, diagnostics = _check(text, machine_type)
    if diagnostics:
        listed = "; ".join(str(d) for d in diagnostics)
        raise errors.InvalidDefinitionRequest(f"Invalid State Machine Definition: '{listed}'")
    machine = build_state_machine(raw)
    if machine_type == "EXPRESS":  # AWS ends an Express execution at five minutes
        limit = min(machine.timeout_seconds or EXPRESS_SECONDS, EXPRESS_SECONDS)
        machine = replace(machine, timeout_seconds=limit)
    return Compiled(text, machine)


class ClientBase:
    """State and request/response helpers shared by the machine and execution operations."""

    def __init__(
        self,
        backend: Backend | None = None,
        *,
        clock: Clock | None = None,
        region: str = DEFAULT_REGION,
        account: str = DEFAULT_ACCOUNT,
        limits: Limits | None = None,
        sync_backend: Backend | None = None,
    ) -> None:
        from engine._backends.local import LocalBackend

        self.clock = clock or SystemClock()
        self.limits = limits or Limits()
        self.backend = backend or LocalBackend(clock=self.clock, limits=self.limits)
        self.sync_backend = sync_backend or (
            self.backend
            if backend is None
            else LocalBackend(clock=self.clock, limits=self.limits, handlers=_handlers_of(backend))
        )
        self.region = region
        self.account = account
        # Which version of an alias runs an execution: drawn here, in the shell (a seeded
        # `random.Random` makes the draw repeatable in tests).
        self.routing_random: random.Random = random.Random()

    # --- state machines -------------------------------------------------------------

    def _diagnostics(self, text: str, machine_type: str) -> list[Diagnostic]:
        self._check_size(text)
        return _check(text, machine_type)[1]

    def _check_size(self, text: str) -> None:
        """Refuse a definition over the size limit, as AWS does: before reading it."""
        if not isinstance(text, str | bytes):
            return  # not text: the definition's own checks refuse it
        size, limit = definition_size_bytes(text), self.limits.definition_bytes
        if size > limit:
            raise errors.ValidationException(
                "1 validation error detected: Value at 'definition' failed to satisfy "
                f"constraint: Member must have length less than or equal to {limit} "
                f"(received {size} bytes)"
            )

    def _compile(self, text: str, machine_type: str) -> Compiled:
        if not isinstance(text, str):
            raise errors.ValidationException(
                f"definition: expected a string holding JSON or YAML, got {type(text).__name__}"
            )
        self._check_size(text)
        return _compile_text(text, machine_type)

    def _compiled(self, record: MachineRecord, version: VersionRecord | None) -> Compiled:
        compiled = self._compile(version.definition if version else record.definition, record.type)
        return replace(compiled, role_arn=version.role_arn if version else record.role_arn)

    def _publish(self, record: MachineRecord, description: str | None) -> VersionRecord:
        """Version N+1 of the machine's current revision, or the latest version.

        As AWS's idempotency has it: when the latest version froze the current revision
        already, that version is returned and nothing is minted.
        """
        latest = self._latest_version(record)
        if latest is not None and latest.revision_id == record.revision_id:
            return latest
        number = record.latest_version + 1
        record.latest_version = number
        version = VersionRecord(
            arn=f"{record.arn}:{number}",
            number=number,
            definition=record.definition,
            role_arn=record.role_arn,
            creation_date=self.clock.now(),
            description=description,
            revision_id=record.revision_id,
        )
        record.versions.append(version)
        return version

    def _latest_version(self, record: MachineRecord) -> VersionRecord | None:
        if record.latest_version == 0:
            return None
        arn = f"{record.arn}:{record.latest_version}"
        published = next((v for v in record.versions if v.arn == arn), None)
        return published or self.backend.version(arn)

    def _machine(self, arn: str) -> tuple[MachineRecord, VersionRecord | None]:
        self._check_arn(arn, "stateMachine")
        parts = arn.split(":")
        base = ":".join(parts[:7])
        record = self.backend.machine(base)
        if record is None:
            raise errors.StateMachineDoesNotExist(f"State Machine Does Not Exist: '{arn}'")
        if len(parts) == 7:
            return record, None
        version = self.backend.version(arn)
        if version is None:
            raise errors.StateMachineDoesNotExist(f"State Machine Does Not Exist: '{arn}'")
        return record, version

    def _start_target(
        self, arn: str
    ) -> tuple[MachineRecord, VersionRecord | None, AliasRecord | None]:
        """The machine, version and alias a StartExecution ARN names.

        An alias ARN picks one of its versions by weight.

        Raises:
            StateMachineDoesNotExist: no such machine, version or alias.
            StateMachineDeleting: the machine is being deleted.
        """
        parts = arn.split(":") if isinstance(arn, str) else []
        alias = None
        if len(parts) == 8 and not parts[7].isdigit():
            self._check_arn(arn, "stateMachine")
            alias = self.backend.alias(arn)
            if alias is None:
                raise errors.StateMachineDoesNotExist(f"State Machine Does Not Exist: '{arn}'")
            arn = self._routed_version(alias)
        record, version = self._machine(arn)
        if record.status == "DELETING":
            raise errors.StateMachineDeleting(f"State Machine is being deleted: '{record.arn}'")
        return record, version, alias

    def _routed_version(self, alias: AliasRecord) -> str:
        """One of the alias's versions, drawn by weight."""
        draw = self.routing_random.random() * 100
        for route in alias.routing:
            draw -= route["weight"]
            if draw < 0:
                return str(route["stateMachineVersionArn"])
        return str(alias.routing[-1]["stateMachineVersionArn"])

    def _test_case(self, arn: str) -> tuple[str, str | None]:
        """(machine ARN, test case) of a StartExecution ARN; ``ARN#CASE`` runs a mock test case."""
        return split_test_case(arn) if isinstance(arn, str) else (arn, None)

    def _check_test_case(
        self, record: MachineRecord, test_case: str | None, requested: str | None
    ) -> None:
        """Refuse a test case the mock config does not define for ``record`` (ADR 0029)."""
        if test_case is None:
            return
        mocks = getattr(_handlers_of(self.backend), "mocks", None)
        if mocks is None or not mocks.has_test_case(record.name, test_case):
            where = f"in the mock config {mocks.source}" if mocks else "(no mock config loaded)"
            raise errors.StateMachineDoesNotExist(
                f"State Machine Does Not Exist: '{requested}': expected a test case of "
                f"state machine '{record.name}' {where}, got '{test_case}'"
            )

    def _execution(self, arn: str) -> ExecutionRecord:
        self._check_arn(arn, "execution", "express")
        if arn.split(":")[5] == "express":  # AWS keeps no Express executions to describe
            raise errors.InvalidArn(
                f"Invalid Arn: 'Resource type not valid in this context: express' ({arn})"
            )
        record = self.backend.execution(arn)
        if record is None:
            raise errors.ExecutionDoesNotExist(f"Execution Does Not Exist: '{arn}'")
        return record

    def _check_arn(self, arn: str, *kinds: str) -> None:
        parts = arn.split(":") if isinstance(arn, str) else []
        if len(parts) < 7 or parts[0] != "arn" or parts[2] != "states" or parts[5] not in kinds:
            raise errors.InvalidArn(f"Invalid Arn: '{arn}'")

    def _check_name(self, name: str, what: str) -> None:
        if not isinstance(name, str) or not _NAME.match(name):
            raise errors.InvalidName(
                f"Invalid Name: '{name}' ({what} names are 1-80 characters without whitespace, "
                'brackets, wildcards, control characters or any of " # % \\ ^ | ~ ` $ & , ; : /)'
            )

    def _check_type(self, machine_type: str) -> str:
        if machine_type not in _TYPES:
            raise errors.ValidationException(
                f"type: expected one of {list(_TYPES)}, got {machine_type!r}"
            )
        return machine_type

    def _input(self, text: str | None) -> Json:
        if text is None:
            return {}
        if not isinstance(text, str):
            raise errors.InvalidExecutionInput(
                "Invalid State Machine Execution Input: expected JSON text, got "
                f"{type(text).__name__}"
            )
        if utf8_exceeds(text, self.limits.payload_bytes):  # measured before it is parsed
            raise errors.InvalidExecutionInput(
                "Invalid State Machine Execution Input: the input is larger than "
                f"{self.limits.payload_bytes} bytes"
            )
        try:
            return loads_within_depth(text)
        except ValueError as exc:  # not JSON, or nested too deeply (NestingTooDeep)
            raise errors.InvalidExecutionInput(
                f"Invalid State Machine Execution Input: '{exc}'"
            ) from exc

    def _arn(self, kind: str, *names: str) -> str:
        return ":".join(("arn:aws:states", self.region, self.account, kind, *names))

    def _execution_arn(self, record: MachineRecord, name: str) -> str:
        if record.type == "EXPRESS":
            return self._arn("express", record.name, name, str(uuid.uuid4()))
        return self._arn("execution", record.name, name)

    def _new_execution(
        self,
        record: MachineRecord,
        version: VersionRecord | None,
        arn: str,
        name: str,
        payload: Json,
        alias: AliasRecord | None = None,
        test_case: str | None = None,
    ) -> ExecutionRecord:
        return ExecutionRecord(
            arn=arn,
            machine_arn=record.arn,
            name=name,
            type=record.type,
            status=ExecutionStatus.RUNNING,
            start_date=self.clock.now(),
            input=payload,
            version_arn=version.arn if version else None,
            alias_arn=alias.arn if alias else None,
            test_case=test_case,
        )

    def _describe(self, record: ExecutionRecord) -> dict[str, Json]:
        response: dict[str, Json] = {
            "executionArn": record.arn,
            # AWS: the ARN the execution was started with (alias, version or machine).
            "stateMachineArn": record.alias_arn or record.version_arn or record.machine_arn,
            "name": record.name,
            "status": str(record.status),
            "startDate": record.start_date,
            "input": _text(record.input),
            "inputDetails": {"included": True},
            **self._redrive_fields(record),
        }
        if record.version_arn:
            response["stateMachineVersionArn"] = record.version_arn
        if record.alias_arn:
            response["stateMachineAliasArn"] = record.alias_arn
        if record.stop_date is not None:
            response["stopDate"] = record.stop_date
        if record.status == ExecutionStatus.SUCCEEDED:
            response["output"] = _text(record.output)
            response["outputDetails"] = {"included": True}
        if record.error is not None:
            response["error"] = record.error
        if record.cause is not None:
            response["cause"] = record.cause
        return response

    def _redrive_fields(self, record: ExecutionRecord) -> dict[str, Json]:
        """``redriveCount``, ``redriveDate``, ``redriveStatus`` and ``redriveStatusReason``."""
        verdict = self._redrivability(record)
        fields: dict[str, Json] = {
            "redriveCount": record.redrive_count,
            "redriveStatus": verdict.status,
        }
        if record.redrive_date is not None:
            fields["redriveDate"] = record.redrive_date
        if verdict.reason is not None:
            fields["redriveStatusReason"] = verdict.reason
        return fields

    def _redrivability(self, record: ExecutionRecord) -> Redrivability:
        """Whether RedriveExecution would restart ``record`` now."""
        return redrivability(
            record,
            self.clock.now(),
            machine_exists=self.backend.machine(record.machine_arn) is not None,
            history_limit=self.limits.history_events,
        )


def _handlers_of(backend: Backend) -> Any:
    return getattr(backend, "handlers", None)


def seed() -> int:
    """A fresh random seed for an execution (stored in its checkpoint)."""
    return secrets.randbits(63)


def _text(value: Json) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def parse_time(text: str) -> datetime:
    """A history timestamp text as a datetime (boto3 returns datetimes)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def strip_data(event: dict[str, Json]) -> None:
    """Drop an event's execution data (``includeExecutionData=False``), keeping its shape.

    ``input``/``output``/``assignedVariables`` go; their ``*Details`` member stays
    (``{"truncated": false}``, the only member botocore's HistoryEventExecutionDataDetails
    has). A Task's ``parameters`` stays: TaskScheduledEventDetails requires it (ADR 0027).
    """
    for key, details in list(event.items()):
        if key.endswith("EventDetails") and isinstance(details, dict):
            for field in ("input", "output", "assignedVariables"):
                if field in details:
                    details.pop(field)
                    details.setdefault(f"{field}Details", {"truncated": False})


def aws_events(events: Iterable[HistoryEvent], with_data: bool) -> list[dict[str, Json]]:
    """History events as GetExecutionHistory answers them: datetimes, data kept or stripped."""
    listed = [event.to_aws() for event in events]
    for event in listed:
        event["timestamp"] = parse_time(event["timestamp"])
        if not with_data:
            strip_data(event)
    return listed


def list_item(record: ExecutionRecord) -> dict[str, Json]:
    """One entry of ListExecutions."""
    item: dict[str, Json] = {
        "executionArn": record.arn,
        "stateMachineArn": record.machine_arn,
        "name": record.name,
        "status": str(record.status),
        "startDate": record.start_date,
    }
    if record.stop_date is not None:
        item["stopDate"] = record.stop_date
    if record.version_arn:
        item["stateMachineVersionArn"] = record.version_arn
    if record.alias_arn:
        item["stateMachineAliasArn"] = record.alias_arn
    item["redriveCount"] = record.redrive_count
    if record.redrive_date is not None:
        item["redriveDate"] = record.redrive_date
    return item


def with_token(
    response: dict[str, Json], token: str | None, scope: tuple[Json, ...]
) -> dict[str, Json]:
    """``response`` with ``nextToken`` when there is a next page.

    The token carries ``scope`` (the operation and the request fields that choose the
    listing) so that :func:`backend_token` can refuse it on another listing, as AWS does.
    """
    if token is not None:
        response["nextToken"] = encode_token([list(scope), token])
    return response


def backend_token(token: str | None, scope: tuple[Json, ...]) -> str | None:
    """The backend's position inside a ``nextToken`` that :func:`with_token` gave ``scope``.

    Raises:
        InvalidToken: the token is not one this API issued for this same listing.
    """
    if token is None or token == "":
        return None
    try:
        issued_for, position = decode_token(token)
    except (errors.InvalidToken, TypeError, ValueError) as exc:
        raise errors.InvalidToken(f"Invalid Token: '{token}' is not a nextToken") from exc
    if issued_for != list(scope) or not isinstance(position, str):
        raise errors.InvalidToken(
            f"Invalid Token: '{token}' (a nextToken of another listing: expected one from "
            f"{scope[0]} with the same request fields)"
        )
    return position


def given(**members: Json) -> dict[str, Json]:
    """The request ``members`` that have a value.

    boto3 refuses ``None`` for an optional member (a ParamValidationError), so code with
    optional inputs (the CLI's options, a consumer's optional fields) passes only those set.
    """
    return {name: value for name, value in members.items() if value is not None}

"""State machine operations of the boto3-shaped client."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from engine import _errors as errors
from engine._api.aliases import aliases_routing_to
from engine._api.base import (
    ClientBase,
    backend_token,
    one_of,
    require,
    with_token,
    within,
)
from engine._api.resource_warnings import unserved_resource_warnings
from engine._api.tags import checked_tags
from engine._asl.load import load_definition_text
from engine._errors import DefinitionSyntaxError
from engine._records import MachineRecord, VersionRecord
from engine._resources import DEFAULT_REGISTRY

Json = Any
MAX_DIAGNOSTICS = 100
"""AWS's default and largest ``maxResults`` of ValidateStateMachineDefinition."""


class MachineOperations(ClientBase):
    """State machine operations of the boto3-shaped client."""

    def validate_state_machine_definition(
        self,
        *,
        definition: str | None = None,
        type: str = "STANDARD",
        severity: str = "ERROR",
        maxResults: int = 0,
        **_: Any,
    ) -> dict[str, Json]:
        """ValidateStateMachineDefinition: ``{"result": "OK"|"FAIL", "diagnostics": [...]}``.

        ``severity="WARNING"`` adds WARNING diagnostics (a Task resource nothing here serves,
        ADR 0024) after the errors; only errors make the result ``FAIL``, as on AWS.
        ``maxResults`` (0: AWS's 100) caps the list and sets ``truncated``.
        """
        require(definition, "definition")
        one_of(type, "type", ("STANDARD", "EXPRESS"))
        one_of(severity, "severity", ("ERROR", "WARNING"))
        within(maxResults, "maxResults", 0, MAX_DIAGNOSTICS)
        errors_found = self._diagnostics(definition or "", type)
        diagnostics = [
            {"severity": "ERROR", "code": d.code, "message": d.message, "location": d.path}
            for d in errors_found
        ]
        if severity == "WARNING":
            # A resource with an ERROR already (unknown shape or action) needs no WARNING too.
            flagged = {d.path for d in errors_found}
            diagnostics += [
                w for w in self._warnings(definition or "") if w["location"] not in flagged
            ]
        limit = maxResults if 0 < maxResults <= MAX_DIAGNOSTICS else MAX_DIAGNOSTICS
        return {
            "result": "FAIL" if errors_found else "OK",
            "diagnostics": diagnostics[:limit],
            "truncated": len(diagnostics) > limit,
        }

    def _warnings(self, text: str) -> list[dict[str, str]]:
        try:
            raw = load_definition_text(text)
        except DefinitionSyntaxError:  # unreadable text: the ERROR diagnostics say why
            return []
        registry = getattr(self.backend, "handlers", None) or DEFAULT_REGISTRY
        return unserved_resource_warnings(raw, registry)

    def create_state_machine(
        self,
        *,
        name: str | None = None,
        definition: str | None = None,
        roleArn: str | None = None,
        type: str = "STANDARD",
        publish: bool = False,
        versionDescription: str | None = None,
        loggingConfiguration: Json = None,
        tracingConfiguration: Json = None,
        tags: Json = None,
        **_: Any,
    ) -> dict[str, Json]:
        """CreateStateMachine, idempotent as on AWS (see `_same_machine`)."""
        name, text = require(name, "name"), require(definition, "definition")
        role = require(roleArn, "roleArn")
        self._check_name(name, "state machine")
        machine_type = self._check_type(type)
        compiled = self._compile(text, machine_type)
        tag_values = checked_tags(tags)
        arn = self._arn("stateMachine", name)
        existing = self.backend.machine(arn)
        if existing is not None:
            wanted = MachineRecord(
                arn, name, compiled.text, role, machine_type, existing.creation_date,
                logging_configuration=loggingConfiguration,
                tracing_configuration=tracingConfiguration,
            )  # fmt: skip
            return self._same_machine(existing, wanted, publish, versionDescription)
        now = self.clock.now()
        record = MachineRecord(
            arn=arn,
            name=name,
            definition=compiled.text,
            role_arn=role,
            type=machine_type,
            creation_date=now,
            revision_id=str(uuid.uuid4()),
            logging_configuration=loggingConfiguration,
            tracing_configuration=tracingConfiguration,
        )
        response: dict[str, Json] = {"stateMachineArn": arn, "creationDate": now}
        if publish:
            response["stateMachineVersionArn"] = self._publish(record, versionDescription).arn
        self.backend.save_machine(record)
        if tag_values:
            self.backend.save_tags(arn, tag_values)
        return response

    def _same_machine(
        self,
        existing: MachineRecord,
        wanted: MachineRecord,
        publish: bool,
        description: str | None,
    ) -> dict[str, Json]:
        """An idempotent repeat of CreateStateMachine, or StateMachineAlreadyExists.

        As AWS documents it: the check covers the definition, type, logging and tracing
        configurations, ``publish`` and ``versionDescription``; another roleArn or other tags
        are ignored (and not applied).
        """
        if existing.status == "DELETING":
            raise errors.StateMachineDeleting(f"State Machine is being deleted: '{existing.arn}'")
        same = (
            existing.definition == wanted.definition
            and existing.type == wanted.type
            and _logging(existing) == _logging(wanted)
            and _tracing(existing) == _tracing(wanted)
        )
        first = self.backend.version(f"{existing.arn}:1") if publish else None
        if publish and (
            first is None
            or first.revision_id != existing.revision_id
            or first.description != description
        ):
            same = False
        if not same:
            raise errors.StateMachineAlreadyExists(
                f"State Machine Already Exists: '{existing.arn}' (with another definition, type, "
                "logging or tracing configuration, or publish/versionDescription)"
            )
        response: dict[str, Json] = {
            "stateMachineArn": existing.arn,
            "creationDate": existing.creation_date,
        }
        if first is not None:
            response["stateMachineVersionArn"] = first.arn
        return response

    def describe_state_machine(
        self, *, stateMachineArn: str | None = None, **_: Any
    ) -> dict[str, Json]:
        """DescribeStateMachine (a version ARN describes that version)."""
        arn = require(stateMachineArn, "stateMachineArn")
        record, version = self._machine(arn)
        definition = version.definition if version else record.definition
        response: dict[str, Json] = {
            "stateMachineArn": version.arn if version else record.arn,
            "name": record.name,
            "status": record.status,
            "definition": definition,
            "roleArn": version.role_arn if version else record.role_arn,
            "type": record.type,
            "creationDate": version.creation_date if version else record.creation_date,
            "loggingConfiguration": _logging(record),
            "tracingConfiguration": _tracing(record),
            "revisionId": version.revision_id if version else record.revision_id,
        }
        if version and version.description:
            response["description"] = version.description
        return response

    def list_state_machines(
        self,
        *,
        maxResults: int = 100,
        nextToken: str | None = None,
        **_: Any,
    ) -> dict[str, Json]:
        """ListStateMachines, paginated, oldest first."""
        scope = ("ListStateMachines",)
        page = self.backend.machines_page(maxResults, backend_token(nextToken, scope))
        items = [
            {
                "stateMachineArn": m.arn,
                "name": m.name,
                "type": m.type,
                "creationDate": m.creation_date,
            }
            for m in page.items
        ]
        return with_token({"stateMachines": items}, page.next_token, scope)

    def update_state_machine(
        self,
        *,
        stateMachineArn: str | None = None,
        definition: str | None = None,
        roleArn: str | None = None,
        publish: bool = False,
        versionDescription: str | None = None,
        loggingConfiguration: Json = None,
        tracingConfiguration: Json = None,
        **_: Any,
    ) -> dict[str, Json]:
        """UpdateStateMachine; running executions keep the definition they started with."""
        arn = require(stateMachineArn, "stateMachineArn")
        record, version = self._machine(arn)
        if version is not None:
            raise errors.ValidationException("A version ARN cannot be updated; use the machine ARN")
        if (
            definition is None
            and roleArn is None
            and not (loggingConfiguration or tracingConfiguration or publish)
        ):
            raise errors.MissingRequiredParameter(
                "Either the definition, the roleArn, loggingConfiguration or "
                "tracingConfiguration must be specified"
            )
        self._refuse_deleting(record)
        before = _revision_content(record)
        if definition is not None:
            record.definition = self._compile(definition, record.type).text
        record.role_arn = roleArn or record.role_arn
        record.logging_configuration = loggingConfiguration or record.logging_configuration
        record.tracing_configuration = tracingConfiguration or record.tracing_configuration
        record.update_date = self.clock.now()
        if _revision_content(record) != before:  # an update changing nothing keeps its revision
            record.revision_id = str(uuid.uuid4())
        response: dict[str, Json] = {
            "updateDate": record.update_date,
            "revisionId": record.revision_id,
        }
        if publish:
            response["stateMachineVersionArn"] = self._publish(record, versionDescription).arn
        self.backend.save_machine(record)
        return response

    def publish_state_machine_version(
        self,
        *,
        stateMachineArn: str | None = None,
        description: str | None = None,
        revisionId: str | None = None,
        **_: Any,
    ) -> dict[str, Json]:
        """PublishStateMachineVersion: freeze the current revision as version N.

        Idempotent as on AWS: when the latest version froze the current revision already,
        that version is returned.

        Raises:
            ConflictException: ``revisionId`` is not the machine's current revision.
            StateMachineDeleting: the machine is being deleted.
        """
        record, _version = self._machine(require(stateMachineArn, "stateMachineArn"))
        self._refuse_deleting(record)
        if revisionId is not None and revisionId != record.revision_id:
            raise errors.ConflictException(
                f"Failed to publish the State Machine version: revisionId '{revisionId}' is "
                f"not the current revision of '{record.arn}' ('{record.revision_id}')"
            )
        version = self._publish(record, description)
        self.backend.save_machine(record)
        return {"creationDate": version.creation_date, "stateMachineVersionArn": version.arn}

    def list_state_machine_versions(
        self,
        *,
        stateMachineArn: str | None = None,
        maxResults: int = 100,
        nextToken: str | None = None,
        **_: Any,
    ) -> dict[str, Json]:
        """ListStateMachineVersions, paginated, newest first."""
        record, _version = self._machine(require(stateMachineArn, "stateMachineArn"))
        scope = ("ListStateMachineVersions", record.arn)
        page = self.backend.versions_page(record.arn, maxResults, backend_token(nextToken, scope))
        versions = [
            {"stateMachineVersionArn": v.arn, "creationDate": v.creation_date} for v in page.items
        ]
        return with_token({"stateMachineVersions": versions}, page.next_token, scope)

    def delete_state_machine(
        self, *, stateMachineArn: str | None = None, **_: Any
    ) -> dict[str, Json]:
        """DeleteStateMachine with its versions, aliases and tags.

        A machine with running executions turns DELETING (new starts are refused) and goes
        when its last execution ends; deleting an unknown machine succeeds, as on AWS.
        """
        arn = require(stateMachineArn, "stateMachineArn")
        self._check_arn(arn, "stateMachine")
        if len(arn.split(":")) != 7:
            raise errors.ValidationException(
                f"stateMachineArn: expected an unqualified state machine ARN, got '{arn}' "
                "(delete a version with DeleteStateMachineVersion, an alias with "
                "DeleteStateMachineAlias)"
            )
        record = self.backend.machine(arn)
        if record is None:
            return {}
        if self.backend.executions_page(arn, status="RUNNING", limit=1).items:
            record.status = "DELETING"
            self.backend.save_machine(record)
            # An execution may have ended between the look and the mark.
            self.backend.purge_if_deleting(arn)
        else:
            self.backend.delete_machine(arn)
        return {}

    def delete_state_machine_version(
        self, *, stateMachineVersionArn: str | None = None, **_: Any
    ) -> dict[str, Json]:
        """DeleteStateMachineVersion (an unknown version succeeds; its number is not reused).

        Raises:
            ConflictException: an alias routes executions to the version.
        """
        arn = require(stateMachineVersionArn, "stateMachineVersionArn")
        self._check_arn(arn, "stateMachine")
        parts = arn.split(":")
        if len(parts) != 8 or not parts[7].isdigit():
            raise errors.InvalidArn(f"Invalid Arn: '{arn}' (expected a state machine version ARN)")
        routing = aliases_routing_to(self, arn)
        if routing:
            raise errors.ConflictException(
                f"Version to be deleted must not be referenced by an alias: '{arn}' is "
                f"routed to by {[a.arn for a in routing]}"
            )
        self.backend.delete_version(arn)
        return {}

    def describe_state_machine_for_execution(
        self, *, executionArn: str | None = None, **_: Any
    ) -> dict[str, Json]:
        """DescribeStateMachineForExecution: the definition and role the execution runs with.

        Answers after the machine was updated or deleted too: the execution keeps what it
        started with.
        """
        execution = self._execution(require(executionArn, "executionArn"))
        ran = self.backend.execution_definition(execution.arn)
        if ran is None:
            raise errors.ExecutionDoesNotExist(f"Execution Does Not Exist: '{execution.arn}'")
        definition, role = ran
        machine = self.backend.machine(execution.machine_arn)
        version = self.backend.version(execution.version_arn) if execution.version_arn else None
        response: dict[str, Json] = {
            "stateMachineArn": execution.version_arn or execution.machine_arn,
            "name": execution.machine_arn.split(":")[6],
            "definition": definition,
            "roleArn": role,
            "updateDate": _revision_date(machine, version, execution.start_date),
        }
        if machine is not None:
            response["loggingConfiguration"] = _logging(machine)
            response["tracingConfiguration"] = _tracing(machine)
        revision = _revision_run(machine, version, definition, role)
        if revision:
            response["revisionId"] = revision
        return response

    def _refuse_deleting(self, record: MachineRecord) -> None:
        if record.status == "DELETING":
            raise errors.StateMachineDeleting(f"State Machine is being deleted: '{record.arn}'")


def _logging(record: MachineRecord) -> Json:
    return record.logging_configuration or {"level": "OFF", "includeExecutionData": False}


def _tracing(record: MachineRecord) -> Json:
    return record.tracing_configuration or {"enabled": False}


def _revision_content(record: MachineRecord) -> tuple[Json, ...]:
    """What a revision freezes: a change to any of it makes a new revisionId."""
    return (record.definition, record.role_arn, _logging(record), _tracing(record))


def _revision_date(
    machine: MachineRecord | None, version: VersionRecord | None, started: datetime
) -> datetime:
    """When the revision an execution ran was made (its start, once nothing records it)."""
    if version is not None:
        return version.creation_date
    if machine is not None:
        return machine.update_date or machine.creation_date
    return started


def _revision_run(
    machine: MachineRecord | None, version: VersionRecord | None, definition: str, role: str
) -> str | None:
    """The revisionId of what an execution ran, when it is still known."""
    if version is not None:
        return version.revision_id
    if machine is not None and (machine.definition, machine.role_arn) == (definition, role):
        return machine.revision_id
    return None

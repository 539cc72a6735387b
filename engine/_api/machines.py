"""State machine operations of the boto3-shaped client."""

from __future__ import annotations

import uuid
from typing import Any

from engine import _errors as errors
from engine._api.base import (
    ClientBase,
    backend_token,
    one_of,
    require,
    with_token,
    within,
)
from engine._api.resource_warnings import unserved_resource_warnings
from engine._asl.load import load_definition_text
from engine._errors import DefinitionSyntaxError
from engine._records import MachineRecord
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
        """CreateStateMachine (idempotent for an identical definition and role)."""
        name, text = require(name, "name"), require(definition, "definition")
        role = require(roleArn, "roleArn")
        self._check_name(name, "state machine")
        machine_type = self._check_type(type)
        compiled = self._compile(text, machine_type)
        arn = self._arn("stateMachine", name)
        existing = self.backend.machine(arn)
        if existing is not None:
            if existing.definition != compiled.text or existing.role_arn != role:
                raise errors.StateMachineAlreadyExists(f"State Machine Already Exists: '{arn}'")
            return {"stateMachineArn": arn, "creationDate": existing.creation_date}
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
            "loggingConfiguration": record.logging_configuration
            or {"level": "OFF", "includeExecutionData": False},
            "tracingConfiguration": record.tracing_configuration or {"enabled": False},
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
        if definition is not None:
            record.definition = self._compile(definition, record.type).text
        record.role_arn = roleArn or record.role_arn
        record.logging_configuration = loggingConfiguration or record.logging_configuration
        record.tracing_configuration = tracingConfiguration or record.tracing_configuration
        record.update_date = self.clock.now()
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
        **_: Any,
    ) -> dict[str, Json]:
        """PublishStateMachineVersion: freeze the current revision as version N."""
        record, _version = self._machine(require(stateMachineArn, "stateMachineArn"))
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
        """DeleteStateMachine (deleting an unknown machine succeeds, as on AWS)."""
        arn = require(stateMachineArn, "stateMachineArn")
        self._check_arn(arn, "stateMachine")
        if self.backend.machine(arn) is not None:
            self.backend.delete_machine(arn)
        return {}

    # --- executions -----------------------------------------------------------------

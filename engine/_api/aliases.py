"""State machine alias operations of the boto3-shaped client.

An alias (``arn:aws:states:REGION:ACCOUNT:stateMachine:NAME:ALIAS``) routes each
StartExecution to one of one or two versions of its machine, by weight (the weights sum to
100). Which version runs is drawn in the API shell, from `ClientBase.routing_random`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from engine import _errors as errors
from engine._api.base import ClientBase, backend_token, require, with_token
from engine._records import AliasRecord, MachineRecord

Json = Any
MAX_ALIASES = 100
"""AWS's limit of aliases per state machine."""
_ALIAS_NAME = re.compile(r"^(?=.*[a-zA-Z_\-.])[a-zA-Z0-9_\-.]{1,80}$")


class AliasOperations(ClientBase):
    """Create, describe, update, delete and list state machine aliases."""

    def create_state_machine_alias(
        self,
        *,
        name: str | None = None,
        routingConfiguration: Json = None,
        description: str | None = None,
        **_: Any,
    ) -> dict[str, Json]:
        """CreateStateMachineAlias (idempotent for the same name, description and routing).

        Raises:
            ConflictException: the name is taken by an alias configured otherwise.
            ResourceNotFound: a routed version does not exist.
            StateMachineDeleting: the machine is being deleted.
        """
        name = require(name, "name")
        if not isinstance(name, str) or not _ALIAS_NAME.match(name):
            raise errors.InvalidName(
                f"Invalid Name: '{name}' (alias names are 1-80 letters, digits, '-', '_' or '.',"
                " not only digits)"
            )
        routing = self._routing(require(routingConfiguration, "routingConfiguration"))
        machine = self._alias_machine(routing[0]["stateMachineVersionArn"])
        arn = f"{machine.arn}:{name}"
        existing = self.backend.alias(arn)
        if existing is not None:
            return self._same_alias(existing, routing, description)
        if len(self._aliases_of(machine.arn)) >= MAX_ALIASES:
            raise errors.ValidationException(
                f"'{machine.arn}' has {MAX_ALIASES} aliases already, AWS's limit"
            )
        record = AliasRecord(arn, machine.arn, name, routing, self.clock.now(), description)
        self.backend.save_alias(record)
        return {"stateMachineAliasArn": arn, "creationDate": record.creation_date}

    def describe_state_machine_alias(
        self, *, stateMachineAliasArn: str | None = None, **_: Any
    ) -> dict[str, Json]:
        """DescribeStateMachineAlias."""
        alias = self._alias(require(stateMachineAliasArn, "stateMachineAliasArn"))
        response: dict[str, Json] = {
            "stateMachineAliasArn": alias.arn,
            "name": alias.name,
            "routingConfiguration": [dict(r) for r in alias.routing],
            "creationDate": alias.creation_date,
        }
        if alias.description is not None:
            response["description"] = alias.description
        if alias.update_date is not None:
            response["updateDate"] = alias.update_date
        return response

    def update_state_machine_alias(
        self,
        *,
        stateMachineAliasArn: str | None = None,
        description: str | None = None,
        routingConfiguration: Json = None,
        **_: Any,
    ) -> dict[str, Json]:
        """UpdateStateMachineAlias: a new description and/or routing configuration."""
        alias = self._alias(require(stateMachineAliasArn, "stateMachineAliasArn"))
        machine = self.backend.machine(alias.machine_arn)
        if machine is not None and machine.status == "DELETING":
            raise errors.StateMachineDeleting(f"State Machine is being deleted: '{machine.arn}'")
        if description is None and routingConfiguration is None:
            raise errors.ValidationException(
                "UpdateStateMachineAlias: expected a description or a routingConfiguration, "
                "got neither"
            )
        if routingConfiguration is not None:
            routing = self._routing(routingConfiguration)
            routed = self._alias_machine(routing[0]["stateMachineVersionArn"])
            if routed.arn != alias.machine_arn:
                raise errors.ValidationException(
                    f"routingConfiguration: expected versions of '{alias.machine_arn}', got "
                    f"'{routing[0]['stateMachineVersionArn']}'"
                )
            alias.routing = routing
        if description is not None:
            alias.description = description
        alias.update_date = self.clock.now()
        self.backend.save_alias(alias)
        return {"updateDate": alias.update_date}

    def delete_state_machine_alias(
        self, *, stateMachineAliasArn: str | None = None, **_: Any
    ) -> dict[str, Json]:
        """DeleteStateMachineAlias (executions it started keep running)."""
        alias = self._alias(require(stateMachineAliasArn, "stateMachineAliasArn"))
        self.backend.delete_alias(alias.arn)
        return {}

    def list_state_machine_aliases(
        self,
        *,
        stateMachineArn: str | None = None,
        maxResults: int = 0,
        nextToken: str | None = None,
        **_: Any,
    ) -> dict[str, Json]:
        """ListStateMachineAliases; a version ARN lists the aliases routing to that version."""
        arn = require(stateMachineArn, "stateMachineArn")
        record, version = self._machine(arn)
        scope = ("ListStateMachineAliases", arn)
        if version is not None:
            routed = [a for a in self._aliases_of(record.arn) if _routes_to(a, version.arn)]
            items, token = routed, None
        else:
            page = self.backend.aliases_page(
                record.arn, maxResults, backend_token(nextToken, scope)
            )
            items, token = page.items, page.next_token
        aliases = [{"stateMachineAliasArn": a.arn, "creationDate": a.creation_date} for a in items]
        return with_token({"stateMachineAliases": aliases}, token, scope)

    # --- helpers ------------------------------------------------------------------------

    def _alias(self, arn: str) -> AliasRecord:
        """The alias ``arn`` names (ResourceNotFound when there is none)."""
        self._check_arn(arn, "stateMachine")
        parts = arn.split(":")
        if len(parts) != 8 or parts[7].isdigit():
            raise errors.InvalidArn(f"Invalid Arn: '{arn}' (expected a state machine alias ARN)")
        alias = self.backend.alias(arn)
        if alias is None:
            raise errors.ResourceNotFound(f"Resource not found: '{arn}'")
        return alias

    def _aliases_of(self, machine_arn: str) -> list[AliasRecord]:
        return list(_every_alias(self, machine_arn))

    def _alias_machine(self, version_arn: str) -> MachineRecord:
        """The machine of a routed version, which must exist and not be being deleted."""
        try:
            record, version = self._machine(version_arn)
        except errors.StateMachineDoesNotExist as exc:
            raise errors.ResourceNotFound(f"Resource not found: '{version_arn}'") from exc
        if version is None:
            raise errors.ValidationException(
                f"routingConfiguration: expected a version ARN, got '{version_arn}'"
            )
        if record.status == "DELETING":
            raise errors.StateMachineDeleting(f"State Machine is being deleted: '{record.arn}'")
        return record

    def _routing(self, routing: Json) -> list[dict[str, Json]]:
        """AWS's checks of a routingConfiguration: 1-2 distinct versions, weights summing 100."""
        if not isinstance(routing, list) or not 1 <= len(routing) <= 2:
            raise errors.ValidationException(
                f"routingConfiguration: expected 1 or 2 routes, got {routing!r}"
            )
        routes = [_route(item, index) for index, item in enumerate(routing)]
        arns = [r["stateMachineVersionArn"] for r in routes]
        if len(set(arns)) != len(arns):
            raise errors.ValidationException(
                f"routingConfiguration: expected distinct versions, got {arns}"
            )
        machines = {":".join(a.split(":")[:7]) for a in arns}
        if len(machines) != 1:
            raise errors.ValidationException(
                f"routingConfiguration: expected versions of one state machine, got {arns}"
            )
        total = sum(r["weight"] for r in routes)
        if total != 100:
            raise errors.ValidationException(
                f"routingConfiguration: expected weights summing to 100, got {total}"
            )
        for arn in arns:
            self._alias_machine(arn)
        return routes

    def _same_alias(
        self, existing: AliasRecord, routing: list[dict[str, Json]], description: str | None
    ) -> dict[str, Json]:
        """An idempotent repeat of a create, or a ConflictException."""
        if existing.routing != routing or existing.description != description:
            raise errors.ConflictException(
                f"Alias '{existing.arn}' exists with another description or routingConfiguration"
            )
        return {"stateMachineAliasArn": existing.arn, "creationDate": existing.creation_date}


def _route(item: Json, index: int) -> dict[str, Json]:
    place = f"routingConfiguration.{index + 1}"
    if not isinstance(item, dict) or not isinstance(item.get("stateMachineVersionArn"), str):
        raise errors.ValidationException(
            f"{place}: expected {{'stateMachineVersionArn', 'weight'}}, got {item!r}"
        )
    weight = item.get("weight")
    if not isinstance(weight, int) or isinstance(weight, bool) or not 0 <= weight <= 100:
        raise errors.ValidationException(
            f"{place}.weight: expected an integer 0..100, got {weight!r}"
        )
    return {"stateMachineVersionArn": item["stateMachineVersionArn"], "weight": weight}


def _routes_to(alias: AliasRecord, version_arn: str) -> bool:
    return any(r["stateMachineVersionArn"] == version_arn for r in alias.routing)


def _every_alias(client: ClientBase, machine_arn: str) -> Iterator[AliasRecord]:
    token: str | None = None
    while True:
        page = client.backend.aliases_page(machine_arn, 1000, token)
        yield from page.items
        if page.next_token is None:
            return
        token = page.next_token


def aliases_routing_to(client: ClientBase, version_arn: str) -> list[AliasRecord]:
    """The aliases of the version's machine that route executions to ``version_arn``."""
    machine_arn = ":".join(version_arn.split(":")[:7])
    return [a for a in _every_alias(client, machine_arn) if _routes_to(a, version_arn)]

"""Event bus rules and their targets: PutRule, PutTargets and the rest (ADR 0022).

A rule is a row of ``event_rules`` (migration 0004): its pattern is validated when it is
put (`engine._eventbus.patterns`), so a malformed one is refused with
``InvalidEventPatternException`` naming where it is wrong, never read as "no match".
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, select, update

from engine._eventbus.patterns import InvalidEventPattern, validate_pattern
from engine._messaging.event_errors import (
    EventsValidationException,
    InvalidEventPatternException,
    ResourceNotFoundException,
)
from engine._messaging.events import RULES, existing_bus, rule_arn, rules_changed
from engine._store.db import writing

Json = Any
RULE_STATES = ("ENABLED", "DISABLED")
_RULE_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")


# --- rules -----------------------------------------------------------------------------


def put_rule(
    engine: Engine,
    *,
    name: str,
    pattern: str,
    bus: str | None = None,
    state: str = "ENABLED",
    description: str | None = None,
    now: datetime,
) -> dict[str, Json]:
    """PutRule: create or update a rule; returns ``{"RuleArn"}``.

    Raises:
        EventsValidationException: a bad name or state.
        InvalidEventPatternException: the pattern is not JSON or not a valid pattern.
    """
    bus = existing_bus(engine, bus)
    _check_rule_name(name)
    if state not in RULE_STATES:
        raise EventsValidationException(
            f"PutRule State: expected one of {', '.join(RULE_STATES)}, got {state!r}"
        )
    parsed = parse_pattern(pattern)
    values = {"pattern": parsed, "state": state, "description": description}
    with writing(engine) as db:
        key = (RULES.c.bus == bus) & (RULES.c.name == name)
        if db.execute(select(RULES.c.name).where(key)).first():
            db.execute(update(RULES).where(key).values(values))
        else:
            arn = rule_arn(bus, name)
            row = {"bus": bus, "name": name, "arn": arn, "targets": [], "created_at": now}
            db.execute(RULES.insert().values({**row, **values}))
    rules_changed(engine)
    return {"RuleArn": rule_arn(bus, name)}


def parse_pattern(text: Json) -> Json:
    """The parsed, validated EventPattern of a PutRule request.

    Raises:
        InvalidEventPatternException: naming where the pattern is wrong.
    """
    if not isinstance(text, str):
        raise InvalidEventPatternException(
            f"EventPattern: expected a JSON text, got {type(text).__name__}"
        )
    try:
        pattern = json.loads(text)
        validate_pattern(pattern)
    except json.JSONDecodeError as error:
        raise InvalidEventPatternException(
            f"EventPattern: expected JSON, got {text[:80]!r} ({error})"
        ) from None
    except InvalidEventPattern as error:
        raise InvalidEventPatternException(str(error)) from None
    return pattern


def _check_rule_name(name: Json) -> None:
    if not isinstance(name, str) or not 1 <= len(name) <= 64 or set(name) - _RULE_NAME_CHARS:
        raise EventsValidationException(
            f"Rule Name: expected 1-64 letters, digits, '.', '-' or '_', got {name!r}"
        )


def describe_rule(engine: Engine, name: str, bus: str | None = None) -> dict[str, Json]:
    """DescribeRule: the rule's Name, Arn, EventPattern, State, Description, EventBusName."""
    return _rule_response(_rule(engine, name, existing_bus(engine, bus)))


def list_rules(
    engine: Engine, bus: str | None = None, prefix: str | None = None
) -> dict[str, Json]:
    """ListRules: ``{"Rules": [...]}`` of the bus, by name, filtered by ``NamePrefix``."""
    bus = existing_bus(engine, bus)
    with engine.connect() as db:
        rows = db.execute(select(RULES).where(RULES.c.bus == bus).order_by(RULES.c.name))
        rules = [dict(row) for row in rows.mappings()]
    chosen = [rule for rule in rules if rule["name"].startswith(prefix or "")]
    return {"Rules": [_rule_response(rule) for rule in chosen]}


def delete_rule(engine: Engine, name: str, bus: str | None = None) -> None:
    """DeleteRule; AWS refuses to delete a rule that still has targets, and so does this.

    Raises:
        EventsValidationException: the rule still has targets.
    """
    bus = existing_bus(engine, bus)
    with writing(engine) as db:
        key = (RULES.c.bus == bus) & (RULES.c.name == name)
        row = db.execute(select(RULES.c.targets).where(key)).first()
        if row is not None and row[0]:
            raise EventsValidationException(
                f"DeleteRule {name}: rule can't be deleted since it has targets; "
                "expected RemoveTargets first"
            )
        db.execute(delete(RULES).where(key))
    rules_changed(engine)


def _rule(engine: Engine, name: str, bus: str) -> dict[str, Json]:
    with engine.connect() as db:
        key = (RULES.c.bus == bus) & (RULES.c.name == name)
        row = db.execute(select(RULES).where(key)).mappings().first()
    if row is None:
        raise ResourceNotFoundException(f"Rule {name} does not exist on EventBus {bus}.")
    return dict(row)


def _rule_response(rule: dict[str, Json]) -> dict[str, Json]:
    response = {
        "Name": rule["name"],
        "Arn": rule["arn"],
        "EventPattern": json.dumps(rule["pattern"], separators=(",", ":")),
        "State": rule["state"],
        "EventBusName": rule["bus"],
    }
    if rule.get("description"):
        response["Description"] = rule["description"]
    return response


# --- targets ---------------------------------------------------------------------------


def put_targets(
    engine: Engine, rule: str, targets: list[dict[str, Json]], bus: str | None = None
) -> dict[str, Json]:
    """PutTargets: add or replace (by Id) the rule's targets.

    Returns:
        ``{"FailedEntryCount", "FailedEntries"}``: a target without an Id or an Arn, or with
        both Input and InputPath, is refused alone (as AWS reports it), the others are kept.
    """
    bus = existing_bus(engine, bus)
    failed, accepted = [], []
    for target in targets or []:
        problem = _target_problem(target)
        if problem:
            failed.append({"TargetId": str(target.get("Id", "")), **problem})
        else:
            accepted.append(target)
    with writing(engine) as db:
        key = (RULES.c.bus == bus) & (RULES.c.name == rule)
        row = db.execute(select(RULES.c.targets).where(key)).first()
        if row is None:
            raise ResourceNotFoundException(f"Rule {rule} does not exist on EventBus {bus}.")
        ids = {target["Id"] for target in accepted}
        kept = [target for target in row[0] or [] if target["Id"] not in ids]
        db.execute(update(RULES).where(key).values(targets=kept + accepted))
    return {"FailedEntryCount": len(failed), "FailedEntries": failed}


def _target_problem(target: Json) -> dict[str, str] | None:
    if not isinstance(target, dict) or not target.get("Id") or not target.get("Arn"):
        return {
            "ErrorCode": "ValidationException",
            "ErrorMessage": f"Target: expected an object with Id and Arn, got {target!r}",
        }
    if "Input" in target and "InputPath" in target:
        return {
            "ErrorCode": "ValidationException",
            "ErrorMessage": f"Target {target['Id']}: expected Input or InputPath, not both",
        }
    return None


def remove_targets(
    engine: Engine, rule: str, ids: Iterable[str], bus: str | None = None
) -> dict[str, Json]:
    """RemoveTargets: drop the targets with these Ids (unknown Ids are ignored, as on AWS)."""
    bus = existing_bus(engine, bus)
    drop = set(ids)
    with writing(engine) as db:
        key = (RULES.c.bus == bus) & (RULES.c.name == rule)
        row = db.execute(select(RULES.c.targets).where(key)).first()
        if row is None:
            raise ResourceNotFoundException(f"Rule {rule} does not exist on EventBus {bus}.")
        kept = [target for target in row[0] or [] if target["Id"] not in drop]
        db.execute(update(RULES).where(key).values(targets=kept))
    return {"FailedEntryCount": 0, "FailedEntries": []}


def list_targets_by_rule(engine: Engine, rule: str, bus: str | None = None) -> dict[str, Json]:
    """ListTargetsByRule: ``{"Targets": [...]}``."""
    return {"Targets": list(_rule(engine, rule, existing_bus(engine, bus))["targets"] or [])}

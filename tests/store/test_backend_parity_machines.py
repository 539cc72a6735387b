"""Machine-level operations agree on every backend and answer in botocore's shapes.

Tags, aliases (and starts through them), revisionId-checked and idempotent publishing,
CreateStateMachine's idempotency, DeleteStateMachineVersion, DescribeStateMachineForExecution
and a DeleteStateMachine that waits for running executions -- each through ``Client`` on the
local backend and on the durable one (SQLite and PostgreSQL).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from engine import _errors as errors
from tests.shapes import assert_shape, body
from tests.store.test_backend_parity import (
    FIRST_ROLE,
    SECOND_ROLE,
    WAITING_YAML,
    Harness,
)
from tests.store.test_backend_parity import harness as harness  # the fixture, re-exported

Json = Any
PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
SUCCEED = json.dumps({"StartAt": "S", "States": {"S": {"Type": "Succeed"}}})
FAIL = json.dumps({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}})


def code_of(call: Callable[[], Json]) -> str:
    """The error code ``call`` raises."""
    with pytest.raises(errors.ClientError) as raised:
        call()
    return raised.value.code


class FixedDraw:
    """A `random.Random` stand-in whose every draw is ``value`` (alias routing in tests)."""

    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        """The fixed draw."""
        return self.value


def _machine(harness: Harness, name: str = "m", definition: str = PASS, **extra: Json) -> str:
    created = harness.client.create_state_machine(
        name=name, definition=definition, roleArn=FIRST_ROLE, **extra
    )
    return str(assert_shape("CreateStateMachine", created)["stateMachineArn"])


def _two_versions(harness: Harness) -> tuple[str, str, str]:
    """A machine with version 1 (PASS) and version 2 (SUCCEED)."""
    client = harness.client
    arn = _machine(harness, publish=True)
    client.update_state_machine(stateMachineArn=arn, definition=SUCCEED, publish=True)
    return arn, f"{arn}:1", f"{arn}:2"


# --- tags -------------------------------------------------------------------------------


def test_given_tags_on_create_when_tagged_and_untagged_then_listing_follows(
    harness: Harness,
) -> None:
    client = harness.client
    # Given a machine created with two tags
    arn = _machine(harness, tags=[{"key": "team", "value": "a"}, {"key": "env", "value": "x"}])
    # When one tag is overwritten, one added and one removed
    assert_shape(
        "TagResource",
        client.tag_resource(
            resourceArn=arn, tags=[{"key": "env", "value": "prod"}, {"key": "cost", "value": ""}]
        ),
    )
    assert_shape("UntagResource", client.untag_resource(resourceArn=arn, tagKeys=["team", "nope"]))
    # Then the listing holds the rest, with the new value
    listed = assert_shape("ListTagsForResource", client.list_tags_for_resource(resourceArn=arn))
    assert sorted((t["key"], t["value"]) for t in listed["tags"]) == [("cost", ""), ("env", "prod")]


def test_given_an_activity_with_tags_when_listed_then_they_are_there(harness: Harness) -> None:
    client = harness.client
    # Given an activity created with a tag (and created again with another: ignored, as AWS)
    arn = client.create_activity(name="work", tags=[{"key": "k", "value": "v"}])["activityArn"]
    client.create_activity(name="work", tags=[{"key": "other", "value": "w"}])
    # When its tags are listed
    listed = client.list_tags_for_resource(resourceArn=arn)["tags"]
    # Then only the first call's tag is there
    assert listed == [{"key": "k", "value": "v"}]


def test_given_tag_limits_when_broken_then_aws_errors(harness: Harness) -> None:
    client = harness.client
    arn = _machine(harness, tags=[{"key": f"k{i}", "value": "v"} for i in range(49)])
    missing = arn.replace(":m", ":missing")
    many = [{"key": "a", "value": ""}, {"key": "b", "value": ""}]
    # Then a 51st tag, a 129-character key, an unknown machine and a bad ARN are refused
    assert code_of(lambda: client.tag_resource(resourceArn=arn, tags=many)) == "TooManyTags"
    long_key = [{"key": "k" * 129, "value": ""}]
    assert code_of(lambda: client.tag_resource(resourceArn=arn, tags=long_key)) == (
        "ValidationException"
    )
    assert code_of(lambda: client.list_tags_for_resource(resourceArn=missing)) == (
        "ResourceNotFound"
    )
    assert code_of(lambda: client.list_tags_for_resource(resourceArn="arn:nope")) == "InvalidArn"
    # And 50 tags are fine
    client.tag_resource(resourceArn=arn, tags=many[:1])
    assert len(client.list_tags_for_resource(resourceArn=arn)["tags"]) == 50


def test_given_a_deleted_machine_when_recreated_then_its_tags_are_gone(harness: Harness) -> None:
    client = harness.client
    arn = _machine(harness, tags=[{"key": "k", "value": "v"}])
    client.delete_state_machine(stateMachineArn=arn)
    _machine(harness)
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == []


# --- aliases ----------------------------------------------------------------------------


def test_given_versions_when_an_alias_is_managed_then_aws_shapes_and_errors(
    harness: Harness,
) -> None:
    client = harness.client
    arn, v1, v2 = _two_versions(harness)
    # When an alias routes all traffic to version 1
    routing = [{"stateMachineVersionArn": v1, "weight": 100}]
    created = assert_shape(
        "CreateStateMachineAlias",
        client.create_state_machine_alias(name="live", routingConfiguration=routing),
    )
    alias = created["stateMachineAliasArn"]
    # Then its ARN is the machine's plus the alias name, and it describes as created
    assert alias == f"{arn}:live"
    described = assert_shape(
        "DescribeStateMachineAlias", client.describe_state_machine_alias(stateMachineAliasArn=alias)
    )
    assert (described["name"], described["routingConfiguration"]) == ("live", routing)
    # And the same create again is idempotent; another routing under the name conflicts
    again = client.create_state_machine_alias(name="live", routingConfiguration=routing)
    assert body(again) == body(created)
    other = [{"stateMachineVersionArn": v2, "weight": 100}]
    assert code_of(
        lambda: client.create_state_machine_alias(name="live", routingConfiguration=other)
    ) == ("ConflictException")
    # When it is updated to split 60/40
    split = [
        {"stateMachineVersionArn": v1, "weight": 60},
        {"stateMachineVersionArn": v2, "weight": 40},
    ]
    assert_shape(
        "UpdateStateMachineAlias",
        client.update_state_machine_alias(
            stateMachineAliasArn=alias, routingConfiguration=split, description="canary"
        ),
    )
    # Then it describes the split, and lists under the machine and under each version
    described = client.describe_state_machine_alias(stateMachineAliasArn=alias)
    assert (described["routingConfiguration"], described["description"]) == (split, "canary")
    assert "updateDate" in described
    for listed_by in (arn, v1, v2):
        listed = assert_shape(
            "ListStateMachineAliases", client.list_state_machine_aliases(stateMachineArn=listed_by)
        )
        assert [a["stateMachineAliasArn"] for a in listed["stateMachineAliases"]] == [alias]
    # When it is deleted, it is gone
    assert_shape(
        "DeleteStateMachineAlias", client.delete_state_machine_alias(stateMachineAliasArn=alias)
    )
    assert code_of(lambda: client.describe_state_machine_alias(stateMachineAliasArn=alias)) == (
        "ResourceNotFound"
    )


@pytest.mark.parametrize(
    ("routes", "code"),
    [
        ([(1, 50), (2, 40)], "ValidationException"),  # weights sum to 90
        ([(1, 50), (1, 50)], "ValidationException"),  # the same version twice
        ([(1, 30), (2, 30), (1, 40)], "ValidationException"),  # three routes
        ([(9, 100)], "ResourceNotFound"),  # no version 9
        ([(1, 101)], "ValidationException"),
    ],
)
def test_given_a_bad_routing_when_an_alias_is_created_then_it_is_refused(
    harness: Harness, routes: list[tuple[int, int]], code: str
) -> None:
    arn, _v1, _v2 = _two_versions(harness)
    routing = [{"stateMachineVersionArn": f"{arn}:{n}", "weight": w} for n, w in routes]
    create = harness.client.create_state_machine_alias
    assert code_of(lambda: create(name="a", routingConfiguration=routing)) == code


def test_given_a_split_alias_when_started_then_the_drawn_version_runs_and_is_reported(
    harness: Harness,
) -> None:
    client = harness.client
    arn, v1, v2 = _two_versions(harness)
    split = [
        {"stateMachineVersionArn": v1, "weight": 60},
        {"stateMachineVersionArn": v2, "weight": 40},
    ]
    alias = client.create_state_machine_alias(name="live", routingConfiguration=split)[
        "stateMachineAliasArn"
    ]
    # When two executions start through the alias, drawing 0.7 (→ v2) then 0.2 (→ v1)
    client.routing_random = FixedDraw(0.7)  # type: ignore[assignment]
    second = client.start_execution(stateMachineArn=alias, name="a")["executionArn"]
    client.routing_random = FixedDraw(0.2)  # type: ignore[assignment]
    first = client.start_execution(stateMachineArn=alias, name="b")["executionArn"]
    harness.settle()
    # Then each reports the alias and the version it ran
    for execution, version in ((second, v2), (first, v1)):
        described = assert_shape(
            "DescribeExecution", client.describe_execution(executionArn=execution)
        )
        assert described["stateMachineAliasArn"] == alias
        assert described["stateMachineVersionArn"] == version
        assert described["stateMachineArn"] == alias  # the ARN it was started with
        assert described["status"] == "SUCCEEDED"
    # And ListExecutions lists them by alias, by version and by machine
    by_alias = assert_shape("ListExecutions", client.list_executions(stateMachineArn=alias))
    assert {e["executionArn"] for e in by_alias["executions"]} == {first, second}
    assert all(e["stateMachineAliasArn"] == alias for e in by_alias["executions"])
    by_v2 = client.list_executions(stateMachineArn=v2)["executions"]
    assert [e["executionArn"] for e in by_v2] == [second]
    assert len(client.list_executions(stateMachineArn=arn)["executions"]) == 2
    # And the unknown alias is a missing machine
    missing = f"{arn}:nope"
    assert code_of(lambda: client.start_execution(stateMachineArn=missing)) == (
        "StateMachineDoesNotExist"
    )


# --- versions and revisions ----------------------------------------------------------------


def test_given_a_version_an_alias_routes_to_when_deleted_then_conflict_until_the_alias_goes(
    harness: Harness,
) -> None:
    client = harness.client
    arn, v1, v2 = _two_versions(harness)
    routing = [{"stateMachineVersionArn": v2, "weight": 100}]
    alias = client.create_state_machine_alias(name="live", routingConfiguration=routing)
    # Then deleting version 2 conflicts while the alias routes to it
    delete = client.delete_state_machine_version
    assert code_of(lambda: delete(stateMachineVersionArn=v2)) == "ConflictException"
    # When the alias goes, both versions can be deleted (an unknown one too)
    client.delete_state_machine_alias(stateMachineAliasArn=alias["stateMachineAliasArn"])
    for version in (v2, v1, f"{arn}:7"):
        assert_shape("DeleteStateMachineVersion", delete(stateMachineVersionArn=version))
    assert client.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"] == []
    # And the next version is 3: a deleted number is never reused
    client.update_state_machine(stateMachineArn=arn, definition=FAIL)
    published = client.publish_state_machine_version(stateMachineArn=arn)
    assert published["stateMachineVersionArn"] == f"{arn}:3"


def test_given_a_revision_when_published_then_revision_checked_and_idempotent(
    harness: Harness,
) -> None:
    client = harness.client
    arn = _machine(harness)
    stale = client.describe_state_machine(stateMachineArn=arn)["revisionId"]
    updated = assert_shape(
        "UpdateStateMachine", client.update_state_machine(stateMachineArn=arn, definition=FAIL)
    )
    current = updated["revisionId"]
    assert current != stale
    publish = client.publish_state_machine_version
    # Then a stale revisionId conflicts, the current one publishes version 1
    assert code_of(lambda: publish(stateMachineArn=arn, revisionId=stale)) == "ConflictException"
    first = assert_shape(
        "PublishStateMachineVersion", publish(stateMachineArn=arn, revisionId=current)
    )
    assert first["stateMachineVersionArn"] == f"{arn}:1"
    # And publishing again, nothing changed, returns version 1 (AWS's idempotency)
    assert publish(stateMachineArn=arn)["stateMachineVersionArn"] == f"{arn}:1"
    again = client.update_state_machine(stateMachineArn=arn, definition=FAIL, publish=True)
    assert (again["stateMachineVersionArn"], again["revisionId"]) == (f"{arn}:1", current)
    # When the definition changes with publish=True and a description, version 2 is minted
    second = client.update_state_machine(
        stateMachineArn=arn, definition=PASS, publish=True, versionDescription="two"
    )
    assert second["stateMachineVersionArn"] == f"{arn}:2"
    described = client.describe_state_machine(stateMachineArn=f"{arn}:2")
    assert (described["description"], described["revisionId"]) == ("two", second["revisionId"])


def test_given_a_machine_when_created_again_then_idempotent_on_awss_fields(
    harness: Harness,
) -> None:
    client = harness.client
    arn = _machine(harness)
    first = client.describe_state_machine(stateMachineArn=arn)
    create = client.create_state_machine
    # Then the same request, or one with another role, returns the machine (role unchanged)
    same = create(name="m", definition=PASS, roleArn=SECOND_ROLE)
    assert (same["stateMachineArn"], same["creationDate"]) == (arn, first["creationDate"])
    assert client.describe_state_machine(stateMachineArn=arn)["roleArn"] == FIRST_ROLE
    # And another definition, type, logging level or publish flag is StateMachineAlreadyExists
    logging = {"level": "ALL", "includeExecutionData": True}
    for changed in (
        {"definition": FAIL},
        {"type": "EXPRESS"},
        {"loggingConfiguration": logging},
        {"publish": True},
    ):
        request = {"name": "m", "definition": PASS, "roleArn": FIRST_ROLE, **changed}
        assert code_of(lambda request=request: create(**request)) == "StateMachineAlreadyExists"


def test_given_a_published_create_when_repeated_then_the_version_is_returned(
    harness: Harness,
) -> None:
    arn = _machine(harness, name="p", publish=True, versionDescription="v")
    again = harness.client.create_state_machine(
        name="p", definition=PASS, roleArn=FIRST_ROLE, publish=True, versionDescription="v"
    )
    assert again["stateMachineVersionArn"] == f"{arn}:1"


# --- executions of updated and deleted machines --------------------------------------------


def test_given_an_updated_machine_when_its_execution_is_described_then_what_it_ran(
    harness: Harness,
) -> None:
    client = harness.client
    arn = _machine(harness)
    execution = client.start_execution(stateMachineArn=arn)["executionArn"]
    harness.settle()
    client.update_state_machine(stateMachineArn=arn, definition=FAIL, roleArn=SECOND_ROLE)
    # When the machine is described for the execution
    described = assert_shape(
        "DescribeStateMachineForExecution",
        client.describe_state_machine_for_execution(executionArn=execution),
    )
    # Then it is the definition and role the execution ran with
    assert (json.loads(described["definition"]), described["roleArn"]) == (
        json.loads(PASS),
        FIRST_ROLE,
    )
    assert described["stateMachineArn"] == arn
    assert described["name"] == "m"
    assert "revisionId" not in described  # that revision is gone


def test_given_a_version_execution_when_described_for_it_then_the_versions_revision(
    harness: Harness,
) -> None:
    client = harness.client
    _arn, v1, _v2 = _two_versions(harness)
    execution = client.start_execution(stateMachineArn=v1)["executionArn"]
    harness.settle()
    described = assert_shape(
        "DescribeStateMachineForExecution",
        client.describe_state_machine_for_execution(executionArn=execution),
    )
    version = client.describe_state_machine(stateMachineArn=v1)
    assert described["stateMachineArn"] == v1
    assert described["revisionId"] == version["revisionId"]
    assert json.loads(described["definition"]) == json.loads(PASS)


def test_given_a_running_execution_when_its_machine_is_deleted_then_deleting_until_it_ends(
    harness: Harness,
) -> None:
    client = harness.client
    # Given a machine with an execution waiting for a callback
    arn = _machine(harness, name="hold", definition=WAITING_YAML)
    execution = client.start_execution(stateMachineArn=arn)["executionArn"]
    harness.settle()
    # When the machine is deleted
    assert_shape("DeleteStateMachine", client.delete_state_machine(stateMachineArn=arn))
    # Then it is DELETING: described so, refusing starts
    described = assert_shape(
        "DescribeStateMachine", client.describe_state_machine(stateMachineArn=arn)
    )
    assert described["status"] == "DELETING"
    assert code_of(lambda: client.start_execution(stateMachineArn=arn)) == "StateMachineDeleting"
    # And refusing updates and publishing too
    update = client.update_state_machine
    assert code_of(lambda: update(stateMachineArn=arn, definition=PASS)) == "StateMachineDeleting"
    publish = client.publish_state_machine_version
    assert code_of(lambda: publish(stateMachineArn=arn)) == "StateMachineDeleting"
    # When its last execution ends, the machine is gone
    client.stop_execution(executionArn=execution)
    harness.settle()
    assert code_of(lambda: client.describe_state_machine(stateMachineArn=arn)) == (
        "StateMachineDoesNotExist"
    )
    assert client.describe_execution(executionArn=execution)["status"] == "ABORTED"


def test_given_no_running_execution_when_a_machine_is_deleted_then_it_goes_at_once(
    harness: Harness,
) -> None:
    client = harness.client
    arn = _machine(harness)
    client.start_execution(stateMachineArn=arn)
    harness.settle()
    client.delete_state_machine(stateMachineArn=arn)
    assert code_of(lambda: client.describe_state_machine(stateMachineArn=arn)) == (
        "StateMachineDoesNotExist"
    )
    assert code_of(lambda: client.delete_state_machine(stateMachineArn=f"{arn}:1")) == (
        "ValidationException"
    )

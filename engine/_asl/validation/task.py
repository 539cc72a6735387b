"""Task states: the ``Resource`` ARN, ``Credentials`` and the timeout / heartbeat pair.

A Resource must be an ARN AWS would recognise:

* ``arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]``;
* ``arn:PARTITION:states:REGION:ACCOUNT:activity:NAME``;
* ``arn:PARTITION:states:::SERVICE:ACTION[.sync|.sync:2|.waitForTaskToken]`` for an
  optimised integration AWS offers (``dynamodb:query`` is not one: use
  ``aws-sdk:dynamodb:query``), or ``arn:PARTITION:states:::aws-sdk:SERVICE:ACTION``;
  stepline adds ``celery:sendTask`` (see docs/design.md §5, "Task resources");
* any other well-formed ARN (e.g. an SWF task), left to run time.

Express machines cannot wait: ``.sync`` and ``.waitForTaskToken`` integrations and
activities are refused, as AWS refuses them.
"""

from __future__ import annotations

import re
from typing import Final

from engine._asl.validation.context import EXPRESS, StateContext
from engine._asl.validation.report import Json, child, quote
from engine._asl.validation.templates import (
    DYNAMIC_SUFFIX,
    check_dynamic_value,
    check_jsonata_value,
)
from engine._asl.validation.values import expect_object, expect_string, is_integer

_ARN: Final = re.compile(
    r"arn:(?P<partition>aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b):(?P<service>[a-z0-9-]+)"
    r":(?P<region>[^:]*):(?P<account>[^:]*):(?P<resource>.+)",
    re.DOTALL,
)
_FUNCTION: Final = re.compile(
    r"function:[A-Za-z0-9_-]{1,64}(?::(?:\$LATEST|[A-Za-z0-9_-]{1,128}))?"
)
_ACTIVITY: Final = re.compile(r"activity:[^\s:]{1,80}")
_INTEGRATION: Final = re.compile(
    r"(?P<service>[a-z0-9-]+):(?P<action>[A-Za-z0-9]+)"
    r"(?P<pattern>\.sync(?::2)?|\.waitForTaskToken)?"
)
_SDK: Final = re.compile(r"aws-sdk:[a-z0-9-]+:[A-Za-z0-9]+(?:\.waitForTaskToken)?")

INTEGRATIONS: Final[dict[str, frozenset[str]]] = {
    "lambda": frozenset({"invoke"}),
    "sns": frozenset({"publish"}),
    "sqs": frozenset({"sendMessage"}),
    "states": frozenset({"startExecution"}),
    "events": frozenset({"putEvents"}),
    "dynamodb": frozenset({"getItem", "putItem", "updateItem", "deleteItem"}),
    "batch": frozenset({"submitJob"}),
    "ecs": frozenset({"runTask"}),
    "glue": frozenset({"startJobRun"}),
    "databrew": frozenset({"startJobRun"}),
    "athena": frozenset(
        {"startQueryExecution", "stopQueryExecution", "getQueryExecution", "getQueryResults"}
    ),
    "codebuild": frozenset(
        {
            "startBuild",
            "stopBuild",
            "batchDeleteBuilds",
            "batchGetReports",
            "startBuildBatch",
            "stopBuildBatch",
            "retryBuildBatch",
            "deleteBuildBatch",
        }
    ),
    "sagemaker": frozenset(
        {
            "createEndpoint",
            "createEndpointConfig",
            "createHyperParameterTuningJob",
            "createLabelingJob",
            "createModel",
            "createProcessingJob",
            "createTrainingJob",
            "createTransformJob",
            "updateEndpoint",
        }
    ),
    "elasticmapreduce": frozenset(
        {
            "createCluster",
            "terminateCluster",
            "addStep",
            "cancelStep",
            "setClusterTerminationProtection",
            "modifyInstanceFleetByName",
            "modifyInstanceGroupByName",
        }
    ),
    "emr-containers": frozenset({"createVirtualCluster", "deleteVirtualCluster", "startJobRun"}),
    "emr-serverless": frozenset(
        {
            "createApplication",
            "startApplication",
            "stopApplication",
            "deleteApplication",
            "startJobRun",
            "cancelJobRun",
        }
    ),
    "eks": frozenset(
        {
            "call",
            "createCluster",
            "deleteCluster",
            "createFargateProfile",
            "deleteFargateProfile",
            "createNodegroup",
            "deleteNodegroup",
            "runJob",
        }
    ),
    "apigateway": frozenset({"invoke"}),
    "mediaconvert": frozenset({"createJob"}),
    "bedrock": frozenset({"invokeModel", "createModelCustomizationJob"}),
    "http": frozenset({"invoke"}),
    "s3": frozenset({"getObject", "putObject", "listObjectsV2"}),
    "celery": frozenset({"sendTask"}),
}
"""Optimised integrations (``arn:aws:states:::SERVICE:ACTION``) and their actions."""


def resource_problem(resource: str) -> str | None:
    """Why ``resource`` is not a Task resource AWS (or stepline) recognises, or None."""
    arn = _ARN.fullmatch(resource)
    if arn is None:
        return (
            f"The resource {quote(resource)} is not a valid resource ARN: expected "
            "'arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE', e.g. "
            "'arn:aws:states:::lambda:invoke'"
        )
    service, rest = arn["service"], arn["resource"]
    if service == "lambda" and _FUNCTION.fullmatch(rest) is None:
        return (
            f"The resource {quote(resource)} is not a valid Lambda function ARN: expected "
            "'...:function:NAME' or '...:function:NAME:VERSION_OR_ALIAS', where names use "
            "letters, digits, '-' and '_'"
        )
    if service == "states":
        return _states_problem(resource, arn["region"], arn["account"], rest)
    return None


def _states_problem(resource: str, region: str, account: str, rest: str) -> str | None:
    if rest.startswith("activity:"):
        if _ACTIVITY.fullmatch(rest) is None:
            return f"The resource {quote(resource)} is not a valid activity ARN"
        return None
    if region or account or _SDK.fullmatch(rest):
        return None
    integration = _INTEGRATION.fullmatch(rest)
    if integration is None or integration["action"] not in INTEGRATIONS.get(
        integration["service"], ()
    ):
        return (
            f"The resource provided {quote(resource)} is not recognized: it is not a valid "
            "resource ARN, or not a service integration Step Functions offers (for other "
            "API actions use 'arn:aws:states:::aws-sdk:SERVICE:ACTION')"
        )
    return None


def check_resource(state: StateContext, path: str, value: Json) -> None:
    """``Resource``: a recognised ARN; no waiting integrations in Express machines."""
    if not expect_string(state.report, path, value, non_empty=True):
        return
    problem = resource_problem(value)
    if problem is not None:
        state.report.error(path, problem)
        return
    if state.machine.machine_type == EXPRESS:
        _check_express_resource(state, path, value)


def _check_express_resource(state: StateContext, path: str, resource: str) -> None:
    for pattern in (".sync", ".waitForTaskToken"):
        if pattern in resource:
            state.report.error(
                path, f"Express state machine does not support '{pattern}' service integration"
            )
    if ":activity:" in resource:
        state.report.error(path, "Express state machine does not support activities")


def check_credentials(state: StateContext, path: str, value: Json) -> None:
    """``Credentials``: an object with the role to assume, ``RoleArn`` (or ``RoleArn.$``)."""
    report = state.report
    if not expect_object(report, path, value):
        return
    keys = ("RoleArn",) if state.jsonata else ("RoleArn", "RoleArn" + DYNAMIC_SUFFIX)
    present = [key for key in keys if key in value]
    if not present:
        report.error(path, "The field 'RoleArn' is required but was missing")
    for key in value:
        if key not in keys:
            report.error(child(path, key), f"Field '{key}' is not supported in Credentials")
    for key in present:
        if key.endswith(DYNAMIC_SUFFIX):
            check_dynamic_value(report, child(path, key), key, value[key])
        elif state.jsonata:
            check_jsonata_value(report, child(path, key), value[key])
        else:
            expect_string(report, child(path, key), value[key], non_empty=True)
    if len(present) > 1:
        report.error(path, "Only one of 'RoleArn' and 'RoleArn.$' may be given")


def check_task_rules(state: StateContext) -> None:
    """Cross-field rules: a heartbeat shorter than the timeout."""
    timeout, heartbeat = state.body.get("TimeoutSeconds"), state.body.get("HeartbeatSeconds")
    if is_integer(timeout) and is_integer(heartbeat) and heartbeat >= timeout:
        state.report.error(
            state.at("HeartbeatSeconds"),
            f"HeartbeatSeconds must be smaller than TimeoutSeconds, got HeartbeatSeconds "
            f"{heartbeat} with TimeoutSeconds {timeout}",
        )

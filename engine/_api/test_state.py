"""TestState: evaluate one state alone, as AWS's ``TestState`` operation does.

The definition is either a lone state (``{"Type": "Pass", ...}``) or a whole machine with
``stateName`` naming the state. The state runs once: a Task without a mock calls its
resource through the same handler registry executions use (the client's synchronous
backend's, which the durable backend shares); Wait does not wait. The outcome is one of
SUCCEEDED, FAILED, RETRIABLE and CAUGHT_ERROR; at DEBUG and TRACE ``inspectionData``
shows the input after each data-flow stage.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from engine import _errors as errors
from engine._api.base import ClientBase, require, seed
from engine._asl.model import AnyState, MapState, ParallelState, StateMachine, TaskState
from engine._dataflow.nesting import loads_within_depth
from engine._errors import StatesError
from engine._integrations.services import Services
from engine._interpreter.flow import UNSET
from engine._interpreter.integration import Pattern, ResourceKind, describe_resource
from engine._interpreter.snapshot import Execution
from engine._interpreter.turn import iso_timestamp
from engine._resources import AWAITING, TaskCall

if TYPE_CHECKING:
    from engine._api.http_trace import HttpTrace
    from engine._interpreter.probe import ProbeResult

Json = Any
MockedError = tuple[str, str | None]
_LEVELS = ("INFO", "DEBUG", "TRACE")
_FIELD_VALIDATION_MODES = ("STRICT", "PRESENT", "NONE")
_LONE_STATE_NAME = "TestState"
_MACHINE_NAME = "TestStateMachine"
_STAGES = (
    "input",
    "afterInputPath",
    "afterParameters",
    "afterArguments",
    "afterItemsPath",
    "afterItemSelector",
    "result",
    "afterResultSelector",
    "afterResultPath",
)


class TestStateOperations(ClientBase):
    """The ``test_state`` operation of `engine.Client`."""

    __test__ = False  # not a pytest test class, whatever its name says

    def test_state(
        self,
        *,
        definition: str | None = None,
        roleArn: str | None = None,
        input: str | None = None,
        inspectionLevel: str | None = None,
        revealSecrets: bool | None = None,
        variables: str | None = None,
        stateName: str | None = None,
        mock: Mapping[str, Json] | None = None,
        context: str | None = None,
        stateConfiguration: Mapping[str, Json] | None = None,
        **_: Any,
    ) -> dict[str, Json]:
        """TestState: run one state of ``definition`` once with ``input``; see the module doc."""
        text = require(definition, "definition")
        self._check_size(text)
        level = _inspection_level(inspectionLevel)
        if revealSecrets and level != "TRACE":
            raise errors.ValidationException(
                "revealSecrets: expected inspectionLevel TRACE when revealSecrets is true; "
                f"got {level}"
            )
        machine, name = self._machine_under_test(text, stateName)
        state = machine.states[name]
        mocked_result, mocked_error = _mock(mock, state)
        configuration = dict(stateConfiguration or {})
        _check_configuration(configuration, state, mocked_error is not None)
        # TestState's own machinery: imported when it is called, not by every client
        from engine._api.http_trace import HttpTrace
        from engine._interpreter.probe import ProbeRequest, probe

        request = ProbeRequest(
            machine=machine,
            state_name=name,
            input=self._input(input),
            execution=self._test_execution(roleArn),
            now=self.clock.now(),
            seed=seed(),
            variables=_json_object(variables, "variables"),
            context=_json_object(context, "context"),
            retrier_retry_count=_count(configuration, "retrierRetryCount"),
            map_iteration_failure_count=_count(configuration, "mapIterationFailureCount"),
            mock_result=mocked_result,
            mock_error=mocked_error,
        )
        trace = HttpTrace() if level == "TRACE" else None
        result = probe(request, self._task_runner(request.execution.arn, trace), self.limits)
        response = _response(result, level)
        if trace is not None and trace.traced:
            response["inspectionData"].update(trace.traced)
        return response

    def _machine_under_test(self, text: str, state_name: str | None) -> tuple[StateMachine, str]:
        """The (validated) machine holding the state under test, and that state's name."""
        raw = _definition_json(text)
        if _is_lone_state(raw):
            if state_name is not None and state_name != _LONE_STATE_NAME:
                raise errors.ValidationException(
                    f"stateName: '{state_name}' names a state, but the definition is a single "
                    "state; expected no stateName (or a whole state machine definition)"
                )
            raw = _wrap_lone_state(raw)
            state_name = _LONE_STATE_NAME
        elif state_name is None:
            raise errors.ValidationException(
                "stateName: expected the name of the state to test, since the definition is a "
                "whole state machine; got none"
            )
        compiled = self._compile(json.dumps(raw), "STANDARD")
        if state_name not in compiled.machine.states:
            known = ", ".join(sorted(compiled.machine.states))
            raise errors.ValidationException(
                f"stateName: expected one of the definition's top-level states ({known}); "
                f"got '{state_name}'"
            )
        return compiled.machine, state_name

    def _test_execution(self, role_arn: str | None) -> Execution:
        """The execution header ``$$`` shows while a state is tested (a fresh name each time)."""
        name = str(uuid.uuid4())
        return Execution(
            arn=self._arn("execution", _MACHINE_NAME, name),
            name=name,
            state_machine_arn=self._arn("stateMachine", _MACHINE_NAME),
            state_machine_name=_MACHINE_NAME,
            role_arn=role_arn or "",
            start_time=iso_timestamp(self.clock.now()),
            input={},
        )

    def _task_runner(
        self, execution_arn: str, trace: HttpTrace | None
    ) -> Callable[[TaskState, Json], Json]:
        """Runs a Task's resource; an HTTP Task's exchange is recorded in ``trace``."""

        def run(state: TaskState, parameters: Json) -> Json:
            return self._run_task(state, parameters, execution_arn, trace)

        return run

    def _run_task(
        self, state: TaskState, parameters: Json, execution_arn: str, trace: HttpTrace | None
    ) -> Json:
        """Call the Task's resource through the handler registry executions use."""
        info = describe_resource(state.resource)
        if info.kind is ResourceKind.ACTIVITY or info.pattern is not Pattern.REQUEST_RESPONSE:
            raise errors.ValidationException(
                f"state '{state.name}': the resource '{state.resource}' completes outside the "
                "call (an activity, .sync or .waitForTaskToken); expected a mock for it"
            )
        executor = getattr(self.sync_backend, "executor")  # noqa: B009 - the Backend protocol has none
        services = executor.services or self._services()
        if trace is not None and info.resource_type == "http":
            services = replace(services, http=trace.wrap(services.http))
        call = TaskCall(
            resource=state.resource,
            parameters=parameters,
            # A fresh execution per test: integrations key their idempotency on it.
            execution_arn=execution_arn,
            state_name=state.name,
        )
        try:
            outcome = executor.handlers.invoke(call, services)
        except StatesError as error:
            if trace is not None:
                trace.finish(_json_or_none(error.cause))
            raise
        if trace is not None:
            trace.finish(outcome)
        if outcome is AWAITING:
            raise errors.ValidationException(
                f"state '{state.name}': the resource '{state.resource}' answered later, not "
                "in the call; expected a mock for it"
            )
        return outcome

    def _services(self) -> Services:
        """What integrations reach: this client and, on the durable backend, its runtime."""
        return Services(client=cast(Any, self), runtime=getattr(self.backend, "runtime", None))


def _inspection_level(level: str | None) -> str:
    if level is None:
        return "INFO"
    if level not in _LEVELS:
        raise errors.ValidationException(
            "1 validation error detected: Value at 'inspectionLevel' failed to satisfy "
            f"constraint: Member must satisfy enum value set: [{', '.join(_LEVELS)}] "
            f"(received '{level}')"
        )
    return level


def _definition_json(text: str) -> Json:
    if not isinstance(text, str):
        raise errors.ValidationException(
            f"definition: expected a string holding JSON, got {type(text).__name__}"
        )
    try:
        return loads_within_depth(text)
    except ValueError as exc:
        raise errors.InvalidDefinitionRequest(
            f"Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: {exc}'"
        ) from None


def _is_lone_state(raw: Json) -> bool:
    return isinstance(raw, dict) and "Type" in raw and "States" not in raw


def _wrap_lone_state(state: dict[str, Json]) -> dict[str, Json]:
    """A machine around a lone state; each state it may go to is a Succeed placeholder."""
    targets = [state.get("Next"), state.get("Default")]
    targets += [choice.get("Next") for choice in _dicts(state.get("Choices"))]
    targets += [catcher.get("Next") for catcher in _dicts(state.get("Catch"))]
    states: dict[str, Json] = {
        target: {"Type": "Succeed"}
        for target in targets
        if isinstance(target, str) and target != _LONE_STATE_NAME
    }
    states[_LONE_STATE_NAME] = state
    machine: dict[str, Json] = {"StartAt": _LONE_STATE_NAME, "States": states}
    if "QueryLanguage" in state:
        machine["QueryLanguage"] = state["QueryLanguage"]
    return machine


def _json_or_none(text: str | None) -> Json:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _dicts(value: Json) -> list[dict[str, Json]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _json_object(text: str | None, field: str) -> dict[str, Json]:
    if text is None:
        return {}
    try:
        value = loads_within_depth(text) if isinstance(text, str) else None
    except ValueError as exc:
        raise errors.ValidationException(f"{field}: expected a JSON object, got '{exc}'") from None
    if not isinstance(value, dict):
        raise errors.ValidationException(
            f"{field}: expected JSON text holding an object, got {text!r}"
        )
    return value


def _count(configuration: Mapping[str, Json], name: str) -> int:
    value = configuration.get(name)
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise errors.ValidationException(
            f"stateConfiguration.{name}: expected an integer >= 0, got {value!r}"
        )
    return value


def _check_configuration(
    configuration: Mapping[str, Json], state: AnyState, error_mocked: bool
) -> None:
    """Refuse stateConfiguration fields that cannot apply to ``state``."""
    if "mapIterationFailureCount" in configuration and not isinstance(state, MapState):
        raise errors.ValidationException(
            "stateConfiguration.mapIterationFailureCount: expected a Map state; "
            f"'{state.name}' is a {state.type_name} state"
        )
    caused_by = configuration.get("errorCausedByState")
    if caused_by is None:
        return
    if not isinstance(state, MapState | ParallelState) or not error_mocked:
        raise errors.ValidationException(
            "stateConfiguration.errorCausedByState: expected a Map or Parallel state with "
            f"mock.errorOutput; got a {state.type_name} state"
            + ("" if error_mocked else " without mock.errorOutput")
        )
    if caused_by not in _inner_state_names(state):
        raise errors.ValidationException(
            f"stateConfiguration.errorCausedByState: expected a state inside '{state.name}'; "
            f"got '{caused_by}'"
        )


def _inner_state_names(state: AnyState) -> set[str]:
    """The names of every state nested in a Parallel's branches or a Map's processor."""
    machines = list(getattr(state, "branches", ()))
    processor = getattr(state, "item_processor", None)
    if processor is not None:
        machines.append(processor)
    names: set[str] = set()
    for machine in machines:
        for name, inner in machine.states.items():
            names |= {name, *_inner_state_names(inner)}
    return names


def _mock(mock: Mapping[str, Json] | None, state: AnyState) -> tuple[Json, MockedError | None]:
    """The mocked result (or ``UNSET``) and mocked error of ``mock``."""
    if not mock:
        if isinstance(state, ParallelState | MapState):
            raise errors.ValidationException(
                f"mock: state '{state.name}' is a {state.type_name} state, whose branches "
                "TestState does not run; expected mock.result or mock.errorOutput"
            )
        return UNSET, None
    if not isinstance(state, TaskState | ParallelState | MapState):
        raise errors.ValidationException(
            f"mock: state '{state.name}' is a {state.type_name} state; expected a Task, "
            "Parallel or Map state to mock"
        )
    mode = mock.get("fieldValidationMode", "STRICT")
    if mode not in _FIELD_VALIDATION_MODES:
        raise errors.ValidationException(
            f"mock.fieldValidationMode: expected one of {', '.join(_FIELD_VALIDATION_MODES)}; "
            f"got {mode!r}"
        )
    has_result, error_output = "result" in mock, mock.get("errorOutput")
    if has_result == (error_output is not None):
        raise errors.ValidationException(
            "mock: expected exactly one of 'result' and 'errorOutput'; got "
            f"{'both' if has_result else 'neither'}"
        )
    if error_output is not None:
        return UNSET, (str(error_output.get("error", "")), error_output.get("cause"))
    try:
        return loads_within_depth(mock["result"]), None
    except (TypeError, ValueError) as exc:
        raise errors.ValidationException(
            f"mock.result: expected JSON text, got {mock['result']!r} ({exc})"
        ) from None


def _response(result: ProbeResult, level: str) -> dict[str, Json]:
    """TestState's response, shaped as botocore's ``TestStateOutput``."""
    from engine._interpreter.probe import ProbeStatus

    response: dict[str, Json] = {"status": result.status.value}
    if result.output is not UNSET:
        response["output"] = _text(result.output)
    if result.next_state is not None and result.status in (
        ProbeStatus.SUCCEEDED,
        ProbeStatus.CAUGHT_ERROR,
    ):
        response["nextState"] = result.next_state
    if result.error is not None:
        response["error"] = result.error
    if result.cause is not None:
        response["cause"] = result.cause
    if level != "INFO":
        response["inspectionData"] = _inspection_data(result)
    return response


def _inspection_data(result: ProbeResult) -> dict[str, Json]:
    stages = result.inspection.stages
    data: dict[str, Json] = {key: _text(stages[key]) for key in _STAGES if key in stages}
    if result.variables is not None:
        data["variables"] = _text(dict(result.variables))
    data.update(result.inspection.limits)
    if result.inspection.error_details:
        data["errorDetails"] = dict(result.inspection.error_details)
    return data


def _text(value: Json) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

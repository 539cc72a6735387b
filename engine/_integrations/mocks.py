"""Step Functions Local's mock config: canned responses for Task states, per test case.

The file AWS Step Functions Local reads from ``SFN_MOCK_CONFIG``::

    {"StateMachines": {"Orders": {"TestCases": {"HappyPath": {"Charge": "ChargeOk"}}}},
     "MockedResponses": {"ChargeOk": {"0": {"Throw": {"Error": "E", "Cause": "c"}},
                                      "1-2": {"Return": {"Paid": true}}}}}

An execution runs a test case when it is started with ``stateMachineArn=ARN#CASE``. Each
Task state the case lists answers from its mocked response instead of calling the service:
the entry whose key (``"0"``, or an inclusive range ``"1-2"``) covers the state's invocation
number returns ``Return`` or fails with ``Throw``'s ``Error``/``Cause``. As in Step Functions
Local, that number counts every invocation of the state in the execution -- retries, loop
visits, Map iterations and Parallel branches -- from 0 (`state_invocation`). States the case
does not list are really called. The file is checked whole when it is loaded, so a
bad file stops the process that reads it rather than an execution (ADR 0029).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine._errors import ErrorName, StatesError

if TYPE_CHECKING:
    from engine._interpreter.history import HistoryEvent
    from engine._resources import HandlerRegistry

Json = Any
TEST_CASE_SEPARATOR = "#"
_SCHEDULED = frozenset({"TaskScheduled", "LambdaFunctionScheduled"})
_ATTEMPTS = re.compile(r"^(?P<first>\d+)(?:-(?P<last>\d+))?$")


class MockConfigError(ValueError):
    """The mock config file is not one Step Functions Local would accept."""


@dataclass(frozen=True)
class MockedOutcome:
    """One attempt's canned outcome: ``result`` (Return), or ``error``/``cause`` (Throw)."""

    result: Json = None
    error: str | None = None
    cause: str | None = None

    def deliver(self) -> Json:
        """The mocked result, or raise the mocked error (the service's, as a `StatesError`)."""
        if self.error is not None:
            raise StatesError(self.error, self.cause)
        return self.result


@dataclass(frozen=True)
class MockedResponse:
    """A named mocked response: its outcomes by inclusive attempt range."""

    name: str
    ranges: tuple[tuple[int, int, MockedOutcome], ...]

    def for_invocation(self, invocation: int) -> MockedOutcome | None:
        """The outcome whose range covers ``invocation`` (0 = the state's first), or None."""
        return next((out for first, last, out in self.ranges if first <= invocation <= last), None)


@dataclass(frozen=True)
class MockConfig:
    """A parsed mock config: test cases by state machine name, and the mocked responses.

    Attributes:
        test_cases: ``{machine name: {case: {state name: response name}}}``.
        responses: the mocked responses by name.
        source: where the config was read from (named in errors).
    """

    test_cases: dict[str, dict[str, dict[str, str]]]
    responses: dict[str, MockedResponse]
    source: str = "<mock config>"

    def has_test_case(self, machine_name: str, test_case: str) -> bool:
        """Whether ``machine_name`` has the test case ``test_case``."""
        return test_case in self.test_cases.get(machine_name, {})

    def outcome(
        self, machine_name: str, test_case: str, state_name: str, invocation: int
    ) -> MockedOutcome | None:
        """The mocked outcome of a Task's ``invocation``-th call (from 0); None: not mocked.

        Raises:
            StatesError: ``States.Runtime`` when the state is mocked but no key of its response
                covers ``invocation`` (the execution called it more often than the file planned).
        """
        response_name = self.test_cases.get(machine_name, {}).get(test_case, {}).get(state_name)
        if response_name is None:
            return None
        response = self.responses[response_name]
        found = response.for_invocation(invocation)
        if found is None:
            covered = ", ".join(f"{first}-{last}" for first, last, _ in response.ranges)
            raise StatesError(
                ErrorName.RUNTIME,
                f"Mocked response '{response_name}' of state '{state_name}' (test case "
                f"'{test_case}' of '{machine_name}'): expected a key covering invocation "
                f"{invocation}, got the keys {covered} ({self.source})",
            )
        return found


def state_invocation(history: Iterable[HistoryEvent], thread_id: str, state_name: str) -> int:
    """How many times the execution called ``state_name`` before the call ``thread_id`` makes now.

    Counted on the history, so both backends and every redelivery agree: each
    ``TaskScheduled`` / ``LambdaFunctionScheduled`` of the state, in any thread (a Map
    iteration, a Parallel branch), before the latest one of ``thread_id`` -- the call being
    made. Retries and loop visits schedule again, so they count too.
    """
    entered: dict[str, str | None] = {}  # the state each thread is in
    earlier = 0
    mine: int | None = None
    for event in history:
        if event.type.endswith("StateEntered"):
            entered[event.thread_id] = event.state_name
        elif event.type in _SCHEDULED and entered.get(event.thread_id) == state_name:
            if event.thread_id == thread_id:
                mine = earlier
            earlier += 1
    return mine if mine is not None else earlier


def split_test_case(state_machine_arn: str) -> tuple[str, str | None]:
    """``ARN#CASE`` → (ARN, CASE); an ARN without ``#`` → (ARN, None)."""
    arn, separator, case = state_machine_arn.partition(TEST_CASE_SEPARATOR)
    return arn, case if separator else None


def with_mocks(registry: HandlerRegistry, mocks: MockConfig | str | Path) -> HandlerRegistry:
    """``registry`` answering from ``mocks`` (a `MockConfig` or its file's path).

    The copy shares the registry's handlers and integrations (a later registration shows
    in both); only the mocks differ, so the process-wide registry is never changed.

    Raises:
        MockConfigError: the file is unreadable or malformed.
    """
    config = mocks if isinstance(mocks, MockConfig) else load_mock_config(mocks)
    return replace(registry, mocks=config)


def load_mock_config(path: str | Path) -> MockConfig:
    """Read and check the mock config file at ``path``.

    Raises:
        MockConfigError: the file cannot be read, is not JSON, or breaks the format (the
            message names the file and the place in it).
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise MockConfigError(f"mock config {source}: cannot be read ({exc})") from exc
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise MockConfigError(f"mock config {source}: expected JSON, got {exc}") from exc
    return parse_mock_config(document, source=source)


def parse_mock_config(document: Json, *, source: str = "<mock config>") -> MockConfig:
    """Check a decoded mock config and build its `MockConfig`.

    Raises:
        MockConfigError: the document breaks the format; the message names the place.
    """
    where = _Place(source)
    _require_object(document, where, "$")
    unknown = sorted(set(document) - {"StateMachines", "MockedResponses"})
    if unknown:
        raise where.error("$", "only 'StateMachines' and 'MockedResponses'", f"{unknown}")
    responses = {
        name: _response(name, value, where)
        for name, value in _object(document, "MockedResponses", where, "$").items()
    }
    machines = _object(document, "StateMachines", where, "$")
    test_cases = {
        machine: _test_cases(machine, value, responses, where)
        for machine, value in machines.items()
    }
    return MockConfig(test_cases, responses, source)


@dataclass(frozen=True)
class _Place:
    source: str

    def error(self, path: str, expected: str, received: str) -> MockConfigError:
        return MockConfigError(
            f"mock config {self.source}, at {path}: expected {expected}, got {received}"
        )


def _require_object(value: Json, where: _Place, path: str) -> None:
    if not isinstance(value, dict):
        raise where.error(path, "a JSON object", json.dumps(value)[:100])


def _object(parent: dict[str, Json], key: str, where: _Place, path: str) -> dict[str, Json]:
    value = parent.get(key, {})
    _require_object(value, where, f"{path}.{key}")
    return dict(value)


def _test_cases(
    machine: str, value: Json, responses: dict[str, MockedResponse], where: _Place
) -> dict[str, dict[str, str]]:
    path = f"$.StateMachines.{machine}"
    _require_object(value, where, path)
    cases = _object(value, "TestCases", where, path)
    checked: dict[str, dict[str, str]] = {}
    for case, states in cases.items():
        _require_object(states, where, f"{path}.TestCases.{case}")
        for state, response in states.items():
            if response not in responses:
                raise where.error(
                    f"{path}.TestCases.{case}.{state}",
                    f"the name of a MockedResponses entry ({sorted(responses) or 'none defined'})",
                    json.dumps(response),
                )
        checked[case] = dict(states)
    return checked


def _response(name: str, value: Json, where: _Place) -> MockedResponse:
    path = f"$.MockedResponses.{name}"
    _require_object(value, where, path)
    if not value:
        raise where.error(path, "at least one attempt key ('0', '1-2'...)", "none")
    ranges = sorted(
        (
            (*_attempts(key, path, where), _outcome(entry, f"{path}.{key}", where))
            for key, entry in value.items()
        ),
        key=lambda item: (item[0], item[1]),
    )
    for (_, previous_last, _), (first, _, _) in itertools.pairwise(ranges):
        if first <= previous_last:
            raise where.error(path, "attempt keys that do not overlap", f"{list(value)}")
    return MockedResponse(name, tuple(ranges))


def _attempts(key: str, path: str, where: _Place) -> tuple[int, int]:
    match = _ATTEMPTS.match(key)
    if match is None:
        raise where.error(f"{path}.{key}", "an attempt number or range like '0' or '1-2'", key)
    first = int(match.group("first"))
    last = int(match.group("last") or first)
    if last < first:
        raise where.error(f"{path}.{key}", "a range whose end is not before its start", key)
    return first, last


def _outcome(entry: Json, path: str, where: _Place) -> MockedOutcome:
    _require_object(entry, where, path)
    if set(entry) not in ({"Return"}, {"Throw"}):
        raise where.error(path, "exactly one of 'Return' or 'Throw'", f"{sorted(entry)}")
    if "Return" in entry:
        return MockedOutcome(result=entry["Return"])
    throw = entry["Throw"]
    _require_object(throw, where, f"{path}.Throw")
    error, cause = throw.get("Error"), throw.get("Cause")
    if not isinstance(error, str) or not error:
        raise where.error(f"{path}.Throw.Error", "a non-empty string", json.dumps(error))
    if cause is not None and not isinstance(cause, str):
        raise where.error(f"{path}.Throw.Cause", "a string", json.dumps(cause))
    return MockedOutcome(error=error, cause=cause)

"""The typed, frozen model of an ASL state machine.

Built by :mod:`engine._asl.parse` from a definition that passed validation. Field names are
snake_case; ASL's PascalCase keys appear only in the parser. Payload templates
(``Parameters``, ``ResultSelector``, ``Arguments``, ``Output``, ``Assign`` ...) stay raw
JSON values: the data-flow layer interprets them at run time.

Path fields follow AWS: ``input_path`` / ``output_path`` / ``result_path`` default to
``"$"``; ``None`` stands for an explicit JSON ``null`` (discard input, output or result).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

Json = Any
"""A JSON value: dict, list, str, int, float, bool or None."""


class QueryLanguage(StrEnum):
    """The query language a state evaluates its fields with."""

    JSONPATH = "JSONPath"
    JSONATA = "JSONata"


class ProcessorMode(StrEnum):
    """How a Map state runs its iterations."""

    INLINE = "INLINE"
    DISTRIBUTED = "DISTRIBUTED"


class JitterStrategy(StrEnum):
    """Retry jitter: none, or AWS's full jitter."""

    NONE = "NONE"
    FULL = "FULL"


@dataclass(frozen=True)
class Retrier:
    """One entry of a state's ``Retry`` list."""

    error_equals: tuple[str, ...]
    interval_seconds: int = 1
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay_seconds: int | None = None
    jitter_strategy: JitterStrategy = JitterStrategy.NONE
    comment: str | None = None


@dataclass(frozen=True)
class Catcher:
    """One entry of a state's ``Catch`` list."""

    error_equals: tuple[str, ...]
    next: str
    result_path: str | None = "$"
    assign: Json = None
    output: Json = None
    has_output: bool = False
    comment: str | None = None


# --- Choice rules -----------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """A data-test expression: ``Variable`` compared with ``operator`` to ``value``.

    ``operator`` is the ASL operator name, e.g. ``StringEquals``, ``NumericLessThanPath``,
    ``IsPresent``. For ``*Path`` operators ``value`` is a path to read at run time.
    """

    variable: str
    operator: str
    value: Json


@dataclass(frozen=True)
class Not:
    """Negation of a rule."""

    rule: ChoiceRule


@dataclass(frozen=True)
class And:
    """Conjunction of rules."""

    rules: tuple[ChoiceRule, ...]


@dataclass(frozen=True)
class Or:
    """Disjunction of rules."""

    rules: tuple[ChoiceRule, ...]


@dataclass(frozen=True)
class Condition:
    """A JSONata ``Condition``: a ``{% ... %}`` expression, or a literal boolean."""

    expression: Json


ChoiceRule = Comparison | Not | And | Or | Condition


@dataclass(frozen=True)
class ChoiceBranch:
    """A top-level entry of ``Choices``: a rule, where to go, and what to assign/output."""

    rule: ChoiceRule
    next: str
    assign: Json = None
    output: Json = None
    has_output: bool = False
    comment: str | None = None


# --- States -----------------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    """Fields every state type shares.

    Attributes:
        name: the state's key in ``States``.
        query_language: the effective language (own field, else inherited).
        next: the following state, or None when ``end`` (or for terminal types).
        assign: the raw ``Assign`` object, or None.
        output: the raw JSONata ``Output`` template (only when ``has_output``).
    """

    name: str
    query_language: QueryLanguage = QueryLanguage.JSONPATH
    comment: str | None = None
    next: str | None = None
    end: bool = False
    input_path: str | None = "$"
    output_path: str | None = "$"
    assign: Json = None
    output: Json = None
    has_output: bool = False

    @property
    def type_name(self) -> str:
        """The ASL ``Type`` of this state (``Pass``, ``Task`` ...)."""
        return type(self).__name__.removesuffix("State")


@dataclass(frozen=True)
class PassState(State):
    """``Type: Pass``: passes input to output, optionally injecting a fixed result."""

    result: Json = None
    has_result: bool = False
    parameters: Json = None
    has_parameters: bool = False
    result_path: str | None = "$"


@dataclass(frozen=True)
class TaskState(State):
    """``Type: Task``: runs a resource (a registered handler or an integration)."""

    resource: str = ""
    parameters: Json = None
    has_parameters: bool = False
    arguments: Json = None
    has_arguments: bool = False
    credentials: Json = None
    result_selector: Json = None
    has_result_selector: bool = False
    result_path: str | None = "$"
    timeout_seconds: Json = None
    timeout_seconds_path: str | None = None
    heartbeat_seconds: Json = None
    heartbeat_seconds_path: str | None = None
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()


@dataclass(frozen=True)
class ChoiceState(State):
    """``Type: Choice``: picks the first branch whose rule matches, else ``default``."""

    choices: tuple[ChoiceBranch, ...] = ()
    default: str | None = None


@dataclass(frozen=True)
class WaitState(State):
    """``Type: Wait``: exactly one of the four timing fields is set."""

    seconds: Json = None
    timestamp: Json = None
    seconds_path: str | None = None
    timestamp_path: str | None = None


@dataclass(frozen=True)
class SucceedState(State):
    """``Type: Succeed``: ends the thread successfully."""


@dataclass(frozen=True)
class FailState(State):
    """``Type: Fail``: ends the thread with an error and a cause."""

    error: Json = None
    cause: Json = None
    error_path: str | None = None
    cause_path: str | None = None


@dataclass(frozen=True)
class ParallelState(State):
    """``Type: Parallel``: runs every branch on the same input; output is their list."""

    branches: tuple[StateMachine, ...] = ()
    parameters: Json = None
    has_parameters: bool = False
    arguments: Json = None
    has_arguments: bool = False
    result_selector: Json = None
    has_result_selector: bool = False
    result_path: str | None = "$"
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()


@dataclass(frozen=True)
class ItemBatcher:
    """``ItemBatcher``: how a Distributed Map groups its items into one child input each.

    ``max_items`` / ``max_input_bytes`` are an integer or a JSONata expression string; the
    ``*_path`` forms are JSONPath reference paths. ``None``: no such limit given.
    """

    max_items: Json = None
    max_items_path: str | None = None
    max_input_bytes: Json = None
    max_input_bytes_path: str | None = None
    batch_input: Json = None
    has_batch_input: bool = False


@dataclass(frozen=True)
class MapState(State):
    """``Type: Map``: runs ``item_processor`` once per item of the input array."""

    item_processor: StateMachine | None = None
    processor_mode: ProcessorMode = ProcessorMode.INLINE
    execution_type: str | None = None
    items_path: str | None = "$"
    items: Json = None
    has_items: bool = False
    item_selector: Json = None
    has_item_selector: bool = False
    max_concurrency: Json = 0
    max_concurrency_path: str | None = None
    tolerated_failure_count: Json = None
    tolerated_failure_count_path: str | None = None
    tolerated_failure_percentage: Json = None
    tolerated_failure_percentage_path: str | None = None
    label: str | None = None
    item_reader: Json = None
    item_batcher: ItemBatcher | None = None
    result_writer: Json = None
    arguments: Json = None
    has_arguments: bool = False
    result_selector: Json = None
    has_result_selector: bool = False
    result_path: str | None = "$"
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()


AnyState = (
    PassState
    | TaskState
    | ChoiceState
    | WaitState
    | SucceedState
    | FailState
    | ParallelState
    | MapState
)


@dataclass(frozen=True)
class StateMachine:
    """A state machine, a Parallel branch or a Map item processor.

    Attributes:
        start_at: name of the first state.
        states: states by name, in definition order.
        query_language: the top-level language (inherited by states that set none).
        timeout_seconds: the top-level ``TimeoutSeconds`` (root machine only).
    """

    start_at: str
    states: dict[str, AnyState] = field(default_factory=dict)
    query_language: QueryLanguage = QueryLanguage.JSONPATH
    comment: str | None = None
    version: str | None = None
    timeout_seconds: int | None = None

    def state(self, name: str) -> AnyState:
        """The state called ``name`` (KeyError if absent: validation rules that out)."""
        return self.states[name]

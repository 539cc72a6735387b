"""Build the typed model from a validated ASL definition.

This is the only module that knows ASL's PascalCase keys. It assumes the definition
already passed :func:`engine._asl.validate.validate_definition`; it does not re-check.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from engine._asl.model import (
    And,
    AnyState,
    Catcher,
    ChoiceBranch,
    ChoiceRule,
    ChoiceState,
    Comparison,
    Condition,
    FailState,
    ItemBatcher,
    JitterStrategy,
    MapState,
    Not,
    Or,
    ParallelState,
    PassState,
    ProcessorMode,
    QueryLanguage,
    Retrier,
    StateMachine,
    SucceedState,
    TaskState,
    WaitState,
)

_COMPARISON_OPERATORS = (
    "StringEquals",
    "StringLessThan",
    "StringGreaterThan",
    "StringLessThanEquals",
    "StringGreaterThanEquals",
    "StringMatches",
    "NumericEquals",
    "NumericLessThan",
    "NumericGreaterThan",
    "NumericLessThanEquals",
    "NumericGreaterThanEquals",
    "BooleanEquals",
    "TimestampEquals",
    "TimestampLessThan",
    "TimestampGreaterThan",
    "TimestampLessThanEquals",
    "TimestampGreaterThanEquals",
    "IsNull",
    "IsPresent",
    "IsNumeric",
    "IsString",
    "IsBoolean",
    "IsTimestamp",
)
COMPARISON_OPERATORS = frozenset(
    _COMPARISON_OPERATORS + tuple(f"{op}Path" for op in _COMPARISON_OPERATORS if op[:2] != "Is")
)
"""Every data-test operator name ASL knows (the ``*Path`` forms included)."""


def build_state_machine(raw: Mapping[str, Any]) -> StateMachine:
    """Build the model of a whole (validated) definition."""
    language = QueryLanguage(raw.get("QueryLanguage", QueryLanguage.JSONPATH))
    return _machine(raw, language, timeout=raw.get("TimeoutSeconds"))


def _machine(
    raw: Mapping[str, Any], language: QueryLanguage, timeout: int | None = None
) -> StateMachine:
    states = {name: _state(name, body, language) for name, body in raw["States"].items()}
    return StateMachine(
        start_at=raw["StartAt"],
        states=states,
        query_language=language,
        comment=raw.get("Comment"),
        version=raw.get("Version"),
        timeout_seconds=timeout,
    )


def _state(name: str, raw: Mapping[str, Any], inherited: QueryLanguage) -> AnyState:
    language = QueryLanguage(raw.get("QueryLanguage", inherited))
    common = _common(name, raw, language)
    builder = _BUILDERS[raw["Type"]]
    return builder(raw, language, common)


def _common(name: str, raw: Mapping[str, Any], language: QueryLanguage) -> dict[str, Any]:
    return {
        "name": name,
        "query_language": language,
        "comment": raw.get("Comment"),
        "next": raw.get("Next"),
        "end": bool(raw.get("End", False)),
        "input_path": raw.get("InputPath", "$"),
        "output_path": raw.get("OutputPath", "$"),
        "assign": raw.get("Assign"),
        "output": raw.get("Output"),
        "has_output": "Output" in raw,
    }


def _optional(raw: Mapping[str, Any], key: str, attr: str) -> dict[str, Any]:
    """``{attr: value, has_attr: present}`` for template fields where null is meaningful."""
    return {attr: raw.get(key), f"has_{attr}": key in raw}


def _pass(raw: Mapping[str, Any], _: QueryLanguage, common: dict[str, Any]) -> PassState:
    return PassState(
        **common,
        **_optional(raw, "Result", "result"),
        **_optional(raw, "Parameters", "parameters"),
        result_path=raw.get("ResultPath", "$"),
    )


def _task(raw: Mapping[str, Any], _: QueryLanguage, common: dict[str, Any]) -> TaskState:
    return TaskState(
        **common,
        resource=raw["Resource"],
        **_optional(raw, "Parameters", "parameters"),
        **_optional(raw, "Arguments", "arguments"),
        credentials=raw.get("Credentials"),
        **_optional(raw, "ResultSelector", "result_selector"),
        result_path=raw.get("ResultPath", "$"),
        timeout_seconds=raw.get("TimeoutSeconds"),
        timeout_seconds_path=raw.get("TimeoutSecondsPath"),
        heartbeat_seconds=raw.get("HeartbeatSeconds"),
        heartbeat_seconds_path=raw.get("HeartbeatSecondsPath"),
        retry=_retriers(raw),
        catch=_catchers(raw),
    )


def _choice(raw: Mapping[str, Any], _: QueryLanguage, common: dict[str, Any]) -> ChoiceState:
    branches = tuple(
        ChoiceBranch(
            rule=_rule(entry),
            next=entry["Next"],
            assign=entry.get("Assign"),
            output=entry.get("Output"),
            has_output="Output" in entry,
            comment=entry.get("Comment"),
        )
        for entry in raw.get("Choices", ())
    )
    return ChoiceState(**common, choices=branches, default=raw.get("Default"))


def _rule(raw: Mapping[str, Any]) -> ChoiceRule:
    if "Condition" in raw:
        return Condition(raw["Condition"])
    if "And" in raw:
        return And(tuple(_rule(r) for r in raw["And"]))
    if "Or" in raw:
        return Or(tuple(_rule(r) for r in raw["Or"]))
    if "Not" in raw:
        return Not(_rule(raw["Not"]))
    operator = next(key for key in raw if key in COMPARISON_OPERATORS)
    return Comparison(variable=raw["Variable"], operator=operator, value=raw[operator])


def _wait(raw: Mapping[str, Any], _: QueryLanguage, common: dict[str, Any]) -> WaitState:
    return WaitState(
        **common,
        seconds=raw.get("Seconds"),
        timestamp=raw.get("Timestamp"),
        seconds_path=raw.get("SecondsPath"),
        timestamp_path=raw.get("TimestampPath"),
    )


def _succeed(_raw: Mapping[str, Any], _: QueryLanguage, common: dict[str, Any]) -> SucceedState:
    return SucceedState(**common)


def _fail(raw: Mapping[str, Any], _: QueryLanguage, common: dict[str, Any]) -> FailState:
    return FailState(
        **common,
        error=raw.get("Error"),
        cause=raw.get("Cause"),
        error_path=raw.get("ErrorPath"),
        cause_path=raw.get("CausePath"),
    )


def _parallel(
    raw: Mapping[str, Any], language: QueryLanguage, common: dict[str, Any]
) -> ParallelState:
    return ParallelState(
        **common,
        branches=tuple(_machine(branch, language) for branch in raw["Branches"]),
        **_optional(raw, "Parameters", "parameters"),
        **_optional(raw, "Arguments", "arguments"),
        **_optional(raw, "ResultSelector", "result_selector"),
        result_path=raw.get("ResultPath", "$"),
        retry=_retriers(raw),
        catch=_catchers(raw),
    )


def _map(raw: Mapping[str, Any], language: QueryLanguage, common: dict[str, Any]) -> MapState:
    processor = raw.get("ItemProcessor") or raw["Iterator"]
    config = processor.get("ProcessorConfig") or {}
    selector_key = "ItemSelector" if "ItemSelector" in raw else "Parameters"
    return MapState(
        **common,
        item_processor=_machine(processor, language),
        processor_mode=ProcessorMode(config.get("Mode", ProcessorMode.INLINE)),
        execution_type=config.get("ExecutionType"),
        items_path=raw.get("ItemsPath", "$"),
        **_optional(raw, "Items", "items"),
        **_optional(raw, selector_key, "item_selector"),
        max_concurrency=raw.get("MaxConcurrency", 0),
        max_concurrency_path=raw.get("MaxConcurrencyPath"),
        tolerated_failure_count=raw.get("ToleratedFailureCount"),
        tolerated_failure_count_path=raw.get("ToleratedFailureCountPath"),
        tolerated_failure_percentage=raw.get("ToleratedFailurePercentage"),
        tolerated_failure_percentage_path=raw.get("ToleratedFailurePercentagePath"),
        label=raw.get("Label"),
        item_reader=raw.get("ItemReader"),
        item_batcher=_item_batcher(raw.get("ItemBatcher")),
        result_writer=raw.get("ResultWriter"),
        **_optional(raw, "Arguments", "arguments"),
        **_optional(raw, "ResultSelector", "result_selector"),
        result_path=raw.get("ResultPath", "$"),
        retry=_retriers(raw),
        catch=_catchers(raw),
    )


def _item_batcher(raw: Mapping[str, Any] | None) -> ItemBatcher | None:
    if raw is None:
        return None
    return ItemBatcher(
        max_items=raw.get("MaxItemsPerBatch"),
        max_items_path=raw.get("MaxItemsPerBatchPath"),
        max_input_bytes=raw.get("MaxInputBytesPerBatch"),
        max_input_bytes_path=raw.get("MaxInputBytesPerBatchPath"),
        **_optional(raw, "BatchInput", "batch_input"),
    )


def _retriers(raw: Mapping[str, Any]) -> tuple[Retrier, ...]:
    return tuple(
        Retrier(
            error_equals=tuple(entry["ErrorEquals"]),
            interval_seconds=entry.get("IntervalSeconds", 1),
            max_attempts=entry.get("MaxAttempts", 3),
            backoff_rate=entry.get("BackoffRate", 2.0),
            max_delay_seconds=entry.get("MaxDelaySeconds"),
            jitter_strategy=JitterStrategy(entry.get("JitterStrategy", JitterStrategy.NONE)),
            comment=entry.get("Comment"),
        )
        for entry in raw.get("Retry", ())
    )


def _catchers(raw: Mapping[str, Any]) -> tuple[Catcher, ...]:
    return tuple(
        Catcher(
            error_equals=tuple(entry["ErrorEquals"]),
            next=entry["Next"],
            result_path=entry.get("ResultPath", "$"),
            assign=entry.get("Assign"),
            output=entry.get("Output"),
            has_output="Output" in entry,
            comment=entry.get("Comment"),
        )
        for entry in raw.get("Catch", ())
    )


_Builder = Callable[[Mapping[str, Any], QueryLanguage, dict[str, Any]], AnyState]
_BUILDERS: dict[str, _Builder] = {
    "Pass": _pass,
    "Task": _task,
    "Choice": _choice,
    "Wait": _wait,
    "Succeed": _succeed,
    "Fail": _fail,
    "Parallel": _parallel,
    "Map": _map,
}

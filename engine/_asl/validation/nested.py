"""Parallel and Map: the states that run nested machines, and Map's own fields.

A Parallel branch and a Map ``ItemProcessor`` (``Iterator`` in older definitions) are
machines of their own: their states form a separate scope, so ``Next`` cannot cross into
or out of them. They may not set ``QueryLanguage``: their states inherit the top-level
one, whatever the enclosing state says.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from engine._asl.validation.common import (
    check_jsonata_field,
    check_path,
    check_template,
    integer_field,
    is_expression_here,
)
from engine._asl.validation.context import StateContext
from engine._asl.validation.fields import BRANCH_FIELDS, PROCESSOR_FIELDS
from engine._asl.validation.report import Json, child
from engine._asl.validation.task import resource_problem
from engine._asl.validation.templates import check_jsonata_value
from engine._asl.validation.values import (
    expect_array,
    expect_choice,
    expect_object,
    expect_string,
    fail,
)

MAX_LABEL = 40
_LABEL_FORBIDDEN: Final = re.compile(
    r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f\ufffe\uffff]"
)
_MAX_BATCH_BYTES: Final = 262_144
_COUNT: Final = integer_field(0, 99_999_999)
_BATCH_COUNT: Final = integer_field(1, 99_999_999)
_BATCH_BYTES: Final = integer_field(1, _MAX_BATCH_BYTES)


def check_branches(state: StateContext, path: str, value: Json) -> None:
    """``Branches``: a non-empty list of machines, each a scope of its own."""
    if not expect_array(state.report, path, value, non_empty=True):
        return
    for index, branch in enumerate(value):
        _check_nested_machine(state, child(path, index), branch, BRANCH_FIELDS, "a Parallel branch")


def check_processor(state: StateContext, path: str, value: Json) -> None:
    """``ItemProcessor`` / ``Iterator``: the machine run for each item, and its mode."""
    if not _check_nested_machine(state, path, value, PROCESSOR_FIELDS, "a Map processor"):
        return
    config = value.get("ProcessorConfig")
    config_path = child(path, "ProcessorConfig")
    if config is None or not expect_object(state.report, config_path, config):
        return
    for field in config:
        if field not in ("Mode", "ExecutionType"):
            state.report.error(
                child(config_path, field), f"Field '{field}' is not supported in ProcessorConfig"
            )
    mode = config.get("Mode", "INLINE")
    expect_choice(state.report, child(config_path, "Mode"), mode, ("INLINE", "DISTRIBUTED"))
    if "ExecutionType" in config:
        expect_choice(
            state.report,
            child(config_path, "ExecutionType"),
            config["ExecutionType"],
            ("STANDARD", "EXPRESS"),
        )
    elif mode == "DISTRIBUTED":
        state.report.error(
            config_path, "The field 'ExecutionType' is required when Mode is 'DISTRIBUTED'"
        )


def _check_nested_machine(
    state: StateContext, path: str, value: Json, allowed: frozenset[str], what: str
) -> bool:
    if not expect_object(state.report, path, value):
        return False
    for field in value:
        if field not in allowed:
            hint = (
                " (a nested machine inherits the top-level one)" if field == "QueryLanguage" else ""
            )
            state.report.error(
                child(path, field), f"Field '{field}' is not supported in {what}{hint}"
            )
    state.machine.check_scope(path, value)
    return True


def check_items(state: StateContext, path: str, value: Json) -> None:
    """``Items`` (JSONata): an array, or an expression that yields one."""
    if isinstance(value, list) or is_expression_here(state, value):
        check_jsonata_value(state.report, path, value)
    else:
        fail(state.report, path, "an array or a JSONata expression '{% ... %}'", value)


def check_items_path(state: StateContext, path: str, value: Json) -> None:
    """``ItemsPath``: a Path to the array (null is not allowed, unlike InputPath)."""
    check_path(state, path, value)


def check_label(state: StateContext, path: str, value: Json) -> None:
    """``Label``: names a Distributed Map's child executions, so it must fit in an ARN."""
    report = state.report
    if not expect_string(report, path, value):
        return
    if not value:
        report.error(path, "Label cannot be empty")
    elif len(value) > MAX_LABEL:
        report.error(path, f"Label cannot exceed {MAX_LABEL} characters, got {len(value)}")
    forbidden = _LABEL_FORBIDDEN.search(value)
    if forbidden is not None:
        char = forbidden.group()
        name = unicodedata.name(char, f"U+{ord(char):04X}")
        report.error(
            path,
            f"Label contains invalid character {char!r} ({name}): whitespace, brackets, "
            'wildcards, control characters and " # % \\ ^ | ~ ` $ & , ; : / are not allowed',
        )


def check_item_reader(state: StateContext, path: str, value: Json) -> None:
    """``ItemReader``: where a Distributed Map reads its items from."""
    _check_io_config(state, path, value, "ItemReader", {"ReaderConfig"}, resource_required=True)
    if isinstance(value, dict) and isinstance(value.get("ReaderConfig"), dict):
        _check_reader_config(state, child(path, "ReaderConfig"), value["ReaderConfig"])


def check_result_writer(state: StateContext, path: str, value: Json) -> None:
    """``ResultWriter``: where a Distributed Map writes its results."""
    _check_io_config(state, path, value, "ResultWriter", {"WriterConfig"}, resource_required=False)
    if isinstance(value, dict) and not {"Resource", "WriterConfig"} & value.keys():
        state.report.error(path, "ResultWriter needs a 'Resource' or a 'WriterConfig'")
    if isinstance(value, dict) and "WriterConfig" in value:
        _check_writer_config(state, child(path, "WriterConfig"), value["WriterConfig"])


def _check_writer_config(state: StateContext, path: str, config: Json) -> None:
    """``WriterConfig``: how a ResultWriter shapes the children's results (ADR 0033)."""
    report = state.report
    if not expect_object(report, path, config):
        return
    choices = {"Transformation": ("NONE", "COMPACT", "FLATTEN"), "OutputType": ("JSON", "JSONL")}
    for field, item in config.items():
        if field in choices:
            expect_choice(report, child(path, field), item, choices[field])
        else:
            report.error(child(path, field), f"Field '{field}' is not supported in WriterConfig")


def _check_io_config(
    state: StateContext,
    path: str,
    value: Json,
    what: str,
    extra: set[str],
    *,
    resource_required: bool,
) -> None:
    report = state.report
    if not expect_object(report, path, value):
        return
    arguments = "Arguments" if state.jsonata else "Parameters"
    for field in value:
        if field not in {"Resource", arguments, *extra}:
            report.error(
                child(path, field),
                f"Field '{field}' is not supported in {what} of a {state.language} state",
            )
    if "Resource" in value:
        resource_path = child(path, "Resource")
        if expect_string(report, resource_path, value["Resource"], non_empty=True):
            problem = resource_problem(value["Resource"])
            if problem is not None:
                report.error(resource_path, problem)
    elif resource_required:
        report.error(path, f"The field 'Resource' is required in {what} but was missing")
    if arguments in value:
        check_template(state, child(path, arguments), value[arguments])


def _check_reader_config(state: StateContext, path: str, config: dict[str, Json]) -> None:
    report = state.report
    known = {"InputType", "CSVHeaderLocation", "CSVDelimiter", "CSVHeaders"}
    for field in config.keys() - known - {"MaxItems", "MaxItemsPath"}:
        report.error(child(path, field), f"Field '{field}' is not supported in ReaderConfig")
    choices = {
        "InputType": ("CSV", "JSON", "JSONL", "MANIFEST", "PARQUET"),
        "CSVHeaderLocation": ("FIRST_ROW", "GIVEN"),
        "CSVDelimiter": ("COMMA", "PIPE", "SEMICOLON", "SPACE", "TAB"),
    }
    for field, options in choices.items():
        if field in config:
            expect_choice(report, child(path, field), config[field], options)
    if "MaxItems" in config and "MaxItemsPath" in config:
        report.error(path, "Only one of 'MaxItems' and 'MaxItemsPath' may be given")
    if "MaxItems" in config:
        _COUNT(state, child(path, "MaxItems"), config["MaxItems"])
    if "MaxItemsPath" in config:
        check_path(state, child(path, "MaxItemsPath"), config["MaxItemsPath"])
    if "CSVHeaders" in config:
        headers_path = child(path, "CSVHeaders")
        if expect_array(report, headers_path, config["CSVHeaders"]):
            for index, header in enumerate(config["CSVHeaders"]):
                expect_string(report, child(headers_path, index), header)


def check_item_batcher(state: StateContext, path: str, value: Json) -> None:
    """``ItemBatcher``: how a Distributed Map groups items into batches."""
    report = state.report
    if not expect_object(report, path, value):
        return
    checks = {
        "MaxItemsPerBatch": _BATCH_COUNT,
        "MaxInputBytesPerBatch": _BATCH_BYTES,
        "BatchInput": check_template if not state.jsonata else check_jsonata_field,
    }
    if not state.jsonata:
        checks |= {"MaxItemsPerBatchPath": check_path, "MaxInputBytesPerBatchPath": check_path}
    for field, item in value.items():
        check = checks.get(field)
        if check is None:
            report.error(
                child(path, field),
                f"Field '{field}' is not supported in ItemBatcher of a {state.language} state",
            )
        else:
            check(state, child(path, field), item)
    sizes = ("MaxItemsPerBatch", "MaxInputBytesPerBatch")
    for field in sizes:
        if field in value and f"{field}Path" in value:
            report.error(path, f"Only one of '{field}' and '{field}Path' may be given")
    if not any(field in value or f"{field}Path" in value for field in sizes):
        report.error(
            path, "ItemBatcher needs a batch size: MaxItemsPerBatch or MaxInputBytesPerBatch"
        )

"""The in-process fast paths give what the slow ones gave (ADR 0048): sizes, texts, timestamps."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from engine._asl.model import StateMachine
from engine._dataflow.nesting import NestingTooDeep, check_nesting
from engine._dataflow.sizes import json_size
from engine._interpreter.history import to_json_text
from engine._interpreter.seeded import step_rng
from engine._interpreter.snapshot import Execution, Thread, ThreadStatus
from engine._interpreter.turn import Limits, Turn, iso_timestamp

Json = Any
ODD_VALUES = [
    {'é"\\\n': 1, "a\u2028": [{"k": "v"}], "": {}},
    {"x": "😀" * 3, "y": [1.5, -0.0, 10**30, None, True, False]},
    {1: 2, None: "n", 2.5: [True]},  # keys a handler may return: JSON writes them as text
    [[], [[]], {}, ""],
]


def compact(value: Json) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@pytest.mark.parametrize("value", ODD_VALUES)
def test_json_size_of_escaped_and_unusual_keys_is_the_text_length(value: Json) -> None:
    # Given a value whose keys need escaping, are not ASCII or are not strings
    # When it is measured
    size = json_size(value, 10**9)
    # Then the size is that of its compact UTF-8 text
    assert size == len(compact(value).encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize("value", [*ODD_VALUES, "x", None, 1.25, float("nan")])
def test_history_text_is_compact_json_with_unicode_kept(value: Json) -> None:
    # Given a payload
    # When history renders it
    # Then it is json.dumps's compact text
    assert to_json_text(value) == compact(value)


def test_history_text_still_refuses_a_circular_value() -> None:
    # Given a list that contains itself
    value: list[Json] = []
    value.append(value)
    # When history renders it
    # Then it is refused as json.dumps refuses it
    with pytest.raises(ValueError, match="Circular"):
        to_json_text(value)


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        datetime(2026, 12, 6, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=2))),
        datetime(2026, 1, 1, tzinfo=timezone(timedelta(0))),  # UTC, not the UTC object
        datetime(999, 1, 1, 0, 0, 0, 1000, tzinfo=UTC),
    ],
)
def test_timestamps_render_as_strftime_rendered_them(moment: datetime) -> None:
    # Given a moment, in UTC or not
    utc = moment.astimezone(UTC)
    # When it is rendered for history
    # Then it is the strftime rendering, milliseconds truncated, with Z
    expected = utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    assert iso_timestamp(moment) == expected


def test_nesting_settled_by_a_text_with_few_brackets_and_walked_otherwise() -> None:
    # Given a shallow value with its text and a deep one with its text
    shallow = {"a": [1, {"b": 2}]}
    deep: Json = []
    for _ in range(20):
        deep = [deep]
    # When each is checked against 10 levels
    # Then the shallow passes and the deep one is still refused
    assert check_nesting(shallow, 10, json.dumps(shallow)) is shallow
    with pytest.raises(NestingTooDeep):
        check_nesting(deep, 10, json.dumps(deep))


def a_turn() -> Turn:
    execution = Execution("arn", "n", "sm", "sm", "role", "t", {"in": 1})
    now = datetime(2024, 1, 1, tzinfo=UTC)
    return Turn(StateMachine("A"), execution, now, step_rng(0, "root", 0), Limits())


def test_a_turn_serialises_one_payload_once_and_equal_payloads_alike() -> None:
    # Given a turn and a payload shown by two events of its step
    turn = a_turn()
    payload = {"kind": "a", "items": [1, 2]}
    # When its text and size are asked for twice, and for an equal copy
    first, again = turn.payload_text(payload), turn.payload_text(payload)
    copy_text = turn.payload_text(json.loads(json.dumps(payload)))
    # Then the text is made once, an equal payload has an equal text, sizes agree
    assert again is first
    assert copy_text == first == compact(payload)
    assert turn.payload_size(payload) == turn.payload_size(payload) == len(first)


def test_a_turn_numbers_events_without_copying_the_header_for_each() -> None:
    # Given a turn over an execution whose next event is 1
    turn = a_turn()
    root = Thread("root", None, None, (), ThreadStatus.RUNNING, "A")
    # When it records two events
    root = turn.emit(root, "PassStateEntered")
    root = turn.emit(root, "PassStateExited", state="B")
    # Then the events are numbered and chained, the header counts them, the thread moved on
    assert [(e.id, e.previous_event_id) for e in turn.history] == [(1, 0), (2, 1)]
    assert turn.execution.next_event_id == 3
    assert (root.last_event_id, root.state) == (2, "B")

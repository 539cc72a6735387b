"""Request bodies read against botocore's input shapes; results written as AWS writes them.

The server checks what it receives as AWS's JSON 1.0 front end does, in its order:

1. the body must be a JSON object and every member of the JSON type its shape says
   (otherwise ``SerializationException``, worded as AWS words it);
2. members the shape does not know are ignored (AWS ignores them: a newer SDK may send
   members an older service does not know yet);
3. ``null`` is an absent member; an absent required member is a ``ValidationException``
   listing every one, as "1 validation error detected: Value null at 'stateMachineArn'
   failed to satisfy constraint: Member must not be null".

Results go out as JSON with timestamps as epoch seconds (numbers), as AWS sends them;
botocore parses them back into datetimes.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from botocore.model import Shape

from engine._wire.errors import WireError, serialization, validation

Json = Any

# Java's boxed names, as AWS's deserializer names the type it expected.
_TYPE_NAMES = {
    "string": "String",
    "integer": "Integer",
    "long": "Long",
    "boolean": "Boolean",
    "double": "Double",
    "float": "Float",
    "timestamp": "Date",
    "blob": "ByteBuffer",
}
_INT32 = 2**31


def decode_body(body: bytes) -> dict[str, Json]:
    """The request body as a JSON object; an empty body is ``{}``.

    Raises:
        WireError: ``SerializationException`` for text that is not JSON or not an object.
    """
    if not body.strip():
        return {}
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise serialization(_not_json(error)) from None
    if not isinstance(document, dict):
        raise serialization(_unexpected(document, "Structure"))
    return document


def read_input(shape: Shape | None, document: dict[str, Json]) -> dict[str, Json]:
    """The keyword arguments of an operation: ``document`` checked against ``shape``.

    Raises:
        WireError: ``SerializationException`` (a member of the wrong JSON type) or
            ``ValidationException`` (required members absent), AWS's wording.
    """
    if shape is None:
        return {}
    missing: list[str] = []
    params = _structure(shape, document, "", missing)
    if missing:
        count = len(missing)
        listed = "; ".join(
            f"Value null at '{path}' failed to satisfy constraint: Member must not be null"
            for path in missing
        )
        raise validation(f"{count} validation error{'s' if count > 1 else ''} detected: {listed}")
    return params


def _read(shape: Shape, value: Json, path: str, missing: list[str]) -> Json:
    kind = shape.type_name
    if kind == "structure":
        return _structure(shape, value, path, missing)
    if kind == "list":
        if not isinstance(value, list):
            raise serialization(_unexpected(value, "List"))
        return [
            _read(shape.member, item, f"{path}.{index}.member", missing)
            for index, item in enumerate(value, start=1)
            if item is not None
        ]
    if kind == "map":
        if not isinstance(value, dict):
            raise serialization(_unexpected(value, "Map"))
        return {
            key: _read(shape.value, item, f"{path}.{key}", missing)
            for key, item in value.items()
            if item is not None
        }
    return _scalar(kind, value)


def _structure(shape: Shape, value: Json, path: str, missing: list[str]) -> dict[str, Json]:
    if not isinstance(value, dict):
        raise serialization(_unexpected(value, shape.name))
    members: dict[str, Json] = {}
    for name, member in shape.members.items():
        item = value.get(name)
        if item is not None:
            members[name] = _read(member, item, f"{path}.{name}" if path else name, missing)
    for name in shape.required_members:
        if name not in members:
            missing.append(f"{path}.{name}" if path else name)
    return members


def _scalar(kind: str, value: Json) -> Json:
    expected = _TYPE_NAMES.get(kind, kind)
    ok = {
        "string": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "integer": _is_int(value) and -_INT32 <= value < _INT32,
        "long": _is_int(value),
        "double": _is_number(value),
        "float": _is_number(value),
        "timestamp": _is_number(value),
        "blob": isinstance(value, str),
    }.get(kind, True)
    if not ok:
        raise serialization(_unexpected(value, expected))
    if kind == "timestamp":
        return datetime.fromtimestamp(value, UTC)
    if kind == "blob":
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise serialization(f"Base64 encoded binary data expected, got {value!r}") from None
    return value


def _is_int(value: Json) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Json) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _unexpected(value: Json, expected: str) -> str:
    """AWS's deserializer's words for ``value`` where an ``expected`` was due."""
    if isinstance(value, dict):
        return "Start of structure or map found where not expected."
    if isinstance(value, list):
        return "Start of list found where not expected"
    if isinstance(value, bool):
        token = "BOOLEAN_VALUE"
    elif isinstance(value, int | float):
        token = "NUMBER_VALUE"
    else:
        token = "STRING_VALUE"
    return f"{token} cannot be converted to {expected}"


def _not_json(error: Exception) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"Malformed JSON: {error.msg} (line {error.lineno}, column {error.colno})"
    if isinstance(error, RecursionError):
        return "Malformed JSON: nested too deeply"
    return f"Malformed JSON: {error}"


def encode_output(result: dict[str, Json]) -> bytes:
    """``result`` as AWS's JSON: timestamps as epoch seconds, blobs in base64, no nulls."""
    return json.dumps(_jsonable(result), ensure_ascii=False, separators=(",", ":")).encode()


def _jsonable(value: Json) -> Json:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.timestamp()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


__all__ = ["WireError", "decode_body", "encode_output", "read_input"]

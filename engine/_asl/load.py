"""Read definition text (JSON, or YAML for files people write by hand) into plain JSON values.

AWS accepts JSON only; stepline also reads YAML, but with JSON's meaning: only ``true`` /
``false`` are booleans (not ``yes`` / ``on``), numbers are decimal, and an unquoted date
stays a string (YAML 1.1 would turn ``2016-03-14T01:59:00Z`` into a datetime and ``1:30``
into 90). Duplicate keys are refused in both, as AWS refuses them: with two ``"Next"``
keys one of them would silently win.

Every malformed text raises :class:`engine._errors.DefinitionSyntaxError` with the line
and column of the problem when they are known; no parser exception escapes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from json.decoder import JSONObject, scanstring  # type: ignore[attr-defined]
from json.scanner import py_make_scanner  # type: ignore[attr-defined]
from typing import Any, NoReturn

from engine._dataflow.nesting import MAX_NESTING_DEPTH, nesting_depth
from engine._errors import DefinitionSyntaxError, Diagnostic, InvalidDefinition

Json = Any
"""A JSON value: dict, list, str, int, float, bool or None."""

DEFAULT_MAX_DEFINITION_BYTES = 1_048_576
"""AWS's limit on the size of a definition (1 MB), the default of the setting."""

_WHITESPACE = re.compile(r"[ \t\n\r]*")


def load_definition_text(text: str | bytes, *, max_bytes: int | None = None) -> Json:
    """Parse a definition written as JSON (or YAML when it does not look like JSON).

    Text whose first non-blank character is ``{`` or ``[`` is JSON and must be valid JSON;
    anything else is read as YAML with JSON's meaning (see the module docstring).

    Args:
        text: the definition, as text or UTF-8 bytes.
        max_bytes: when given, refuse a definition larger than this many UTF-8 bytes first.

    Returns:
        The parsed value (a dict for any definition worth validating).

    Raises:
        DefinitionSyntaxError: the text is not well-formed, has duplicate keys, or holds a
            value JSON cannot represent.
        InvalidDefinition: the text is larger than ``max_bytes``.
    """
    if max_bytes is not None:
        check_definition_size(text, max_bytes=max_bytes)
    source = _decode(text)
    if not source.strip():
        raise DefinitionSyntaxError("The definition is empty: expected a JSON object", 1, 1)
    if source.lstrip()[:1] in ("{", "["):
        return _within_depth(_load_json(source))
    from engine._asl.yaml_load import load_yaml  # PyYAML: only for text that is not JSON

    return load_yaml(source)


def _too_deep() -> DefinitionSyntaxError:
    return DefinitionSyntaxError(
        f"The definition nests arrays and objects more than {MAX_NESTING_DEPTH} levels deep; "
        f"the maximum is {MAX_NESTING_DEPTH}"
    )


def _within_depth(value: Json) -> Json:
    """``value``, unless it nests too deeply for the validator and interpreter to walk."""
    if nesting_depth(value) > MAX_NESTING_DEPTH:
        raise _too_deep()
    return value


def definition_size_bytes(text: str | bytes) -> int:
    """The size of a definition as AWS counts it against its limit: UTF-8 bytes.

    Args:
        text: the definition text or its bytes.

    Returns:
        The number of bytes.
    """
    return len(text) if isinstance(text, bytes) else len(text.encode("utf-8"))


def check_definition_size(
    text: str | bytes, *, max_bytes: int = DEFAULT_MAX_DEFINITION_BYTES
) -> None:
    """Refuse a definition larger than the configured limit.

    Args:
        text: the definition text or its bytes.
        max_bytes: the limit (a setting; AWS's 1,048,576 bytes by default).

    Raises:
        InvalidDefinition: the definition is larger than ``max_bytes``.
    """
    size = definition_size_bytes(text)
    if size > max_bytes:
        message = f"The definition is {size} bytes long; the maximum is {max_bytes} bytes"
        raise InvalidDefinition([Diagnostic("", message, code="DEFINITION_TOO_LARGE")])


def _decode(text: str | bytes) -> str:
    if isinstance(text, str):
        return text.removeprefix("\ufeff")
    try:
        return text.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line, column = _line_column(text[: error.start].decode("utf-8", "replace"), None)
        raise DefinitionSyntaxError(
            f"The definition is not valid UTF-8: byte 0x{text[error.start]:02x} cannot start "
            "or continue a character",
            line,
            column,
        ) from None


def _line_column(source: str, index: int | None) -> tuple[int, int]:
    """1-based line and column of ``index`` in ``source`` (its end when None)."""
    before = source if index is None else source[:index]
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


# --- JSON --------------------------------------------------------------------------------


class _DuplicateKeyError(Exception):
    """A key appeared twice in one object; ``index`` is where its second use starts."""

    def __init__(self, key: str, index: int | None = None):
        super().__init__(key)
        self.key = key
        self.index = index


def _refuse_duplicates(pairs: list[tuple[str, Json]]) -> dict[str, Json]:
    result: dict[str, Json] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(key)
        result[key] = value
    return result


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def _load_json(source: str) -> Json:
    try:
        return json.loads(
            source, object_pairs_hook=_refuse_duplicates, parse_constant=_refuse_constant
        )
    except json.JSONDecodeError as error:
        message = f"Invalid JSON: {error.msg}{_found(source, error.pos)}"
        raise DefinitionSyntaxError(message, error.lineno, error.colno) from None
    except _DuplicateKeyError as duplicate:
        index = _locate_duplicate(source)
        line, column = _line_column(source, index) if index is not None else (None, None)
        raise DefinitionSyntaxError(
            f'Invalid JSON: duplicate key "{duplicate.key}" in the same object', line, column
        ) from None
    except ValueError as error:
        raise DefinitionSyntaxError(f"Invalid JSON: {error}") from None
    except RecursionError:  # deeper than Python's parser goes
        raise _too_deep() from None


def _found(source: str, index: int) -> str:
    """What the parser found at ``index``, quoted for an error message."""
    token = re.match(r"[^\s{}\[\],:]{1,20}|\S", source[index:])
    return f", found {token.group()!r}" if token else ", found the end of the text"


def _locate_duplicate(source: str) -> int | None:
    """Where the first duplicate key's second use starts, found by a slower second parse.

    The fast C parser cannot report positions, so only a definition already known to hold
    a duplicate pays for the pure-Python parser, whose object hook knows where each
    object starts.
    """
    decoder = json.JSONDecoder(object_pairs_hook=_refuse_duplicates)
    decoder.parse_object = _positioned_parse_object  # type: ignore[attr-defined]
    decoder.scan_once = py_make_scanner(decoder)  # type: ignore[attr-defined]
    try:
        decoder.decode(source)
    except _DuplicateKeyError as duplicate:
        return duplicate.index
    except ValueError:
        return None
    return None


def _positioned_parse_object(
    s_and_end: tuple[str, int],
    strict: bool,
    scan_once: Callable[[str, int], tuple[Json, int]],
    object_hook: Callable[[dict[str, Json]], Json] | None,
    object_pairs_hook: Callable[[list[tuple[str, Json]]], Json] | None,
    memo: dict[str, str] | None = None,
    _w: Callable[[str, int], re.Match[str] | None] = _WHITESPACE.match,
) -> tuple[Json, int]:
    try:
        return JSONObject(  # type: ignore[no-any-return]
            s_and_end, strict, scan_once, object_hook, object_pairs_hook, memo, _w
        )
    except _DuplicateKeyError as duplicate:
        if duplicate.index is None:
            duplicate.index = _second_key_index(
                s_and_end[0], s_and_end[1], duplicate.key, scan_once
            )
        raise


def _second_key_index(
    source: str, index: int, key: str, scan_once: Callable[[str, int], tuple[Json, int]]
) -> int | None:
    """Walk the members of the object whose body starts at ``index`` to ``key``'s 2nd use."""
    seen = False
    index = _skip_blank(source, index)
    while index < len(source) and source[index] == '"':
        name, end = scanstring(source, index + 1)
        if name == key and seen:
            return index
        seen = seen or name == key
        index = _skip_blank(source, _skip_blank(source, end) + 1)
        _, index = scan_once(source, index)
        index = _skip_blank(source, index)
        if source[index : index + 1] != ",":
            return None
        index = _skip_blank(source, index + 1)
    return None


def _skip_blank(source: str, index: int) -> int:
    match = _WHITESPACE.match(source, index)
    return match.end() if match else index

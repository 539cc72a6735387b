"""Where diagnostics are collected, and how places in a definition are named.

A place is a JSON pointer (RFC 6901) into the raw definition, e.g.
``/States/Wait1/Seconds`` or ``/States/Choose/Choices/0/Next``. Messages say what was
expected and what was found; `describe` words the "found" part the same way everywhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from engine._errors import Diagnostic

Json = Any
"""A JSON value: dict, list, str, int, float, bool or None."""


class Code(StrEnum):
    """Diagnostic codes, as AWS's ValidateStateMachineDefinition names them."""

    SCHEMA = "SCHEMA_VALIDATION_FAILED"
    MISSING_TARGET = "MISSING_TRANSITION_TARGET"
    MISSING_END = "MISSING_END_STATE"
    DUPLICATE_STATE = "DUPLICATE_STATE_NAME"
    INVALID_JSONATA = "INVALID_JSONATA_EXPRESSION"


@dataclass
class Report:
    """The diagnostics found so far, in the order they were found."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def error(self, path: str, message: str, code: Code = Code.SCHEMA) -> None:
        """Record one problem at ``path``."""
        self.diagnostics.append(Diagnostic(path, message, str(code)))


def child(path: str, key: str | int) -> str:
    """The pointer to ``key`` (an object key or array index) inside ``path``."""
    token = str(key).replace("~", "~0").replace("/", "~1")
    return f"{path}/{token}"


def describe(value: Json) -> str:
    """``value`` named by its JSON type, with the value itself when it is short."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {json.dumps(value)}"
    if isinstance(value, int | float):
        return f"number {json.dumps(value)}"
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return "string " + (text if len(text) <= 60 else text[:56] + '..."')
    if isinstance(value, list):
        return f"an array of {len(value)} item(s)"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def quote(value: str) -> str:
    """``value`` in double quotes with JSON escapes, for messages."""
    return json.dumps(value, ensure_ascii=False)

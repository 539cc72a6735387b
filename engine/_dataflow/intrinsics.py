r"""The ``States.*`` intrinsic functions of JSONPath states: parser, checker and evaluator.

A call such as ``States.Format('Hello {}', $.name)`` is parsed once into an
`IntrinsicCall` (the validator uses `parse_call` to report syntax errors when a
definition is created) and evaluated against a `Scope` at run time.

Arguments are string literals (``'...'``, where ``\\'``, ``\\{``, ``\\}`` and ``\\\\`` are the
only escapes), numbers, ``true`` / ``false`` / ``null``, paths (``$...`` on the input,
``$$...`` on the context object, ``$name...`` on a variable) and nested calls.

The 18 functions live in `FUNCTIONS`, a registry of plain functions; `SIGNATURES` gives
their arity and argument types, checked on literals at parse time and on every value at
run time. `States.UUID` and `States.MathRandom` draw only from ``scope.rng``; a seeded
`States.MathRandom` is a pure function of its seed (Java's ``java.util.Random``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from engine._dataflow.intrinsic_functions import (
    FUNCTIONS,
    KINDS,
    SIGNATURES,
    ArgumentError,
    Signature,
    is_kind,
)
from engine._dataflow.jsonpath import (
    PathNotFound,
    check_path_syntax,
    compact_json,
    path_end,
    query,
)
from engine._dataflow.scope import Json, Scope
from engine._dataflow.sizes import ensure_value_within
from engine._errors import ErrorName, StatesRuntimeError, SteplineError

_CALL_START: Final = re.compile(r"States\.([A-Za-z0-9]+)\s*\(")
_NUMBER: Final = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_KEYWORDS: Final = {"true": True, "false": False, "null": None}
_ESCAPABLE: Final = "'{}\\"


@dataclass(frozen=True)
class Literal:
    """A literal; a string also keeps its ``template``: its text split at unescaped ``{}``."""

    value: Json
    template: tuple[str, ...] | None = None


@dataclass(frozen=True)
class PathArgument:
    """A path argument: ``$...``, ``$$...`` or ``$name...``."""

    path: str


@dataclass(frozen=True)
class IntrinsicCall:
    """A parsed call: the function ``name`` (``States.Format``), its ``arguments`` and ``text``."""

    name: str
    arguments: tuple[Argument, ...]
    text: str


Argument = Literal | PathArgument | IntrinsicCall


MAX_CALL_NESTING: Final = 100
"""How deep calls may nest in one another (AWS documents no limit; real calls nest a few)."""


class IntrinsicSyntaxError(SteplineError, ValueError):
    """A malformed call: ``reason`` says what is wrong at ``position`` (0-based) in ``text``."""

    def __init__(self, text: str, position: int, reason: str):
        super().__init__(f"Invalid intrinsic function call '{text}': {reason} (offset {position})")
        self.text = text
        self.position = position
        self.reason = reason


def is_intrinsic_call(text: object) -> bool:
    """Whether ``text`` is written as an intrinsic function call (``States.Name(...``)."""
    return isinstance(text, str) and _CALL_START.match(text) is not None


@lru_cache(maxsize=2048)
def parse_call(text: str) -> IntrinsicCall:
    """Parse an intrinsic function call, checking names, arity and literal argument types.

    Raises:
        IntrinsicSyntaxError: the text is not a valid call.
    """
    parser = _Parser(text)
    call = parser.call()
    parser.skip_spaces()
    if parser.pos != len(text):
        raise parser.error(f"unexpected text after the call: {text[parser.pos :]!r}")
    return call


def evaluate(text_or_call: str | IntrinsicCall, scope: Scope, *, field: str | None = None) -> Json:
    """Evaluate an intrinsic function call in ``scope``.

    Args:
        text_or_call: the call as written, or as parsed by `parse_call`.
        scope: what paths read (input, context object, variables) and the random source.
        field: the payload field being evaluated (e.g. ``value.$``), for messages.

    Raises:
        StatesRuntimeError: ``States.IntrinsicFailure`` when a function cannot use its
            arguments (or the call is malformed); ``States.Runtime`` when a path argument
            selects nothing.
    """
    try:
        call = text_or_call if isinstance(text_or_call, IntrinsicCall) else parse_call(text_or_call)
    except IntrinsicSyntaxError as error:
        raise StatesRuntimeError(ErrorName.INTRINSIC_FAILURE, str(error)) from None
    return _evaluate_call(call, scope, field)


# --- parsing ------------------------------------------------------------------------------


class _Parser:
    """A recursive-descent parser over one call's text."""

    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.depth = 0

    def error(self, reason: str) -> IntrinsicSyntaxError:
        return IntrinsicSyntaxError(self.text, self.pos, reason)

    def skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def call(self) -> IntrinsicCall:
        start = self.pos
        match = _CALL_START.match(self.text, self.pos)
        if match is None:
            raise self.error("expected a function call 'States.<Name>(...)'")
        name = f"States.{match.group(1)}"
        if name not in SIGNATURES:
            raise self.error(f"unknown intrinsic function '{name}'")
        self.depth += 1
        if self.depth > MAX_CALL_NESTING:  # the parser recurses once per level
            raise self.error(f"calls may nest at most {MAX_CALL_NESTING} levels deep")
        self.pos = match.end()
        arguments = self.arguments()
        self.depth -= 1
        call = IntrinsicCall(name, tuple(arguments), self.text[start : self.pos])
        self.check_signature(call, start)
        return call

    def arguments(self) -> list[Argument]:
        arguments: list[Argument] = []
        self.skip_spaces()
        if self.text.startswith(")", self.pos):
            self.pos += 1
            return arguments
        while True:
            self.skip_spaces()
            arguments.append(self.argument())
            self.skip_spaces()
            if self.pos >= len(self.text):
                raise self.error("expected ',' or ')' but the text ended")
            separator = self.text[self.pos]
            self.pos += 1
            if separator == ")":
                return arguments
            if separator != ",":
                self.pos -= 1
                raise self.error(f"expected ',' or ')' but found {separator!r}")

    def argument(self) -> Argument:
        # Matched in place, never on a copy of the rest: a call of 100,000 arguments
        # copied its text 100,000 times.
        if self.text.startswith("'", self.pos):
            return self.string()
        if self.text.startswith("$", self.pos):
            return self.path()
        if self.text.startswith("States.", self.pos):
            return self.call()
        number = _NUMBER.match(self.text, self.pos)
        if number is not None:
            token = number.group(0)
            parsed = float(token) if any(c in token for c in ".eE") else int(token)
            if isinstance(parsed, float) and math.isinf(parsed):
                raise self.error(f"the number {token} is out of range")
            self.pos = number.end()
            return Literal(parsed)
        for word, value in _KEYWORDS.items():
            if re.compile(rf"{word}(?![\w.$])").match(self.text, self.pos):
                self.pos += len(word)
                return Literal(value)
        rest = self.text[self.pos : self.pos + 40]
        raise self.error(
            f"expected an argument (string, number, boolean, null, path or call) at {rest!r}"
        )

    def string(self) -> Literal:
        self.pos += 1  # the opening quote
        segments: list[str] = []
        current = ""
        open_brace = False  # `current` ends with an unescaped '{'
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if char == "'":
                parts = (*segments, current)
                return Literal("{}".join(parts), parts)
            if char == "\\":
                current += self.escaped()
                open_brace = False
            elif char == "}" and open_brace:
                segments.append(current[:-1])
                current, open_brace = "", False
            else:
                current += char
                open_brace = char == "{"
        raise self.error("the string literal is not closed with '")

    def escaped(self) -> str:
        if self.pos >= len(self.text) or self.text[self.pos] not in _ESCAPABLE:
            found = self.text[self.pos : self.pos + 1]
            self.pos -= 1
            raise self.error(
                f"invalid escape sequence '\\{found}' (only \\' \\{{ \\}} \\\\ are allowed)"
            )
        self.pos += 1
        return self.text[self.pos - 1]

    def path(self) -> PathArgument:
        start = self.pos
        self.pos = path_end(self.text, start, ",)")
        path = self.text[start : self.pos].rstrip()
        problem = check_path_syntax(path)
        if problem is not None:
            self.pos = start
            raise self.error(problem)
        return PathArgument(path)

    def check_signature(self, call: IntrinsicCall, start: int) -> None:
        signature = SIGNATURES[call.name]
        count = len(call.arguments)
        if count < signature.min_args or (
            signature.max_args is not None and count > signature.max_args
        ):
            self.pos = start
            raise self.error(f"'{call.name}' takes {_arity(signature)}, but {count} were given")
        for position, argument in enumerate(call.arguments):
            kind = signature.kind(position)
            if isinstance(argument, Literal) and not is_kind(argument.value, kind):
                self.pos = start
                raise self.error(
                    f"argument {position + 1} of '{call.name}' must be {KINDS[kind][0]}, "
                    f"but is {compact_json(argument.value)}"
                )


def _arity(signature: Signature) -> str:
    low, high = signature.min_args, signature.max_args
    if high is None:
        return f"at least {low} argument(s)"
    return f"{low} argument(s)" if low == high else f"{low} to {high} arguments"


# --- evaluation ---------------------------------------------------------------------------


def _evaluate_call(call: IntrinsicCall, scope: Scope, field: str | None) -> Json:
    values = [_evaluate_argument(argument, scope, field) for argument in call.arguments]
    where = f" in the field '{field}'" if field else ""
    signature = SIGNATURES[call.name]
    for position, value in enumerate(values):
        kind = signature.kind(position)
        if not is_kind(value, kind):
            raise StatesRuntimeError(
                ErrorName.INTRINSIC_FAILURE,
                f"The function '{call.name}'{where} expects argument {position + 1} to be "
                f"{KINDS[kind][0]}, but received {compact_json(value)}",
            )
    if call.name == "States.Format":
        values[0] = _template(call.arguments[0], values[0])
    try:
        result = FUNCTIONS[call.name](values, scope)
    except ArgumentError as failure:
        raise StatesRuntimeError(
            ErrorName.INTRINSIC_FAILURE, f"The function '{call.name}'{where} failed: {failure}"
        ) from None
    # Arguments may be references to one value (States.Array($, $, ...)): measure, never copy.
    return ensure_value_within(result, scope.max_bytes, f"The result of '{call.name}'")


def _evaluate_argument(argument: Argument, scope: Scope, field: str | None) -> Json:
    if isinstance(argument, Literal):
        return argument.value
    if isinstance(argument, IntrinsicCall):
        return _evaluate_call(argument, scope, field)
    try:
        return query(argument.path, scope)
    except PathNotFound:
        where = f" specified for the field '{field}'" if field else ""
        raise StatesRuntimeError(
            ErrorName.RUNTIME,
            f"The JSONPath '{argument.path}'{where} could not be found in the input "
            f"'{compact_json(scope.input)}'",
        ) from None


def _template(argument: Argument, value: str) -> tuple[str, ...]:
    """Format's template split at its placeholders; only literals can escape braces."""
    if isinstance(argument, Literal) and argument.template is not None:
        return argument.template
    return tuple(value.split("{}"))

"""The one wrapper around jsonpath-ng, holding every AWS JSONPath quirk by name.

AWS Step Functions evaluates paths with Jayway JsonPath, whose semantics differ from the
RFC 9535 ones jsonpath-ng follows. jsonpath-ng parses every path and evaluates the
indefinite ones; the quirks live here:

* **Definite vs indefinite.** A *definite* path (only names and single indexes, e.g.
  ``$.a['b'][0]``) selects one value or fails; an *indefinite* path (wildcards, slices,
  filters, ``..``, unions) always selects a list, empty when nothing matches.
* **Jayway's messages.** A definite path that selects nothing fails with Jayway's detail:
  ``No results for path: $['a']['b']`` when the last name or index is missing,
  ``Missing property in path $['a']`` when an inner name is missing.
* **Names in dot notation** may hold characters jsonpath-ng's lexer refuses (``$.año``,
  ``$.1st``); they are rewritten to bracket notation before parsing.
* **Reference paths** (ResultPath) must be definite; writing through one creates the
  missing objects on the way, as AWS does, and never mutates its input.
* **Roots.** ``$$...`` reads the context object and ``$name...`` the variable ``name``
  (see `query`); both take the rest of the path as a JSONPath on that value.
* **Regex filters** (``[?(@.a =~ 'x+')]``) match with RE2, in linear time (jsonpath-ng's
  own operator uses Python's backtracking ``re``); an invalid regex fails the path.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from jsonpath_ng import jsonpath as jp
from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
from jsonpath_ng.ext import filter as _jsonpath_ng_filter
from jsonpath_ng.ext.filter import Filter
from jsonpath_ng.ext.parser import parse as _jsonpath_ng_parse

from engine._dataflow.regex import search
from engine._dataflow.scope import Json, Scope
from engine._errors import SteplineError

# jsonpath-ng looks its filter operators up in this table when a filter runs.
_jsonpath_ng_filter.OPERATOR_MAP["=~"] = lambda value, pattern: (
    isinstance(value, str) and isinstance(pattern, str) and search(pattern, value)
)

Step = str | int
"""One step of a definite path: an object member name or an array index."""

_SPINE_NODES: Final = (jp.Root, jp.Fields, jp.Index, jp.Slice, jp.Wildcard, Filter)
_PLAIN_NAME: Final = re.compile(r"@?[A-Za-z_][A-Za-z0-9_@\-]*|\d+")
_DOT_NAME: Final = re.compile(r"(\.\.?)([^.\[\]()'\"\s*?,:$=!<>|&`]+)")
_VARIABLE: Final = re.compile(r"\$([^\W\d]\w*)")
_JSON_SMART_TYPES: Final = {
    bool: "java.lang.Boolean",
    int: "java.lang.Integer",
    float: "java.lang.Double",
    str: "java.lang.String",
    list: "net.minidev.json.JSONArray",
}


class PathNotFound(SteplineError, LookupError):
    """A definite path selected nothing.

    Attributes:
        path: the path as written.
        detail: Jayway's explanation, e.g. ``No results for path: $['a']``.
    """

    def __init__(self, path: str, detail: str):
        super().__init__(f"Invalid path '{path}' : {detail}")
        self.path = path
        self.detail = detail


class InvalidPathError(SteplineError, ValueError):
    """A path is not valid JSONPath syntax (or uses a construct AWS does not allow).

    Attributes:
        path: the path as written.
        reason: what is wrong with it.
    """

    def __init__(self, path: str, reason: str):
        super().__init__(f"Invalid JSONPath '{path}': {reason}")
        self.path = path
        self.reason = reason


class PathNotWritableError(SteplineError, ValueError):
    """`set_path` cannot write through a reference path into the given value.

    Attributes:
        path: the reference path as written.
        reason: where and why writing failed.
    """

    def __init__(self, path: str, reason: str):
        super().__init__(f"Cannot write to '{path}': {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class CompiledPath:
    """A parsed ``$``-rooted JSONPath.

    Attributes:
        text: the path as written.
        expression: the jsonpath-ng expression.
        steps: the names and indexes of a definite path; None for an indefinite one.
    """

    text: str
    expression: jp.JSONPath
    steps: tuple[Step, ...] | None

    @property
    def definite(self) -> bool:
        """Whether the path selects at most one value (Jayway's "definite path")."""
        return self.steps is not None


def compact_json(value: Json) -> str:
    """``value`` as AWS prints JSON in messages: compact, non-ASCII kept."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@lru_cache(maxsize=4096)
def compile_path(path: str) -> CompiledPath:
    """Parse a ``$``-rooted JSONPath (no ``$$`` / ``$name`` prefix).

    Raises:
        InvalidPathError: the path is not valid, or uses syntax AWS does not accept.
    """
    if not path.startswith("$") or path.startswith("$$"):
        raise InvalidPathError(path, "a JSONPath must start with '$'")
    try:
        with warnings.catch_warnings():
            # jsonpath-ng deprecates syntax (bare words in filters) Jayway accepts.
            warnings.simplefilter("ignore", DeprecationWarning)
            expression = _jsonpath_ng_parse(_normalise(path))
    except (JsonPathLexerError, JsonPathParserError) as error:
        raise InvalidPathError(path, str(error).strip()) from None
    segments = _spine(expression, path)
    if any(isinstance(segment, jp.Root) for segment in segments[1:]):
        raise InvalidPathError(path, "'$' may appear only at the start of a path")
    return CompiledPath(path, expression, _definite_steps(segments))


def check_path_syntax(path: str) -> str | None:
    """None when ``path`` is a valid ASL path (``$...``, ``$$...``, ``$name...``), else why not."""
    try:
        compile_path(split_root(path)[2])
    except InvalidPathError as error:
        return f"'{path}' is not a valid JSONPath: {error.reason}"
    return None


def check_reference_path_syntax(path: str) -> str | None:
    """None when ``path`` is a valid Reference Path (definite, ``$``-rooted), else why not."""
    if split_root(path)[0] != "input":
        return f"'{path}' is not a valid Reference Path: it must start with '$.' or '$['"
    problem = check_path_syntax(path)
    if problem is None and not compile_path(path).definite:
        return (
            f"'{path}' is not a valid Reference Path: it must select a single value "
            "(no wildcards, slices, filters, unions or '..')"
        )
    return problem


def is_definite(path: str) -> bool:
    """Whether ``path`` (any root) is definite: selects one value rather than a list.

    Raises:
        InvalidPathError: the path is not valid.
    """
    return compile_path(split_root(path)[2]).definite


def split_root(path: str) -> tuple[str, str | None, str]:
    """Split a path into its root kind, variable name and ``$``-rooted rest.

    Returns:
        ``("context", None, "$...")`` for ``$$...``, ``("variable", name, "$...")`` for
        ``$name...`` and ``("input", None, path)`` otherwise.
    """
    if path.startswith("$$"):
        return "context", None, path[1:]
    variable = _VARIABLE.match(path)
    if variable is not None:
        return "variable", variable.group(1), "$" + path[variable.end() :]
    return "input", None, path


def select(path: str, data: Json) -> Json:
    """Evaluate a ``$``-rooted JSONPath on ``data`` as AWS (Jayway) does.

    A definite path returns the one value it selects; an indefinite path returns the
    list of values it selects (possibly empty). The result shares structure with
    ``data``: treat it as immutable.

    Raises:
        InvalidPathError: the path is not valid.
        PathNotFound: a definite path selected nothing.
    """
    compiled = compile_path(path)
    if compiled.steps is None:
        return [match.value for match in compiled.expression.find(data)]
    return _walk(compiled.steps, data, path)


def query(path: str, scope: Scope) -> Json:
    """Evaluate a path of any root: ``$...`` on the input, ``$$...`` on the context, ``$name...``.

    Raises:
        InvalidPathError: the path is not valid.
        PathNotFound: nothing was selected, or the variable is not defined.
    """
    kind, name, rest = split_root(path)
    if kind == "context":
        return select(rest, scope.context)
    if kind == "input":
        return select(rest, scope.input)
    assert name is not None  # split_root names every variable
    if name not in scope.variables:
        raise PathNotFound(path, f"The variable '{name}' is not defined")
    return select(rest, scope.variables[name])


def set_path(data: Json, reference_path: str, value: Json) -> Json:
    """A copy of ``data`` with ``value`` written at ``reference_path`` (ResultPath semantics).

    Missing objects on the way are created; ``data`` itself is never mutated (only the
    containers along the path are copied).

    Raises:
        InvalidPathError: the path is not a valid definite ``$``-rooted path.
        PathNotWritableError: the path crosses a value that is not an object (for a name) or
            an array with that index (for an index).
    """
    steps = compile_path(reference_path).steps
    if steps is None:
        raise InvalidPathError(reference_path, "a Reference Path must select a single value")
    return _write(data, steps, value, reference_path, 0)


def path_end(text: str, start: int, stops: str) -> int:
    """End of the path at ``text[start]``: the first of ``stops`` outside brackets and quotes."""
    depth, quote = 0, ""
    for index in range(start, len(text)):
        char = text[index]
        if quote:
            quote = "" if char == quote and text[index - 1] != "\\" else quote
        elif char in "'\"" and depth:
            quote = char
        elif char in "[(":
            depth += 1
        elif char in "])" and depth:
            depth -= 1
        elif char in stops:
            return index
    return len(text)


# --- internals ----------------------------------------------------------------------------


def _normalise(path: str) -> str:
    """Rewrite Jayway syntax jsonpath-ng reads differently, leaving the meaning unchanged.

    Dot-notation names its lexer refuses become ``['name']``; a child dot before a bracket
    (``$.[?(@.a > 0)]``, ``$.a.[0]``) goes, as Jayway ignores it. Inside a quoted bracket
    name a backslash escapes only the delimiting quote and itself, as in Jayway; any
    other backslash is literal, so it is doubled to survive jsonpath-ng's lexer.
    """
    out: list[str] = []
    plain_start, depth, quote, index = 0, 0, "", 0
    while index < len(path):
        char = path[index]
        if quote and char == "\\" and index + 1 < len(path):
            following = path[index + 1]
            out.append(char + following if following in (quote, "\\") else "\\\\" + following)
            index += 2
            continue
        if quote:
            quote = "" if char == quote else quote
        elif depth and char in "'\"":
            quote = char
        elif char == "[":
            if depth == 0:
                out.append(
                    _DOT_NAME.sub(_bracket_name, _without_child_dot(path[plain_start:index]))
                )
            depth += 1
        closed = char == "]" and depth > 0 and not quote
        if closed:
            depth -= 1
            plain_start = index + 1
        if depth or closed:
            out.append(char)
        index += 1
    if depth == 0:
        out.append(_DOT_NAME.sub(_bracket_name, path[plain_start:]))
    return "".join(out)


def _without_child_dot(plain: str) -> str:
    """``plain`` without a single trailing dot: Jayway reads ``$.[...]`` as ``$[...]``.

    A deep scan (``..[``) keeps its dots.
    """
    if plain.endswith(".") and not plain.endswith(".."):
        return plain[:-1]
    return plain


def _bracket_name(match: re.Match[str]) -> str:
    dots, name = match.group(1), match.group(2)
    if _PLAIN_NAME.fullmatch(name):
        return match.group(0)
    quoted = name.replace("\\", "\\\\").replace("'", "\\'")
    return f"{dots[:-1]}['{quoted}']" if len(dots) == 2 else f"['{quoted}']"


def _spine(expression: jp.JSONPath, path: str) -> list[jp.JSONPath]:
    """The segments of ``expression`` left to right; refuse constructs AWS does not have."""
    if isinstance(expression, jp.Child):
        return _spine(expression.left, path) + _spine(expression.right, path)
    if isinstance(expression, jp.Descendants):
        return [*_spine(expression.left, path), expression]
    if not isinstance(expression, _SPINE_NODES):
        raise InvalidPathError(path, f"unsupported JSONPath syntax '{expression}'")
    return [expression]


def _definite_steps(segments: list[jp.JSONPath]) -> tuple[Step, ...] | None:
    steps: list[Step] = []
    for segment in segments[1:]:
        if isinstance(segment, jp.Fields) and len(segment.fields) == 1:
            steps.append(segment.fields[0])
        elif isinstance(segment, jp.Index) and len(segment.indices) == 1:
            steps.append(segment.indices[0])
        else:
            return None
    return tuple(steps)


def _walk(steps: tuple[Step, ...], data: Json, path: str) -> Json:
    """Follow a definite path, failing with Jayway's messages."""
    current, where = data, "$"
    for position, step in enumerate(steps):
        leaf = position == len(steps) - 1
        if isinstance(step, str):
            current, where = _member(current, step, where, leaf, steps, path)
        else:
            current, where = _element(current, step, where, steps, path)
    return current


def _member(
    current: Json, name: str, where: str, leaf: bool, steps: tuple[Step, ...], path: str
) -> tuple[Json, str]:
    fragment = f"['{name}']"
    if not isinstance(current, dict):
        found = "null" if current is None else _JSON_SMART_TYPES.get(type(current), "?")
        raise PathNotFound(
            path,
            f"Expected to find an object with property {fragment} in path {where} "
            f"but found '{found}'. This is not a json object according to the "
            "JsonProvider: 'com.jayway.jsonpath.spi.json.JsonSmartJsonProvider'.",
        )
    if name not in current:
        if leaf:
            raise PathNotFound(path, f"No results for path: {_render(steps)}")
        raise PathNotFound(path, f"Missing property in path {where}{fragment}")
    return current[name], where + fragment


def _element(
    current: Json, index: int, where: str, steps: tuple[Step, ...], path: str
) -> tuple[Json, str]:
    if current is None:
        raise PathNotFound(path, f"The path {where} is null")
    if not isinstance(current, list):
        raise PathNotFound(
            path,
            f"Filter: [{index}] can only be applied to arrays. "
            f"Current context is: {compact_json(current)}",
        )
    if not -len(current) <= index < len(current):
        raise PathNotFound(path, f"No results for path: {_render(steps)}")
    return current[index], f"{where}[{index}]"


def _render(steps: tuple[Step, ...]) -> str:
    """A path as Jayway prints it: ``$['a'][0]``."""
    return "$" + "".join(f"['{s}']" if isinstance(s, str) else f"[{s}]" for s in steps)


def _write(node: Json, steps: tuple[Step, ...], value: Json, path: str, depth: int) -> Json:
    if depth == len(steps):
        return value
    step = steps[depth]
    where = _render(steps[:depth])
    if isinstance(step, str):
        if not isinstance(node, dict):
            raise PathNotWritableError(path, f"{where} is {compact_json(node)}, not an object")
        updated = dict(node)
        updated[step] = _write(node.get(step, {}), steps, value, path, depth + 1)
        return updated
    if not isinstance(node, list) or not -len(node) <= step < len(node):
        raise PathNotWritableError(path, f"{where} is {compact_json(node)}, with no index {step}")
    updated_list = list(node)
    updated_list[step] = _write(node[step], steps, value, path, depth + 1)
    return updated_list

"""Definitions written in YAML, read with JSON's meaning (see `engine._asl.load`).

Only text that does not look like JSON comes here, so PyYAML is imported only for it.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, NoReturn

import yaml

from engine._asl.load import _found, _too_deep, _within_depth
from engine._dataflow.nesting import MAX_NESTING_DEPTH
from engine._errors import DefinitionSyntaxError

Json = Any

MAX_YAML_EXPANDED_NODES = 1_000_000
"""How many values a YAML definition may hold once its aliases are expanded."""


class _JsonSemanticsLoader(yaml.SafeLoader):
    """A safe YAML loader whose scalars mean what they would mean in JSON.

    Aliases are allowed (``<<: *defaults``) but not to a collection that contains the
    alias (``&a [*a]`` is a cycle, which JSON cannot hold: walking it never ended), nor
    so many that the expanded value would exceed `MAX_YAML_EXPANDED_NODES` (nested
    aliases double at each level: the "billion laughs").
    """

    yaml_implicit_resolvers: dict[str, list[tuple[str, re.Pattern[str]]]] = {}  # noqa: RUF012

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._open_anchors: set[str] = set()
        self._sizes: dict[int, int] = {}  # id(node): values once expanded

    def compose_node(self, parent: Any, index: Any) -> Any:
        """A node; an alias to a collection still being composed is refused."""
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            if event.anchor in self._open_anchors:
                raise DefinitionSyntaxError(
                    f"Invalid YAML: the alias *{event.anchor} is inside the collection it "
                    "names (a cycle)",
                    event.start_mark.line + 1,
                    event.start_mark.column + 1,
                )
        return super().compose_node(parent, index)

    def compose_sequence_node(self, anchor: Any) -> Any:
        """A sequence, sized with its aliases expanded."""
        return self._sized(anchor, super().compose_sequence_node, lambda node: node.value)

    def compose_mapping_node(self, anchor: Any) -> Any:
        """A mapping, sized with its aliases expanded."""
        return self._sized(
            anchor,
            super().compose_mapping_node,
            lambda node: [part for pair in node.value for part in pair],
        )

    def _sized(self, anchor: str | None, compose: Any, children: Any) -> Any:
        if anchor is not None:
            self._open_anchors.add(anchor)
        node = compose(anchor)
        self._open_anchors.discard(anchor or "")
        size = 1 + sum(self._sizes.get(id(child), 1) for child in children(node))
        if size > MAX_YAML_EXPANDED_NODES:
            mark = node.start_mark
            raise DefinitionSyntaxError(
                f"Invalid YAML: with its aliases expanded it holds more than "
                f"{MAX_YAML_EXPANDED_NODES} values",
                mark.line + 1,
                mark.column + 1,
            )
        self._sizes[id(node)] = size
        return node


def _add_resolver(tag: str, pattern: str, first: list[str]) -> None:
    _JsonSemanticsLoader.add_implicit_resolver(
        f"tag:yaml.org,2002:{tag}", re.compile(pattern), first
    )


# YAML 1.2's JSON schema: what JSON would read, and nothing YAML 1.1 adds.
_add_resolver("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""])
_add_resolver("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF"))
_add_resolver("int", r"^-?(?:0|[1-9][0-9]*)$", list("-0123456789"))
_add_resolver(
    "float",
    r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+(?:[eE][-+]?[0-9]+)?|[eE][-+]?[0-9]+)$",
    list("-0123456789"),
)
_add_resolver("merge", r"^<<$", ["<"])


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    return int(loader.construct_scalar(node), 10)


def _construct_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    return float(loader.construct_scalar(node))


def _construct_bool(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> bool:
    return str(loader.construct_scalar(node)).lower() == "true"


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[str, Json]:
    loader.flatten_mapping(node)
    result: dict[str, Json] = {}
    for key_node, value_node in node.value:
        mark = key_node.start_mark
        if not isinstance(key_node, yaml.ScalarNode):
            raise DefinitionSyntaxError(
                "Invalid YAML: a mapping key must be a string, got a nested collection",
                mark.line + 1,
                mark.column + 1,
            )
        # A key is a name, as in JSON: `200:` or `true:` name the strings "200" and "true".
        key = str(key_node.value)
        if key in result:
            raise DefinitionSyntaxError(
                f'Invalid YAML: duplicate key "{key}" in the same mapping',
                mark.line + 1,
                mark.column + 1,
            )
        result[key] = loader.construct_object(value_node, deep=True)
    return result


_JsonSemanticsLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_JsonSemanticsLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_JsonSemanticsLoader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)
_JsonSemanticsLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")


def _bracket_depth(source: str) -> int:
    """How deeply ``[`` and ``{`` nest in ``source``, strings included (an upper bound)."""
    depth = deepest = 0
    for bracket in _NOT_A_BRACKET.sub("", source):
        depth = depth + 1 if bracket in "[{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    return deepest


def load_yaml(source: str) -> Json:
    """Read ``source`` as YAML with JSON's meaning (see `engine._asl.load`)."""
    # PyYAML's scanner is quadratic in the depth of flow collections ([[[...]]]): refuse
    # one nested too deeply before it takes seconds to fail.
    if _bracket_depth(source) > MAX_NESTING_DEPTH:
        raise _too_deep()
    try:
        value = yaml.load(source, Loader=_JsonSemanticsLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "malformed YAML"
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise DefinitionSyntaxError(f"Invalid YAML: {problem}", line, column) from None
    except DefinitionSyntaxError:
        raise
    except (yaml.YAMLError, ValueError) as error:
        raise DefinitionSyntaxError(f"Invalid YAML: {error}") from None
    except RecursionError:  # deeper than the YAML composer goes
        raise _too_deep() from None
    if not isinstance(value, dict | list):
        _refuse_scalar(source)
    _ensure_json_values(_within_depth(value), "")
    return value


def _refuse_scalar(source: str) -> NoReturn:
    """A text that is neither JSON nor a YAML mapping: report it as the JSON it tried to be."""
    try:
        json.loads(source)
    except json.JSONDecodeError as error:
        raise DefinitionSyntaxError(
            f"Invalid JSON: {error.msg}{_found(source, error.pos)} "
            "(and read as YAML it is a single value, not a mapping)",
            error.lineno,
            error.colno,
        ) from None
    raise DefinitionSyntaxError("The definition is a single value: expected a JSON object", 1, 1)


def _ensure_json_values(value: Json, pointer: str) -> None:
    """Refuse what YAML can express but JSON cannot (binary, sets, dates, NaN, ...)."""
    if isinstance(value, dict):
        for key, item in value.items():
            _ensure_json_values(item, f"{pointer}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _ensure_json_values(item, f"{pointer}/{index}")
    elif isinstance(value, float) and not math.isfinite(value):
        raise DefinitionSyntaxError(
            f"Invalid YAML: {value} at {pointer or '/'} is not a JSON number"
        )
    elif value is not None and not isinstance(value, str | int | float | bool):
        raise DefinitionSyntaxError(
            f"Invalid YAML: the {type(value).__name__} at {pointer or '/'} has no JSON "
            "equivalent; write it as a quoted string"
        )

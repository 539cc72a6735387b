"""Built-ins of the JSONata library that were quadratic or unbounded, rewritten linear.

Found by the fuzz suite (tests/fuzz), measured before the change:

* ``$spread`` copied its whole result for every item: 100,000 objects took 30 s;
* ``$replace`` with a literal pattern copied the rest of the text at every match, and with
  a regex and a limit re-ran the regex over the whole text once per unit of the limit:
  ``$replace('abc', /x/, 'y', 100000000)`` never finished;
* regex literals compiled with Python's backtracking ``re`` (now RE2, see
  `engine._dataflow.regex`).

Each function keeps the library's results, flags and error codes; only the cost changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jsonata import Functions, JException, Utils
from jsonata.regex_engine import RegexFlags

from engine._dataflow.regex import InvalidRegex, compile_regex


def regex_engine(pattern: str, flags: RegexFlags) -> Any:
    """The library's regex hook: RE2, with an invalid pattern a JSONata syntax error."""
    try:
        return compile_regex(pattern, ignore_case=flags.case_insensitive, multiline=flags.multiline)
    except InvalidRegex as error:
        raise JException(f"S0303: {str(error)[0].upper()}{str(error)[1:]}", -1) from None


def spread(value: Any) -> Any:
    """``$spread``: an object split into one-member objects, arrays spread item by item."""
    if isinstance(value, dict):
        return Utils.create_sequence_from_iter({key: item} for key, item in value.items())
    if not isinstance(value, list):
        return value
    result = Utils.create_sequence()
    appended = False
    for item in value:
        part = spread(item)
        if part is None:
            continue
        appended = True
        if isinstance(part, list):
            result.extend(part)
        else:
            result.append(part)
    # The library's append returns a plain array (not a sequence), as jsonata-js's concat.
    return Utils.JList(result) if appended else result


def replace(string: Any, pattern: Any, replacement: Any, limit: Any = None) -> Any:
    """``$replace``: the first ``limit`` (default all) matches of ``pattern`` replaced."""
    if string is None:
        return None
    if string is Utils.NULL_VALUE:
        raise JException("T0410", -1)
    if isinstance(pattern, str) and not pattern:
        raise JException("Second argument of replace function cannot be an empty string", 0)
    if limit is not None and limit < 0:
        raise JException(
            "Fourth argument of replace function must evaluate to a positive number", 0
        )
    count = 0 if limit is None else int(min(limit, len(string) + 1))
    if limit is not None and count == 0:
        return string
    if isinstance(pattern, str) and isinstance(replacement, str):
        # A literal: the same text replaces every occurrence (no groups), in C.
        text = expand(replacement, _LiteralMatch(pattern))
        return string.replace(pattern, text, count or -1)
    regex = compile_regex(_escaped(pattern)) if isinstance(pattern, str) else pattern
    return regex.sub(_replacer(replacement), string, count)


class _LiteralMatch:
    """What a literal pattern's match offers the replacement text: itself, no groups."""

    def __init__(self, text: str) -> None:
        self._text = text

    def group(self, number: int = 0) -> str:
        return self._text

    def groups(self) -> tuple[str, ...]:
        return ()


def _escaped(literal: str) -> str:
    return "".join(
        char if char.isascii() and char.isalnum() else f"\\x{{{_code_point(char):x}}}"
        for char in literal
    )


def _code_point(char: str) -> int:
    return 0xFFFD if 0xD800 <= ord(char) <= 0xDFFF else ord(char)  # as regex.encodable


def _replacer(replacement: Any) -> Callable[[Any], str]:
    if isinstance(replacement, str):
        return lambda match: expand(replacement, match)

    def call(match: Any) -> str:
        result = Functions.func_apply(replacement, [Functions.to_jsonata_match(match)])
        if not isinstance(result, str):
            raise JException("D3012", -1)
        return result

    return call


def expand(template: str, match: Any) -> str:
    """JavaScript's replacement text: ``$$`` is ``$``, ``$0`` the match, ``$n`` group n.

    Group numbers read as many digits as the largest group number has (``$12`` is group
    12 when there are 12 or more groups, else group 1 then "2"); a ``$`` that starts
    nothing is kept.
    """
    groups = len(match.groups())
    width = len(str(groups))
    parts: list[str] = []
    position = 0
    while True:
        index = template.find("$", position)
        if index < 0:
            parts.append(template[position:])
            return "".join(parts)
        parts.append(template[position:index])
        position = index + 1
        following = template[position : position + 1]
        if following == "$":
            parts.append("$")
            position += 1
        elif following == "0":
            parts.append(match.group(0))
            position += 1
        else:
            digits = template[position : position + width]
            number = int(digits) if digits.isascii() and digits.isdigit() else 0
            if 0 < number <= groups:
                parts.append(match.group(number) or "")
                position += len(digits)
            else:
                parts.append("$")


LINEAR_BUILTINS: dict[str, Callable[..., Any]] = {"spread": spread, "replace": replace}
"""Library built-ins replaced by the linear versions above, by name without the ``$``."""

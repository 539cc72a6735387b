"""Regular expressions written by users, matched in time linear in the text (RE2).

A definition may hold regular expressions: JSONata regex literals (``$match``,
``$replace``, ``$split``, ``$contains``), JSONPath filters (``=~``) and Choice
``StringMatches`` patterns (translated to a regex). Python's ``re`` backtracks:
``$match($pad('', 30, 'a') & '!', /(a+)+b/)`` took 25 s of a worker (measured), and a few
more ``a`` take years. RE2 (``google-re2``) never backtracks, so every one of them is
compiled here, with RE2, and nowhere else.

RE2 has no backreferences (``\\1``) and no lookaround (``(?=...)``); a pattern using them is
invalid here (ADR 0040), reported as `InvalidRegex` naming the pattern and RE2's reason.
RE2 reads UTF-8, which cannot hold a lone surrogate (JSON's ``"\\ud800"``): such a code
point is matched as U+FFFD, the replacement character.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # an invalid pattern is the user's error, reported to them
_OPTIONS.max_mem = 8 * 1024 * 1024  # RE2's default, stated: a huge pattern fails to compile
_SURROGATE = re.compile("[\ud800-\udfff]")  # a fixed pattern: linear in Python's re too


class InvalidRegex(ValueError):
    """A user's regular expression that RE2 cannot compile."""


@lru_cache(maxsize=1024)
def compile_regex(
    pattern: str, *, ignore_case: bool = False, multiline: bool = False, dot_all: bool = False
) -> Any:
    """Compile ``pattern`` with RE2; the result has ``re.Pattern``'s matching methods.

    Args:
        pattern: the regular expression, in RE2's syntax (Perl's, less backtracking).
        ignore_case: match letters regardless of case (``i``).
        multiline: ``^`` and ``$`` match at line breaks (``m``).
        dot_all: ``.`` matches a line break too (``s``).

    Raises:
        InvalidRegex: RE2 refuses the pattern; the message quotes it and says why.
    """
    switches = (("i", ignore_case), ("m", multiline), ("s", dot_all))
    flags = "".join(flag for flag, on in switches if on)
    source = encodable(f"(?{flags}){pattern}" if flags else pattern)
    try:
        return LinearPattern(re2.compile(source, _OPTIONS))
    except re2.error as error:
        reason = error.args[0] if error.args else "unknown"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise InvalidRegex(f"the regular expression /{pattern}/ is invalid: {reason}") from None


def encodable(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD, so that UTF-8 can hold it."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


class LinearPattern:
    """An RE2 pattern with ``re.Pattern``'s methods, taking any Python text."""

    def __init__(self, compiled: Any) -> None:
        self._compiled = compiled
        self.pattern: str = compiled.pattern

    def search(self, text: str) -> Any:
        """The first match anywhere in ``text``, or None."""
        return self._compiled.search(encodable(text))

    def fullmatch(self, text: str) -> Any:
        """The match of the whole of ``text``, or None."""
        return self._compiled.fullmatch(encodable(text))

    def finditer(self, text: str) -> Iterator[Any]:
        """Every non-overlapping match, left to right."""
        return self._compiled.finditer(encodable(text))  # type: ignore[no-any-return]

    def sub(self, replacement: str | Callable[[Any], str], text: str, count: int = 0) -> str:
        """``text`` with the first ``count`` matches (0: all) replaced."""
        return self._compiled.sub(replacement, encodable(text), count)  # type: ignore[no-any-return]

    def split(self, text: str, maxsplit: int = 0) -> list[str]:
        """``text`` cut at each match."""
        return self._compiled.split(encodable(text), maxsplit)  # type: ignore[no-any-return]


def search(pattern: str, text: str) -> bool:
    """Whether ``pattern`` matches somewhere in ``text``.

    Raises:
        InvalidRegex: the pattern does not compile.
    """
    return compile_regex(pattern).search(text) is not None

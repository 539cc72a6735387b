r"""Regular expressions written by users, matched in time linear in the text (RE2).

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
from contextlib import contextmanager
from contextvars import ContextVar
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
    """An RE2 pattern with ``re.Pattern``'s methods, taking any Python text.

    ``sub`` and ``split`` walk ``finditer`` here, so that each match found reports to the
    meter of `metered` (RE2's Python binding spends about 10 us per match: a million
    matches are seconds, which an evaluation budget must see).
    """

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
        meter = _METER.get()
        for match in self._compiled.finditer(encodable(text)):
            if meter is not None:
                meter()
            yield match

    def sub(self, replacement: str | Callable[[Any], str], text: str, count: int = 0) -> str:
        """``text`` with the first ``count`` matches (0: all) replaced.

        A string ``replacement`` is inserted as it is (no group references).
        """
        pieces: list[str] = []
        last = 0
        for found, match in enumerate(self.finditer(text)):
            if count and found >= count:
                break
            pieces.append(text[last : match.start()])
            pieces.append(replacement if isinstance(replacement, str) else replacement(match))
            last = match.end()
        pieces.append(text[last:])
        return "".join(pieces)

    def split(self, text: str, maxsplit: int = 0) -> list[str]:
        """``text`` cut at each match, with the match's groups between the pieces (as ``re``)."""
        pieces: list[str] = []
        last = 0
        for found, match in enumerate(self.finditer(text)):
            if maxsplit and found >= maxsplit:
                break
            pieces.append(text[last : match.start()])
            pieces.extend(match.groups())
            last = match.end()
        pieces.append(text[last:])
        return pieces


_METER: ContextVar[Callable[[], None] | None] = ContextVar("stepline_regex_meter", default=None)


@contextmanager
def metered(meter: Callable[[], None]) -> Iterator[None]:
    """Call ``meter()`` for every match a user regex finds in the block (it may raise)."""
    token = _METER.set(meter)
    try:
        yield
    finally:
        _METER.reset(token)


def search(pattern: str, text: str) -> bool:
    """Whether ``pattern`` matches somewhere in ``text``.

    Raises:
        InvalidRegex: the pattern does not compile.
    """
    return compile_regex(pattern).search(text) is not None

"""What the CLI says when a command cannot do its work: one line, the problem and the fix.

A traceback is for a bug in stepline; an unreachable database, an unmigrated one or an
input the API refuses are the user's to fix, so they get one line on stderr and exit 1.
"""

from __future__ import annotations

import re

from engine._errors import ClientError, SteplineError
from engine._integrations.mocks import MockConfigError

_PASSWORD = re.compile(r"(://[^:/@]*:)[^@/]*@")
_MISSING_TABLE = re.compile(r"no such table|relation .* does not exist", re.IGNORECASE)


def explain(error: BaseException) -> str | None:
    """One line naming the problem and its fix; None for an error nobody expects (a bug).

    Args:
        error: what a command raised.

    Returns:
        The line, or None to let the traceback show.
    """
    if isinstance(error, ClientError):
        return f"{error.code}: {error.message}"
    if isinstance(error, MockConfigError):
        return f"{first_line(error)}: fix the file or unset SFN_MOCK_CONFIG/STEPLINE_MOCK_CONFIG"
    if isinstance(error, SteplineError):
        return str(error).splitlines()[0]
    if isinstance(error, RecursionError):
        return "the input is nested too deeply to read: flatten it (AWS allows 256 KiB of JSON)"
    from sqlalchemy.exc import OperationalError, ProgrammingError  # only the store raises them

    if isinstance(error, ProgrammingError) and _MISSING_TABLE.search(str(error.orig)):
        return "the store has no stepline tables: run `stepline db upgrade`"
    if isinstance(error, OperationalError):
        return (
            f"cannot reach the store ({first_line(error.orig or error)}): check "
            "STEPLINE_DATABASE_URL and that the database server is running"
        )
    return None


def broker_unreachable(broker_url: str, error: BaseException, what: str = "the execution") -> str:
    """Why ``what``, committed to the store, has not reached the workers yet."""
    return (
        f"{what} is stored but the broker at {hide_password(broker_url)} is "
        f"unreachable ({first_line(error)}); it will run once the broker is back (the beat "
        "relay republishes it): check STEPLINE_BROKER_URL and that the broker is running"
    )


def first_line(error: BaseException) -> str:
    """The first line of an error's message (drivers add SQL and links below it)."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def hide_password(url: str) -> str:
    """``url`` with its password replaced by ``***``."""
    return _PASSWORD.sub(r"\g<1>***@", url)

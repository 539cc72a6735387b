"""AWS's timestamp rules, shared by the Choice ``Timestamp*`` operators and the Wait state.

AWS parses timestamps as an "ISO-8601 extended offset date-time" (its error messages quote
the name of the Java formatter it uses), so what it accepts is:

* ``YYYY-MM-DD``, then ``T`` (case-insensitive), then ``hh:mm`` with optional ``:ss`` and,
  only after the seconds, an optional fraction of 0 to 9 digits;
* an offset: ``Z`` (case-insensitive), or ``+hh``, ``+hh:mm`` or ``+hh:mm:ss`` (or ``-``),
  at most 18 hours;
* every field in range: no month 13, no hour 24, no 30 February, no leap second.

So ``2016-12-05T21:29:29`` (no offset), ``2016-12-05 21:29:29Z`` (no ``T``) and
``2016-12-05T25:29:29Z`` are refused, while ``2016-03-05T21:29:29.243167252Z`` is accepted.

Python's `datetime` stops at years 1-9999 and at microseconds. Timestamps outside those
years (AWS would accept ``+10000-...`` or year ``0000``) are reported as not parseable;
nanoseconds are kept by `timestamp_ns`, which the Choice operators compare with, and
dropped by `parse_timestamp`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

_TIMESTAMP = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})"
    r"[Tt](?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})"
    r"(?::(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]{0,9}))?)?"
    r"(?P<offset>[Zz]|[+-][0-9]{2}(?::[0-9]{2}(?::[0-9]{2})?)?)",
    re.ASCII,
)
_MAX_OFFSET = timedelta(hours=18)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def parse_timestamp(text: str) -> datetime | None:
    """The instant ``text`` denotes, or None when AWS would not accept it as a timestamp.

    Args:
        text: a candidate ISO-8601 extended offset date-time, e.g. ``2016-03-14T01:59:00Z``.

    Returns:
        A timezone-aware datetime in UTC, truncated to microseconds; None when ``text`` is
        not a valid timestamp (see the module docstring for AWS's rules).
    """
    parsed = _parse(text)
    return None if parsed is None else parsed[0]


def timestamp_ns(text: str) -> int | None:
    """The instant ``text`` denotes as nanoseconds since the Unix epoch, or None.

    Exact to the nanosecond (AWS keeps up to 9 fraction digits), so two timestamps compare
    as AWS compares them.

    Args:
        text: a candidate ISO-8601 extended offset date-time.

    Returns:
        Nanoseconds since 1970-01-01T00:00:00Z (negative before it), or None when ``text``
        is not a valid timestamp.
    """
    parsed = _parse(text)
    if parsed is None:
        return None
    instant, extra_nanos = parsed
    return (instant - _EPOCH) // _MICROSECOND * 1000 + extra_nanos


def is_timestamp(value: object) -> bool:
    """Whether ``value`` is what the Choice operator ``IsTimestamp`` calls a timestamp.

    Args:
        value: any JSON value.

    Returns:
        True for a string AWS accepts as a timestamp; False for anything else.
    """
    return isinstance(value, str) and _parse(value) is not None


def format_timestamp(moment: datetime) -> str:
    """``moment`` as AWS writes times in the context object, e.g. ``2019-03-26T20:14:13.192Z``.

    UTC, milliseconds always present (truncated, three digits), ``Z`` suffix: the shape of
    ``$$.Execution.StartTime`` and ``$$.State.EnteredTime``.

    Args:
        moment: a timezone-aware datetime.

    Returns:
        The formatted UTC timestamp.

    Raises:
        ValueError: ``moment`` is naive (its instant is unknown).
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"format_timestamp needs a timezone-aware datetime, got naive {moment!r}")
    utc = moment.astimezone(UTC)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T"
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond // 1000:03d}Z"
    )


def _parse(text: str) -> tuple[datetime, int] | None:
    """``text`` as (UTC datetime to the microsecond, the remaining 0-999 nanoseconds)."""
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return None
    offset = _offset(match["offset"])
    if offset is None:
        return None
    fraction = (match["fraction"] or "").ljust(9, "0")
    try:
        local = datetime(
            int(match["year"]),
            int(match["month"]),
            int(match["day"]),
            int(match["hour"]),
            int(match["minute"]),
            int(match["second"] or 0),
            int(fraction[:6]),
            tzinfo=timezone(offset),
        )
        # Near year 1 or 9999 the UTC instant can leave datetime's range.
        return local.astimezone(UTC), int(fraction[6:])
    except (ValueError, OverflowError):
        return None


def _offset(text: str) -> timedelta | None:
    """The UTC offset ``Z`` or ``±hh[:mm[:ss]]`` denotes, or None when out of range."""
    if text in ("Z", "z"):
        return timedelta(0)
    hours, minutes, seconds = (int(part) for part in [*text[1:].split(":"), "0", "0"][:3])
    if hours > 23 or minutes > 59 or seconds > 59:
        return None
    offset = timedelta(hours=hours, minutes=minutes, seconds=seconds)
    if offset > _MAX_OFFSET:
        return None
    return -offset if text.startswith("-") else offset

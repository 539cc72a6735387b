from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine._dataflow.timestamps import (
    format_timestamp,
    is_timestamp,
    parse_timestamp,
    timestamp_ns,
)

# Accepted by AWS in the corpus (Wait TimestampPath / Timestamp, Choice operators).
ACCEPTED = [
    ("2016-03-14T01:59:00Z", datetime(2016, 3, 14, 1, 59, tzinfo=UTC)),
    ("2026-03-23T08:51:59.000000Z", datetime(2026, 3, 23, 8, 51, 59, tzinfo=UTC)),
    ("2026-03-23T08:51:59.00Z", datetime(2026, 3, 23, 8, 51, 59, tzinfo=UTC)),
    ("2094-04-11T08:51:59.000Z", datetime(2094, 4, 11, 8, 51, 59, tzinfo=UTC)),
    (
        "2016-03-05T21:29:29.243167252Z",
        datetime(2016, 3, 5, 21, 29, 29, 243167, tzinfo=UTC),
    ),
    ("2012-10-09T19:00:55+01:00", datetime(2012, 10, 9, 18, 0, 55, tzinfo=UTC)),
]

# Refused by AWS in the corpus ("not a valid ISO-8601 extended offset date-time").
REFUSED_BY_AWS = [
    "2016-12-05T21:29:29",  # no offset
    "2026-03-23T08:51:59.000000",  # no offset, with a fraction
    "2016-12-05 21:29:29Z",  # no T
    "2016-13-05T21:29:29Z",  # month 13
    "2016-12-05T25:29:29Z",  # hour 25
    "05-12-2016T21:29:29Z",  # day first
    "2023-02-24 12:15:56.832957",
    "2023-02-24",
    "2012-10-09T19:00:55",
]


@pytest.mark.parametrize(("text", "instant"), ACCEPTED)
def test_parse_timestamp_accepts_what_aws_accepts(text, instant):
    # Given a timestamp AWS accepted
    # When it is parsed
    parsed = parse_timestamp(text)
    # Then it is that instant, timezone-aware and in UTC
    assert parsed == instant
    assert parsed is not None
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", REFUSED_BY_AWS)
def test_parse_timestamp_refuses_what_aws_refuses(text):
    # Given a string AWS refused as a timestamp
    # When / Then it does not parse and is not a timestamp
    assert parse_timestamp(text) is None
    assert timestamp_ns(text) is None
    assert not is_timestamp(text)


@pytest.mark.parametrize(
    "text",
    [
        "2016-02-30T00:00:00Z",  # no 30 February
        "2015-02-29T00:00:00Z",  # not a leap year
        "2016-12-05T24:00:00Z",  # no hour 24
        "2016-12-05T23:60:00Z",
        "2016-12-05T23:59:60Z",  # no leap second
        "2016-12-05T23:59:59.1234567890Z",  # more than 9 fraction digits
        "2016-12-05T23:59:59+18:01",  # offset beyond 18 hours
        "2016-12-05T23:59:59+1:00",
        "2016-12-05T23:59:59+01:",
        "2016-12-05T23:59:59+0100",
        "2016-12-05T23:59.5Z",  # a fraction needs seconds
        "16-12-05T23:59:59Z",
        "+2016-12-05T23:59:59Z",
        " 2016-12-05T23:59:59Z",
        "2016-12-05T23:59:59Z ",
        "２０１６-12-05T23:59:59Z",  # only ASCII digits
        "",
    ],
)
def test_parse_timestamp_refuses_out_of_range_or_malformed_fields(text):
    # Given a malformed or out-of-range timestamp
    # When / Then it does not parse
    assert parse_timestamp(text) is None


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("2016-12-05T23:59Z", datetime(2016, 12, 5, 23, 59, tzinfo=UTC)),  # seconds optional
        ("2016-12-05t23:59:00z", datetime(2016, 12, 5, 23, 59, tzinfo=UTC)),  # case-insensitive
        ("2016-12-05T23:59:00+01", datetime(2016, 12, 5, 22, 59, tzinfo=UTC)),
        ("2016-12-05T23:59:00-01:30:15", datetime(2016, 12, 6, 1, 29, 15, tzinfo=UTC)),
        ("2016-12-05T23:59:00-18:00", datetime(2016, 12, 6, 17, 59, tzinfo=UTC)),
        ("2016-02-29T00:00:00Z", datetime(2016, 2, 29, tzinfo=UTC)),
        ("2016-12-05T23:59:00.5Z", datetime(2016, 12, 5, 23, 59, 0, 500000, tzinfo=UTC)),
    ],
)
def test_parse_timestamp_follows_the_extended_offset_date_time_grammar(text, instant):
    # Given a timestamp in one of the grammar's other accepted shapes
    # When / Then it parses to the instant it denotes
    assert parse_timestamp(text) == instant


def test_timestamp_ns_keeps_nanoseconds_that_datetime_drops():
    # Given two timestamps one nanosecond apart
    earlier, later = "2016-03-05T21:29:29.243167252Z", "2016-03-05T21:29:29.243167253Z"
    # When they are read as instants
    # Then datetime cannot tell them apart, timestamp_ns can
    assert parse_timestamp(earlier) == parse_timestamp(later)
    assert timestamp_ns(earlier) == 1457213369243167252
    assert timestamp_ns(later) == 1457213369243167253


def test_timestamp_ns_is_relative_to_the_unix_epoch():
    # Given / When / Then
    assert timestamp_ns("1970-01-01T00:00:00Z") == 0
    assert timestamp_ns("1970-01-01T01:00:00+01:00") == 0
    assert timestamp_ns("1969-12-31T23:59:59.999999999Z") == -1


def test_parse_timestamp_reports_instants_beyond_datetime_range_as_unparseable():
    # Given a valid timestamp whose UTC instant falls before year 1
    # When / Then it is reported as not parseable rather than raising
    assert parse_timestamp("0001-01-01T00:00:00+01:00") is None


@pytest.mark.parametrize("value", [None, 0, 1.5, True, [], {}, ["2016-03-14T01:59:00Z"]])
def test_is_timestamp_is_false_for_anything_but_a_string(value):
    # Given a JSON value that is not a string
    # When / Then it is not a timestamp
    assert not is_timestamp(value)


def test_is_timestamp_is_true_for_a_valid_timestamp_string():
    assert is_timestamp("2012-10-09T19:00:55+01:00")


def test_format_timestamp_writes_utc_with_milliseconds_like_the_context_object():
    # Given an aware datetime in another zone, with microseconds
    moment = datetime(2024, 2, 7, 14, 50, 16, 123999, tzinfo=timezone(timedelta(hours=1)))
    # When it is formatted
    text = format_timestamp(moment)
    # Then it is UTC, milliseconds truncated to three digits, with a Z
    assert text == "2024-02-07T13:50:16.123Z"


def test_format_timestamp_always_writes_three_fraction_digits_and_four_year_digits():
    assert format_timestamp(datetime(5, 1, 2, 3, 4, 5, tzinfo=UTC)) == "0005-01-02T03:04:05.000Z"


def test_format_timestamp_refuses_a_naive_datetime():
    # Given a naive datetime (its instant is unknown)
    # When / Then formatting it is a programming error
    with pytest.raises(ValueError, match="timezone-aware"):
        format_timestamp(datetime(2024, 2, 7, 13, 50, 16))


# --- properties -------------------------------------------------------------------------

offsets = st.integers(min_value=-18 * 60, max_value=18 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
millisecond_datetimes = st.datetimes(
    min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=offsets
).map(lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000))


@given(millisecond_datetimes)
def test_property_parse_inverts_format_at_millisecond_precision(moment):
    # Given any aware datetime with millisecond precision
    # When it is formatted then parsed
    # Then the same instant comes back
    assert parse_timestamp(format_timestamp(moment)) == moment


@given(millisecond_datetimes, millisecond_datetimes)
def test_property_timestamp_ns_orders_like_the_instants(first, second):
    # Given two instants written as AWS timestamps
    a, b = timestamp_ns(format_timestamp(first)), timestamp_ns(format_timestamp(second))
    # When / Then their nanosecond values order as the instants do
    assert a is not None
    assert b is not None
    assert (a < b) == (first < second)
    assert (a == b) == (first == second)


@given(st.text(max_size=40))
def test_property_parse_timestamp_never_raises(text):
    # Given any text
    # When / Then parsing answers a datetime or None, never an exception
    parsed = parse_timestamp(text)
    assert parsed is None or parsed.tzinfo is not None

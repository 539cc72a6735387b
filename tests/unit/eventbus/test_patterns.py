"""EventBridge event patterns against the user guide's documented examples."""

import pytest

from engine._eventbus.patterns import InvalidEventPattern, matches, validate_pattern

EC2_EVENT = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "111122223333",
    "time": "2017-12-22T18:43:48Z",
    "region": "us-west-1",
    "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
    "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated"},
}

# (name, pattern, event, expected) — patterns and events from the EventBridge user guide.
DOCUMENTED_EXAMPLES = [
    # Exact values, AND across fields, OR inside an array.
    ("exact source", {"source": ["aws.ec2"]}, EC2_EVENT, True),
    ("exact other source", {"source": ["aws.s3"]}, EC2_EVENT, False),
    (
        "array is OR",
        {"detail": {"state": ["running", "terminated"]}},
        EC2_EVENT,
        True,
    ),
    (
        "fields are AND",
        {"source": ["aws.ec2"], "detail": {"state": ["running"]}},
        EC2_EVENT,
        False,
    ),
    (
        "value in an event array",
        {"resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"]},
        EC2_EVENT,
        True,
    ),
    (
        "event array without the value",
        {"resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"]},
        EC2_EVENT,
        False,
    ),
    ("missing field", {"detail": {"missing": ["x"]}}, EC2_EVENT, False),
    ("null value", {"responseElements": [None]}, {"responseElements": None}, True),
    ("null is not missing", {"responseElements": [None]}, {}, False),
    ("null is not empty string", {"responseElements": [None]}, {"responseElements": ""}, False),
    ("empty string", {"LastName": [""]}, {"LastName": ""}, True),
    ("boolean", {"detail": {"enabled": [True]}}, {"detail": {"enabled": True}}, True),
    ("boolean is not 1", {"detail": {"enabled": [True]}}, {"detail": {"enabled": 1}}, False),
    ("number by value", {"x-limit": [300]}, {"x-limit": 3.0e2}, True),
    ("number is not string", {"x-limit": [300]}, {"x-limit": "300"}, False),
    # Prefix.
    ("prefix", {"time": [{"prefix": "2017-10-02"}]}, {"time": "2017-10-02T18:43:48Z"}, True),
    ("prefix miss", {"time": [{"prefix": "2017-10-02"}]}, {"time": "2017-10-03T18:43:48Z"}, False),
    (
        "prefix ignore case",
        {"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}},
        {"detail": {"service": "eventbridge"}},
        True,
    ),
    (
        "prefix ignore case miss",
        {"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}},
        {"detail": {"service": "lambda"}},
        False,
    ),
    # Suffix.
    ("suffix", {"FileName": [{"suffix": ".png"}]}, {"FileName": "image.png"}, True),
    ("suffix miss", {"FileName": [{"suffix": ".png"}]}, {"FileName": "image.PNG"}, False),
    (
        "suffix ignore case",
        {"detail": {"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}},
        {"detail": {"FileName": "IMAGE.PNG"}},
        True,
    ),
    # Equals ignore case.
    ("equals-ignore-case", {"name": [{"equals-ignore-case": "alice"}]}, {"name": "ALICE"}, True),
    (
        "equals-ignore-case miss",
        {"name": [{"equals-ignore-case": "alice"}]},
        {"name": "bob"},
        False,
    ),
    # Anything-but.
    (
        "anything-but string",
        {"detail": {"state": [{"anything-but": "initializing"}]}},
        {"detail": {"state": "running"}},
        True,
    ),
    (
        "anything-but string excluded",
        {"detail": {"state": [{"anything-but": "initializing"}]}},
        {"detail": {"state": "initializing"}},
        False,
    ),
    (
        "anything-but number",
        {"detail": {"x-limit": [{"anything-but": 123}]}},
        {"detail": {"x-limit": 456}},
        True,
    ),
    (
        "anything-but number excluded",
        {"detail": {"x-limit": [{"anything-but": 123}]}},
        {"detail": {"x-limit": 123}},
        False,
    ),
    (
        "anything-but string list",
        {"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}},
        {"detail": {"state": "running"}},
        True,
    ),
    (
        "anything-but string list excluded",
        {"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}},
        {"detail": {"state": "stopped"}},
        False,
    ),
    (
        "anything-but number list",
        {"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}},
        {"detail": {"x-limit": 150}},
        True,
    ),
    (
        "anything-but number list excluded",
        {"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}},
        {"detail": {"x-limit": 200}},
        False,
    ),
    (
        "anything-but does not match a missing field",
        {"detail": {"state": [{"anything-but": "initializing"}]}},
        {"detail": {}},
        False,
    ),
    (
        "anything-but prefix",
        {"detail": {"state": [{"anything-but": {"prefix": "init"}}]}},
        {"detail": {"state": "running"}},
        True,
    ),
    (
        "anything-but prefix excluded",
        {"detail": {"state": [{"anything-but": {"prefix": "init"}}]}},
        {"detail": {"state": "initializing"}},
        False,
    ),
    (
        "anything-but suffix",
        {"detail": {"FileName": [{"anything-but": {"suffix": ".txt"}}]}},
        {"detail": {"FileName": "notes.png"}},
        True,
    ),
    (
        "anything-but suffix excluded",
        {"detail": {"FileName": [{"anything-but": {"suffix": ".txt"}}]}},
        {"detail": {"FileName": "notes.txt"}},
        False,
    ),
    (
        "anything-but ignore case",
        {"detail": {"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]}},
        {"detail": {"state": "Running"}},
        True,
    ),
    (
        "anything-but ignore case excluded",
        {"detail": {"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]}},
        {"detail": {"state": "INITIALIZING"}},
        False,
    ),
    (
        "anything-but ignore case list excluded",
        {
            "detail": {
                "state": [{"anything-but": {"equals-ignore-case": ["stopped", "overloaded"]}}]
            }
        },
        {"detail": {"state": "Overloaded"}},
        False,
    ),
    (
        "anything-but wildcard",
        {"detail": {"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}},
        {"detail": {"FilePath": "/usr/bin/python"}},
        True,
    ),
    (
        "anything-but wildcard excluded",
        {"detail": {"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}},
        {"detail": {"FilePath": "/usr/lib/python"}},
        False,
    ),
    (
        "anything-but wildcard list excluded",
        {"detail": {"FilePath": [{"anything-but": {"wildcard": ["*/lib/*", "*/bin/*"]}}]}},
        {"detail": {"FilePath": "/usr/bin/python"}},
        False,
    ),
    # Numeric.
    (
        "numeric ranges all true",
        {
            "detail": {
                "c-count": [{"numeric": [">", 0, "<=", 5]}],
                "d-count": [{"numeric": ["<", 10]}],
                "x-limit": [{"numeric": ["=", 3.018e2]}],
            }
        },
        {"detail": {"c-count": 5, "d-count": 9.9, "x-limit": 301.8}},
        True,
    ),
    (
        "numeric upper bound exceeded",
        {"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}},
        {"detail": {"c-count": 6}},
        False,
    ),
    (
        "numeric lower bound is exclusive",
        {"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}},
        {"detail": {"c-count": 0}},
        False,
    ),
    (
        "numeric never matches a string",
        {"detail": {"c-count": [{"numeric": [">", 0]}]}},
        {"detail": {"c-count": "3"}},
        False,
    ),
    # IP address.
    (
        "cidr ipv4",
        {"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}},
        {"detail": {"sourceIPAddress": "10.0.0.255"}},
        True,
    ),
    (
        "cidr ipv4 outside",
        {"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}},
        {"detail": {"sourceIPAddress": "10.0.1.1"}},
        False,
    ),
    (
        "cidr ipv6",
        {"detail": {"sourceIPAddress": [{"cidr": "2001:db8::/64"}]}},
        {"detail": {"sourceIPAddress": "2001:db8::ff00:42:8329"}},
        True,
    ),
    (
        "cidr not an address",
        {"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}},
        {"detail": {"sourceIPAddress": "example.com"}},
        False,
    ),
    # Exists (leaf nodes only).
    (
        "exists false, field absent",
        {"detail": {"c-count": [{"exists": False}]}},
        {
            "detail-type": ["EC2 Instance State-change Notification"],
            "detail": {"state": ["initializing", "running"]},
        },
        True,
    ),
    (
        "exists false, field is not a leaf",
        {"detail": {"c-count": [{"exists": False}]}},
        {"detail": {"state": ["initializing", "running"], "c-count": {"c1": 100}}},
        True,
    ),
    (
        "exists false, field present",
        {"detail": {"c-count": [{"exists": False}]}},
        {"detail": {"c-count": 3}},
        False,
    ),
    ("exists true", {"detail": {"state": [{"exists": True}]}}, EC2_EVENT, True),
    (
        "exists true, field absent",
        {"detail": {"c-count": [{"exists": True}]}},
        EC2_EVENT,
        False,
    ),
    (
        "exists false, parent absent",
        {"detail": {"c-count": [{"exists": False}]}},
        {"source": "aws.ec2"},
        True,
    ),
    # Wildcard.
    (
        "wildcard",
        {"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]},
        {"EventBusArn": "arn:aws:events:us-east-1:123456789012:event-bus/orders"},
        True,
    ),
    (
        "wildcard other region",
        {"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]},
        {"EventBusArn": "arn:aws:events:eu-west-1:123456789012:event-bus/orders"},
        False,
    ),
    ("wildcard escaped star", {"k": [{"wildcard": "a\\*b"}]}, {"k": "a*b"}, True),
    ("wildcard escaped star is literal", {"k": [{"wildcard": "a\\*b"}]}, {"k": "axb"}, False),
    ("wildcard is case sensitive", {"k": [{"wildcard": "dir/*.png"}]}, {"k": "dir/a.PNG"}, False),
    # $or.
    (
        "$or one branch matches",
        {
            "detail": {
                "$or": [
                    {"c-count": [{"numeric": [">", 0, "<=", 5]}]},
                    {"d-count": [{"numeric": ["<", 10]}]},
                    {"x-limit": [{"numeric": ["=", 3.018e2]}]},
                ]
            }
        },
        {"detail": {"c-count": 100, "d-count": 3}},
        True,
    ),
    (
        "$or no branch matches",
        {"detail": {"$or": [{"c-count": [{"numeric": [">", 0]}]}, {"d-count": [5]}]}},
        {"detail": {"c-count": -1, "d-count": 6}},
        False,
    ),
    (
        "$or with sibling fields is AND",
        {"source": ["aws.s3"], "$or": [{"detail": {"state": ["terminated"]}}, {"region": ["x"]}]},
        EC2_EVENT,
        False,
    ),
    # Arrays of objects in the event.
    (
        "array of objects",
        {"detail": {"items": {"sku": ["B"]}}},
        {"detail": {"items": [{"sku": "A"}, {"sku": "B"}]}},
        True,
    ),
    (
        "array of objects, one element must match every field",
        {"detail": {"items": {"sku": ["A"], "qty": [2]}}},
        {"detail": {"items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}]}},
        False,
    ),
    ("operator on event array", {"tags": [{"prefix": "env:"}]}, {"tags": ["a", "env:prod"]}, True),
]


@pytest.mark.parametrize(
    ("pattern", "event", "expected"),
    [case[1:] for case in DOCUMENTED_EXAMPLES],
    ids=[case[0] for case in DOCUMENTED_EXAMPLES],
)
def test_given_a_documented_pattern_when_matched_then_aws_result(pattern, event, expected):
    # Given a pattern from the EventBridge user guide, When it is matched against the event
    # Then the result is EventBridge's
    assert matches(pattern, event) is expected


# (name, pattern, path of the problem) — each malformed as EventBridge would refuse it.
MALFORMED_PATTERNS = [
    ("not an object", ["aws.ec2"], "$"),
    ("empty pattern", {}, "$"),
    ("leaf not in an array", {"source": "aws.ec2"}, "$.source"),
    ("number leaf", {"detail": {"count": 3}}, "$.detail.count"),
    ("empty match list", {"source": []}, "$.source"),
    ("nested array", {"source": [["aws.ec2"]]}, "$.source[0]"),
    ("unknown operator", {"source": [{"contains": "ec2"}]}, "$.source[0]"),
    ("two operators in one object", {"s": [{"prefix": "a", "suffix": "b"}]}, "$.s[0]"),
    ("prefix not a string", {"time": [{"prefix": 2017}]}, "$.time[0].prefix"),
    (
        "prefix ignore case not a string",
        {"s": [{"prefix": {"equals-ignore-case": 1}}]},
        "$.s[0].prefix.equals-ignore-case",
    ),
    ("suffix bad object", {"s": [{"suffix": {"wildcard": "a"}}]}, "$.s[0].suffix"),
    (
        "equals-ignore-case list",
        {"s": [{"equals-ignore-case": ["a"]}]},
        "$.s[0].equals-ignore-case",
    ),
    ("exists not boolean", {"s": [{"exists": "true"}]}, "$.s[0].exists"),
    ("numeric not array", {"n": [{"numeric": ">"}]}, "$.n[0].numeric"),
    ("numeric odd length", {"n": [{"numeric": [">", 0, "<"]}]}, "$.n[0].numeric"),
    ("numeric bad operator", {"n": [{"numeric": ["!=", 0]}]}, "$.n[0].numeric[0]"),
    ("numeric string bound", {"n": [{"numeric": [">", "0"]}]}, "$.n[0].numeric[1]"),
    ("numeric out of range", {"n": [{"numeric": ["<", 1e10]}]}, "$.n[0].numeric[1]"),
    ("numeric two lower bounds", {"n": [{"numeric": [">", 0, ">", 5]}]}, "$.n[0].numeric"),
    ("numeric empty range", {"n": [{"numeric": [">", 5, "<", 1]}]}, "$.n[0].numeric"),
    ("anything-but null", {"s": [{"anything-but": None}]}, "$.s[0].anything-but"),
    ("anything-but mixed list", {"s": [{"anything-but": ["a", 1]}]}, "$.s[0].anything-but"),
    ("anything-but empty list", {"s": [{"anything-but": []}]}, "$.s[0].anything-but"),
    (
        "anything-but unknown",
        {"s": [{"anything-but": {"numeric": [">", 1]}}]},
        "$.s[0].anything-but",
    ),
    (
        "anything-but prefix list",
        {"s": [{"anything-but": {"prefix": ["a"]}}]},
        "$.s[0].anything-but.prefix",
    ),
    ("wildcard consecutive stars", {"s": [{"wildcard": "a**b"}]}, "$.s[0].wildcard"),
    ("wildcard bad escape", {"s": [{"wildcard": "a\\b"}]}, "$.s[0].wildcard"),
    ("cidr invalid", {"ip": [{"cidr": "10.0.0.0/33"}]}, "$.ip[0].cidr"),
    ("cidr not a string", {"ip": [{"cidr": 10}]}, "$.ip[0].cidr"),
    ("$or not an array", {"$or": {"a": ["b"]}}, "$.$or"),
    ("$or one branch", {"$or": [{"a": ["b"]}]}, "$.$or"),
    ("$or branch not an object", {"$or": [{"a": ["b"]}, ["c"]]}, "$.$or[1]"),
    ("empty nested object", {"detail": {}}, "$.detail"),
    ("odd key", {"detail": {"a b": "x"}}, '$.detail["a b"]'),
]


@pytest.mark.parametrize(
    ("pattern", "path"),
    [case[1:] for case in MALFORMED_PATTERNS],
    ids=[case[0] for case in MALFORMED_PATTERNS],
)
def test_given_a_malformed_pattern_when_validated_then_the_error_names_its_path(pattern, path):
    # Given a malformed pattern, When it is validated
    with pytest.raises(InvalidEventPattern) as raised:
        validate_pattern(pattern)
    # Then the error names the path, and says what was expected and what was received
    assert raised.value.path == path
    assert raised.value.expected
    assert raised.value.received
    assert path in str(raised.value)
    assert raised.value.code == "InvalidEventPatternException"


def test_given_a_malformed_pattern_when_matched_then_it_raises_instead_of_not_matching():
    # Given a typo in an operator, When it is matched
    # Then the mistake is reported, never read as "no match"
    with pytest.raises(InvalidEventPattern, match=r"\$\.source\[0\]"):
        matches({"source": [{"prefx": "aws."}]}, EC2_EVENT)


def test_given_an_invalid_pattern_error_then_it_is_a_value_error_saying_expected_and_got():
    # Given a leaf that is not an array
    with pytest.raises(ValueError, match="expected an object or an array") as raised:
        validate_pattern({"source": "aws.ec2"})
    # Then the message quotes what was received
    assert 'a string "aws.ec2"' in str(raised.value)


def test_given_a_non_object_event_when_matched_then_no_match():
    # Given a valid pattern, When the event is not a JSON object, Then it does not match
    assert matches({"source": ["aws.ec2"]}, ["aws.ec2"]) is False


def test_given_every_documented_valid_pattern_when_validated_then_accepted():
    # Given every pattern of the documented table, When validated, Then none is refused
    for _, pattern, _, _ in DOCUMENTED_EXAMPLES:
        validate_pattern(pattern)

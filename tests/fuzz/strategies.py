"""Hypothesis strategies for the fuzz suite: values, paths, expressions, calls, machines.

Each generator mixes the ordinary (what a user writes) with the hostile (what an attacker
or a typo writes): wrong types, missing and unknown fields, huge and overflowing numbers,
catastrophic regexes, endless recursion, deep nesting. The field names and values come
from small vocabularies so that generated paths and expressions often hit real data.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

Json = Any

KEYS = ["a", "b", "items", "n", "s", "x", "nested"]
LAMBDA = "arn:aws:lambda:us-east-1:111111111111:function:"
RESOURCES = [
    f"{LAMBDA}echo",
    f"{LAMBDA}fail",
    f"{LAMBDA}nothing",
    f"{LAMBDA}missing",
    "arn:aws:states:::lambda:invoke",
    "arn:aws:states:::nope:nothing",
    "not an arn",
    "",
]

# --- JSON values ---------------------------------------------------------------------------

HOSTILE_STRINGS = [
    "",
    "\x00",
    "é",
    "😀",
    "\ud7ff",
    "a" * 40 + "!",
    "{}",
    "{%  %}",
    "$.a",
    "$$",
    "States.Array()",
    "1e400",
    "-0",
    "2016-03-14T01:59:00Z",
    "2016-03-14T01:59:00.123+02:00",
    "9999-12-31T23:59:59Z",
    "*",
    "\\",
    "'",
    '"',
    "aGVsbG8=",
    "%%%",
    " ",
]
HOSTILE_NUMBERS = [
    0,
    -1,
    1,
    -0.0,
    0.5,
    1.5,
    2**31,
    2**53 + 1,
    2**63,
    10**30,
    1e308,
    -1e308,
    5e-324,
    99999999999,
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.sampled_from(HOSTILE_NUMBERS)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(HOSTILE_STRINGS)
)
keys = st.sampled_from(KEYS) | st.text(max_size=6)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(keys, children, max_size=5),
    max_leaves=25,
)
inputs = st.dictionaries(keys, json_values, max_size=6)


def deep_array(depth: int) -> str:
    """JSON text of ``depth`` nested arrays."""
    return "[" * depth + "]" * depth


def deep_object(depth: int) -> str:
    """JSON text of ``depth`` nested objects ``{"a": {"a": ... 1}}``."""
    return '{"a":' * depth + "1" + "}" * depth


hostile_input_texts = st.one_of(
    st.sampled_from([400, 499, 500, 501, 999, 1000, 1001, 5000, 50_000]).flatmap(
        lambda depth: st.sampled_from([deep_array(depth), deep_object(depth)])
    ),
    st.sampled_from(
        [
            "",
            "null",
            "[]",
            '"text"',
            "NaN",
            "Infinity",
            "1e400",
            '{"a": 1e400}',
            '{"a": NaN}',
            "{",
            '{"a": 1, "a": 2}',
            '{"s": "' + "x" * 300_000 + '"}',
            '{"items": [' + ",".join(["1"] * 120_000) + "]}",
            '{"s": "\\ud800"}',
        ]
    ),
)
input_texts = inputs.map(json.dumps) | hostile_input_texts

# --- JSONPath ------------------------------------------------------------------------------

_SEGMENTS = st.sampled_from(
    [
        ".a",
        ".b",
        ".items",
        ".n",
        ".s",
        ".nested",
        ".x",
        "[0]",
        "[1]",
        "[-1]",
        "[*]",
        "..a",
        "..*",
        ".*",
        "['a']",
        '["b"]',
        "['it''s']",
        "[0:2]",
        "[::-1]",
        "[0,1]",
        "['a','b']",
        "[?(@.a > 1)]",
        "[?(@.a == 'x')]",
        "[?(@ =~ '(a+)+b')]",
        "[?(@.s =~ '^(a|aa)+$')]",
        "[?(@.a)]",
        ".length()",
        "[(@.length-1)]",
        "[99999999999999999999]",
        ".🙂",
        ". a",
        "[",
        "]",
        "..",
        "[?(",
    ]
)
json_paths = st.builds(
    lambda root, segments: root + "".join(segments),
    st.sampled_from(["$", "$", "$", "$$", "$$.Execution", "$$.Map.Item", "$x", "$undefined"]),
    st.lists(_SEGMENTS, max_size=5),
) | st.text(alphabet="$.[]'*?@()ab01:,-=~\\ ", max_size=20)
reference_paths = (
    st.builds(
        lambda segments: "$" + "".join(segments),
        st.lists(st.sampled_from([".a", ".b", ".nested", "['x']", "[0]", ".items"]), max_size=4),
    )
    | json_paths
)

# --- intrinsic functions -------------------------------------------------------------------

INTRINSICS = [
    "States.Format",
    "States.StringToJson",
    "States.JsonToString",
    "States.Array",
    "States.ArrayPartition",
    "States.ArrayContains",
    "States.ArrayRange",
    "States.ArrayGetItem",
    "States.ArrayLength",
    "States.ArrayUnique",
    "States.Base64Encode",
    "States.Base64Decode",
    "States.Hash",
    "States.JsonMerge",
    "States.MathRandom",
    "States.MathAdd",
    "States.StringSplit",
    "States.UUID",
]
_NUMBER_LITERALS = st.sampled_from(
    [
        "0",
        "1",
        "-1",
        "3",
        "1000",
        "1001",
        "1.5",
        "-0",
        "1e3",
        "1e400",
        "-1e400",
        "2147483648",
        "9223372036854775808",
        "1" + "0" * 400,
        "99999999999999999999",
        "0.1e-400",
    ]
) | st.integers(min_value=-(2**70), max_value=2**70).map(str)


def _quote(text: str) -> str:
    escaped = "".join("\\" + char if char in "'{}\\" else char for char in text)
    return f"'{escaped}'"


_STRING_LITERALS = st.sampled_from(
    [
        "''",
        "'a'",
        "'{}'",
        "'{} {}'",
        "'\\{\\}'",
        "'é'",
        "'ÿÿÿÿ'",
        "'aGVsbG8='",
        "'aGVsbG8'",
        "'/w=='",
        "'SHA-256'",
        "'MD5'",
        "'SHA-3'",
        "'[1,2'",
        '\'{"a": [1, {"b": null}]}\'',
        "'" + "[" * 600 + "]" * 600 + "'",
        "','",
        "'a,b,,c'",
        "'it\\'s'",
        "'\\\\'",
    ]
) | st.text(max_size=10).map(_quote)
_OTHER_LITERALS = st.sampled_from(
    [
        "true",
        "false",
        "null",
        "$",
        "$.a",
        "$.s",
        "$.n",
        "$.items",
        "$$.Execution.Id",
        "$v",
        "$.nested",
    ]
)
_INTRINSIC_NAMES = st.sampled_from(INTRINSICS) | st.sampled_from(
    ["States.Nope", "States.format", "States.Array "]
)


def _intrinsic_call(arguments: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda name, args: f"{name}({', '.join(args)})",
        _INTRINSIC_NAMES,
        st.lists(arguments, max_size=4),
    )


intrinsic_calls = _intrinsic_call(
    st.recursive(
        _NUMBER_LITERALS | _STRING_LITERALS | _OTHER_LITERALS | json_paths,
        _intrinsic_call,
        max_leaves=8,
    )
)
hostile_intrinsic_calls = st.sampled_from(
    [
        "States.ArrayRange(0, 99999999999999999999, 1)",
        "States.ArrayRange(0, 1" + "0" * 400 + ", 1)",
        "States.ArrayRange(0, 1e400, 1)",
        "States.ArrayRange(-9223372036854775808, 9223372036854775807, 1)",
        "States.ArrayRange(1, 2, 0)",
        "States.Base64Decode('é')",
        "States.Base64Decode('ÿÿÿÿ')",
        "States.Base64Decode('/w==')",
        "States.Base64Decode('@@@')",
        "States.MathAdd(1" + "0" * 400 + ", 1)",
        "States.MathAdd(1e308, 1e308)",
        "States.MathRandom(0, 1" + "0" * 400 + ")",
        "States.MathRandom(1, 2, 1" + "0" * 400 + ")",
        "States.ArrayGetItem($.items, 1" + "0" * 400 + ")",
        "States.ArrayPartition($.items, 1" + "0" * 400 + ")",
        "States.StringToJson('" + "[" * 2000 + "')",
        "States.StringToJson('1e400')",
        "States.StringToJson('NaN')",
        "States.JsonToString($)",
        "States.Hash($.s, 'SHA-512')",
        "States.Format('{}{}{}', $, $, $)",
        "States.Array(" * 300 + ")" * 300,
        "States.Array(" * 2000 + ")" * 2000,
        "States.StringSplit($.s, '')",
        "States.UUID()",
    ]
)

# --- JSONata -------------------------------------------------------------------------------

_JSONATA_ATOMS = st.sampled_from(
    [
        "$states.input",
        "$states.input.a",
        "$states.input.s",
        "$states.input.items",
        "$states.input.n",
        "$states.input.nested",
        "$states.context.Execution.Id",
        "$states",
        "$",
        "$$",
        "$x",
        "$undefinedVariable",
        "1",
        "0",
        "-1.5",
        "1e308",
        "1e-308",
        "9007199254740993",
        "'abc'",
        '"a,b,c"',
        "''",
        "true",
        "false",
        "null",
        "[]",
        "{}",
        "[1, 2, 3]",
        "{'a': 1, 'b': [2]}",
        "*",
        "**",
        "%",
    ]
) | st.integers(min_value=-(10**12), max_value=10**12).map(str)
REGEXES = [
    "/a+/",
    "/(a+)+b/",
    "/(a|aa)+$/",
    "/^(a|a?)+$/",
    "/(.*a){12}/",
    "/[/",
    "/(?=a)/",
    "/(a)\\1/",
    "/(?<n>x)/",
    "/^.*$/m",
    "/\\d+/i",
    "/,/",
    "/x*/",
    "/(/",
    "/\\/",
]
_JSONATA_FUNCTIONS = {
    "$string": 1, "$length": 1, "$substring": 3, "$substringBefore": 2, "$pad": 3,
    "$join": 2, "$replace": 4, "$split": 3, "$match": 3, "$contains": 2, "$spread": 1,
    "$merge": 1, "$keys": 1, "$count": 1, "$sum": 1, "$max": 1, "$average": 1,
    "$map": 2, "$filter": 2, "$reduce": 3, "$sort": 2, "$append": 2, "$zip": 2,
    "$range": 3, "$partition": 2, "$hash": 2, "$parse": 1, "$number": 1,
    "$formatNumber": 2, "$formatBase": 2, "$formatInteger": 2, "$parseInteger": 2,
    "$fromMillis": 2, "$toMillis": 2, "$now": 1, "$millis": 0, "$random": 1, "$uuid": 0,
    "$shuffle": 1, "$base64encode": 1, "$base64decode": 1, "$eval": 1, "$sift": 2,
    "$each": 2, "$lookup": 2, "$distinct": 1, "$reverse": 1, "$abs": 1, "$power": 2,
    "$sqrt": 1, "$round": 2, "$floor": 1, "$uppercase": 1, "$trim": 1, "$encodeUrl": 1,
    "$decodeUrl": 1, "$decodeUrlComponent": 1, "$single": 2, "$error": 1, "$assert": 2,
    "$type": 1, "$boolean": 1, "$not": 1, "$exists": 1, "$clone": 1,
}  # fmt: skip
_LAMBDAS = st.sampled_from(
    [
        "function($v){ $v }",
        "function($v, $i){ $v & $i }",
        "function($a, $b){ $a + $b }",
        "function($a, $b){ $a > $b }",
        "function($v){ [$v, $v] }",
        "function($v){ $states.input }",
        "λ($v){ $v.a }",
    ]
)
_OPERATORS = st.sampled_from(
    ["+", "-", "*", "/", "%", "&", "=", "!=", "<", "<=", ">", ">=", "and", "or", "in", ".."]
)


def _call_text(name: str, args: list[str]) -> str:
    return f"{name}({', '.join(args)})"


def _jsonata_node(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    arguments = children | st.sampled_from(REGEXES) | _LAMBDAS
    return st.one_of(
        st.builds(lambda a, op, b: f"({a} {op} {b})", children, _OPERATORS, children),
        st.builds(
            lambda name, args: _call_text(name, args[: _JSONATA_FUNCTIONS[name] + 1]),
            st.sampled_from(sorted(_JSONATA_FUNCTIONS)),
            st.lists(arguments, max_size=4),
        ),
        st.builds(lambda a, b: f"[{a}..{b}]", children, children),
        st.builds(lambda a, b: f"{a}[{b}]", children, children),
        st.builds(lambda a, b: f"{a}.{b}", children, children),
        st.builds(lambda a, b: f"($x := {a}; {b})", children, children),
        st.builds(lambda a, b, c: f"({a} ? {b} : {c})", children, children, children),
        st.builds(lambda a, b: f"{{{a}: {b}}}", children, children),
        st.builds(lambda a, b: f"[{a}, {b}]", children, children),
        st.builds(lambda a, b: f"{a}{{{b}: $}}", children, children),
        st.builds(lambda a: f"{a}^(>$)", children),
        st.builds(lambda a, f: f"{a} ~> {f}", children, _LAMBDAS),
        st.builds(lambda a: f"-{a}", children),
    )


jsonata_bodies = st.recursive(_JSONATA_ATOMS, _jsonata_node, max_leaves=10)
_SIZES = st.sampled_from(
    [10, 1000, 100_000, 262_144, 524_289, 1_000_000, 100_000_000, 10**12, 2**53, 10**400]
)
hostile_jsonata_bodies = st.one_of(
    st.builds("$pad('x', {})".format, _SIZES),
    st.builds("[1..{}]".format, _SIZES),
    st.builds("$count([1..{}])".format, _SIZES),
    st.builds("$range(0, {}, 1)".format, _SIZES),
    st.builds("$spread([1..{}].{{'k': $}})".format, st.sampled_from([1000, 30_000, 200_000])),
    st.builds("[1..{0}].[1..{0}]".format, st.sampled_from([1000, 100_000, 600_000])),
    st.builds("$map([1..{0}], function($v){{ [1..{0}] }})".format, _SIZES),
    st.builds("$append([1..{0}], [1..{0}])".format, _SIZES),
    st.builds("$zip([1..{0}], [1..{0}])".format, _SIZES),
    st.builds("$string([1..{}])".format, _SIZES),
    st.builds("$sort([1..{}], function($a, $b){{ $a < $b }})".format, _SIZES),
    st.builds("$reduce([1..{}], function($a, $b){{ $a & 'xx' }}, '')".format, _SIZES),
    st.builds("$replace('abc', /x/, 'y', {})".format, _SIZES),
    st.builds("$replace($pad('', {}, 'a'), 'a', 'bb')".format, _SIZES),
    st.builds("$split($pad('', {}, ','), ',')".format, _SIZES),
    st.builds("$split('abc', /x*/, {})".format, _SIZES),
    st.builds("$match('abc', /x*/, {})".format, _SIZES),
    st.builds(
        "$match($pad('', {}, 'a') & '!', {})".format,
        st.sampled_from([30, 5000]),
        st.sampled_from(["/(a+)+b/", "/(a|aa)+$/", "/^(a|a?)+$/", "/(.*a){12}/"]),
    ),
    st.builds(
        "$replace($pad('', {}, 'a') & '!', /(a+)+b/, 'x')".format, st.sampled_from([30, 5000])
    ),
    st.builds("$contains($pad('', {}, 'a') & '!', /(a|aa)+$/)".format, st.sampled_from([30])),
    st.builds("$split($pad('', {}, 'a') & '!', /(a+)+b/)".format, st.sampled_from([30])),
    st.sampled_from(
        [
            "($f := function($n){ $f($n + 1) }; $f(0))",
            "($f := function($n){ 1 + $f($n + 1) }; $f(0))",
            "($f := function($n){ $n > 100000 ? $n : $f($n + 1) }; $f(0))",
            "($f := function($n){ [$f($n), $f($n)] }; $f(0))",
            "($f := function($s){ $f($s & $s) }; $f('ab'))",
            "$formatNumber(1e308, '#,##0.' & $pad('', 1000, '0'))",
            "$formatBase(9007199254740993, 2)",
            "$formatInteger(1e20, 'w')",
            "$fromMillis(1e20)",
            "$toMillis('99999-12-31')",
            "$power(10, 400)",
            "$number('1e400')",
            "1e308 * 10",
            "$base64decode('ÿ')",
            "$parse('" + "[" * 2000 + "')",
            "$parse('1e400')",
            "$eval('1 + 1')",
            "$string($states.input, true)",
            "$states.input.**",
            "$keys($states.input.**)",
            "$sum([1..100000])",
            "$states.input.a.b.c.d.e.f.g",
            "$single([1, 2])",
            "$error('custom')",
            "(" * 1000 + "1" + ")" * 1000,
            "[" * 1000 + "]" * 1000,
            "-" * 5000 + "1",
            "$not(" * 1000 + "true" + ")" * 1000,
            "1" + " + 1" * 5000,
            "$x := 1",
        ]
    ),
)
jsonata_expressions = (jsonata_bodies | hostile_jsonata_bodies).map("{{% {} %}}".format) | (
    st.text(max_size=30).map("{{% {} %}}".format)
)

# --- Choice rules --------------------------------------------------------------------------

_COMPARATORS = [
    f"{kind}{test}"
    for kind in ("String", "Numeric", "Boolean", "Timestamp")
    for test in ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals")
] + ["StringMatches", "IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"]
_OPERANDS = json_values | st.sampled_from(
    [
        "*",
        "a*a*a*a*a*a*a*a*a*a*a*a*b",
        "*a*a*a*a*a*a*a*a*a*a*a*a*c",
        "\\*",
        "2016-03-14T01:59:00Z",
        "not-a-time",
        1e308,
        10**30,
    ]
)


def _comparison(variable: str, name: str, operand: Json, by_path: bool) -> dict[str, Json]:
    if by_path:
        return {"Variable": variable, f"{name}Path": operand}
    return {"Variable": variable, name: operand}


_comparisons = st.builds(
    _comparison,
    json_paths,
    st.sampled_from(_COMPARATORS),
    _OPERANDS,
    st.booleans(),
)
choice_rules = st.recursive(
    _comparisons,
    lambda rules: st.one_of(
        st.builds(lambda items: {"And": items}, st.lists(rules, max_size=3)),
        st.builds(lambda items: {"Or": items}, st.lists(rules, max_size=3)),
        st.builds(lambda rule: {"Not": rule}, rules),
    ),
    max_leaves=6,
)

# --- whole machines ------------------------------------------------------------------------

NAMES = ["A", "B", "C", "D"]


def _templates(leaves: st.SearchStrategy[Json]) -> st.SearchStrategy[Json]:
    return st.recursive(
        leaves,
        lambda children: (
            st.dictionaries(keys, children, max_size=3) | st.lists(children, max_size=3)
        ),
        max_leaves=6,
    )


def _jsonpath_template() -> st.SearchStrategy[Json]:
    dynamic = st.builds(
        lambda key, value: {f"{key}.$": value},
        keys,
        json_paths | intrinsic_calls | hostile_intrinsic_calls,
    )
    return st.one_of(dynamic, st.dictionaries(keys, json_values, max_size=3), json_values)


def _jsonata_template() -> st.SearchStrategy[Json]:
    return _templates(json_values | jsonata_expressions)


@st.composite
def _retriers(draw: st.DrawFn) -> list[Json]:
    errors = st.lists(
        st.sampled_from(["States.ALL", "States.TaskFailed", "ValueError", "States.Timeout", ""]),
        max_size=2,
    )
    return draw(
        st.lists(
            st.fixed_dictionaries(
                {"ErrorEquals": errors},
                optional={
                    "MaxAttempts": st.sampled_from([0, 1, 3, 99999999, -1, 1.5]),
                    "IntervalSeconds": st.sampled_from([1, 0, 99999999, 10**20]),
                    "BackoffRate": st.sampled_from([1, 2.0, 0.5, 1e308]),
                    "MaxDelaySeconds": st.sampled_from([1, 10**10]),
                    "JitterStrategy": st.sampled_from(["FULL", "NONE", "x"]),
                },
            ),
            max_size=2,
        )
    )


def _transition(names: list[str], index: int) -> st.SearchStrategy[dict[str, Json]]:
    following = names[index + 1] if index + 1 < len(names) else None
    ordinary = st.just({"Next": following} if following else {"End": True})
    hostile = st.sampled_from([{"Next": name} for name in names] + [{"Next": "Nowhere"}, {}])
    return st.one_of(ordinary, ordinary, ordinary, hostile)


@st.composite
def _state(draw: st.DrawFn, language: str, names: list[str], index: int, depth: int) -> Json:
    kinds = ["Pass", "Task", "Choice", "Wait", "Succeed", "Fail"]
    if depth > 0:
        kinds += ["Parallel", "Map"]
    kind = draw(st.sampled_from(kinds))
    state: dict[str, Json] = {"Type": kind}
    if kind not in ("Choice", "Succeed", "Fail"):
        state.update(draw(_transition(names, index)))
    data = _jsonata_template() if language == "JSONata" else _jsonpath_template()
    if kind == "Pass":
        field = (
            "Output" if language == "JSONata" else draw(st.sampled_from(["Result", "Parameters"]))
        )
        state[field] = draw(data)
    elif kind == "Task":
        state["Resource"] = draw(st.sampled_from(RESOURCES))
        state["Retry"] = draw(_retriers())
        state["Catch"] = [{"ErrorEquals": ["States.ALL"], "Next": draw(st.sampled_from(names))}]
        state[draw(st.sampled_from(["TimeoutSeconds", "HeartbeatSeconds"]))] = draw(
            st.sampled_from([1, 60, 0, -1, 10**20])
        )
        state["Arguments" if language == "JSONata" else "Parameters"] = draw(data)
    elif kind == "Choice":
        rules = st.builds(
            lambda rule, target: {**rule, "Next": target}, choice_rules, st.sampled_from(names)
        )
        if language == "JSONata":
            rules = st.builds(
                lambda condition, target: {"Condition": condition, "Next": target},
                jsonata_expressions | st.booleans(),
                st.sampled_from(names),
            )
        state["Choices"] = draw(st.lists(rules, min_size=1, max_size=3))
        state["Default"] = draw(st.sampled_from([*names, "Nowhere"]))
    elif kind == "Wait":
        field = draw(st.sampled_from(["Seconds", "Timestamp", "SecondsPath", "TimestampPath"]))
        value = draw(
            st.sampled_from([0, 1, 31_536_000, 10**10, -1, 1.5, "2016-03-14T01:59:00Z", "$.n"])
            | (jsonata_expressions if language == "JSONata" else json_paths)
        )
        state[field] = value
    elif kind == "Fail":
        state.update(draw(st.fixed_dictionaries({}, optional={"Error": scalars, "Cause": scalars})))
    elif kind == "Parallel":
        state["Branches"] = draw(st.lists(machines(depth - 1, language), min_size=1, max_size=2))
    elif kind == "Map":
        state["ItemProcessor"] = draw(machines(depth - 1, language))
        state["MaxConcurrency"] = draw(st.sampled_from([0, 1, 40, -1]))
        if language == "JSONata":
            state["Items"] = draw(jsonata_expressions | st.lists(json_values, max_size=3))
        else:
            state["ItemsPath"] = draw(json_paths)
    return state


@st.composite
def machines(draw: st.DrawFn, depth: int = 2, language: str | None = None) -> Json:
    """A state machine: ordinary in shape, with hostile field values mixed in."""
    language = language or draw(st.sampled_from(["JSONPath", "JSONata"]))
    names = NAMES[: draw(st.integers(min_value=1, max_value=len(NAMES)))]
    states = {name: draw(_state(language, names, index, depth)) for index, name in enumerate(names)}
    machine: dict[str, Json] = {"StartAt": names[0], "States": states}
    if language == "JSONata":
        machine["QueryLanguage"] = "JSONata"
    return machine


def _paths_into(value: Json, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths_into(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths_into(item, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, machine: Json) -> Json:
    """``machine`` with a few fields deleted, retyped or added (or none)."""
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        paths = _paths_into(machine)
        if not paths:
            break
        *parent_path, last = draw(st.sampled_from(paths))
        parent = machine
        for step in parent_path:
            parent = parent[step]
        action = draw(st.sampled_from(["delete", "retype", "add"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[last]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["Unknown", "Next", "End", "Type", "Comment"]))] = draw(
                json_values
            )
        else:
            parent[last] = draw(json_values)
    return machine


def deep_parallel(depth: int) -> Json:
    """``depth`` Parallel states, each the only state of the one branch of the one above."""
    machine: Json = {"StartAt": "Leaf", "States": {"Leaf": {"Type": "Pass", "End": True}}}
    for _ in range(depth):
        machine = {
            "StartAt": "P",
            "States": {"P": {"Type": "Parallel", "Branches": [machine], "End": True}},
        }
    return machine


hostile_definition_texts = st.one_of(
    st.sampled_from([1, 10, 60, 130, 300]).map(lambda depth: json.dumps(deep_parallel(depth))),
    st.sampled_from([400, 1000, 100_000]).map(
        lambda depth: (
            '{"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": '
            + deep_array(depth)
            + ', "End": true}}}'
        )
    ),
    st.sampled_from(
        [
            "",
            "{",
            "null",
            "[]",
            "{}",
            '{"StartAt": "A"}',
            '{"StartAt": "A", "States": []}',
            '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}, "A": NaN}',
            "StartAt: A\nStates:\n  A:\n    Type: Pass\n    End: true\n",
            "StartAt: A\nStates: " + "[" * 5000,
            "&a [*a]",
            "!!python/object/apply:os.system ['true']",
            "a: &a [*a, *a]\nb: &b [*a, *a, *a]\nc: &c [*b, *b, *b]\n",
            '{"StartAt": "' + "A" * 100_000 + '", "States": {}}',
            "\ufeff{}",
            "\x00",
        ]
    ),
    st.text(max_size=40),
)

"""Which fields each state type allows, requires or forbids: the tables of the spec.

Read a row as "a <Type> state may have these fields". Whether a field is available also
depends on the state's query language: the JSONPath-only fields give way to ``Arguments``,
``Output`` and ``Items`` (and ``Condition`` in Choice rules) in JSONata states.
"""

from __future__ import annotations

from typing import Final

STATE_TYPES: Final = ("Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")

QUERY_LANGUAGES: Final = ("JSONPath", "JSONata")

COMMON_FIELDS: Final = frozenset({"Type", "Comment", "QueryLanguage"})

_IO: Final = frozenset({"InputPath", "OutputPath", "Output"})
_RESULT: Final = frozenset({"ResultPath", "Parameters", "ResultSelector", "Arguments"})
_FLOW: Final = frozenset({"Next", "End", "Assign"})
_ERRORS: Final = frozenset({"Retry", "Catch"})

STATE_FIELDS: Final[dict[str, frozenset[str]]] = {
    "Pass": _IO | _FLOW | {"ResultPath", "Parameters", "Result"},
    "Task": _IO
    | _FLOW
    | _RESULT
    | _ERRORS
    | {
        "Resource",
        "TimeoutSeconds",
        "TimeoutSecondsPath",
        "HeartbeatSeconds",
        "HeartbeatSecondsPath",
        "Credentials",
    },
    "Choice": _IO | {"Choices", "Default", "Assign"},
    "Wait": _IO | _FLOW | {"Seconds", "Timestamp", "SecondsPath", "TimestampPath"},
    "Succeed": _IO,
    "Fail": frozenset({"Error", "ErrorPath", "Cause", "CausePath"}),
    "Parallel": _IO | _FLOW | _RESULT | _ERRORS | {"Branches"},
    "Map": _IO
    | _FLOW
    | (_RESULT - {"Arguments"})
    | _ERRORS
    | {
        "ItemsPath",
        "Items",
        "ItemSelector",
        "ItemProcessor",
        "Iterator",
        "MaxConcurrency",
        "MaxConcurrencyPath",
        "ToleratedFailureCount",
        "ToleratedFailureCountPath",
        "ToleratedFailurePercentage",
        "ToleratedFailurePercentagePath",
        "Label",
        "ItemReader",
        "ItemBatcher",
        "ResultWriter",
    },
}
"""Every field a state of each type may have, in one language or the other."""

JSONPATH_ONLY: Final = frozenset(
    {
        "InputPath",
        "OutputPath",
        "ResultPath",
        "Parameters",
        "ResultSelector",
        "Result",
        "ItemsPath",
        "SecondsPath",
        "TimestampPath",
        "TimeoutSecondsPath",
        "HeartbeatSecondsPath",
        "ErrorPath",
        "CausePath",
        "MaxConcurrencyPath",
        "ToleratedFailureCountPath",
        "ToleratedFailurePercentagePath",
    }
)
"""Fields a JSONata state may not use (it has Arguments, Output and Items instead)."""

JSONATA_ONLY: Final = frozenset({"Arguments", "Output", "Items", "Condition"})
"""Fields a JSONPath state may not use."""

TRANSITION_TYPES: Final = frozenset({"Pass", "Task", "Wait", "Parallel", "Map"})
"""Types that must have exactly one of ``Next`` and ``"End": true``."""

TERMINAL_TYPES: Final = frozenset({"Succeed", "Fail"})

REQUIRED: Final[dict[str, tuple[str, ...]]] = {
    "Task": ("Resource",),
    "Choice": ("Choices",),
    "Parallel": ("Branches",),
}

EXACTLY_ONE: Final[dict[str, tuple[tuple[str, ...], ...]]] = {
    "Wait": (("Seconds", "Timestamp", "SecondsPath", "TimestampPath"),),
    "Map": (("ItemProcessor", "Iterator"),),
}

AT_MOST_ONE: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "Task": (
        ("TimeoutSeconds", "TimeoutSecondsPath"),
        ("HeartbeatSeconds", "HeartbeatSecondsPath"),
    ),
    "Fail": (("Error", "ErrorPath"), ("Cause", "CausePath")),
    "Map": (
        ("ItemSelector", "Parameters"),
        ("MaxConcurrency", "MaxConcurrencyPath"),
        ("ToleratedFailureCount", "ToleratedFailureCountPath"),
        ("ToleratedFailurePercentage", "ToleratedFailurePercentagePath"),
    ),
}

MACHINE_FIELDS: Final = frozenset(
    {"StartAt", "States", "Comment", "Version", "TimeoutSeconds", "QueryLanguage"}
)
"""Fields of the top-level definition."""

BRANCH_FIELDS: Final = frozenset({"StartAt", "States", "Comment"})
"""Fields of a Parallel branch."""

PROCESSOR_FIELDS: Final = frozenset({"StartAt", "States", "Comment", "ProcessorConfig"})
"""Fields of a Map ItemProcessor (or its older name, Iterator)."""

RETRIER_FIELDS: Final = frozenset(
    {
        "ErrorEquals",
        "IntervalSeconds",
        "MaxAttempts",
        "BackoffRate",
        "MaxDelaySeconds",
        "JitterStrategy",
        "Comment",
    }
)

CATCHER_FIELDS: Final[dict[bool, frozenset[str]]] = {
    False: frozenset({"ErrorEquals", "Next", "ResultPath", "Assign", "Comment"}),
    True: frozenset({"ErrorEquals", "Next", "Output", "Assign", "Comment"}),
}
"""Fields of a Catch entry, keyed by "is the state JSONata"."""

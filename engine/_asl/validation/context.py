"""What every check needs to know about where it is: the machine, the state, the language."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from engine._asl.validation.report import Json, Report, child

STANDARD = "STANDARD"
EXPRESS = "EXPRESS"


class ScopeCheck(Protocol):
    """Checks a nested machine (a Parallel branch or a Map processor) found at ``path``."""

    def __call__(self, path: str, scope: Json) -> None:
        """Check ``scope`` as a machine of its own, reporting under ``path``."""
        ...


@dataclass(frozen=True)
class MachineContext:
    """Facts about the whole definition.

    Attributes:
        report: where diagnostics go.
        machine_type: ``STANDARD`` or ``EXPRESS``.
        jsonata: whether the top-level ``QueryLanguage`` is JSONata. Every state, nested
            ones included, inherits it unless it sets its own: AWS ignores the
            ``QueryLanguage`` of an enclosing Parallel or Map.
        check_scope: checks a nested machine (a Parallel branch or a Map processor).
        state_paths: every state name in the definition, with the pointer(s) to it.
    """

    report: Report
    machine_type: str
    jsonata: bool
    check_scope: ScopeCheck
    state_paths: Mapping[str, list[str]]


@dataclass(frozen=True)
class StateContext:
    """One state being checked.

    Attributes:
        machine: the enclosing definition's facts.
        path: the pointer to the state, e.g. ``/States/Wait1``.
        name: the state's name.
        type: its ``Type`` (a known one).
        body: the state's fields.
        jsonata: whether the state evaluates its fields with JSONata.
    """

    machine: MachineContext
    path: str
    name: str
    type: str
    body: Mapping[str, Json]
    jsonata: bool

    @property
    def report(self) -> Report:
        """Where diagnostics go."""
        return self.machine.report

    @property
    def language(self) -> str:
        """The state's query language as ASL spells it."""
        return "JSONata" if self.jsonata else "JSONPath"

    def at(self, field: str) -> str:
        """The pointer to one of the state's fields."""
        return child(self.path, field)

"""Static checks of an ASL definition, before a model is built from it.

`validate_definition` reports every problem at once, each with a JSON pointer to the
offending value and a message saying what was expected and what was found; an empty list
means AWS would accept the definition. The rules live in :mod:`engine._asl.validation`.
"""

from __future__ import annotations

from engine._asl.validation.context import EXPRESS, STANDARD
from engine._asl.validation.machine import check_definition
from engine._asl.validation.report import Json, Report
from engine._errors import Diagnostic, InvalidDefinition

__all__ = ["EXPRESS", "STANDARD", "ensure_valid", "validate_definition"]


def validate_definition(raw: Json, *, state_machine_type: str = STANDARD) -> list[Diagnostic]:
    """Every problem in a parsed definition, in the order found.

    Args:
        raw: the definition as plain JSON values (see `engine._asl.load`).
        state_machine_type: ``STANDARD`` or ``EXPRESS``; Express machines may not use
            ``.sync`` / ``.waitForTaskToken`` integrations or activities.

    Returns:
        The diagnostics; empty when the definition is valid.

    Raises:
        ValueError: ``state_machine_type`` is neither ``STANDARD`` nor ``EXPRESS``.
    """
    if state_machine_type not in (STANDARD, EXPRESS):
        raise ValueError(
            f"state_machine_type must be '{STANDARD}' or '{EXPRESS}', got {state_machine_type!r}"
        )
    report = Report()
    check_definition(raw, report, state_machine_type)
    return report.diagnostics


def ensure_valid(raw: Json, *, state_machine_type: str = STANDARD) -> None:
    """Raise unless the definition is valid.

    Args:
        raw: the definition as plain JSON values.
        state_machine_type: ``STANDARD`` or ``EXPRESS``.

    Raises:
        InvalidDefinition: carrying every diagnostic, when there is at least one.
    """
    diagnostics = validate_definition(raw, state_machine_type=state_machine_type)
    if diagnostics:
        raise InvalidDefinition(diagnostics)

"""Text (or a parsed object) → a validated, typed state machine, in one call."""

from __future__ import annotations

from typing import Any

from engine._asl.load import load_definition_text
from engine._asl.model import StateMachine
from engine._asl.parse import build_state_machine
from engine._asl.validate import validate_definition
from engine._errors import Diagnostic, InvalidDefinition

Json = Any
MAX_DEFINITION_BYTES = 1024 * 1024


def load_and_check(
    definition: str | bytes | Json,
    *,
    state_machine_type: str = "STANDARD",
    max_bytes: int | None = MAX_DEFINITION_BYTES,
) -> tuple[Json, list[Diagnostic]]:
    """Parse ``definition`` (JSON/YAML text, or an already parsed object) and validate it.

    ``max_bytes=None`` skips the size check (a caller that did its own).

    Raises:
        DefinitionSyntaxError: the text is not JSON/YAML (or is over ``max_bytes``).
    """
    raw = (
        load_definition_text(definition, max_bytes=max_bytes)
        if isinstance(definition, str | bytes)
        else definition
    )
    return raw, validate_definition(raw, state_machine_type=state_machine_type)


def compile_definition(
    definition: str | bytes | Json,
    *,
    state_machine_type: str = "STANDARD",
    max_bytes: int = MAX_DEFINITION_BYTES,
) -> StateMachine:
    """A validated state machine model, or an error naming every problem.

    Raises:
        DefinitionSyntaxError: malformed text.
        InvalidDefinition: the ASL is invalid (all diagnostics at once).
    """
    raw, diagnostics = load_and_check(
        definition, state_machine_type=state_machine_type, max_bytes=max_bytes
    )
    if diagnostics:
        raise InvalidDefinition(diagnostics)
    return build_state_machine(raw)


def stored_model(definition: str) -> StateMachine:
    """The model of a definition the API accepted earlier (e.g. read back from the store).

    Parsed with the API's own loader, so whatever text the API accepts -- JSON or YAML --
    also runs on a worker; not validated again: it was when it was accepted.

    Raises:
        DefinitionSyntaxError: the text is not JSON/YAML (it was never accepted).
    """
    return build_state_machine(load_definition_text(definition))

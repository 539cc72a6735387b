"""The event bus API's errors, with EventBridge's error codes (no I/O: the API imports them)."""

from __future__ import annotations

from engine._errors import ClientError


class ResourceNotFoundException(ClientError):
    """The rule or event bus does not exist."""

    code = "ResourceNotFoundException"


class InvalidEventPatternException(ClientError):
    """The rule's EventPattern is not a valid event pattern."""

    code = "InvalidEventPatternException"


class EventsValidationException(ClientError):
    """A request field is missing or malformed (EventBridge's ValidationException)."""

    code = "ValidationException"

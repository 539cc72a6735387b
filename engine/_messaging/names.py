"""Queue and topic names from what users write: a name, an SQS-style URL or an ARN.

AWS addresses a queue by its URL (``https://sqs.REGION.amazonaws.com/ACCOUNT/NAME``) and
names it by ARN (``arn:aws:sqs:REGION:ACCOUNT:NAME``); a topic by its ARN
(``arn:aws:sns:REGION:ACCOUNT:NAME``). Stepline has one region and account per store, so
each of these forms comes down to the name, and every form is accepted wherever a queue or
a topic is named.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from engine._resources import DEFAULT_ACCOUNT, DEFAULT_REGION

# SQS: 1-80 letters, digits, '-' or '_' (a FIFO queue's name ends with ".fifo").
_QUEUE_NAME = re.compile(r"^(?=.{1,80}$)[A-Za-z0-9_-]+(?:\.fifo)?$")
# SNS: 1-256 letters, digits, '-' or '_' (".fifo" likewise).
_TOPIC_NAME = re.compile(r"^(?=.{1,256}$)[A-Za-z0-9_-]+(?:\.fifo)?$")


def queue_name(reference: str) -> str:
    """The queue's name from a name, a queue URL or a queue ARN.

    Raises:
        ValueError: naming the reference when it is none of those forms.
    """
    return _name(reference, "sqs", _QUEUE_NAME, "queue")


def topic_name(reference: str) -> str:
    """The topic's name from a name or a topic ARN.

    Raises:
        ValueError: naming the reference when it is neither form.
    """
    return _name(reference, "sns", _TOPIC_NAME, "topic")


def _name(reference: str, service: str, pattern: re.Pattern[str], kind: str) -> str:
    if not isinstance(reference, str):
        raise ValueError(f"{kind}: expected a name, URL or ARN string, got {reference!r}")
    candidate = reference
    if reference.startswith("arn:"):
        parts = reference.split(":")
        candidate = parts[5] if len(parts) == 6 and parts[2] == service else ""
    elif "://" in reference:
        candidate = urlsplit(reference).path.rstrip("/").rsplit("/", 1)[-1]
    if not pattern.fullmatch(candidate):
        raise ValueError(
            f"{kind} {reference!r}: expected a {kind} name (letters, digits, '-', '_'), "
            f"an arn:aws:{service}:REGION:ACCOUNT:NAME ARN"
            + (" or a queue URL ending with /ACCOUNT/NAME" if service == "sqs" else "")
        )
    return candidate


def queue_url(name: str) -> str:
    """The SQS-style URL of queue ``name`` (the store's one region and account)."""
    return f"https://sqs.{DEFAULT_REGION}.amazonaws.com/{DEFAULT_ACCOUNT}/{name}"


def queue_arn(name: str) -> str:
    """The ARN of queue ``name``."""
    return f"arn:aws:sqs:{DEFAULT_REGION}:{DEFAULT_ACCOUNT}:{name}"


def topic_arn(name: str) -> str:
    """The ARN of topic ``name``."""
    return f"arn:aws:sns:{DEFAULT_REGION}:{DEFAULT_ACCOUNT}:{name}"

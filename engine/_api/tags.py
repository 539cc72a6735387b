"""Tag operations of the boto3-shaped client: TagResource, UntagResource, ListTagsForResource.

State machines and activities carry tags (``tags=`` on their create calls too), with AWS's
limits: at most 50 per resource, keys of 1-128 and values of 0-256 characters.
"""

from __future__ import annotations

import re
from typing import Any

from engine import _errors as errors
from engine._activities import activities_of
from engine._api.base import ClientBase, require

Json = Any
MAX_TAGS = 50
"""AWS's limit of tags per resource."""
_TAG_TEXT = re.compile(r"^[\w\s_.:/=+\-@]*$", re.UNICODE)


def checked_tags(tags: Json, field: str = "tags") -> dict[str, str]:
    """AWS's ``[{"key", "value"}]`` list as a dict, each key and value checked.

    Raises:
        ValidationException: not a list of key/value objects, or a key or value AWS refuses.
        TooManyTags: more than `MAX_TAGS` tags.
    """
    if tags is None:
        return {}
    if not isinstance(tags, list):
        raise errors.ValidationException(
            f"{field}: expected a list of {{'key', 'value'}} objects, got {type(tags).__name__}"
        )
    result: dict[str, str] = {}
    for index, tag in enumerate(tags):
        key, value = _tag_pair(tag, f"{field}.{index + 1}")
        result[key] = value
    if len(result) > MAX_TAGS:
        raise errors.TooManyTags(f"Too many tags: {len(result)} given, at most {MAX_TAGS}")
    return result


def _tag_pair(tag: Json, place: str) -> tuple[str, str]:
    if not isinstance(tag, dict) or not isinstance(tag.get("key"), str):
        raise errors.ValidationException(
            f"{place}: expected an object with a string 'key', got {tag!r}"
        )
    key, value = tag["key"], tag.get("value", "")
    if not isinstance(value, str):
        raise errors.ValidationException(
            f"{place}.value: expected a string, got {type(value).__name__}"
        )
    if not 1 <= len(key) <= 128 or not _TAG_TEXT.match(key):
        raise errors.ValidationException(
            f"{place}.key: expected 1-128 letters, digits, spaces or _ . : / = + - @, got {key!r}"
        )
    if len(value) > 256 or not _TAG_TEXT.match(value):
        raise errors.ValidationException(
            f"{place}.value: expected 0-256 letters, digits, spaces or _ . : / = + - @, "
            f"got {value!r}"
        )
    return key, value


class TagOperations(ClientBase):
    """Tags on state machines and activities."""

    def tag_resource(
        self, *, resourceArn: str | None = None, tags: Json = None, **_: Any
    ) -> dict[str, Json]:
        """TagResource: add ``tags`` (a key already there gets the new value).

        Raises:
            InvalidArn: not a state machine or activity ARN.
            ResourceNotFound: no such machine or activity.
            TooManyTags: the resource would carry more than 50 tags.
        """
        arn = self._tagged(require(resourceArn, "resourceArn"))
        merged = self.backend.tags(arn) | checked_tags(require(tags, "tags"))
        if len(merged) > MAX_TAGS:
            raise errors.TooManyTags(
                f"Too many tags: '{arn}' would carry {len(merged)}, at most {MAX_TAGS}"
            )
        self.backend.save_tags(arn, merged)
        return {}

    def untag_resource(
        self, *, resourceArn: str | None = None, tagKeys: Json = None, **_: Any
    ) -> dict[str, Json]:
        """UntagResource: remove the tags with these keys (unknown keys are ignored)."""
        arn = self._tagged(require(resourceArn, "resourceArn"))
        keys = require(tagKeys, "tagKeys")
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise errors.ValidationException(f"tagKeys: expected a list of strings, got {keys!r}")
        kept = {k: v for k, v in self.backend.tags(arn).items() if k not in set(keys)}
        self.backend.save_tags(arn, kept)
        return {}

    def list_tags_for_resource(
        self, *, resourceArn: str | None = None, **_: Any
    ) -> dict[str, Json]:
        """ListTagsForResource: ``{"tags": [{"key", "value"}]}``, in the order they were added."""
        arn = self._tagged(require(resourceArn, "resourceArn"))
        tags = self.backend.tags(arn)
        return {"tags": [{"key": key, "value": value} for key, value in tags.items()]}

    def _tagged(self, arn: str) -> str:
        """``arn`` if it names an existing state machine or activity."""
        self._check_arn(arn, "stateMachine", "activity")
        parts = arn.split(":")
        if len(parts) != 7:
            raise errors.InvalidArn(
                f"Invalid Arn: '{arn}' (tags go on a state machine or an activity, "
                "not on a version or alias)"
            )
        if parts[5] == "activity":
            found = activities_of(self.backend).find(arn) is not None
        else:
            found = self.backend.machine(arn) is not None
        if not found:
            raise errors.ResourceNotFound(f"Resource not found: '{arn}'")
        return arn

"""Activity operations of the boto3-shaped client.

Create/Describe/List/DeleteActivity, and GetActivityTask: the long poll activity workers
take their tasks with.
"""

from __future__ import annotations

import time
from typing import Any

from engine._activities import Activity, activities_of, input_text
from engine._api.base import ClientBase, backend_token, require, with_token
from engine._api.tags import checked_tags
from engine._errors import ClientError
from engine._records import page_in_memory

Json = Any

POLL_SECONDS = 60.0
"""How long GetActivityTask waits for a task, as on AWS."""
POLL_INTERVAL_SECONDS = 0.2
"""How often a waiting GetActivityTask looks again: one small indexed query each time."""


class ActivityDoesNotExist(ClientError):
    """No activity has that ARN."""

    code = "ActivityDoesNotExist"


class ActivityOperations(ClientBase):
    """Activities: Task states whose work is done by workers polling for it."""

    activity_poll_seconds: float = POLL_SECONDS
    """How long `get_activity_task` waits (tests and short-lived workers lower it)."""

    def create_activity(
        self, *, name: str | None = None, tags: Json = None, **_: Any
    ) -> dict[str, Json]:
        """CreateActivity: idempotent on ``name`` (the existing activity is returned).

        As on AWS, a repeat with other tags keeps the first call's tags.
        """
        name = require(name, "name")
        self._check_name(name, "activity")
        tag_values = checked_tags(tags)
        wanted = Activity(self._arn("activity", name), name, self.clock.now())
        known = activities_of(self.backend).find(wanted.arn) is not None
        activity = activities_of(self.backend).create(wanted)
        if tag_values and not known:
            self.backend.save_tags(activity.arn, tag_values)
        return {"activityArn": activity.arn, "creationDate": activity.creation_date}

    def describe_activity(self, *, activityArn: str | None = None, **_: Any) -> dict[str, Json]:
        """DescribeActivity.

        Raises:
            ActivityDoesNotExist: no activity has that ARN.
        """
        activity = self._activity(require(activityArn, "activityArn"))
        return _item(activity)

    def list_activities(
        self, *, maxResults: int = 0, nextToken: str | None = None, **_: Any
    ) -> dict[str, Json]:
        """ListActivities: oldest first, paged."""
        scope = ("ListActivities",)
        listed = activities_of(self.backend).all()
        page = page_in_memory(listed, maxResults, backend_token(nextToken, scope))
        return with_token({"activities": [_item(a) for a in page.items]}, page.next_token, scope)

    def delete_activity(self, *, activityArn: str | None = None, **_: Any) -> dict[str, Json]:
        """DeleteActivity (its waiting tasks wait on until their timeouts, as on AWS)."""
        arn = require(activityArn, "activityArn")
        self._check_arn(arn, "activity")
        activities_of(self.backend).delete(arn)
        self.backend.save_tags(arn, {})
        return {}

    def get_activity_task(
        self, *, activityArn: str | None = None, workerName: str | None = None, **_: Any
    ) -> dict[str, Json]:
        """GetActivityTask: wait up to `activity_poll_seconds` for a task of the activity.

        Returns ``{"taskToken", "input"}``, or no members when none came (AWS answers a null
        ``taskToken``, which botocore drops).

        Raises:
            ActivityDoesNotExist: no activity has that ARN.
        """
        arn = self._activity(require(activityArn, "activityArn")).arn
        deadline = time.monotonic() + self.activity_poll_seconds
        while True:
            task = activities_of(self.backend).take(arn, workerName)
            if task is not None:
                return {"taskToken": task.token, "input": input_text(task.input)}
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return {}
            time.sleep(min(POLL_INTERVAL_SECONDS, remaining))

    def _activity(self, arn: str) -> Activity:
        self._check_arn(arn, "activity")
        activity = activities_of(self.backend).find(arn)
        if activity is None:
            raise ActivityDoesNotExist(f"Activity Does Not Exist: '{arn}'")
        return activity


def _item(activity: Activity) -> dict[str, Json]:
    return {
        "activityArn": activity.arn,
        "name": activity.name,
        "creationDate": activity.creation_date,
    }

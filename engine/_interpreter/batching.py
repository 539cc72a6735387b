"""ItemBatcher: group a Distributed Map's item inputs into one child input per batch.

AWS gives each child ``{"BatchInput": ..., "Items": [...]}`` (``BatchInput`` only when the
state has one). Items are taken in order; a batch closes when it holds ``MaxItemsPerBatch``
items or when one more item would make the child input larger than
``MaxInputBytesPerBatch`` (never more than the payload limit, 256 KiB, whatever is given).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine._errors import ErrorName, StatesRuntimeError
from engine._interpreter.lifecycle import payload_size

Json = Any


@dataclass(frozen=True)
class BatchLimits:
    """The resolved limits of one Map run's batches (``max_items`` None: no count limit)."""

    max_items: int | None
    max_input_bytes: int


def group_into_batches(
    state_name: str,
    item_inputs: list[Json],
    limits: BatchLimits,
    batch_input: Json,
    has_batch_input: bool,
) -> list[Json]:
    """Each batch's child input, items in order; an item too large alone fails the state."""
    empty_size = payload_size(_batch([], batch_input, has_batch_input))
    batches: list[Json] = []
    current: list[Json] = []
    size = empty_size
    for index, item in enumerate(item_inputs):
        item_size = payload_size(item)
        if current and not _fits(len(current), size + 1 + item_size, limits):
            batches.append(_batch(current, batch_input, has_batch_input))
            current, size = [], empty_size
        size += item_size + (1 if current else 0)  # a comma before every item but the first
        if size > limits.max_input_bytes:
            raise StatesRuntimeError(
                ErrorName.RUNTIME,
                f"Map state '{state_name}': item {index} makes a batch of {size} bytes, "
                f"more than MaxInputBytesPerBatch ({limits.max_input_bytes})",
            )
        current.append(item)
    if current:
        batches.append(_batch(current, batch_input, has_batch_input))
    return batches


def _fits(count: int, size_with_next: int, limits: BatchLimits) -> bool:
    """Whether a batch of ``count`` items may take one more, growing to ``size_with_next``."""
    if limits.max_items is not None and count >= limits.max_items:
        return False
    return size_with_next <= limits.max_input_bytes


def _batch(items: list[Json], batch_input: Json, has_batch_input: bool) -> Json:
    if has_batch_input:
        return {"BatchInput": batch_input, "Items": items}
    return {"Items": items}

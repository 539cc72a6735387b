"""A service's consumer for the fleet tests: ``stepline consume payments`` runs it."""

from __future__ import annotations

from typing import Any

import engine


@engine.consumer("payments")
def charge(body: Any, message: engine.Message) -> Any:
    """Charge an order: succeeds up to 100, declines above (the task fails)."""
    amount = body["order"]["amount"]
    if amount > 100:
        raise PermissionError(f"amount {amount} over the limit of 100")
    return {"charged": amount}

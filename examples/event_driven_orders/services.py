r"""The order system's services: each consumes its own queue and answers with the task token.

Run them as their own processes (one per service in production)::

    stepline consume validation --handlers examples.event_driven_orders.services
    stepline consume payments fraud inventory shipping email sms --handlers \
        examples.event_driven_orders.services

A function's return value completes the waiting Task state (SendTaskSuccess); an exception
fails it (SendTaskFailure: Error = the exception's class name), and the workflow's Catch
compensates. Messages sent without a token (refunds, releases, notifications) are handled
and deleted. Every call is recorded on the ``order-log`` queue so a test (or you) can see
what each service did, in order.
"""

from __future__ import annotations

from typing import Any

import engine

Json = Any
DECLINED_CARD = "4000-0000-0000-0002"


class PaymentDeclined(Exception):
    """The card was refused."""


class OutOfStock(Exception):
    """An item cannot be reserved."""


class InvalidOrder(Exception):
    """The order is malformed."""


@engine.consumer("validation")
def validate(body: Json, message: engine.Message) -> Json:
    """An order needs an id, a customer and at least one item."""
    order = body["order"]
    if not order.get("orderId") or not order.get("items"):
        raise InvalidOrder(f"order {order.get('orderId')!r} has no id or no items")
    return {"valid": True}


@engine.consumer("payments")
def payments(body: Json, message: engine.Message) -> Json:
    """Charge the card (or refund it, for a compensation message without a token)."""
    order = body["order"]
    if body.get("action") == "refund":
        return {"refunded": order["orderId"]}
    if order.get("card") == DECLINED_CARD:
        raise PaymentDeclined(f"card {order['card']} declined for order {order['orderId']}")
    return {"charged": sum(item["price"] * item["quantity"] for item in order["items"])}


@engine.consumer("fraud")
def fraud(body: Json, message: engine.Message) -> Json:
    """A toy score: large orders are riskier."""
    total = sum(item["price"] * item["quantity"] for item in body["order"]["items"])
    return {"score": min(99, int(total // 10))}


@engine.consumer("inventory")
def inventory(body: Json, message: engine.Message) -> Json:
    """Reserve every item (or release the reservation, for a compensation)."""
    order = body["order"]
    if body.get("action") == "release":
        return {"released": order["orderId"]}
    missing = [item["sku"] for item in order["items"] if item["sku"].startswith("GONE")]
    if missing:
        raise OutOfStock(f"no stock for {', '.join(missing)}")
    return {"reserved": [item["sku"] for item in order["items"]]}


@engine.consumer("shipping")
def shipping(body: Json, message: engine.Message) -> Json:
    """Create the shipping label, then ship with it."""
    order = body["order"]
    if body["action"] == "label":
        return {"label": f"LBL-{order['orderId']}"}
    return {"tracking": f"TRK-{order['orderId']}", "label": body["label"]["label"]}


@engine.consumer("email")
def email(body: Json, message: engine.Message) -> Json:
    """Send the customer an email (the topic's SNS envelope wraps the notification)."""
    return {"emailed": True}


@engine.consumer("sms")
def sms(body: Json, message: engine.Message) -> Json:
    """Text the customer."""
    return {"texted": True}

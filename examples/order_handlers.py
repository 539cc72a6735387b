"""Handlers of examples/order_processing.asl.json, registered with ``@engine.handler``.

Load them with ``stepline run ... --handlers examples/order_handlers.py``. They are
deterministic: the payment gateway "times out" on the first attempt of every charge
(``context.attempt == 0``), so the Retry of ChargePayment always shows in the history.
"""

from __future__ import annotations

from typing import Any

import engine

PRICES_CENTS = {"BOOK-ASL": 2500, "MUG-STEP": 1200, "STICKER": 150, "LAMP-RARE": 4000}
STOCK = {"BOOK-ASL": 10, "MUG-STEP": 3, "STICKER": 100, "LAMP-RARE": 0}


class UnknownProduct(Exception):
    """The catalogue has no such SKU."""


class PaymentGatewayTimeout(Exception):
    """A transient failure: ChargePayment retries it."""


class PaymentDeclined(Exception):
    """A permanent failure: ChargePayment's Catch compensates it."""


class OutOfStock(Exception):
    """Not enough stock: the Parallel's Catch compensates it."""


@engine.handler("price_line")
def price_line(event: dict[str, Any], context: engine.HandlerContext) -> dict[str, Any]:
    """Price one order line (one Map iteration)."""
    sku = event["sku"]
    if sku not in PRICES_CENTS:
        raise UnknownProduct(f"no product {sku!r} in the catalogue")
    unit = PRICES_CENTS[sku]
    return {**event, "unitCents": unit, "subtotalCents": unit * event["quantity"]}


@engine.handler("charge_payment")
def charge_payment(event: dict[str, Any], context: engine.HandlerContext) -> dict[str, Any]:
    """Charge the card for every line; the first attempt always times out."""
    if context.attempt == 0:
        raise PaymentGatewayTimeout("the payment gateway did not answer (simulated, attempt 0)")
    if event["card"].startswith("tok_declined"):
        raise PaymentDeclined(f"card {event['card']} was declined")
    total = sum(line["subtotalCents"] for line in event["lines"])
    return {"chargeId": f"ch_{event['orderId']}", "amountCents": total}


@engine.handler("reserve_inventory")
def reserve_inventory(event: dict[str, Any], context: engine.HandlerContext) -> dict[str, Any]:
    """Reserve stock for every line, or fail with OutOfStock."""
    for line in event["lines"]:
        if STOCK.get(line["sku"], 0) < line["quantity"]:
            raise OutOfStock(f"{line['sku']}: {line['quantity']} wanted, {STOCK[line['sku']]} left")
    return {"reservationId": f"res_{event['orderId']}", "lines": len(event["lines"])}


@engine.handler("notify_customer")
def notify_customer(event: dict[str, Any], context: engine.HandlerContext) -> dict[str, Any]:
    """Pretend to email the customer (returns what would be sent)."""
    return {"sent": True, "to": event["email"], "message": event["message"]}


@engine.handler("refund_payment")
def refund_payment(event: dict[str, Any], context: engine.HandlerContext) -> dict[str, Any]:
    """Compensation: refund (or void) the order's charge."""
    return {"refunded": True, "orderId": event["orderId"], "reason": event["failure"]["Error"]}

"""The order service: put an "OrderPlaced" event on the bus (the rule starts the workflow).

``python -m examples.event_driven_orders.place_order [ORDER.json]`` prints the event id;
``stepline list`` then shows the execution the rule started.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import engine

HERE = Path(__file__).parent


def place(client: engine.Client, order: dict[str, Any]) -> str:
    """Put the OrderPlaced event for ``order``; returns the event id."""
    response = client.events.put_events(
        Entries=[
            {"Source": "shop.orders", "DetailType": "OrderPlaced", "Detail": json.dumps(order)}
        ]
    )
    if response["FailedEntryCount"]:
        raise RuntimeError(f"the event was refused: {response['Entries']}")
    return str(response["Entries"][0]["EventId"])


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "order.json"
    print(place(engine.connect(), json.loads(path.read_text())))

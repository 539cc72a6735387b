"""The Step Functions API: `Client` (boto3's shape) and `Operations` (the calls behind it).

`Client` (`engine._api.client`) is boto3's ``stepfunctions`` client: botocore validates
its requests, so defining it loads botocore's model. It is exported lazily (PEP 562, as
``engine`` exports its names, ADR 0050): importing a submodule of this package --
`engine._api.operations` for ``stepline run --local`` -- loads no botocore.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine._api.base import DEFAULT_ACCOUNT, DEFAULT_REGION, Backend

if TYPE_CHECKING:
    from engine._api.client import Client
else:

    def __getattr__(name: str) -> object:
        """`Client`, imported (with botocore's model) on first use and kept (PEP 562)."""
        if name != "Client":
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from engine._api.client import Client

        globals()["Client"] = Client
        return Client


__all__ = ["DEFAULT_ACCOUNT", "DEFAULT_REGION", "Backend", "Client"]

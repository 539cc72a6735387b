"""`Operations`: the Step Functions API with stepline's own checks, without boto3's surface.

`engine._api.client.Client` is this class with boto3's surface added (`engine._api.boto`):
botocore's request validation, ``ResponseMetadata``, errors naming the operation,
``client.exceptions`` and paginators. All of those read botocore's ``stepfunctions`` model,
which costs more to load than a one-shot run. Callers that build their requests
themselves and check their own inputs -- ``stepline run --local`` -- call the operations
here, which refuse a bad request with the same `ClientError` codes (ADR 0050).
"""

from __future__ import annotations

from pathlib import Path
from typing import Self

from engine._api.activities import ActivityOperations
from engine._api.aliases import AliasOperations
from engine._api.base import DEFAULT_ACCOUNT, DEFAULT_REGION
from engine._api.events import EventOperations
from engine._api.executions import ExecutionOperations
from engine._api.machines import MachineOperations
from engine._api.map_runs import MapRunOperations
from engine._api.tags import TagOperations
from engine._api.test_state import TestStateOperations
from engine._clock import Clock
from engine._integrations.mocks import MockConfig, with_mocks
from engine._interpreter.turn import Limits
from engine._resources import DEFAULT_REGISTRY, HandlerRegistry


class Operations(
    MachineOperations,
    AliasOperations,
    TagOperations,
    ExecutionOperations,
    MapRunOperations,
    EventOperations,
    ActivityOperations,
    TestStateOperations,
):
    """Every operation of the API, called with keyword arguments as boto3 takes them.

    No botocore validation: a member of the wrong type or an unknown one is not refused
    the way boto3 refuses it, so requests must be built by stepline's own code.
    """

    @classmethod
    def local(
        cls,
        handlers: HandlerRegistry | None = None,
        *,
        clock: Clock | None = None,
        limits: Limits | None = None,
        region: str = DEFAULT_REGION,
        account: str = DEFAULT_ACCOUNT,
        mock_config: MockConfig | str | Path | None = None,
    ) -> Self:
        """An in-process client: executions run synchronously in memory, nothing is stored.

        Args:
            handlers: the registry Task resources resolve in (default: ``engine.registry``).
            clock: the clock executions run on (a `FakeClock` makes Waits instant).
            limits: AWS's service limits (default: AWS's values).
            region: the region in ARNs.
            account: the account in ARNs.
            mock_config: Step Functions Local's mock config (parsed, or the path of its
                file): ``stateMachineArn=ARN#CASE`` then runs test case CASE.

        Returns:
            A client on the local backend.

        Raises:
            MockConfigError: the mock config file is unreadable or malformed.
        """
        from engine._backends.local import LocalBackend
        from engine._integrations.services import Services

        if mock_config is not None:
            handlers = with_mocks(handlers or DEFAULT_REGISTRY, mock_config)
        backend = LocalBackend(handlers=handlers, clock=clock, limits=limits)
        client = cls(backend, clock=backend.clock, limits=limits, region=region, account=account)
        backend.executor.services = Services(client=client)
        return client

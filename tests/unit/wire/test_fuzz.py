"""Property: no request a client can send makes `stepline serve` answer 5xx.

Random targets and bodies go straight to `WireProtocol.handle` (no HTTP: thousands of
requests a second). Bodies are built from each operation's member names with values of
any JSON type, so they reach the operations, not only the deserializer.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine._api import Client
from engine._api.boto import operation_model
from engine._wire import WireProtocol
from tests.unit.wire.conftest import PASS_MACHINE, ROLE, local_client

OPERATIONS = sorted(Client.boto3_operations)
MACHINE_ARN = "arn:aws:states:us-east-1:111111111111:stateMachine:fuzz"
EXECUTION_ARN = "arn:aws:states:us-east-1:111111111111:execution:fuzz:run"

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from([MACHINE_ARN, EXECUTION_ARN, PASS_MACHINE, ROLE, "{}", "fuzz", "STANDARD"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


def typed(shape: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Mostly values of ``shape``'s JSON type (so operations run), sometimes any JSON."""
    right = of_type(shape, depth)
    return st.integers(0, 9).flatmap(lambda roll: right if roll else json_values)


def of_type(shape: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of ``shape``'s JSON type."""
    kind = shape.type_name
    if kind == "structure" and depth < 3:
        members = {name: typed(member, depth + 1) for name, member in shape.members.items()}
        required = {name: members.pop(name) for name in shape.required_members}
        right: st.SearchStrategy[Any] = st.fixed_dictionaries(required, optional=members)
    elif kind == "list" and depth < 3:
        right = st.lists(typed(shape.member, depth + 1), max_size=3)
    elif kind == "string":
        right = st.sampled_from(
            shape.enum or [MACHINE_ARN, EXECUTION_ARN, PASS_MACHINE, ROLE]
        ) | st.text(max_size=20)
    elif kind in ("integer", "long"):
        right = st.integers(min_value=-(2**31), max_value=2**31 - 1)
    elif kind == "boolean":
        right = st.booleans()
    else:
        right = json_values
    return right


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, bytes]:
    """A target (mostly real operations) and a body (mostly objects of its members)."""
    operation = draw(
        st.sampled_from(OPERATIONS) | st.sampled_from(OPERATIONS) | st.text(max_size=12)
    )
    prefix = draw(st.sampled_from(["AWSStepFunctions."] * 8 + ["", "Other."]))
    if operation in OPERATIONS:
        members = draw(of_type(operation_model(operation).input_shape))
    else:
        members = draw(st.dictionaries(st.text(max_size=8), json_values, max_size=3))
    body = draw(
        st.sampled_from([json.dumps(members).encode()] * 6 + [b"", b"{", b"[]", b"null"])
        | st.binary(max_size=30)
    )
    return prefix + operation, body


def make_protocol() -> WireProtocol:
    client = local_client()
    machine = client.create_state_machine(name="fuzz", definition=PASS_MACHINE, roleArn=ROLE)
    client.start_execution(stateMachineArn=machine["stateMachineArn"], name="run")
    return WireProtocol(client)


PROTOCOL = make_protocol()


@settings(max_examples=600)
@given(requests())
def test_no_client_request_gets_a_server_error(request: tuple[str, bytes]) -> None:
    # Given any target and any body
    target, body = request
    headers = [("X-Amz-Target", target), ("Content-Type", "application/x-amz-json-1.0")]

    # When the protocol answers
    answer = PROTOCOL.handle("POST", "http://127.0.0.1:8083/", headers, body)

    # Then it is a success or a refusal of the request, never a fault of the server
    document: Any = json.loads(answer.body)
    assert answer.status < 500, (target, body, document)
    if answer.status >= 400:
        assert document["__type"].startswith("com.amazonaws.swf.service.v2.model#")

"""SigV4 on `stepline serve`: boto3's signatures accepted, every other request refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from engine._wire import (
    SignedRequest,
    SigV4Verifier,
    WireError,
    WireProtocol,
    create_app,
    parse_access_keys,
    read_only_keys,
)
from tests.unit.wire.conftest import ACCESS_KEY, SECRET_KEY, boto3_client, local_client
from tests.wire_server import serving


def test_a_request_signed_with_a_configured_key_is_accepted(signed_url: str) -> None:
    # Given boto3 with the configured key and secret
    sfn = boto3_client(signed_url)

    # When it calls the server
    response = sfn.list_state_machines()

    # Then the server answered
    assert response["stateMachines"] == []


def code_of(call: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["ResponseMetadata"][
        "HTTPStatusCode"
    ]


def test_a_wrong_secret_is_an_invalid_signature(signed_url: str) -> None:
    # Given boto3 with the right key id and a wrong secret
    sfn = boto3_client(signed_url, secret="not-the-secret")

    # When it calls, then AWS's InvalidSignatureException (403) comes back
    assert code_of(sfn.list_state_machines) == ("InvalidSignatureException", 403)


def test_an_unknown_key_is_an_unrecognized_client(signed_url: str) -> None:
    # Given boto3 with a key id the server does not know
    sfn = boto3_client(signed_url, key="AKIDSOMEONEELSE")

    # When it calls, then AWS's UnrecognizedClientException (403) comes back
    assert code_of(sfn.list_state_machines) == ("UnrecognizedClientException", 403)


def test_an_unsigned_request_is_missing_its_token(signed_url: str) -> None:
    # When a raw request carries no Authorization header
    response = httpx.post(
        signed_url,
        content=b"{}",
        headers={"X-Amz-Target": "AWSStepFunctions.ListStateMachines"},
    )

    # Then AWS's MissingAuthenticationTokenException (403) comes back
    assert response.status_code == 403
    assert response.json() == {
        "__type": "com.amazonaws.swf.service.v2.model#MissingAuthenticationTokenException",
        "message": "Missing Authentication Token",
    }


def test_a_tampered_body_breaks_the_signature(signed_url: str) -> None:
    # Given a request boto3's signer signed, whose body is changed afterwards
    request = signed_request(signed_url, b'{"maxResults": 1}', datetime.now(UTC))
    headers = dict(request.headers.items())

    # When it is sent with another body
    response = httpx.post(signed_url, content=b'{"maxResults": 2}', headers=headers)

    # Then the signature does not match
    assert response.status_code == 403
    assert response.json()["__type"].endswith("#InvalidSignatureException")


def signed_request(url: str, body: bytes, moment: datetime) -> AWSRequest:
    request = AWSRequest(
        method="POST",
        url=url + "/",
        data=body,
        headers={
            "X-Amz-Target": "AWSStepFunctions.ListStateMachines",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    signer = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "states", "us-east-1")
    request.context["timestamp"] = moment.strftime("%Y%m%dT%H%M%SZ")
    signer._modify_request_before_signing(request)
    canonical = signer.canonical_request(request)
    signer._inject_signature_to_request(
        request, signer.signature(signer.string_to_sign(request, canonical), request)
    )
    return request


def as_received(request: AWSRequest) -> SignedRequest:
    host = request.url.split("/")[2]
    headers = [("host", host), *request.headers.items()]
    return SignedRequest("POST", request.url, headers, request.body)


def test_a_signature_older_than_fifteen_minutes_is_refused() -> None:
    # Given a request signed correctly twenty minutes before the server's now
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    request = signed_request("http://127.0.0.1:8083", b"{}", now - timedelta(minutes=20))
    verifier = SigV4Verifier({ACCESS_KEY: SECRET_KEY}, now=lambda: now)

    # When it is verified
    with pytest.raises(WireError) as caught:
        verifier.verify(as_received(request))

    # Then it expired
    assert caught.value.code == "InvalidSignatureException"
    assert caught.value.message.startswith("Signature expired")


def test_the_same_request_signed_now_is_accepted() -> None:
    # Given the request signed at the server's now
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    request = signed_request("http://127.0.0.1:8083", b"{}", now)

    # When verified, then nothing is raised
    SigV4Verifier({ACCESS_KEY: SECRET_KEY}, now=lambda: now).verify(as_received(request))


def test_access_keys_are_read_from_their_setting() -> None:
    # When two keys are configured, then both are known
    assert parse_access_keys("AK1:s1, AK2:s:2") == {"AK1": "s1", "AK2": "s:2"}


def test_a_malformed_access_key_entry_is_named_without_its_secret() -> None:
    # When an entry has no secret, then the error names the entry
    with pytest.raises(ValueError, match="entry 2: expected AKID:SECRET"):
        parse_access_keys("AK1:s1,AK2")


def test_a_read_only_key_may_read_but_not_start_an_execution() -> None:
    # Given a server whose key is marked :readonly
    keys = f"{ACCESS_KEY}:{SECRET_KEY}:readonly"
    protocol = WireProtocol(
        local_client(),
        verifier=SigV4Verifier(parse_access_keys(keys)),
        read_only=read_only_keys(keys),
    )
    with serving(create_app(protocol)) as url:
        sfn = boto3_client(url)

        # When it lists and then starts an execution
        listed = sfn.list_state_machines()
        with pytest.raises(ClientError) as refused:
            sfn.start_execution(stateMachineArn="arn:aws:states:us-east-1:1:stateMachine:x")

    # Then reading works and the start is AWS's AccessDeniedException, naming the key
    assert listed["stateMachines"] == []
    error = refused.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    assert (
        f"User: {ACCESS_KEY} is not authorized to perform: states:StartExecution"
        in (error["Message"])
    )
    # And the secret parsed for signatures has no :readonly suffix
    assert parse_access_keys(keys) == {ACCESS_KEY: SECRET_KEY}

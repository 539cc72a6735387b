"""``GET /health`` answers probes; every other request still goes to the AWS protocol."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from engine._wire import HEALTH_PATH, WireProtocol, create_app
from tests.unit.wire.conftest import local_client
from tests.wire_server import serving


@pytest.fixture
def url() -> Iterator[str]:
    """An unauthenticated server on a local client."""
    with serving(create_app(WireProtocol(local_client()))) as base:
        yield base


def test_get_health_answers_200_without_a_signature(url: str) -> None:
    # Given a server
    # When a probe GETs the health route, unsigned
    response = httpx.get(url + HEALTH_PATH, timeout=5)
    # Then it answers 200
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_a_post_to_the_health_path_is_still_an_aws_request(url: str) -> None:
    # Given a server
    # When the health path is POSTed without an X-Amz-Target
    response = httpx.post(url + HEALTH_PATH, content=b"{}", timeout=5)
    # Then the protocol answers as AWS would: an unknown operation
    assert response.status_code == 400
    assert "UnknownOperation" in response.text

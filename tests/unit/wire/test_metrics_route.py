"""``GET /metrics`` answers Prometheus's scrape; any other request still goes to the protocol."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from engine._cli.serve_command import scrape
from engine._wire import METRICS_PATH, WireProtocol, create_app
from tests.unit.wire.conftest import local_client
from tests.wire_server import serving


@pytest.fixture
def url() -> Iterator[str]:
    """A server on a local client, scraped as `stepline serve --local` is."""
    client = local_client()
    with serving(create_app(WireProtocol(client), scrape(client, ""))) as base:
        yield base


def test_get_metrics_answers_the_exposition_unsigned(url: str) -> None:
    # Given a server
    # When Prometheus GETs the metrics route, unsigned
    response = httpx.get(url + METRICS_PATH, timeout=5)
    # Then it answers the text exposition, with stepline's metrics declared
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert "# TYPE stepline_executions_started_total counter" in response.text
    assert "# TYPE stepline_state_duration_seconds histogram" in response.text


def test_a_post_to_the_metrics_path_is_still_an_aws_request(url: str) -> None:
    # Given a server
    # When the metrics path is POSTed without an X-Amz-Target
    response = httpx.post(url + METRICS_PATH, content=b"{}", timeout=5)
    # Then the protocol answers as AWS would: an unknown operation
    assert response.status_code == 400
    assert "UnknownOperation" in response.text


def test_without_a_scrape_the_metrics_path_is_the_protocols() -> None:
    # Given an app made without metrics
    with serving(create_app(WireProtocol(local_client()))) as base:
        # When the metrics path is fetched
        response = httpx.get(base + METRICS_PATH, timeout=5)
    # Then the protocol answers it, as any path
    assert response.status_code == 400

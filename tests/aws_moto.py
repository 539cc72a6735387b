"""moto's server mode on a free 127.0.0.1 port, for the AWS integrations' tests.

The server is a real HTTP endpoint, so boto3 in this process and in a fleet's worker
processes reach it alike (``STEPLINE_AWS_ENDPOINT_URL``); credentials are fake.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
START_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        httpx.get(f"{url}/moto-api/", timeout=1.0)
    except httpx.TransportError:
        return False
    return True


@contextmanager
def moto_server() -> Iterator[str]:
    """Run ``moto_server`` until the block ends; yields its URL once it answers."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = Path(sys.executable).with_name("moto_server")
    process = subprocess.Popen(
        [str(command), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **FAKE_CREDENTIALS},
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"moto_server on {url} did not start (exit {process.poll()})")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)

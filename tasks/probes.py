"""Whether the broker answers, for ``stepline health broker`` (a readiness probe)."""

from __future__ import annotations

from config.settings import Settings
from tasks.app import create_app


def check_broker(settings: Settings, timeout: float) -> None:
    """Connect to the settings' broker once and make it answer.

    Redis answers a PING when a channel opens; kombu's SQLAlchemy transport connects
    lazily, so its database is asked ``SELECT 1`` through the channel's session.

    Raises:
        Exception: the transport's error when the broker does not answer.
    """
    with create_app(settings).connection_for_write() as connection:
        connection.connect_timeout = timeout
        connection.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
        channel = connection.default_channel
        if connection.transport.driver_type == "sql":
            from sqlalchemy import text

            channel.session.execute(text("SELECT 1"))

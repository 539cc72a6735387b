"""Settings that may hold credentials stay out of their repr (logs, tracebacks, reports)."""

from __future__ import annotations

from config.settings import Settings

SECRET = "hunter2-settings"


def test_the_repr_of_settings_holds_no_credential() -> None:
    # Given settings whose every credential-bearing field holds SECRET
    settings = Settings(
        database_url=f"postgresql+psycopg://me:{SECRET}@db/stepline",
        broker_url=f"redis://:{SECRET}@redis:6379/0",
        result_backend=f"redis://:{SECRET}@redis:6379/1",
        access_keys=f"AKID:{SECRET}",
        flower_basic_auth=f"admin:{SECRET}",
    )
    # When they are shown as a log line or a traceback would show them
    shown = f"{settings!r} {settings!s}"
    # Then no credential appears, while the other settings still do
    assert SECRET not in shown
    assert "lease_seconds=120.0" in shown

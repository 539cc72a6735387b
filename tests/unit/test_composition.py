"""`engine.connect`: the one composition root of the durable client and of a worker's runtime."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import engine
from config.settings import Settings
from engine._backends.durable import DurableBackend
from engine._composition import build_runtime, celery_dispatcher, open_store
from engine._resources import HandlerRegistry
from engine._store.db import make_engine
from engine._store.repository import Store
from engine.testing import InMemoryDispatcher
from tasks import wiring

ROOT = Path(__file__).resolve().parents[2]
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
ROLE = "arn:aws:iam::111111111111:role/r"


def embedded(home: Path, **fields: object) -> Settings:
    """The embedded default in ``home`` (no server), with ``fields`` changed."""
    values: dict[str, object] = {"database_url": "", "broker_url": "", **fields}
    return Settings(home=home, **values)  # type: ignore[arg-type]


def test_connect_without_servers_is_the_embedded_default_migrated_in_home(tmp_path: Path) -> None:
    # Given no database or broker configured
    settings = embedded(tmp_path, region="eu-west-1", account="222222222222")
    # When a client connects (publishing into a list instead of the SQLite broker)
    client = engine.connect(settings, dispatcher=InMemoryDispatcher())
    # Then it is durable, on a migrated SQLite store in STEPLINE_HOME, with the settings' ARNs
    assert isinstance(client.backend, DurableBackend)
    assert (tmp_path / "stepline.db").exists()
    made = client.create_state_machine(name="m", definition=json.dumps(PASS), roleArn=ROLE)
    assert made["stateMachineArn"].startswith("arn:aws:states:eu-west-1:222222222222:")


def test_connect_uses_the_pieces_it_is_given(tmp_path: Path) -> None:
    # Given a store, a dispatcher, a clock and a registry of a test's own
    store = Store(make_engine("sqlite://"))
    store.create_schema()
    dispatcher, clock, handlers = InMemoryDispatcher(), engine.FakeClock(), HandlerRegistry()
    # When a client connects with them
    client = engine.connect(
        embedded(tmp_path), store=store, dispatcher=dispatcher, clock=clock, handlers=handlers
    )
    # Then its backend and runtime use exactly those
    backend = client.backend
    assert isinstance(backend, DurableBackend)
    assert (backend.store, backend.runtime.dispatcher) == (store, dispatcher)
    assert (backend.runtime.clock, client.clock, backend.handlers) == (clock, clock, handlers)
    # And a started execution is published through the given dispatcher
    arn = client.create_state_machine(name="m", definition=json.dumps(PASS), roleArn=ROLE)
    client.start_execution(stateMachineArn=arn["stateMachineArn"], input="{}")
    assert dispatcher.published
    assert not (tmp_path / "stepline.db").exists()  # the given store, not the settings' one


def test_the_settings_set_the_limits_and_the_runtime_timing(tmp_path: Path) -> None:
    # Given settings that change the limits, the lease, the queues and folding
    settings = embedded(
        tmp_path,
        max_payload_bytes=1000,
        max_definition_bytes=2000,
        lease_seconds=7,
        timer_horizon_seconds=30,
        steps_queue="s",
        handler_queue_prefix="fn-",
        handler_queue="all",
        fold_states=3,
    )
    # When the runtime is built
    runtime = build_runtime(settings, dispatcher=InMemoryDispatcher())
    # Then it carries each of them
    assert (runtime.limits.payload_bytes, runtime.limits.definition_bytes) == (1000, 2000)
    timing = runtime.settings
    assert (timing.lease_seconds, timing.timer_horizon_seconds, timing.fold_states) == (7, 30, 3)
    assert (timing.steps_queue, timing.handler_queue_prefix, timing.handler_queue) == (
        "s",
        "fn-",
        "all",
    )
    # And a client connected on them refuses a definition over the configured size
    client = engine.connect(settings, dispatcher=InMemoryDispatcher())
    with pytest.raises(engine.ValidationException, match="less than or equal to 2000"):
        client.create_state_machine(
            name="big", definition=json.dumps({**PASS, "Comment": "x" * 2000}), roleArn=ROLE
        )


def test_the_default_dispatcher_publishes_through_celery_on_the_settings_broker(
    tmp_path: Path,
) -> None:
    # Given settings naming a broker other than this process's
    settings = embedded(tmp_path, broker_url="redis://127.0.0.1:1/3")
    # When the dispatcher is built
    dispatcher = celery_dispatcher(settings)
    # Then it is Celery's, on that broker (an app of its own)
    app = dispatcher.app  # type: ignore[attr-defined]
    assert app.conf.broker_url == "redis://127.0.0.1:1/3"
    # And the process's own settings get the process's app (the one its tasks are bound to)
    from tasks.app import app as process_app

    assert celery_dispatcher(wiring.settings()).app is process_app  # type: ignore[attr-defined]


def test_an_unreachable_store_raises_store_unreachable_with_the_password_hidden() -> None:
    # Given a PostgreSQL URL where nothing listens
    settings = Settings(database_url="postgresql+psycopg://me:secret@127.0.0.1:1/db")
    # When the store is opened
    with pytest.raises(engine.StoreUnreachable) as raised:
        open_store(settings)
    # Then the error names the URL without its password, and the setting to check
    assert "me:***@127.0.0.1:1/db" in str(raised.value)
    assert "secret" not in str(raised.value)
    assert "STEPLINE_DATABASE_URL" in str(raised.value)


@pytest.mark.postgres
def test_an_unmigrated_server_store_raises_store_not_migrated(postgres_url: str) -> None:
    # Given an empty PostgreSQL database
    # When the store is opened
    with pytest.raises(engine.StoreNotMigrated) as raised:
        open_store(Settings(database_url=postgres_url))
    # Then it says which revision it found and what to run (it is not migrated behind the
    # operator's back: a server database is migrated by the release step)
    assert raised.value.revision is None
    assert "run `stepline db upgrade`" in str(raised.value)


def test_importing_engine_builds_no_celery_app_and_loads_no_sql_toolkit() -> None:
    # Given a fresh interpreter
    code = (
        "import sys, engine; "
        "print(sorted(m for m in ('celery', 'kombu', 'redis', 'config', 'tasks', 'sqlalchemy', "
        "'alembic', 'sqlmodel') if m in sys.modules))"
    )
    # When it imports engine (as a handler module or a local client does)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    # Then none of the shell's libraries is loaded: engine.connect imports them when called
    assert done.stdout.strip() == "[]"


MOCKED_PASS_TASK = {
    "StartAt": "Call",
    "States": {
        "Call": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": True}
    },
}


def test_given_a_mock_config_setting_when_connected_then_test_cases_start_and_a_bad_file_stops_it(
    tmp_path: Path,
) -> None:
    # Given STEPLINE_MOCK_CONFIG naming a file with test case Happy of machine "mocked"
    path = tmp_path / "MockConfigFile.json"
    path.write_text(
        json.dumps(
            {
                "StateMachines": {"mocked": {"TestCases": {"Happy": {"Call": "Sent"}}}},
                "MockedResponses": {"Sent": {"0": {"Return": {"MessageId": "m"}}}},
            }
        ),
        encoding="utf-8",
    )
    client = engine.connect(
        embedded(tmp_path, mock_config=str(path)), dispatcher=InMemoryDispatcher()
    )
    arn = client.create_state_machine(
        name="mocked", definition=json.dumps(MOCKED_PASS_TASK), roleArn=ROLE
    )["stateMachineArn"]
    # When the test case is started, and another client is given a file that is not JSON
    started = client.start_execution(stateMachineArn=f"{arn}#Happy")
    path.write_text("{", encoding="utf-8")
    # Then the test case is known to the client; the bad file stops the second connect
    assert ":execution:mocked:" in started["executionArn"]
    assert "#" not in started["executionArn"]
    with pytest.raises(ValueError, match=f"mock config {path}: expected JSON"):
        engine.connect(embedded(tmp_path, mock_config=str(path)), dispatcher=InMemoryDispatcher())

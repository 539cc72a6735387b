"""Typed settings, read once from ``STEPLINE_*`` environment variables (and ``.env``).

Read at process edges (the CLI, the Celery app, ``engine.connect``) and passed down;
nothing else in ``engine`` reads the environment. Every default is documented in README.md.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """stepline's configuration; each field is ``STEPLINE_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(
        env_prefix="STEPLINE_",
        env_file=".env",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
    )

    home: Path = Field(default=Path(".stepline"), description="Folder of the embedded default.")
    # Fields that may hold a password are left out of the repr: settings must not carry
    # credentials into a log line or a traceback.
    database_url: str = Field(
        default="", repr=False, description="Store URL; default SQLite in home."
    )
    broker_url: str = Field(
        default="", repr=False, description="Celery broker; default SQLite in home."
    )
    result_backend: str = Field(
        default="", repr=False, description="Celery result backend (optional)."
    )
    handlers: str = Field(default="", description="Comma-separated handler modules to import.")
    queues: str = Field(
        default="", description="Queues a worker consumes (default: all it serves)."
    )
    region: str = "us-east-1"
    account: str = "111111111111"
    lease_seconds: float = Field(
        default=120.0,
        description="How long a published message may wait unconsumed before the relay resends it.",
    )
    claim_seconds: float = Field(
        default=10.0,
        description="How long a running handler's claim lasts unless renewed (every third).",
    )
    heartbeat_seconds: float = Field(
        default=2.0, description="How often a worker tells the store it lives and what it holds."
    )
    lost_after_seconds: float = Field(
        default=6.0,
        description="A worker silent this long is lost: its messages are resent, claims dropped.",
    )
    timer_horizon_seconds: float = 300.0
    relay_interval_seconds: float = 2.0
    outbox_retention_seconds: float = Field(
        default=3600.0, description="Consumed outbox rows older than this are deleted."
    )
    steps_queue: str = "stepline.steps"
    handler_queue_prefix: str = "stepline.fn."
    handler_queue: str = Field(default="", description="One queue for every handler (optional).")
    integrations_queue: str = Field(
        default="stepline.integrations",
        description="Queue of service integrations and of calls no worker serves.",
    )
    aws_integrations: bool = Field(
        default=False,
        description=(
            "Serve AWS's optimized integrations, aws-sdk:* and the Distributed Map's "
            "ItemReader/ResultWriter over S3 through boto3 (ADRs 0024, 0033)."
        ),
    )
    aws_endpoint_url: str = Field(
        default="",
        description=(
            "Endpoint of every boto3 client (LocalStack, moto; an S3-compatible store for a "
            "Distributed Map's ItemReader/ResultWriter, ADR 0033); AWS's if empty."
        ),
    )
    mock_config: str = Field(
        default="",
        validation_alias=AliasChoices("STEPLINE_MOCK_CONFIG", "SFN_MOCK_CONFIG"),
        description="Step Functions Local's mock config file (also SFN_MOCK_CONFIG; ADR 0029).",
    )
    fold_states: int = Field(
        default=0, description="States one step may enter without a step task each (ADR 0010)."
    )
    visibility_timeout: int = 3600
    prefetch_multiplier: int = 1
    worker_max_memory_mib: int = Field(
        default=1024,
        description="A worker child using more memory than this after a task is replaced.",
    )
    broker_polling_interval: float = 0.1
    max_payload_bytes: int = 256 * 1024
    max_definition_bytes: int = 1024 * 1024
    log_level: str = "INFO"
    flower_basic_auth: str = Field(default="", repr=False, description="user:password for Flower.")
    flower_port: int = 5555
    flower_housekeeping: bool = Field(
        default=False,
        description="Housekeeping tasks (stepline.housekeeping.*) send task events: Flower "
        "lists them beside the states.",
    )
    access_keys: str = Field(
        default="",
        repr=False,
        description="AKID:SECRET[:readonly][,AKID2:SECRET2] `stepline serve` requires SigV4 "
        "signatures (and console logins) from; :readonly keys may not change anything "
        "(unset: no authentication, as Step Functions Local).",
    )

    metrics_port: int = Field(
        default=0,
        description="Port of a worker's Prometheus endpoint, served by its main process "
        "(0: none; `stepline serve` answers GET /metrics on its own port).",
    )
    metrics_host: str = Field(
        default="127.0.0.1", description="Address a worker's Prometheus endpoint listens on."
    )
    metrics_dir: str = Field(
        default="",
        validation_alias=AliasChoices("STEPLINE_METRICS_DIR", "PROMETHEUS_MULTIPROC_DIR"),
        description="prometheus_client's multi-process folder (also PROMETHEUS_MULTIPROC_DIR); "
        "a worker with a metrics port and none uses a fresh temporary folder.",
    )
    execution_log_file: str = Field(
        default="",
        description="JSON-lines file every process appends execution log records to "
        "(loggingConfiguration; empty: the stepline.executions loggers only).",
    )

    heartbeat_file: str = Field(
        default="",
        description="File a worker's main process touches every few seconds once ready, "
        "for `stepline health worker` (empty: none).",
    )

    @property
    def store_url(self) -> str:
        """The store URL, defaulting to ``sqlite:///<home>/stepline.db``."""
        return self.database_url or f"sqlite:///{self.home.resolve() / 'stepline.db'}"

    @property
    def celery_broker_url(self) -> str:
        """The broker URL, defaulting to kombu's SQLAlchemy transport on SQLite in home."""
        return self.broker_url or f"sqla+sqlite:///{self.home.resolve() / 'broker.db'}"

    @property
    def handler_modules(self) -> list[str]:
        """The modules that register handlers, in order."""
        return [name.strip() for name in self.handlers.split(",") if name.strip()]

    @property
    def worker_queues(self) -> list[str]:
        """Queues named explicitly for this worker (empty: decided from its handlers)."""
        return [name.strip() for name in self.queues.split(",") if name.strip()]


def load_settings() -> Settings:
    """Read the settings from the environment (call once, at a process edge)."""
    return Settings()

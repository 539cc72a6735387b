"""Run the conformance corpus through the public API and write score.py's results file.

    python -m tests.conformance.run --cases ../shared/conformance/cases \
        --out results.jsonl [--executor local|durable|celery|http] [--group base ...] [--case ID]

Execution cases go through `engine.Client` (create_state_machine, start_execution or
start_sync_execution, describe_execution, get_execution_history); validation cases
through ``validate_state_machine_definition``. ``--executor http`` sends every call through
boto3 to `stepline serve` in front of the Celery fleet (refusals read from
``e.response["Error"]["Code"]``, as boto3 users read them). Cases whose ``meta`` marks them time
dependent run with the clock frozen where the recording froze it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import ExitStack, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from freezegun import freeze_time

from engine._api import Client
from engine._clock import FakeClock
from tests.conformance.handlers import registry_for

Json = Any
ROLE = "arn:aws:iam::111111111111:role/stepline-conformance"
_FROZEN = re.compile(r"froze 'now' at (\S+?)\s*\(")


def load_cases(
    root: Path, groups: list[str], ids: list[str]
) -> Iterator[tuple[str, dict[str, Json]]]:
    """Every case under ``root`` (optionally only some groups or ids), in a stable order."""
    for path in sorted(root.glob("*/*.json")):
        group = path.parent.name
        if groups and group not in groups:
            continue
        case = json.loads(path.read_text())
        if ids and case["id"] not in ids:
            continue
        yield group, case


def frozen_moment(case: dict[str, Json]) -> datetime | None:
    """The wall-clock time a time-dependent case was recorded against, if any."""
    note = (case.get("meta") or {}).get("time_dependent")
    if not note:
        return None
    match = _FROZEN.search(str(note))
    return datetime.fromisoformat(match.group(1)) if match else None


def run_validation(case: dict[str, Json], client: Any = None) -> dict[str, Json]:
    """VALID / INVALID, as ValidateStateMachineDefinition says (on ``client``, or a local one)."""
    client = client if client is not None else Client()
    text = case.get("definition_raw") or json.dumps(case["definition"])
    verdict = client.validate_state_machine_definition(
        definition=text, type=case.get("state_machine_type", "STANDARD")
    )
    status = "VALID" if verdict["result"] == "OK" else "INVALID"
    cause = "; ".join(f"{d['location']}: {d['message']}" for d in verdict["diagnostics"])
    return {"id": case["id"], "status": status, "cause": cause[:2000]}


def run_execution(case: dict[str, Json], executor: str, celery: Any = None) -> dict[str, Json]:
    """Create the machine, run the case's input, and report outcome and history."""
    moment = frozen_moment(case)
    clock = FakeClock(moment or datetime.now(UTC))
    freezer = freeze_time(moment, tick=celery is not None) if moment else nullcontext()
    with freezer:
        if celery is not None:
            client = celery.client(registry_for(case, time))
        else:
            client = _client(case, clock, executor)
        machine = client.create_state_machine(
            name=_machine_name(case),
            definition=json.dumps(case["definition"]),
            roleArn=ROLE,
            type=case.get("state_machine_type", "STANDARD"),
        )
        arn, text = machine["stateMachineArn"], json.dumps(case["input"])
        if case.get("state_machine_type") == "EXPRESS":
            return _result(case, client.start_sync_execution(stateMachineArn=arn, input=text), None)
        started = client.start_execution(stateMachineArn=arn, input=text)
        if celery is not None:
            celery.wait(client, started["executionArn"])
        described = client.describe_execution(executionArn=started["executionArn"])
        history = client.get_execution_history(executionArn=started["executionArn"])
        return _result(case, described, history["events"])


def _client(case: dict[str, Json], clock: FakeClock, executor: str) -> Client:
    handlers = registry_for(case, clock)
    if executor == "local":
        return Client.local(handlers, clock=clock)
    if executor == "durable":
        return _durable_client(handlers, clock)
    raise ValueError(f"--executor {executor}: expected local or durable here")


def _durable_client(handlers: Any, clock: FakeClock) -> Client:
    """SQLite in memory + the in-memory dispatcher: the durable path without a broker."""
    from engine import connect
    from engine._store.db import make_engine
    from engine._store.repository import Store
    from engine.testing import InMemoryDispatcher

    store = Store(make_engine("sqlite://"))
    store.create_schema()
    dispatcher = InMemoryDispatcher()
    client = connect(store=store, dispatcher=dispatcher, clock=clock, handlers=handlers)
    backend: Any = client.backend
    runtime = backend.runtime
    original_start = backend.start

    def start_and_drain(record: Any, compiled: Any, seed: int) -> Any:
        original_start(record, compiled, seed)
        dispatcher.join(runtime, handlers, clock)
        return store.execution(record.arn)

    backend.start = start_and_drain
    return client


def _machine_name(case: dict[str, Json]) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", case["id"])[-80:]


def _result(
    case: dict[str, Json], described: dict[str, Json], events: list[dict[str, Json]] | None
) -> dict[str, Json]:
    result: dict[str, Json] = {"id": case["id"], "status": described["status"]}
    if "output" in described:
        result["output"] = json.loads(described["output"])
    for key in ("error", "cause"):
        if key in described:
            result[key] = described[key]
    if events is not None:
        result["events"] = [_reduced(event) for event in events]
    return result


def _reduced(event: dict[str, Json]) -> dict[str, Json]:
    reduced: dict[str, Json] = {"type": event["type"]}
    for key, details in event.items():
        if key.endswith("EventDetails") and isinstance(details, dict) and "name" in details:
            reduced["name"] = details["name"]
    return reduced


def run_case(
    group: str, case: dict[str, Json], executor: str, celery: Any = None
) -> dict[str, Json]:
    """One case's results line; an unexpected exception becomes status ERROR."""
    try:
        if group.startswith("validation"):
            over_http = celery.sfn if executor == "http" else None
            return run_validation(case, over_http)
        return run_execution(case, executor, celery)
    except Exception as exc:  # the runner reports, it never stops on a case
        note = _refusal(exc) or "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return {
            "id": case["id"],
            "status": "ERROR",
            "note": note[:500],
            "trace": traceback.format_exc()[-2000:],
        }


def _refusal(exc: Exception) -> str | None:
    """``Code: message`` of a refusal boto3 raised (botocore's ``ClientError.response``)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict) or "Error" not in response:
        return None
    return f"{response['Error'].get('Code')}: {response['Error'].get('Message')}"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--executor", choices=("local", "durable", "celery", "http"), default="local"
    )
    parser.add_argument("--group", action="append", default=[])
    parser.add_argument("--case", action="append", default=[])
    args = parser.parse_args(argv)
    if not args.cases.is_dir():
        parser.error(f"--cases: expected a folder of conformance cases, got {str(args.cases)!r}")
    counts: dict[str, int] = {}
    with ExitStack() as stack, args.out.open("w") as out:
        celery = None
        if args.executor == "celery":
            from tests.conformance.celery_executor import celery_environment

            celery = stack.enter_context(celery_environment())
        elif args.executor == "http":
            from tests.conformance.http_executor import http_environment

            celery = stack.enter_context(http_environment())
        for group, case in load_cases(args.cases, args.group, args.case):
            result = run_case(group, case, args.executor, celery)
            counts[result["status"]] = counts.get(result["status"], 0) + 1
            out.write(json.dumps(result) + "\n")
    print(json.dumps(counts, sort_keys=True), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

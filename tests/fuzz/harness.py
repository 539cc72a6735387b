"""The fuzz harness: run one generated case, bounded, and judge its verdict.

A case's time is the CPU time of the process while it runs (``time.process_time``), so
that other work on a shared 2-core machine does not fail it. Its memory is read from the
kernel's high-water mark of the process (``ru_maxrss``): a case that allocates more than
`MAX_CASE_PEAK_BYTES` above what the process held when the suite started raises it past
the bound. (tracemalloc measured each case alone but made allocation-heavy evaluations
three to four times slower than on a worker, so its times were no measure of a worker's.)

A case is a definition (and an input) pushed through the API the way a user would:
``ValidateStateMachineDefinition``, ``CreateStateMachine`` and ``StartExecution`` on the
local in-process executor (a `FakeClock`, so Waits and retry backoffs cost nothing). Its
verdict must be one AWS could give: a validation diagnostic or a refused request (a
``ClientError``), or an execution that ended with a status and, when it failed, an ASL
error name. Anything else — a Python exception escaping the API, an execution left
RUNNING, an unnamed error — fails the test, and so does a case slower than
`MAX_CASE_SECONDS` or growing the process by more than `MAX_CASE_PEAK_BYTES`.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ParamValidationError
from hypothesis import HealthCheck, Phase, settings

from engine._api import Client
from engine._backends.local import LocalBackend
from engine._clock import FakeClock
from engine._errors import ClientError
from engine._resources import HandlerContext, HandlerRegistry

Json = Any
MAX_CASE_SECONDS = 10.0
MAX_CASE_PEAK_BYTES = 256 * 1024 * 1024
ROLE = "arn:aws:iam::111111111111:role/fuzz"
TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}

# --- Hypothesis: one profile for every fuzz test ---------------------------------------

_IN_CI = os.environ.get("CI", "").lower() == "true"
settings.register_profile(
    "stepline-fuzz",
    deadline=None,  # the harness bounds each case itself, and says which case was slow
    derandomize=_IN_CI,  # CI runs the same cases every time
    database=None if _IN_CI else settings.default.database,
    print_blob=True,
    # No explain phase: it runs cases under sys.settrace (hypothesis.internal.scrutineer),
    # which made an endless-loop case 10 times slower than on a worker.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
    ],
)


def fuzz_settings(examples: int) -> settings:
    """The fuzz profile with ``examples`` cases, or ``STEPLINE_FUZZ_EXAMPLES`` when set."""
    wanted = int(os.environ.get("STEPLINE_FUZZ_EXAMPLES", examples))
    return settings(settings.get_profile("stepline-fuzz"), max_examples=wanted)


# --- measuring ---------------------------------------------------------------------------


@dataclass
class Ledger:
    """Every case run in this session: how many, and the slowest and hungriest."""

    cases: int = 0
    seconds: float = 0.0
    slowest: tuple[float, str] = (0.0, "")
    hungriest: tuple[int, str] = (0, "")
    by_test: dict[str, int] = field(default_factory=dict)

    def add(self, test: str, label: str, seconds: float, peak: int) -> None:
        """Count one case of ``test``."""
        self.cases += 1
        self.seconds += seconds
        self.by_test[test] = self.by_test.get(test, 0) + 1
        self.slowest = max(self.slowest, (seconds, label))
        self.hungriest = max(self.hungriest, (peak, label))

    def summary(self) -> str:
        """The line the terminal summary prints."""
        return (
            f"fuzz: {self.cases} cases in {self.seconds:.1f} s of CPU; slowest "
            f"{self.slowest[0]:.2f} s ({self.slowest[1][:120]!r}); largest rise of the "
            f"peak RSS {self.hungriest[0] / 2**20:.1f} MiB ({self.hungriest[1][:120]!r}); "
            f"peak RSS {_high_water_bytes() / 2**20:.0f} MiB, "
            f"{(_high_water_bytes() - _SUITE_START_BYTES) / 2**20:.0f} MiB over the start"
        )

    def as_json(self) -> dict[str, Json]:
        """The record written to ``STEPLINE_FUZZ_REPORT``."""
        return {
            "cases": self.cases,
            "case_seconds": round(self.seconds, 2),
            "slowest_seconds": round(self.slowest[0], 3),
            "slowest_case": self.slowest[1],
            "largest_peak_rise_mib": round(self.hungriest[0] / 2**20, 2),
            "largest_peak_rise_case": self.hungriest[1],
            "peak_rss_mib": round(_high_water_bytes() / 2**20, 1),
            "peak_rss_over_start_mib": round((_high_water_bytes() - _SUITE_START_BYTES) / 2**20, 1),
            "cases_by_test": self.by_test,
        }

    def write(self, path: Path) -> None:
        """Record the numbers as JSON at ``path``."""
        path.write_text(json.dumps(self.as_json(), indent=2) + "\n")


LEDGER = Ledger()


class CaseTookTooLong(BaseException):
    """Raised into a case by the alarm when it outlives `MAX_CASE_SECONDS`."""


@contextmanager
def _alarm(seconds: float, label: str) -> Iterator[None]:
    """Interrupt the block after ``seconds`` of CPU time (SIGPROF: pytest-timeout's is SIGALRM)."""

    def ring(_signum: int, _frame: Any) -> None:
        # Hypothesis does not shrink a BaseException: the message must name the case.
        raise CaseTookTooLong(f"the case ran longer than {seconds} s of CPU: {label}")

    previous_handler = signal.signal(signal.SIGPROF, ring)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous_handler)


def _high_water_bytes() -> int:
    """The largest resident set the process has had (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


_SUITE_START_BYTES = _high_water_bytes()


@contextmanager
def bounded(test: str, label: str) -> Iterator[None]:
    """Run a case within the time and memory bounds, and count it in `LEDGER`."""
    before = _high_water_bytes()
    started = time.process_time()
    try:
        with _alarm(MAX_CASE_SECONDS, label):
            yield
    finally:
        seconds = time.process_time() - started
        after = _high_water_bytes()
        LEDGER.add(test, label, seconds, after - before)
    assert seconds < MAX_CASE_SECONDS, f"{seconds:.2f} s of CPU for {label!r}"
    grown = after - _SUITE_START_BYTES
    assert grown < MAX_CASE_PEAK_BYTES, f"{grown / 2**20:.1f} MiB more for {label!r}"


# --- the system under test ------------------------------------------------------------


def _echo(event: Json, context: HandlerContext) -> Json:
    return event


def _fail(event: Json, context: HandlerContext) -> Json:
    raise ValueError(f"failing on purpose: {str(event)[:40]}")


def _nothing(event: Json, context: HandlerContext) -> Json:
    return None


HANDLERS = HandlerRegistry()
HANDLERS.register("echo", _echo)
HANDLERS.register("fail", _fail)
HANDLERS.register("nothing", _nothing)


def new_client() -> Client:
    """A client on a fresh local backend, with the fuzz handlers and a fake clock."""
    clock = FakeClock()
    return Client(LocalBackend(handlers=HANDLERS, clock=clock), clock=clock)


@dataclass(frozen=True)
class Verdict:
    """What a case came to: ``refused`` (with the error code) or an execution status."""

    outcome: str  # "refused", "invalid", "valid-only" or an execution status
    detail: str = ""


def judge_definition(text: str, payload: str = "{}") -> Verdict:
    """Validate ``text``, create it, and when valid run it on ``payload``; the verdict.

    Raises:
        AssertionError: the API let a non-``ClientError`` exception out, or answered in
            a shape AWS never answers in.
    """
    client = new_client()
    report = _call(lambda: client.validate_state_machine_definition(definition=text))
    if isinstance(report, Verdict):
        return report
    assert report["result"] in ("OK", "FAIL"), report
    created = _call(lambda: client.create_state_machine(name="fuzz", definition=text, roleArn=ROLE))
    if isinstance(created, Verdict):
        assert report["result"] == "FAIL", f"valid per validate, refused by create: {created}"
        return created
    assert report["result"] == "OK", f"invalid per validate, accepted by create: {report}"
    return run_machine(client, created["stateMachineArn"], payload)


def run_machine(client: Client, arn: str, payload: str) -> Verdict:
    """Start an execution of ``arn`` on ``payload`` and judge how it ended."""
    started = _call(lambda: client.start_execution(stateMachineArn=arn, input=payload))
    if isinstance(started, Verdict):
        return started
    described = client.describe_execution(executionArn=started["executionArn"])
    status = described["status"]
    assert status in TERMINAL, f"the execution did not end: {status}"
    if status == "FAILED" and "error" in described:  # a Fail state may name no error
        error = described["error"]
        assert isinstance(error, str), f"a failure with an error that is no name: {described}"
        assert error, f"a failure with an empty error: {described}"
    if status == "SUCCEEDED":
        json.loads(described["output"], parse_constant=_no_constant)  # strict JSON
    return Verdict(status, str(described.get("error") or ""))


def _no_constant(name: str) -> Json:
    raise AssertionError(f"the output holds {name}, which is not JSON")


def _call(request: Callable[[], Json]) -> Json:
    """The API's answer, or the `Verdict` of a ``ClientError`` it raised."""
    try:
        return request()
    except ClientError as error:
        return Verdict("refused", str(error.response["Error"]["Code"]))
    except ParamValidationError as error:  # boto3's own check of the request, as here
        return Verdict("refused", type(error).__name__)


def run_case(test: str, definition: Json, payload: Json = None) -> Verdict:
    """Judge a definition (JSON value or text) on an input (JSON value or text), bounded."""
    text = definition if isinstance(definition, str) else json.dumps(definition)
    data = payload if isinstance(payload, str) else json.dumps({} if payload is None else payload)
    with bounded(test, f"{text[:300]} <- {data[:100]}"):
        return judge_definition(text, data)

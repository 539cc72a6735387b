"""Runs a job with pyaslengine's in-process interpreter (in pyaslengine's virtualenv)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from common import main
from pyaslengine.data import WorkflowInput
from pyaslengine.workflows import StateMachine

Json = Any


def prepare(job: Json) -> Any:
    logging.getLogger("pyaslengine").setLevel(logging.WARNING)
    machine = StateMachine.schema().load(job["definition"])
    resources = {job["noop"]: lambda data, context: data}

    def run(data: Json) -> Json:
        return machine.run(WorkflowInput(data=data), registered_resources=resources).data

    return run


if __name__ == "__main__":
    main(prepare)

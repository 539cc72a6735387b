"""CPU time of a one-shot ``stepline run --local``, read from the finished child's rusage."""

from __future__ import annotations

import compileall
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import engine
from benchmarks.machines import pass_chain


def cli_cpu_ms() -> float:
    """User + system CPU ms of one ``stepline run --local`` of a 3-state Pass chain.

    Runs ``python -m engine._cli`` so the figure is the command's own, not a shell's. The
    engine's bytecode is compiled first, as an installed stepline has it (pip compiles at
    install): with ``PYTHONDONTWRITEBYTECODE`` set, each run would otherwise compile every
    module it imports, and the figure would be CPython's compiler more than the command.
    """
    compileall.compile_dir(Path(engine.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory() as folder:
        definition = Path(folder) / "machine.asl.json"
        definition.write_text(json.dumps(pass_chain(3)))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(
            [sys.executable, "-m", "engine._cli", "run", str(definition), "--local"],
            check=True,
            capture_output=True,
            cwd=folder,
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu * 1000

"""Memory of a process tree, read from /proc (Linux; no psutil needed).

RSS counts a page once per process that maps it, so the sum over a prefork tree counts
the pages the children share with the parent (copy-on-write) several times; PSS divides
each shared page among its users and sums to the tree's real footprint. Both are given.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Self

PROC = Path("/proc")


@dataclass(frozen=True)
class TreeMemory:
    """Memory of a process and its descendants, in MiB."""

    processes: int
    rss_mib: float
    pss_mib: float


def descendants(pid: int) -> list[int]:
    """``pid`` and every live descendant."""
    parents: dict[int, list[int]] = {}
    for stat in PROC.glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: the ppid follows the last ')'.
        fields = text[text.rindex(")") + 2 :].split()
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(parents.get(current, []))
    return tree


def _kib(path: Path, key: str) -> int:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


def tree_memory(pid: int) -> TreeMemory:
    """RSS and PSS summed over ``pid`` and its descendants."""
    pids = descendants(pid)
    rss = sum(_kib(PROC / str(p) / "status", "VmRSS:") for p in pids)
    pss = sum(_kib(PROC / str(p) / "smaps_rollup", "Pss:") for p in pids)
    return TreeMemory(len(pids), rss / 1024, pss / 1024)


class Sampler:
    """Calls :meth:`sample` every ``interval`` s in a background thread until the block ends."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="bench-sampler")

    def sample(self) -> None:
        """Take one reading (subclasses keep what they need of it)."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(self.interval):
                return


class PeakSampler(Sampler):
    """Samples a tree's memory and keeps the peak."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        super().__init__(interval)
        self.pid = pid
        self.peak = TreeMemory(0, 0.0, 0.0)

    def sample(self) -> None:
        reading = tree_memory(self.pid)
        if reading.rss_mib > self.peak.rss_mib:
            self.peak = reading

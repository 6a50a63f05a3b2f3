"""The process table as tests see it: who is below whom, in what state (from /proc)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple


class Process(NamedTuple):
    parent: int
    state: str  # R, S, Z (a zombie) ...
    start: str  # start time in clock ticks: with the pid, tells a reused pid apart


def descendants(pid: int) -> dict[int, Process]:
    """Every process below ``pid``, by pid (parent links followed down)."""
    table: dict[int, Process] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                fields = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            table[int(name)] = Process(int(fields[1]), fields[0], fields[19])
    found: dict[int, Process] = {}
    frontier = [pid]
    while frontier:
        current = frontier.pop()
        for child, process in table.items():
            if process.parent == current and child not in found:
                found[child] = process
                frontier.append(child)
    return found

"""Control groups: memory and process count of a child's whole process tree (standard library).

rlimits bound each process alone (4 GiB of address space each, any number of processes), so
a submission that forks multiplies them. Where this machine lets the grading process create
control groups (cgroup v2 with the memory and pids controllers delegated, or the v1
``memory`` and ``pids`` hierarchies), every child joins a group of its own before any
student code runs, and everything it starts stays in it:

* ``memory``: the whole tree holds at most ``memory`` bytes, swap included (v2:
  ``memory.max`` and ``memory.swap.max = 0``, one OOM kill takes the whole group; v1:
  ``memory.limit_in_bytes`` and ``memory.memsw.limit_in_bytes``). Past it the kernel's OOM
  killer stops a process of the tree; the grader sees the kill counter move and fails the
  exercise as a resource failure.
* ``pids``: at most ``pids`` processes and threads (a fork past it fails with EAGAIN), which
  holds for a root grader too, unlike RLIMIT_NPROC.

Groups live under one folder per grading process, ``dlgrade-run-<pid>-<random>`` (the name of
its scratch folder, see ``capabilities.run_folder``), beside the grader's own group. A group
is reused by the next child once it is empty (the limits stay written; the counters are read
at the start), so a child costs a few reads and, in the child, one write per hierarchy.
A dead grading process's folder is emptied (its processes killed) and removed by the next
one (``sweep``). Nothing here is required: every failure means "no cgroup".
"""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass, field
from functools import cache

PREFIX = "dlgrade-run-"


@dataclass(frozen=True)
class Layout:
    """Where this process may create groups: ``version`` 2 (one ``base``) or 1 (``memory``
    and ``pids`` bases); the bases are the grader's own groups."""

    version: int
    memory: str
    pids: str
    swap: bool = False  # v1: memory.memsw.* exists (swap is accounted)

    @property
    def bases(self) -> tuple[str, ...]:
        return (self.memory,) if self.version == 2 else (self.memory, self.pids)

    def describe(self) -> str:
        if self.version == 2:
            return f"cgroup v2 ({self.memory})"
        return f"cgroup v1 ({self.memory}, {self.pids})"


def _own_groups() -> dict[str, str]:
    """controller (or "" for v2) -> this process's group path, from /proc/self/cgroup."""
    found = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            number, controllers, path = line.rstrip("\n").split(":", 2)
            if number == "0" and not controllers:
                found[""] = path
            for name in controllers.split(","):
                if name:
                    found[name] = path
    return found


def _mounts() -> dict[str, str]:
    """controller (or "" for cgroup2) -> mount point, from /proc/self/mountinfo."""
    found: dict[str, str] = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields, rest = left.split(), right.split()
            if len(fields) < 5 or len(rest) < 3:
                continue
            point, kind, options = fields[4], rest[0], rest[2].split(",")
            if kind == "cgroup2":
                found.setdefault("", point)
            elif kind == "cgroup":
                for name in ("memory", "pids"):
                    if name in options:
                        found.setdefault(name, point)
    return found


def _try_group(base: str, files: tuple[str, ...]) -> bool:
    """Whether a group can be made under ``base`` with ``files`` writable in it."""
    probe = os.path.join(base, f"dlgrade-probe-{os.getpid()}-{threading.get_ident()}")
    try:
        os.mkdir(probe)
    except OSError:
        return False
    try:
        return all(os.access(os.path.join(probe, name), os.W_OK) for name in files)
    finally:
        try:
            os.rmdir(probe)
        except OSError:
            pass


@cache
def layout() -> Layout | None:
    """The cgroup layout this process can use, or None (probed once, a few syscalls)."""
    try:
        own, mounts = _own_groups(), _mounts()
    except (OSError, ValueError):
        return None
    if "" in mounts and "" in own:
        base = os.path.normpath(os.path.join(mounts[""], own[""].lstrip("/")))
        try:
            with open(os.path.join(base, "cgroup.controllers")) as f:
                available = f.read().split()
            if {"memory", "pids"} <= set(available):
                with open(os.path.join(base, "cgroup.subtree_control")) as f:
                    enabled = f.read().split()
                if not {"memory", "pids"} <= set(enabled):
                    with open(os.path.join(base, "cgroup.subtree_control"), "w") as f:
                        f.write("+memory +pids")
                if _try_group(base, ("memory.max", "pids.max", "cgroup.procs")):
                    return Layout(2, base, base)
        except OSError:
            pass
    if "memory" in mounts and "pids" in mounts:
        memory, pids = (os.path.normpath(os.path.join(mounts[c], own.get(c, "/").lstrip("/")))
                        for c in ("memory", "pids"))
        if (_try_group(memory, ("memory.limit_in_bytes", "cgroup.procs"))
                and _try_group(pids, ("pids.max", "cgroup.procs"))):
            swap = os.path.exists(os.path.join(memory, "memory.memsw.limit_in_bytes"))
            return Layout(1, memory, pids, swap)
    return None


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def _counter(fd: int, key: str) -> int:
    """The number after ``key`` in a flat-keyed cgroup file open as ``fd`` (0 if absent)."""
    try:
        data = os.pread(fd, 4096, 0).decode()
    except OSError:
        return 0
    for line in data.splitlines():
        name, _, value = line.partition(" ")
        if name == key:
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


def _procs(directory: str) -> list[int]:
    try:
        with open(os.path.join(directory, "cgroup.procs")) as f:
            return [int(p) for p in f.read().split()]
    except (OSError, ValueError):
        return []


def kill_all(directory: str) -> None:
    """SIGKILL every process of the group at ``directory`` (v2's cgroup.kill, else each)."""
    try:
        _write(os.path.join(directory, "cgroup.kill"), "1")
        return
    except OSError:
        pass
    for _ in range(20):  # a process may fork while we kill: read again until empty
        pids = _procs(directory)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def remove(directory: str, *, wait: float = 1.0) -> bool:
    """Kill what is in the group at ``directory`` (and its sub-groups), then remove them;
    True when gone. Never raises."""
    try:
        names = [e.name for e in os.scandir(directory) if e.is_dir(follow_symlinks=False)]
    except OSError:
        names = []
    for name in names:
        remove(os.path.join(directory, name), wait=wait)
    kill_all(directory)
    deadline = time.monotonic() + wait
    while True:
        try:
            os.rmdir(directory)
            return True
        except FileNotFoundError:
            return True
        except OSError:
            if time.monotonic() > deadline:
                return False
            kill_all(directory)
            time.sleep(0.01)


@dataclass
class Group:
    """One child's group: the ``cgroup.procs`` files it joins, and its kill counters."""

    dirs: tuple[str, ...]
    memory_limit: int
    pids_limit: int
    _oom_fd: int = -1
    _pids_fd: int = -1
    _oom_start: int = 0
    _pids_start: int = 0

    version: int = 2

    @property
    def procs_files(self) -> list[str]:
        """What the child writes "0" (itself) to. On v1 the ``tasks`` file: moving the one
        calling thread skips the global lock (an RCU grace period, measured at 12 ms per
        child) that moving a whole process takes; a child joins while single-threaded."""
        name = "tasks" if self.version == 1 else "cgroup.procs"
        return [os.path.join(d, name) for d in self.dirs]

    def empty(self) -> bool:
        return all(not _procs(d) for d in self.dirs)

    def start(self) -> None:
        """Note the counters before a new child joins."""
        self._oom_start = _counter(self._oom_fd, "oom_kill")
        self._pids_start = _counter(self._pids_fd, "max")

    def oom_kills(self) -> int:
        """OOM kills in this group since :meth:`start` (one pread)."""
        return _counter(self._oom_fd, "oom_kill") - self._oom_start

    def refused_forks(self) -> int:
        return _counter(self._pids_fd, "max") - self._pids_start

    def close(self) -> None:
        for fd in (self._oom_fd, self._pids_fd):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._oom_fd = self._pids_fd = -1


@dataclass
class Pool:
    """The groups of one grading process, reused once empty."""

    run: str  # the folder name, ``dlgrade-run-<pid>-<random>``
    memory: int
    pids: int
    free: list[Group] = field(default_factory=list)
    made: list[Group] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    count: int = 0
    broken: bool = False

    def acquire(self, memory: int | None = None, pids: int | None = None) -> Group | None:
        """An empty group limited to ``memory`` bytes and ``pids`` processes (the pool's
        defaults when None), or None when groups cannot be made."""
        found = layout()
        if found is None or self.broken:
            return None
        memory = self.memory if memory is None else memory
        pids = self.pids if pids is None else pids
        group = None
        with self.lock:
            for candidate in list(self.free):
                if candidate.empty():
                    self.free.remove(candidate)
                    group = candidate
                    break
            else:
                self.count += 1
                number = self.count
        try:
            if group is None:
                group = self._make(found, number)
                with self.lock:
                    self.made.append(group)
            if (group.memory_limit, group.pids_limit) != (memory, pids):
                _limit(found, group, memory, pids)
        except OSError:
            self.broken = True  # e.g. the hierarchy went away: go on without groups
            return None
        group.start()
        return group

    def release(self, group: Group) -> None:
        with self.lock:
            self.free.append(group)

    def _make(self, found: Layout, number: int) -> Group:
        dirs = []
        for base in found.bases:
            run = os.path.join(base, self.run)
            os.makedirs(run, exist_ok=True)
            path = os.path.join(run, f"child-{number}")
            os.mkdir(path)
            dirs.append(path)
        group = Group(tuple(dirs), 0, 0, version=found.version)
        memory = dirs[0]
        if found.version == 2:
            for name, value in (("memory.swap.max", "0"), ("memory.oom.group", "1")):
                try:  # absent without swap accounting: then there is no swap to include
                    _write(os.path.join(memory, name), value)
                except OSError:
                    pass
        events = "memory.events" if found.version == 2 else "memory.oom_control"
        group._oom_fd = os.open(os.path.join(memory, events), os.O_RDONLY | os.O_CLOEXEC)
        group._pids_fd = os.open(os.path.join(dirs[-1], "pids.events"),
                                 os.O_RDONLY | os.O_CLOEXEC)
        _limit(found, group, self.memory, self.pids)
        return group

    def remove_all(self) -> None:
        """Kill and remove every group of this run (at exit)."""
        found = layout()
        with self.lock:
            for group in self.made:
                group.close()
            self.made.clear()
            self.free.clear()
        if found is not None:
            for base in found.bases:
                remove(os.path.join(base, self.run), wait=0.5)


def _limit(found: Layout, group: Group, memory: int, pids: int) -> None:
    """Write ``group``'s limits: ``memory`` bytes, swap included (0: none), and ``pids``
    tasks."""
    memory_dir, pids_dir = group.dirs[0], group.dirs[-1]
    if found.version == 2:
        _write(os.path.join(memory_dir, "memory.max"), str(memory) if memory else "max")
    else:  # v1: memsw (memory + swap) must stay >= the memory limit, so order matters
        names = ["memory.limit_in_bytes"] + (["memory.memsw.limit_in_bytes"] if found.swap
                                             else [])
        old = group.memory_limit or 1 << 62  # 0: unlimited, as a new group starts
        if (memory or 1 << 62) > old:
            names.reverse()
        for name in names:
            _write(os.path.join(memory_dir, name), str(memory) if memory else "-1")
    _write(os.path.join(pids_dir, "pids.max"), str(pids))
    group.memory_limit, group.pids_limit = memory, pids


def join(procs_files: list[str]) -> None:
    """Move the calling process (single-threaded) into its group, in the child before any
    student code ("0" is the caller itself)."""
    for path in procs_files:
        _write(path, "0")


def sweep(run: str) -> None:
    """Kill and remove the groups of the dead grading run named ``run``. Never raises."""
    found = layout()
    if found is None:
        return
    for base in found.bases:
        remove(os.path.join(base, run), wait=0.5)


def stale_runs() -> set[str]:
    """Names of run groups beside ours (their owners may be alive: the caller checks)."""
    found = layout()
    names: set[str] = set()
    if found is None:
        return names
    for base in found.bases:
        try:
            names |= {e.name for e in os.scandir(base) if e.name.startswith(PREFIX)
                      and e.is_dir(follow_symlinks=False)}
        except OSError:
            pass
    return names

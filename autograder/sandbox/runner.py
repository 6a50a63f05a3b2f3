"""Parent side of the sandbox: start a child for one submission and talk to it.

The grading process never imports student code. A :class:`Session` copies the submission's
``.py`` files into a private scratch directory and starts a child there: forked from a warm
zygote when one is available (milliseconds), else by a cold ``python -I child.py`` (the
fallback, ~0.2 s). The child locks itself down (``jail.py``) before loading the submission.
Requests go down one pipe, replies come up another. A reply that is late kills the child's
whole process group; a closed pipe means the child died. Either way the session is over and
the caller starts a new one for the next exercise.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from dlgrade.sandbox import capabilities, cgroup, cleanup, text, wire
from dlgrade.sandbox.files import MAX_FILES, MAX_TOTAL_BYTES, read_regular
from dlgrade.sandbox.protocol import Frames, Reply, Step, encode_step
from dlgrade.sandbox.zygote import EARLY, Zygote, ZygoteError

COPY_LIMIT = (MAX_FILES, MAX_TOTAL_BYTES)  # .py files and bytes copied per submission


@dataclass(frozen=True)
class Limits:
    """Resource limits for one child."""

    memory_bytes: int = 4 << 30  # address space
    cpu_seconds: int = 600  # CPU time over the child's whole life (wall clock is per exercise)
    file_bytes: int = 16 << 20  # largest file the child may write, its output included
    open_files: int = 256
    output_bytes: int = 64 << 10  # how much of its stdout/stderr is kept
    reply_bytes: int = 256 << 20  # largest reply

    def for_jail(self) -> dict[str, int]:
        return {"cpu": self.cpu_seconds, "memory": self.memory_bytes,
                "file": self.file_bytes, "files": self.open_files}


class SessionOver(Exception):
    """The child timed out, crashed or broke the protocol; its reply says which."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.message)
        self.reply = reply


# ---------------------------------------------------------------- launching


_zygote_lock = threading.Lock()
_zygotes: dict[tuple[str, ...], Zygote] = {}
#: How children are started in this process: "zygote" (default) or "cold".
LAUNCH = {"mode": os.environ.get("DLGRADE_LAUNCH", "zygote"), "fallbacks": 0}


def zygote(preload: tuple[str, ...]) -> Zygote | None:
    """The warm worker for these libraries, started on first use (None: use a cold start)."""
    if LAUNCH["mode"] != "zygote":
        return None
    with _zygote_lock:
        current = _zygotes.get(preload)
        if current is None and preload in EARLY:  # started before the command's imports
            current = _zygotes[preload] = EARLY.pop(preload)
        if current is None or not current.alive():
            try:
                current = _zygotes[preload] = Zygote(preload)
            except OSError:
                return None
        return current


class _Process:
    """The child as the grader sees it: a pid that is also its process group id."""

    def __init__(self, pid: int, popen: subprocess.Popen[bytes] | None,
                 zygote_: Zygote | None) -> None:
        self.pid, self._popen, self._zygote = pid, popen, zygote_

    @property
    def cold(self) -> bool:
        """Started by a fresh exec, so ours to reap (a forked one is the zygote's)."""
        return self._popen is not None

    def kill_group(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def wait(self, timeout: float) -> int | None:
        if self._popen is not None:
            try:
                return self._popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                return None
        return self._zygote.wait(self.pid, timeout) if self._zygote is not None else None


# ---------------------------------------------------------------- the session


class Session:
    """One child process serving one submission.

    Args:
        modules: student module name -> path of its file.
        directory: the submission's folder, whose other ``.py`` files (the student's helper
            modules) are copied for the child too; None for a single-file submission.
        limits: resource limits.
        preload: libraries the warm worker imports before forking (``numpy``, ``torch``).
        track: ``{"name": "numpy" | "torch", "device": "cpu" | "cuda"}`` (see
            :mod:`dlgrade.sandbox.tracks`). A CUDA child is started by a fresh exec (a
            forked CUDA context is unusable), without an address-space limit (CUDA reserves
            far more address space than it uses) and without Landlock (the driver needs
            device files and /proc); its namespaces and other limits stay.
        private: folders the child must not see even where the kernel has no Landlock
            (the course's): with namespaces they are covered by an empty tmpfs.
        support: course-provided files (relative path -> bytes, e.g. ``im2col/__init__.py``)
            put beside the student's files; a student's file of the same name gives way.
    """

    def __init__(self, modules: dict[str, Path], directory: Path | None,
                 limits: Limits | None = None,
                 *, preload: tuple[str, ...] = ("numpy",),
                 track: dict[str, str] | None = None,
                 private: tuple[str, ...] = (),
                 support: dict[str, bytes] | None = None) -> None:
        capabilities.protect_grader()
        self.limits = limits or Limits()
        cuda = bool(track) and track.get("device") == "cuda"
        self.scratch = Path(tempfile.mkdtemp(prefix="child-", dir=capabilities.run_folder()))
        self._group: cgroup.Group | None = None
        self._stopped = ""  # why the grader stopped the child (a resource limit), if it did
        self.output_path = self.scratch / ".output"
        work = self.scratch / "submission"
        copied = _copy_submission(modules, directory, work)
        _copy_support(support or {}, work)
        jail_limits = self.limits.for_jail()
        if cuda:
            jail_limits.pop("memory")
        config = {
            "modules": {name: str(path) for name, path in copied.items()},
            # what the student calls each graded file (one file may provide every module):
            # the child tells warnings by the student's names, never by our paths
            "names": {f"{name}.py": Path(path).name for name, path in modules.items()},
            "dir": str(work),
            "jail": capabilities.jail_config(self.scratch, jail_limits, private),
            "track": track or {"name": "numpy"},
        }
        jail = config["jail"]
        if cuda:
            jail["landlock"] = 0
        if capabilities.detect().cgroup:
            self._group = capabilities.cgroup_pool().acquire(
                0 if cuda else capabilities.TREE_MEMORY_BYTES, capabilities.PROCESSES)
            if self._group is not None:
                jail["cgroup"] = self._group.procs_files
        if jail["drop_to"] and not jail["namespaces"]:
            capabilities.open_to(*jail["drop_to"], self.scratch)
        # The grader keeps its own descriptor on the output file: whatever the child later
        # does to the path (a symlink to a secret, a FIFO), the grader reads what it wrote.
        flags = os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        output = os.open(self.output_path, os.O_WRONLY | flags, 0o600)
        self._output_r = os.open(self.output_path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        request_r, self._request_w = os.pipe()
        self._reply_r, reply_w = os.pipe()
        try:
            self.process = self._launch(config, request_r, reply_w, output, preload,
                                        warm=not cuda)
        finally:
            for fd in (request_r, reply_w, output):
                os.close(fd)
        self._reader = wire.Reader(self._reply_r, max_bytes=self.limits.reply_bytes,
                                   untrusted=True)
        self.alive = True
        if not jail["namespaces"]:  # no tmpfs bounds the scratch directory: watch it
            _watcher().add(self)

    def _launch(self, config: dict[str, Any], request_r: int, reply_w: int, output: int,
                preload: tuple[str, ...], *, warm: bool = True) -> _Process:
        warm = zygote(preload) if warm else None
        if warm is not None:
            try:
                pid = warm.spawn(config, request_r, reply_w, self.scratch, output)
                return _Process(pid, None, warm)
            except ZygoteError:
                LAUNCH["fallbacks"] += 1  # recovery: the next session starts a new zygote
        command = [sys.executable, "-I", "-u", "-m", "dlgrade.sandbox.child", "--config",
                   json.dumps({**config, "fds": [request_r, reply_w]})]
        popen = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
            cwd=self.scratch, env=capabilities.minimal_environment(str(self.scratch)),
            pass_fds=(request_r, reply_w), start_new_session=True,
        )
        return _Process(popen.pid, popen, None)

    # ------------------------------------------------------------ requests

    def _exchange(self, header: dict[str, Any], arrays: list[np.ndarray], timeout: float,
                  max_bytes: int | None = None) -> tuple[dict[str, Any], list[np.ndarray]]:
        if not self.alive:
            raise SessionOver(Reply(False, kind="crash", message="the child is not running"))
        frames: list[bytes] = []
        for array in arrays:
            _encode(array, frames)
        try:
            wire.write_message(self._request_w, header, frames)
            reply, blobs = self._reader.read(time.monotonic() + timeout, max_bytes)
            decoded = [wire.decode_frame(b) for b in blobs]
        except wire.Timeout:
            self.close()
            raise SessionOver(self._resource() or Reply(False, kind="timeout", message=(
                f"did not finish within {timeout:.2g} s (an infinite loop, or far too slow)"
                f"{self._refused()}"))) from None
        except (wire.Closed, BrokenPipeError):
            code = self._reap()
            raise SessionOver(self._resource() or Reply(
                False, kind="crash", message=_death(code) + self._refused())) from None
        except (wire.WireError, RecursionError, ValueError, TypeError) as exc:
            self.close()
            raise SessionOver(Reply(False, kind="protocol", message=(
                f"the grader could not read the reply ({exc}); did the code write to the "
                "grader's channel"
            ))) from None
        over = self._resource()  # a process of its tree was stopped meanwhile
        if over is not None:
            self.close()
            raise SessionOver(over)
        return reply, decoded

    def _resource(self) -> Reply | None:
        """The resource failure that ended (or must end) this child, if there was one: an
        OOM kill in its cgroup, or a scratch directory past its bounds."""
        reason = self._stopped
        if (not reason and self._group is not None and self._group.memory_limit
                and self._group.oom_kills() > 0):
            reason = (f"its processes together used more than "
                      f"{_size(self._group.memory_limit)} of memory, so the sandbox stopped "
                      f"them")
        if not reason:
            return None
        return Reply(False, kind="crash", message=f"resource limit: {reason}")

    def _refused(self) -> str:
        if self._group is not None and self._group.refused_forks() > 0:
            return (f" (it also tried to run more than {self._group.pids_limit} processes "
                    f"and threads at once)")
        return ""

    def stop(self, reason: str) -> None:
        """Stop the child for breaking a resource limit (the watcher's call): its next
        reply says why."""
        self._stopped = reason
        self.process.kill_group()
        if self._group is not None:
            cgroup.kill_all(self._group.dirs[-1])

    def request(self, header: dict[str, Any], arrays: list[np.ndarray], timeout: float) -> Reply:
        """Send one request and wait for its reply.

        Raises:
            SessionOver: the child did not answer in time, died, or sent garbage; the
                session is closed and the reply describes what happened.
        """
        reply, decoded = self._exchange(header, arrays, timeout)
        try:
            return Reply.from_header(reply, decoded)
        except (wire.WireError, RecursionError, ValueError, TypeError) as exc:
            self.close()
            raise SessionOver(Reply(False, kind="protocol", message=str(exc))) from None

    def batch(self, module: str, steps: list[Step], timeout: float,
              max_bytes: int | None = None) -> list[Reply]:
        """Run several steps in one round trip; each gets its own :class:`Reply`.

        ``max_bytes`` bounds the reply's arrays (checked before they are read)."""
        arrays: list[np.ndarray] = Frames()
        header = {"op": "batch", "steps": [encode_step(module, s, arrays) for s in steps]}
        reply, decoded = self._exchange(header, arrays, timeout, max_bytes)
        results = reply.get("results") if isinstance(reply, dict) else None
        try:
            if not isinstance(results, list) or len(results) != len(steps):
                raise wire.WireError("malformed batch reply")
            return [Reply.from_header(r, decoded) for r in results]
        except (wire.WireError, RecursionError, ValueError, TypeError) as exc:
            self.close()
            raise SessionOver(Reply(False, kind="protocol", message=str(exc))) from None

    def call(self, module: str, fn: str, args: list[Any], kwargs: dict[str, Any], *,
             keep: str | None = None, timeout: float) -> Reply:
        """Call ``module.fn(*args, **kwargs)`` in the child.

        Array arguments are sent as frames; a :class:`Handle` passes a kept cache. With
        ``keep``, the function must return ``(value, cache)``.
        """
        arrays: list[np.ndarray] = []
        header = encode_step(module, Step(fn, tuple(args), kwargs, keep), arrays)
        return self.request(header, arrays, timeout)

    # ------------------------------------------------------------ lifetime

    def output(self) -> str:
        """The start of what the student's code printed, made safe to show (student text
        enters the grader here and in the replies, see :mod:`dlgrade.sandbox.text`)."""
        try:
            data = os.pread(self._output_r, self.limits.output_bytes, 0)
        except OSError:
            return ""
        return text.clean(data.decode("utf-8", "replace"))

    def _reap(self) -> int | None:
        self.alive = False
        code = self.process.wait(timeout=2)
        self.process.kill_group()
        return code

    def close(self) -> None:
        """Stop the child and everything it started: SIGKILL of its process group (it is
        the init of its own PID namespace where the kernel allows one, so that takes every
        descendant with it). Nothing is waited for: its replies are all read, its output is
        unbuffered, and the warm worker reaps it (a pid is not reused before that, so the
        signal can only reach this child's group)."""
        if self.alive:
            self.alive = False
            try:
                wire.write_message(self._request_w, {"op": "exit"}, [])
            except OSError:
                pass
        self.process.kill_group()
        if self.process.cold:
            self.process.wait(timeout=5)  # our own child: reap it here
        for fd in (self._request_w, self._reply_r):
            try:
                os.close(fd)
            except OSError:
                pass
        self._request_w = self._reply_r = -1

    def cleanup(self) -> str:
        """Close, return the captured output, and delete the scratch directory."""
        self.close()
        _watcher().discard(self)
        text = self.output()
        os.close(self._output_r)
        cleanup.remove_scratch(self.scratch)  # never raises: a hostile tree cannot stop the run
        if self._group is not None:
            cgroup.kill_all(self._group.dirs[-1])  # what left its process group (setsid)
            capabilities.cgroup_pool().release(self._group)  # reused once it is empty
            self._group = None
        return text

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


#: The ``.npy`` bytes of read-only arrays the grader sends to child after child (a case's
#: inputs: every student gets the same), by id, each with its array (so that its id is not
#: reused while it is here). Encoding them again was ~8% of the grading side's CPU.
_frozen: dict[int, tuple[np.ndarray, bytes]] = {}
FROZEN_BYTES = 1 << 16  # larger arrays cost their copy anyway: not kept twice
FROZEN_COUNT = 8192


def _encode(array: np.ndarray, frames: list[bytes]) -> None:
    """:func:`wire.encode` of one request array, from :data:`_frozen` when it can be."""
    if (type(array) is not np.ndarray or array.flags.writeable or array.base is not None
            or array.nbytes > FROZEN_BYTES):
        wire.encode(array, frames)
        return
    kept = _frozen.get(id(array))
    if kept is None or kept[0] is not array:
        if len(_frozen) >= FROZEN_COUNT:
            _frozen.clear()
        encoded: list[bytes] = []
        wire.encode(array, encoded)
        kept = _frozen[id(array)] = (array, encoded[0])
    frames.append(kept[1])


def _size(count: int) -> str:
    return f"{count / (1 << 30):g} GiB" if count >= 1 << 30 else f"{count >> 20} MiB"


class _Watcher:
    """Where no tmpfs bounds a scratch directory (no mount namespace), one thread of the
    grading process looks at every live child's scratch directory a few times a second and
    stops the child whose directory holds more than ``capabilities.SCRATCH_BYTES`` or
    ``capabilities.SCRATCH_FILES`` entries (RLIMIT_FSIZE bounds each file already)."""

    PERIOD = 0.2

    def __init__(self) -> None:
        self.sessions: set[Session] = set()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def add(self, session: Session) -> None:
        with self.lock:
            self.sessions.add(session)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._loop, daemon=True,
                                               name="dlgrade-scratch-watcher")
                self.thread.start()

    def discard(self, session: Session) -> None:
        with self.lock:
            self.sessions.discard(session)

    def _loop(self) -> None:
        while True:
            time.sleep(self.PERIOD)
            with self.lock:
                sessions = list(self.sessions)
            for session in sessions:
                reason = scratch_excess(session.scratch)
                if reason and session.alive:
                    session.stop(reason)


def scratch_excess(scratch: Path) -> str:
    """Why ``scratch`` holds too much ("" when it does not); the walk stops at the cap."""
    max_bytes, max_files = capabilities.SCRATCH_BYTES, capabilities.SCRATCH_FILES
    used, count, stack = 0, 0, [str(scratch)]
    while stack:
        try:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    count += 1
                    if count > max_files:
                        return f"its scratch directory held more than {max_files} files"
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
                        else:
                            used += entry.stat(follow_symlinks=False).st_blocks * 512
                    except OSError:
                        continue
                    if used > max_bytes:
                        return f"its scratch directory grew past {_size(max_bytes)}"
        except OSError:
            continue
    return ""


_watchers: list[_Watcher] = []


def _watcher() -> _Watcher:
    if not _watchers:
        with _zygote_lock:
            if not _watchers:
                _watchers.append(_Watcher())
    return _watchers[0]


#: Channels to this process's zygotes for the grading workers it is about to fork (by
#: preload, one per worker): see :func:`share_zygotes`.
_shared: dict[tuple[str, ...], list[Zygote]] = {}


def share_zygotes(workers: int) -> None:
    """Before forking ``workers`` grading processes: a channel to each running zygote for
    each of them (:func:`take_shared`), so that they share this process's zygotes instead of
    starting one each (numpy imported again per worker: ~0.15 s of CPU and ~30 MB)."""
    with _zygote_lock:
        for preload, current in _zygotes.items():
            handles: list[Zygote] = []
            try:
                while current.alive() and len(handles) < workers:
                    handles.append(current.channel())
            except ZygoteError:
                pass  # the workers without one start their own
            _shared[preload] = handles


def take_shared(worker: int) -> None:
    """In forked worker number ``worker``: its channels are its zygotes; the other
    workers' channels are closed here."""
    for preload, handles in _shared.items():
        for number, handle in enumerate(handles):
            if number == worker:
                _zygotes[preload] = handle
            else:
                handle.close()
    _shared.clear()


def release_shared() -> None:
    """In the grading process once its workers are forked: its copies of their channels
    are closed (a worker that dies then closes its channel, and the zygote kills the
    children it left)."""
    for handles in _shared.values():
        for handle in handles:
            handle.close()
    _shared.clear()


def _forget_after_fork() -> None:
    """In a process forked from a grading process (a worker of a class's grading): the
    parent's zygotes and scratch watcher are the parent's (its zygote's socket is its
    conversation, which this process must not join), and a lock another thread held at
    the fork would never be released here. This process takes its channel to the
    parent's zygote (:func:`take_shared`), or starts its own on first use."""
    global _zygote_lock
    _zygote_lock = threading.Lock()
    for handle in (*_zygotes.values(), *EARLY.values()):
        try:
            handle.control.close()  # this process's copy: the parent's zygote lives on
        except OSError:
            pass
    _zygotes.clear()  # the channels of _shared stay, for take_shared
    EARLY.clear()
    _watchers.clear()


os.register_at_fork(after_in_child=_forget_after_fork)


def _copy_support(files: dict[str, bytes], work: Path) -> None:
    """The course's support files, written over anything of the student's by that name."""
    for top in {Path(r).parts[0] for r in files if len(Path(r).parts) > 1}:
        (work / f"{top}.py").unlink(missing_ok=True)  # a student's module by a package's name
    for relative, content in files.items():
        parts = Path(relative).parts
        if not parts or Path(relative).is_absolute() or ".." in parts:
            raise ValueError(f"support file {relative!r} must be a relative path")
        target = work.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink() or target.is_dir():
            raise ValueError(f"support file {relative!r} clashes with a folder")
        target.write_bytes(content)


def _copy_submission(modules: dict[str, Path], directory: Path | None,
                     work: Path) -> dict[str, Path]:
    """Copy the graded modules and the student's other top-level ``.py`` helpers into the
    child's private directory; the child never sees the original folder."""

    work.mkdir()
    copied: dict[str, Path] = {}
    count, size = 0, 0
    helpers = sorted(directory.glob("*.py")) if directory is not None else []
    sources = [(path, path.name) for path in helpers]
    sources += [(Path(path), f"{name}.py") for name, path in modules.items()]
    for source, name in sources:
        content = read_regular(source)  # never a link, never a FIFO
        if content is None:
            continue
        count += 1
        size += len(content)
        if count > COPY_LIMIT[0] or size > COPY_LIMIT[1]:
            break
        (work / name).write_bytes(content)
    for name in modules:
        if (work / f"{name}.py").is_file():
            copied[name] = work / f"{name}.py"
    return copied


def _death(code: int | None) -> str:
    if code is None:
        return "the process died in the middle of grading"
    if code < 0 or code > 128:
        number = -code if code < 0 else code - 128
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        hint = " (out of memory?)" if number in (signal.SIGKILL, signal.SIGSEGV) else ""
        return f"the process was killed by {name}{hint}"
    return f"the process exited with code {code} in the middle of grading"

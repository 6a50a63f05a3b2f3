"""Warm worker ("zygote"): imports numpy (and torch) once, then forks one child per submission.

``import numpy`` costs ~0.15 s and ``import torch`` ~2 s, while a fork costs milliseconds. The
zygote is started by a fresh ``exec`` (``python -I``) with a minimal environment, so it holds
none of the grader's memory: no reference code, no expected outputs, no secrets. It imports
only the preloaded libraries and the child's own code, and never computes anything (thread
pools inherited through fork deadlock).

Protocol on a Unix SOCK_SEQPACKET socket (one JSON message per packet, so a long
configuration is never split; file descriptors travel with SCM_RIGHTS):
    {"op": "spawn", "config": ..., "cwd": dir} + [request_r, reply_w, output]
        -> {"pid": p}: the child runs ``child.run(config, ...)`` in its own session, with
        stdout and stderr on ``output`` (a file the grader opened).
    {"op": "wait", "pid": p, "timeout": s} -> {"code": exit code | null}
    {"op": "channel"} + [socket] -> {"ok": true}: one more conversation, on that socket, for
        a grading process forked from the grader (a worker of a class's grading), so that
        every worker shares this zygote instead of importing numpy in one of its own. When
        a channel closes (its worker died) the children it spawned are killed.
    {"op": "exit"}
The zygote exits when its first socket closes (the grader is gone).
"""

from __future__ import annotations

import copy
import gc
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

MESSAGE_LIMIT = 1 << 22


# ---------------------------------------------------------------- the zygote program


def _close_other_fds(keep: set[int]) -> None:
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _spawn(command: dict[str, Any], fds: list[int], control: socket.socket) -> int:
    zygote = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    try:  # the child: never return into the zygote's loop
        from dlgrade.sandbox import child, jail

        # The zygote exits when the grader does (its socket closes), even by SIGKILL; the
        # child then dies too, mid-computation or not (with a PID namespace, all it started).
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the zygote's reaper is not ours
        jail.die_with_parent()
        if os.getppid() != zygote:
            os._exit(70)
        control.close()
        os.setsid()  # its own process group: the grader kills it as a whole
        os.chdir(command["cwd"])
        request_fd, reply_fd, output = fds
        os.dup2(output, 1)
        os.dup2(output, 2)
        _close_other_fds({request_fd, reply_fd})
        child.run(command["config"], request_fd, reply_fd)
    finally:
        os._exit(70)


def _wait(pid: int, timeout: float, finished: dict[int, int]) -> dict[str, Any]:
    """``{"code": exit code}`` once ``pid`` ended, ``{"running": True}`` while it runs, and
    ``{"gone": True}`` for a pid that is not (or no longer) ours to wait for."""
    deadline = time.monotonic() + timeout
    while True:
        if pid in finished:
            return {"code": finished.pop(pid)}
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # reaped meanwhile (SIGCHLD), or never ours
            return {"code": finished.pop(pid)} if pid in finished else {"gone": True}
        if done:
            return {"code": os.waitstatus_to_exitcode(status)}
        if time.monotonic() > deadline:
            return {"running": True}
        time.sleep(0.002)


def _reap(finished: dict[int, int]) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if not pid:
            return
        finished[pid] = os.waitstatus_to_exitcode(status)
        if len(finished) > 10000:  # statuses nobody asked for
            finished.pop(next(iter(finished)))


def serve(control_fd: int, preload: list[str]) -> None:
    import importlib

    for name in preload:
        importlib.import_module(name)
    from dlgrade.sandbox import child, jail  # noqa: F401 - loaded once, inherited by every fork

    jail.adopt_orphans()

    # Every fork would otherwise copy the pages of every object here that the child's
    # garbage collector walks (each walk writes to the objects' headers): frozen, they
    # stay shared (a child's life: 21 -> 17 ms of CPU).
    gc.freeze()
    control = socket.socket(fileno=control_fd)
    channels = [control]
    spawned: dict[int, socket.socket] = {}  # running children, by the channel that asked
    finished: dict[int, int] = {}
    # Every child is reaped as soon as it ends (a killed child would otherwise stay a
    # zombie until the grader's next request), its status kept for the grader's "wait".
    signal.signal(signal.SIGCHLD, lambda *_: _reap(finished))
    while True:
        # Woken once a second as well, a backstop for the reaping: Python runs the SIGCHLD
        # handler in this thread only, and numpy's BLAS threads live here too.
        ready, _, _ = select.select(channels, [], [], 1.0)
        if not ready:
            _reap(finished)
        for channel in ready:
            try:
                message, fds, _, _ = socket.recv_fds(channel, MESSAGE_LIMIT, 3)
            except OSError:
                message, fds = b"", []
            if not message:
                if channel is control:
                    return  # the grader is gone
                _close_channel(channel, channels, spawned, finished)
                continue
            command = json.loads(message)
            _reap(finished)
            if command["op"] == "spawn":
                pid = _spawn(command, fds, channel)
                spawned[pid] = channel
                reply = {"pid": pid}
                for fd in fds:
                    os.close(fd)
            elif command["op"] == "wait":
                reply = _wait(int(command["pid"]), float(command["timeout"]), finished)
                if not reply.get("running"):
                    spawned.pop(int(command["pid"]), None)  # its pid may be reused now
            elif command["op"] == "channel" and len(fds) == 1:
                channels.append(socket.socket(fileno=fds[0]))
                reply = {"ok": True}
            else:
                return
            for pid in [p for p in spawned if p in finished]:
                del spawned[pid]  # ended: only ever waited for, never killed
            try:
                channel.send(json.dumps(reply).encode())
            except OSError:  # its worker died before the answer: the others carry on
                if channel is control:
                    return
                _close_channel(channel, channels, spawned, finished)


def _close_channel(channel: socket.socket, channels: list[socket.socket],
                   spawned: dict[int, socket.socket], finished: dict[int, int]) -> None:
    """A worker's channel closed (the worker ended, or was killed): the children it spawned
    and did not see end are killed, as they would be with a zygote of the worker's own."""
    channels.remove(channel)
    channel.close()
    _reap(finished)
    for pid in [p for p, c in spawned.items() if c is channel]:
        del spawned[pid]
        if pid not in finished:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass


def main() -> None:
    control_fd = int(sys.argv[sys.argv.index("--control") + 1])
    preload = sys.argv[sys.argv.index("--preload") + 1].split(",")
    serve(control_fd, [p for p in preload if p])


# ---------------------------------------------------------------- the grader's handle


class ZygoteError(OSError):
    """The zygote could not be started or stopped answering."""


class Zygote:
    """A running zygote, shared by the threads of one grading process (and, through
    :meth:`channel`, by the grading processes forked from it)."""

    def __init__(self, preload: tuple[str, ...] = ("numpy",), start_timeout: float = 60.0):
        from dlgrade.sandbox.capabilities import minimal_environment

        self.preload = preload
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-u", "-m", "dlgrade.sandbox.zygote", "--control",
             str(theirs.fileno()), "--preload", ",".join(preload)],
            pass_fds=(theirs.fileno(),), env=minimal_environment(),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        theirs.close()
        self.pid = self.process.pid
        self.control = ours
        self.lock = threading.Lock()
        self.start_timeout = start_timeout
        self._first = True
        self._closed = False

    def channel(self) -> Zygote:
        """A handle on this zygote over a conversation of its own, for a grading process
        about to be forked from this one (a worker of a class's grading), which cannot
        share this handle's socket: two processes' replies would cross. The caller closes
        its copy once the fork is done, so that the worker's death closes the channel."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._transact({"op": "channel"}, [theirs.fileno()], 10.0)
        except ZygoteError:
            ours.close()
            raise
        finally:
            theirs.close()
        handle = copy.copy(self)  # the same zygote (preload, pid, start timeout) ...
        handle.process, handle.control, handle.lock = None, ours, threading.Lock()
        handle._first = handle._closed = False  # ... over its own, already answered, socket
        return handle

    def _transact(self, command: dict[str, Any], fds: list[int], timeout: float
                  ) -> dict[str, Any]:
        with self.lock:
            if not self.alive():
                raise ZygoteError("the zygote has exited")
            # The first answer waits for the imports (numpy, torch).
            self.control.settimeout(timeout + (self.start_timeout if self._first else 0))
            try:
                socket.send_fds(self.control, [json.dumps(command).encode()], fds)
                answer = self.control.recv(MESSAGE_LIMIT)
                if not answer:
                    raise ZygoteError("the zygote closed its socket")
            except OSError as exc:
                self.close()
                raise ZygoteError(f"the zygote stopped answering: {exc}") from None
            self._first = False
            return json.loads(answer)

    def spawn(self, config: dict[str, Any], request_r: int, reply_w: int, cwd: Path,
              output: int) -> int:
        """Fork a child writing its stdout/stderr to the open file ``output``; returns its
        pid (also its process group id)."""
        reply = self._transact({"op": "spawn", "config": config, "cwd": str(cwd)},
                               [request_r, reply_w, output], 10.0)
        return int(reply["pid"])

    def wait(self, pid: int, timeout: float) -> int | None:
        """Exit code of a child (negative: killed by that signal), None if still running.

        Polls without holding the lock in between, so other threads can spawn meanwhile."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                answer = self._transact({"op": "wait", "pid": pid, "timeout": 0}, [], 5.0)
            except ZygoteError:
                return None
            if not answer.get("running") or time.monotonic() >= deadline:
                return answer.get("code")
            time.sleep(0.003)

    def alive(self) -> bool:
        if self.process is None:  # a channel: the zygote is another process's child
            return not self._closed
        return self.process.poll() is None

    def close(self) -> None:
        self._closed = True
        try:
            self.control.close()
        except OSError:
            pass
        if self.process is None:
            return
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


#: Zygotes started before anyone asked (:func:`start_early`), by their preload.
EARLY: dict[tuple[str, ...], Zygote] = {}


def start_early(preload: tuple[str, ...] = ("numpy",)) -> None:
    """Start a zygote now, before the command's own imports, so that its imports (numpy:
    about 0.1 s) overlap with the grader's; the first session that wants it takes it
    (``dlgrade.sandbox.runner.zygote``). It exits with this process if nobody does."""
    if preload not in EARLY:
        try:
            EARLY[preload] = Zygote(preload)
        except OSError:
            pass


if __name__ == "__main__":
    main()

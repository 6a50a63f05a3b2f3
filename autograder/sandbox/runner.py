"""Parent side of the sandbox: start a child for one submission and talk to it.

The grading process never imports student code. A :class:`Session` starts
``python -I child.py`` in a fresh process group with a private scratch directory, a minimal
environment and resource limits; requests go down one pipe, replies come up another.
A reply that is late kills the whole process group; a closed pipe means the child died.
Either way the session is over and the caller starts a new one for the next exercise.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autograder.sandbox import wire

CHILD = Path(__file__).with_name("child.py")


@dataclass(frozen=True)
class Limits:
    """Resource limits for one child."""

    memory_bytes: int = 4 << 30  # address space
    file_bytes: int = 16 << 20  # largest file the child may write
    output_bytes: int = 64 << 10  # how much of its stdout/stderr is kept
    reply_bytes: int = 256 << 20  # largest reply
    start_timeout: float = 30.0  # seconds to import numpy and start


@dataclass
class Reply:
    """What the child said about one request: a value, or an error of the student's code."""

    ok: bool
    value: Any = None
    kind: str = ""  # error kind: exception, not_implemented, missing, syntax, import,
    # bad_return, timeout, crash, protocol
    message: str = ""
    where: str = ""
    trace: str = ""


class SessionOver(Exception):
    """The child timed out, crashed or broke the protocol; its reply says which."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.message)
        self.reply = reply


class Session:
    """One child process serving one submission.

    Args:
        modules: student module name -> path of its file.
        directory: the submission's folder (put on the child's ``sys.path``).
        limits: resource limits.
    """

    def __init__(self, modules: dict[str, Path], directory: Path, limits: Limits | None = None):
        self.limits = limits or Limits()
        self.scratch = Path(tempfile.mkdtemp(prefix="dlgrade-child-"))
        self.output_path = self.scratch / ".output"
        request_r, self._request_w = os.pipe()
        self._reply_r, reply_w = os.pipe()
        env = {
            "PATH": os.defpath,
            "HOME": str(self.scratch),
            "TMPDIR": str(self.scratch),
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
        }
        command = [
            sys.executable, "-I", "-u", str(CHILD),
            "--modules", json.dumps({k: str(v) for k, v in modules.items()}),
            "--dir", str(directory),
            "--fds", f"{request_r},{reply_w}",
            "--limits", json.dumps({"memory": self.limits.memory_bytes,
                                    "file": self.limits.file_bytes}),
        ]
        with open(self.output_path, "wb") as output:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=self.scratch,
                env=env,
                pass_fds=(request_r, reply_w),
                start_new_session=True,  # its own process group, killed as a whole
            )
        os.close(request_r)
        os.close(reply_w)
        self._reader = wire.Reader(self._reply_r, max_bytes=self.limits.reply_bytes)
        self.alive = True
        self.counter = 0

    # ------------------------------------------------------------ requests

    def request(self, header: dict[str, Any], arrays: list[np.ndarray], timeout: float) -> Reply:
        """Send one request and wait for its reply.

        Raises:
            SessionOver: the child did not answer in time, died, or sent garbage; the
                session is closed and the reply describes what happened.
        """
        if not self.alive:
            raise SessionOver(Reply(False, kind="crash", message="the child is not running"))
        frames = []
        for array in arrays:
            wire.encode(array, frames)
        try:
            wire.write_message(self._request_w, header, frames)
            reply_header, blobs = self._reader.read(deadline=time.monotonic() + timeout)
            decoded = [wire.decode_frame(b) for b in blobs]
            if reply_header.get("ok") is True:
                return Reply(True, value=wire.decode(reply_header.get("value"), decoded))
            error = reply_header.get("error")
            if not isinstance(error, dict):
                raise wire.WireError("malformed error reply")
            return Reply(False, **{k: str(error.get(k, ""))[:4000] for k in
                                   ("kind", "message", "where", "trace")})
        except wire.Timeout:
            self.close()
            raise SessionOver(Reply(False, kind="timeout", message=(
                f"did not finish within {timeout:g} s (an infinite loop, or far too slow)"
            ))) from None
        except (wire.Closed, BrokenPipeError):
            code = self._reap()
            raise SessionOver(Reply(False, kind="crash", message=_death(code))) from None
        except wire.WireError as exc:
            self.close()
            raise SessionOver(Reply(False, kind="protocol", message=(
                f"the grader could not read the reply ({exc}); did the code write to the "
                "grader's channel?"
            ))) from None

    def call(self, module: str, fn: str, args: list[Any], kwargs: dict[str, Any], *,
             keep: str | None = None, timeout: float) -> Reply:
        """Call ``module.fn(*args, **kwargs)`` in the child.

        Array arguments are sent as frames; a string argument ``Handle(h)`` passes a kept
        cache. With ``keep``, the function must return ``(value, cache)``.
        """
        arrays: list[np.ndarray] = []
        header = {
            "op": "call", "module": module, "fn": fn, "keep": keep,
            "args": [_tree(a, arrays) for a in args],
            "kwargs": {k: _tree(v, arrays) for k, v in kwargs.items()},
        }
        return self.request(header, arrays, timeout)

    def map(self, module: str, fn: str, calls: list[tuple[list[Any], dict[str, Any]]], *,
            pick: int | None, timeout: float) -> Reply:
        """Several calls of one function; element ``pick`` of each result comes back."""
        arrays: list[np.ndarray] = []
        header = {
            "op": "map", "module": module, "fn": fn, "pick": pick,
            "calls": [{"args": [_tree(a, arrays) for a in args],
                       "kwargs": {k: _tree(v, arrays) for k, v in kwargs.items()}}
                      for args, kwargs in calls],
        }
        return self.request(header, arrays, timeout)

    def new_handle(self) -> str:
        self.counter += 1
        return f"h{self.counter}"

    # ------------------------------------------------------------ lifetime

    def output(self) -> str:
        """The start of what the student's code printed."""
        try:
            with open(self.output_path, "rb") as f:
                return f.read(self.limits.output_bytes).decode("utf-8", "replace")
        except OSError:
            return ""

    def _reap(self) -> int | None:
        self.alive = False
        self._kill_group()
        try:
            return self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return None

    def _kill_group(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def close(self) -> None:
        """Stop the child (politely if it is idle, by SIGKILL of its group otherwise)."""
        if self.alive:
            self.alive = False
            try:
                wire.write_message(self._request_w, {"op": "exit"}, [])
                self.process.wait(timeout=0.5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._kill_group()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for fd in (self._request_w, self._reply_r):
            try:
                os.close(fd)
            except OSError:
                pass
        self._request_w = self._reply_r = -1

    def cleanup(self) -> str:
        """Close, return the captured output, and delete the scratch directory."""
        self.close()
        text = self.output()
        shutil.rmtree(self.scratch, ignore_errors=True)
        return text

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


class Handle(str):
    """A reference to a cache kept in the child (see :meth:`Session.call`)."""


def _tree(value: Any, arrays: list[np.ndarray]) -> Any:
    if isinstance(value, Handle):
        return {"h": str(value)}
    if isinstance(value, np.ndarray):
        arrays.append(value)
        return {"a": len(arrays) - 1}
    if isinstance(value, (list, tuple)):
        return {"list": [_tree(v, arrays) for v in value]}
    if isinstance(value, str):
        return {"str": value}
    if value is None:
        return None
    if isinstance(value, (bool, int, float)):
        return {"num": value}  # hyper-parameters stay Python numbers, not 0-d arrays
    raise TypeError(f"cannot send {type(value).__name__}")


def _death(code: int | None) -> str:
    if code is None:
        return "the process stopped answering and could not be reaped"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (out of memory?)" if -code in (signal.SIGKILL, signal.SIGSEGV) else ""
        return f"the process was killed by {name}{hint}"
    return f"the process exited with code {code} in the middle of grading"

"""Adversarial suite: hostile ``activations.py`` submissions against the sandbox and the grader.

Threat model: the student controls the submitted source (and its file layout) and wants a
higher score, the reference solutions or hidden data, other students' work, or to break or
slow the batch. The grader, the reference code and the zygote are trusted; student code runs
only in a locked-down child that returns plain arrays, and the parent alone compares them.
Kernel bugs are out of scope. See shared/research/security.md, sections 2, 4 and 6.

Organisation: ``ATTACKS`` is a table of (id, source, expectation) graded on a1 with
``time_limit=2.0``; every row also checks that no process outlives grading. Attacks that need
their own assertions (forged frames, leaks, processes, network, class runs with an honest
student, files, /proc) have their own tests below. Tests that rely on one layer (Landlock,
namespaces) skip cleanly when ``capabilities.detect()`` reports it missing. Every hole this
suite found has been fixed; its test stays as a regression test, with the hole described in
a comment next to it.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import glob
import os
import re
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from dlgrade.courses import registry
from dlgrade.grading.classroom import LocalExecutor, grade_class
from dlgrade.grading.grader import SubmissionResult, grade_submission
from dlgrade.load.submission import Submission
from dlgrade.sandbox import capabilities, runner
from dlgrade.sandbox.runner import Limits

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "reference" / "activations.py"
HONEST_CLASSMATE = ROOT / "samples" / "class" / "ben" / "activations.py"
SIGMOID, TANH = "a1.sigmoid", "a1.tanh"
BOTH = (SIGMOID, TANH)
TMP = tempfile.gettempdir()

# ---------------------------------------------------------------- honest pieces

HEAD = "import numpy as np\n"

HONEST_SIGMOID = r'''

def sigmoid_forward(x):
    out = 0.5 * (1 + np.tanh(0.5 * x))
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)
'''

HONEST_TANH = r'''

def tanh_forward(x):
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    return dout * (1 - cache ** 2)
'''

HONEST = HEAD + HONEST_SIGMOID + HONEST_TANH

WRONG_SIGMOID = r'''

def sigmoid_forward(x):
    out = np.zeros_like(x)
    return out, out


def sigmoid_backward(dout, cache):
    return np.zeros_like(dout)
'''

#: Finds the child's end of a grader pipe (the reply pipe is the one open for writing).
FIND_PIPES = r'''
import fcntl
import os
import stat


def _pipes(mode):
    # /proc is closed to the sandbox: probe every descriptor number instead.
    found = []
    for fd in range(3, 1024):
        try:
            if (stat.S_ISFIFO(os.fstat(fd).st_mode)
                    and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == mode):
                found.append(fd)
        except OSError:
            pass
    return found
'''

# ---------------------------------------------------------------- the attack table

PASS, ZERO, PARTIAL = "pass", "zero", "partial"


@dataclass(frozen=True)
class Twin:
    """The score must equal that of this honest submission (same numbers, no trick)."""

    source: str


@dataclass(frozen=True)
class Attack:
    id: str
    source: str
    expect: dict[str, object]  # exercise id -> PASS, ZERO, PARTIAL or Twin
    statuses: dict[str, tuple[str, ...]] = field(default_factory=dict)
    needs: str = ""  # "", "landlock" or "namespaces"
    time_limit: float = 2.0

    @property
    def only(self) -> set[str]:
        return set(self.expect)


ATTACKS: list[Attack] = [
    # --- monkeypatching the checker (it does not live in the child) ---------------------
    Attack("numpy_checkers_patched", HEAD + r'''
import numpy.testing

np.allclose = lambda *a, **k: True
np.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), bool)
np.array_equal = np.array_equiv = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
np.testing.assert_array_equal = lambda *a, **k: None
np.testing.assert_array_almost_equal = lambda *a, **k: None
''' + WRONG_SIGMOID, {SIGMOID: ZERO}),
    Attack("numpy_checkers_patched_but_correct", HEAD + r'''
np.allclose = lambda *a, **k: True
np.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), bool)
np.testing.assert_allclose = lambda *a, **k: None
''' + HONEST_SIGMOID, {SIGMOID: PASS}),
    Attack("ndarray_methods_cursed", HEAD + r'''
import gc

try:
    np.ndarray.__eq__ = lambda self, other: True
except TypeError:
    pass
_type_dict = gc.get_referents(np.ndarray.__dict__)[0]
_type_dict["all"] = lambda self, *a, **k: True
_type_dict["any"] = lambda self, *a, **k: True
_type_dict["tolist"] = lambda self: [0.5] * self.size
_type_dict["__abs__"] = lambda self: np.zeros(self.shape)
''' + WRONG_SIGMOID, {SIGMOID: ZERO}),
    Attack("builtins_patched", HEAD + r'''
import builtins

_type = builtins.type
builtins.abs = lambda v: 0 * v
builtins.max = lambda *a, **k: 0.0
builtins.all = lambda *a, **k: True
builtins.isinstance = lambda obj, cls: True
builtins.type = lambda *a: np.ndarray if len(a) == 1 else _type(*a)
''' + WRONG_SIGMOID, {SIGMOID: ZERO}),
    Attack("builtins_patched_but_correct", HEAD + r'''
import builtins

builtins.abs = lambda v: 0 * v
builtins.all = lambda *a, **k: True
builtins.round = lambda *a, **k: 0
builtins.sum = lambda *a, **k: 0.0
''' + HONEST_SIGMOID, {SIGMOID: PASS}),
    # --- exiting early -----------------------------------------------------------------
    Attack("sys_exit_in_forward", HEAD + r'''
import sys


def sigmoid_forward(x):
    sys.exit(0)


def sigmoid_backward(dout, cache):
    sys.exit(0)
''', {SIGMOID: ZERO}, {SIGMOID: ("error",)}),
    Attack("exit_builtin_at_import", HEAD + HONEST_SIGMOID + r'''
print('{"a1.sigmoid": {"score": 2.0, "status": "passed"}}')
exit(0)
''', {SIGMOID: ZERO}, {SIGMOID: ("import",)}),
    Attack("os_exit_in_forward_then_next_exercise", HEAD + r'''
import os


def sigmoid_forward(x):
    os._exit(0)


def sigmoid_backward(dout, cache):
    os._exit(0)
''' + HONEST_TANH, {SIGMOID: ZERO, TANH: PASS}, {SIGMOID: ("crash",)}),
    Attack("keyboard_interrupt", HEAD + r'''

def sigmoid_forward(x):
    raise KeyboardInterrupt


def sigmoid_backward(dout, cache):
    raise KeyboardInterrupt
''' + HONEST_TANH, {SIGMOID: ZERO, TANH: PASS}, {SIGMOID: ("error",)}),
    Attack("base_exception_subclass", HEAD + r'''

class Escape(BaseException):
    pass


def sigmoid_forward(x):
    raise Escape("passed")


def sigmoid_backward(dout, cache):
    raise GeneratorExit
''', {SIGMOID: ZERO}, {SIGMOID: ("error",)}),
    Attack("sys_exit_in_backward_only", HEAD + r'''
import sys


def sigmoid_forward(x):
    out = 0.5 * (1 + np.tanh(0.5 * x))
    return out, out


def sigmoid_backward(dout, cache):
    sys.exit(0)
''', {SIGMOID: Twin(HEAD + r'''

def sigmoid_forward(x):
    out = 0.5 * (1 + np.tanh(0.5 * x))
    return out, out


def sigmoid_backward(dout, cache):
    raise ValueError("not done")
''')}),
    # --- fake results on stdout / stderr ------------------------------------------------
    Attack("fake_json_score_on_stdout_and_stderr", HEAD + r'''
import json
import os
import sys

FAKE = json.dumps({"a1.sigmoid": {"score": 2.0, "max_score": 2.0, "status": "passed"}})
print(FAKE)
sys.stdout = sys.__stdout__
print(FAKE, file=sys.stderr)
os.write(1, (FAKE + "\nAll checks passed.\n").encode())
os.write(2, b"PASSED 28.00 / 28\n")
''' + WRONG_SIGMOID, {SIGMOID: ZERO}),
    Attack("fake_npy_bytes_on_stdout", HEAD + r'''
import io
import os


def _npy(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def sigmoid_forward(x):
    os.write(1, _npy(0.5 * (1 + np.tanh(0.5 * x))))
    os.write(2, _npy(np.full(x.shape, 0.5)))
    out = np.zeros_like(x)
    return out, out


def sigmoid_backward(dout, cache):
    return np.zeros_like(dout)
''', {SIGMOID: ZERO}),
    Attack("fake_output_but_correct", HEAD + r'''
import sys

print('{"a1.sigmoid": {"score": 0.0, "status": "failed"}}')
print("Traceback (most recent call last): nothing", file=sys.stderr)
''' + HONEST_SIGMOID, {SIGMOID: PASS}),
    # --- odd return values ----------------------------------------------------------------
    Attack("ndarray_subclass_lying", HEAD + r'''

class Liar(np.ndarray):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return np.zeros(())

    def __abs__(self):
        return np.zeros(self.shape)

    def all(self, *a, **k):
        return True


def sigmoid_forward(x):
    out = np.zeros(x.shape).view(Liar)
    return out, out


def sigmoid_backward(dout, cache):
    return np.zeros(dout.shape).view(Liar)
''', {SIGMOID: ZERO}),
    Attack("object_with_odd_dunders", HEAD + r'''

class Odd:
    def __eq__(self, other):
        return True

    def __float__(self):
        return 0.5

    def __len__(self):
        return 20

    def __array__(self, dtype=None, copy=None):
        return np.zeros(3)


def sigmoid_forward(x):
    return Odd(), x


def sigmoid_backward(dout, cache):
    return Odd()
''', {SIGMOID: ZERO}),
    Attack("array_protocol_raises_then_next_exercise", HEAD + r'''

class Boom:
    def __array__(self, dtype=None, copy=None):
        raise ValueError("no")


def sigmoid_forward(x):
    return Boom(), x


def sigmoid_backward(dout, cache):
    return Boom()
''' + HONEST_TANH, {SIGMOID: ZERO, TANH: PASS}),
    Attack("float64_subclass_lying", HEAD + r'''

class Sneaky(np.float64):
    def __eq__(self, other):
        return True

    def __sub__(self, other):
        return Sneaky(0.0)

    __rsub__ = __sub__

    def __abs__(self):
        return Sneaky(0.0)

    def __lt__(self, other):
        return True

    __le__ = __lt__


def sigmoid_forward(x):
    return Sneaky(0.5), x


def sigmoid_backward(dout, cache):
    return Sneaky(0.0)
''', {SIGMOID: ZERO}),
    Attack("returns_dict", HEAD + r'''

def sigmoid_forward(x):
    out = 0.5 * (1 + np.tanh(0.5 * x))
    return {"out": out}, out


def sigmoid_backward(dout, cache):
    return {"dx": dout * cache * (1 - cache)}
''', {SIGMOID: ZERO}),
    Attack("returns_none", HEAD + r'''

def sigmoid_forward(x):
    return None


def sigmoid_backward(dout, cache):
    return None
''', {SIGMOID: ZERO}),
    Attack("returns_generator", HEAD + r'''

def sigmoid_forward(x):
    return (v for v in x.ravel()), x


def sigmoid_backward(dout, cache):
    return (v for v in dout.ravel())
''', {SIGMOID: ZERO}),
    Attack("returns_huge_python_int", HEAD + r'''

def sigmoid_forward(x):
    return 10 ** 400, x


def sigmoid_backward(dout, cache):
    return -(10 ** 400)
''', {SIGMOID: ZERO}),
    Attack("returns_strings_and_bytes", HEAD + r'''

def sigmoid_forward(x):
    out = 0.5 * (1 + np.tanh(0.5 * x))
    return repr(out.tolist()), out


def sigmoid_backward(dout, cache):
    return (dout * cache * (1 - cache)).tobytes()
''', {SIGMOID: ZERO}),
    Attack("returns_complex", HEAD + r'''

def sigmoid_forward(x):
    out = 0.5 * (1 + np.tanh(0.5 * x))
    return out + 0j, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache) + 1e-12j
''', {SIGMOID: ZERO}),
    Attack("returns_nan", HEAD + r'''

def sigmoid_forward(x):
    out = np.full(x.shape, np.nan)
    return out, out


def sigmoid_backward(dout, cache):
    return np.full(dout.shape, np.nan)
''', {SIGMOID: ZERO}),
    Attack("returns_inf", HEAD + r'''

def sigmoid_forward(x):
    out = np.full(x.shape, np.inf)
    return out, out


def sigmoid_backward(dout, cache):
    return np.full(dout.shape, -np.inf)
''', {SIGMOID: ZERO}),
    Attack("returns_empty", HEAD + r'''

def sigmoid_forward(x):
    return np.zeros((0,)), x


def sigmoid_backward(dout, cache):
    return np.zeros(dout.shape + (0,))
''', {SIGMOID: ZERO}),
    Attack("returns_wrong_shape", HEAD + r'''

def sigmoid_forward(x):
    out = 0.5 * (1 + np.tanh(0.5 * x))
    return out.ravel()[::-1].reshape(out.shape[::-1]), out


def sigmoid_backward(dout, cache):
    return (dout * cache * (1 - cache)).ravel()
''', {SIGMOID: ZERO}),
    Attack("returns_broadcastable", HEAD + r'''

def sigmoid_forward(x):
    return np.float64(0.5), x


def sigmoid_backward(dout, cache):
    return np.full((1,) * dout.ndim, 0.25)
''', {SIGMOID: ZERO}),
    Attack("returns_bool_array", HEAD + r'''

def sigmoid_forward(x):
    return x > 0, x


def sigmoid_backward(dout, cache):
    return dout > 0
''', {SIGMOID: ZERO}),
    Attack("one_nan_in_a_correct_forward", HEAD + r'''

def sigmoid_forward(x):
    out = 0.5 * (1 + np.tanh(0.5 * x))
    bad = out.copy()
    bad.flat[0] = np.nan
    return bad, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)
''', {SIGMOID: PARTIAL}),
    # --- resources --------------------------------------------------------------------
    Attack("infinite_loop_python", HEAD + r'''

def sigmoid_forward(x):
    while True:
        pass


def sigmoid_backward(dout, cache):
    while True:
        pass
''' + HONEST_TANH, {SIGMOID: ZERO, TANH: PASS}, {SIGMOID: ("timeout",)}),
    Attack("infinite_loop_numpy", HEAD + r'''
import signal

signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGXCPU, signal.SIG_IGN)


def sigmoid_forward(x):
    big = np.random.rand(1 << 20)
    while True:
        big = np.sort(np.sin(big))


def sigmoid_backward(dout, cache):
    return dout
''' + HONEST_TANH, {SIGMOID: ZERO, TANH: PASS}, {SIGMOID: ("timeout",)}),
    Attack("sleep_forever", HEAD + r'''
import time


def sigmoid_forward(x):
    time.sleep(10 ** 6)


def sigmoid_backward(dout, cache):
    time.sleep(10 ** 6)
''' + HONEST_TANH, {SIGMOID: ZERO, TANH: PASS}, {SIGMOID: ("timeout",)}),
    Attack("read_stdin_then_correct", HEAD + r'''
import os
import sys


def sigmoid_forward(x):
    sys.stdin.read()
    os.read(0, 1)
    out = 0.5 * (1 + np.tanh(0.5 * x))
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)
''', {SIGMOID: PASS}),
    Attack("block_on_request_pipe", HEAD + FIND_PIPES + r'''

def sigmoid_forward(x):
    for fd in _pipes(os.O_RDONLY):
        os.read(fd, 1 << 16)
    out = 0.5 * (1 + np.tanh(0.5 * x))
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)
''' + HONEST_TANH, {SIGMOID: ZERO, TANH: PASS}, {SIGMOID: ("timeout",)}),
    Attack("huge_allocation_then_next_exercise", HEAD + r'''

def sigmoid_forward(x):
    return np.ones(10 ** 11), x


def sigmoid_backward(dout, cache):
    return np.ones(10 ** 11)
''' + HONEST_TANH, {SIGMOID: ZERO, TANH: PASS}, {SIGMOID: ("error",)}),
    Attack("oversized_reply", HEAD + r'''
_sent = []


def sigmoid_forward(x):
    out = 0.5 * (1 + np.tanh(0.5 * x))
    if not _sent:
        _sent.append(1)
        return np.zeros(35_000_000), out  # 280 MB: over Limits.reply_bytes
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)
''' + HONEST_TANH, {SIGMOID: ZERO, TANH: PASS}, {SIGMOID: ("error",)}, time_limit=10.0),
    Attack("segfault", HEAD + r'''
import ctypes


def sigmoid_forward(x):
    ctypes.string_at(0)


def sigmoid_backward(dout, cache):
    ctypes.string_at(0)
''' + HONEST_TANH, {SIGMOID: ZERO, TANH: PASS}, {SIGMOID: ("crash",)}),
    Attack("deep_recursion", HEAD + r'''
import sys

sys.setrecursionlimit(10 ** 7)


def _down(n):  # through C (sorted's key): the C stack overflows
    return sorted([n], key=lambda v: _down(v + 1))


def sigmoid_forward(x):
    return _down(0), x


def sigmoid_backward(dout, cache):
    return _down(0)
''' + HONEST_TANH, {SIGMOID: ZERO, TANH: PASS}),
    Attack("close_the_grader_pipes", HEAD + FIND_PIPES + r'''

def sigmoid_forward(x):
    for fd in _pipes(os.O_WRONLY) + _pipes(os.O_RDONLY):
        os.close(fd)
    out = 0.5 * (1 + np.tanh(0.5 * x))
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)
''' + HONEST_TANH, {SIGMOID: ZERO, TANH: PASS}, {SIGMOID: ("crash",)}),
    Attack("thread_that_never_stops", HEAD + r'''
import threading
import time


def _forever():
    while True:
        time.sleep(0.001)


threading.Thread(target=_forever, daemon=False).start()
threading.Thread(target=_forever, daemon=True).start()
''' + HONEST_SIGMOID, {SIGMOID: PASS}),
    # --- state kept between calls -----------------------------------------------------
    Attack("right_on_the_first_call_only", HEAD + r'''
_calls = []


def sigmoid_forward(x):
    _calls.append(1)
    out = 0.5 * (1 + np.tanh(0.5 * x))
    if len(_calls) > 1:
        out = np.zeros_like(out)
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)
''', {SIGMOID: PARTIAL}),
    Attack("first_answer_cached_for_every_call", HEAD + r'''
_first = {}


def sigmoid_forward(x):
    if "out" not in _first:
        _first["out"] = 0.5 * (1 + np.tanh(0.5 * x))
    out = _first["out"]
    return out, out


def sigmoid_backward(dout, cache):
    if "dx" not in _first:
        _first["dx"] = dout * cache * (1 - cache)
    return _first["dx"]
''', {SIGMOID: PARTIAL}),
    Attack("mutates_its_input_in_place", HEAD + r'''

def sigmoid_forward(x):
    x *= 0.5
    np.tanh(x, out=x)
    x += 1
    x *= 0.5
    return x, x


def sigmoid_backward(dout, cache):
    dout *= cache * (1 - cache)
    return dout
''', {SIGMOID: PASS}),
    Attack("reseeds_and_drains_the_global_rngs", HEAD + r'''
import random

np.random.seed(1234)
random.seed(1234)
np.random.rand(10 ** 5)


def sigmoid_forward(x):
    np.random.seed(0)
    np.random.permutation(x.size)
    out = 0.5 * (1 + np.tanh(0.5 * x))
    return out, out


def sigmoid_backward(dout, cache):
    random.seed(0)
    return dout * cache * (1 - cache)
''', {SIGMOID: PASS}),
    Attack("games_the_gradient_check", HEAD + r'''
_last = {}


def _sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * x))


def sigmoid_forward(x):
    x0 = _last.get("x")
    if x0 is not None and x0.shape == x.shape:
        moved = np.count_nonzero(x != x0)
        if moved == 1 and np.max(np.abs(x - x0)) < 1e-3:  # a finite-difference probe
            out = _sigmoid(x0)  # pretend to be flat, to agree with the zero gradient
            return out, out
    _last["x"] = x.copy()
    out = _sigmoid(x)
    return out, out


def sigmoid_backward(dout, cache):
    return np.zeros_like(dout)
''', {SIGMOID: Twin(HEAD + r'''

def sigmoid_forward(x):
    out = 0.5 * (1 + np.tanh(0.5 * x))
    return out, out


def sigmoid_backward(dout, cache):
    return np.zeros_like(dout)
''')}),
    # Fixed hole: a forward that answered finite-difference probes with the unperturbed
    # output made a zero backward look consistent (gradcheck trusted the perturbed values).
    # Now the perturbed values must match the reference forward where the forward is right.
    # --- the grader's code and data from inside the child (needs Landlock) ---------------
    Attack("import_autograder_and_reference", HEAD + r'''
import importlib

_ref = None
for _name in ("reference.activations", "dlgrade.grading.grader", "assignments.a1.oracles",
              "autograder.grading", "dlgrade.courses.kit"):
    try:
        _module = importlib.import_module(_name)
        if hasattr(_module, "sigmoid_forward"):
            _ref = _module
    except BaseException:
        pass
try:
    from dlgrade.courses import registry

    _ref = registry.reference_module("activations")
except BaseException:
    pass


def sigmoid_forward(x):
    if _ref is not None:
        return _ref.sigmoid_forward(x)
    out = np.zeros_like(x)
    return out, out


def sigmoid_backward(dout, cache):
    if _ref is not None:
        return _ref.sigmoid_backward(dout, cache)
    return np.zeros_like(dout)
''', {SIGMOID: ZERO}, needs="landlock"),
]

# ---------------------------------------------------------------- capabilities and helpers


def caps() -> capabilities.Capabilities:
    return capabilities.detect()


def require(layer: str) -> None:
    found = caps()
    if layer == "landlock" and not found.landlock:
        pytest.skip("Landlock is not available on this machine")
    if layer == "namespaces" and not found.namespaces:
        pytest.skip(f"namespaces are not available ({found.namespace_error})")


def render(source: str, **values: object) -> str:
    """Fill the ``@NAME@`` placeholders of a hostile source."""
    for key, value in values.items():
        source = source.replace(f"@{key}@", str(value))
    left = re.findall(r"@[A-Z_]+@", source)
    assert not left, f"unfilled placeholders {left}"
    return source


def write_student(folder: Path, source: str, name: str = "activations.py") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(source)
    return folder


def grade(folder: Path, only: set[str] | tuple[str, ...] = (SIGMOID,), *,
          student: str = "mallory", time_limit: float | None = 2.0) -> SubmissionResult:
    return grade_submission(Submission(student, folder), [registry.assignment("a1")],
                            hidden=True, only=set(only), time_limit=time_limit)


def by_id(result: SubmissionResult) -> dict[str, object]:
    return {e.id: e for e in result.exercises}


def everything_said(result: SubmissionResult) -> str:
    """Every piece of text the grader reports for this student."""
    parts = [result.output]
    for e in result.exercises:
        parts += [e.message, e.hint, *(c.message for c in e.checks)]
    return "\n".join(parts)


def zygote_pids() -> set[int]:
    return {z.process.pid for z in list(runner._zygotes.values())}


def warm_zygote() -> int:
    zygote = runner.zygote(("numpy",))
    return zygote.process.pid if zygote is not None else 0


# ---------------------------------------------------------------- processes


def _proc_table() -> dict[int, tuple[int, str, str]]:
    """pid -> (parent pid, state, start time) of every process now."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                data = f.read()
        except OSError:
            continue
        rest = data[data.rindex(")") + 2:].split()
        table[int(name)] = (int(rest[1]), rest[0], rest[19])
    return table


class ProcessWatch:
    """Processes started during a test that are still alive: those descending from this
    process (a child subreaper, so escaped orphans are re-parented here and stay in the
    tree), minus the long-lived zygotes and explicitly excluded helpers."""

    def __init__(self) -> None:
        self.me = os.getpid()
        self.before = {(pid, start) for pid, (_, _, start) in _proc_table().items()}
        self.exclude: set[int] = set()

    def _current(self) -> list[int]:
        table = _proc_table()
        skip = zygote_pids() | self.exclude | {self.me}
        found = []
        for pid, (_, state, start) in table.items():
            if state in "ZX" or (pid, start) in self.before or pid in skip:
                continue
            seen, up = set(), pid
            while up > 1 and up not in seen:
                seen.add(up)
                if up == self.me:
                    found.append(pid)
                    break
                up = table.get(up, (0, "", ""))[0]
        return sorted(found)

    def strays(self, settle: float = 3.0) -> list[int]:
        """Live leftovers, after giving the kernel ``settle`` seconds to finish killing."""
        deadline = time.monotonic() + settle
        while True:
            found = self._current()
            if not found or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def kill_strays(self) -> None:
        for pid in self._current():
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            orphans = [pid for pid, (ppid, state, start) in _proc_table().items()
                       if ppid == self.me and state == "Z" and (pid, start) not in self.before]
            for pid in orphans:
                with contextlib.suppress(ChildProcessError, OSError):
                    os.waitpid(pid, os.WNOHANG)
            if not self._current():
                break
            time.sleep(0.05)


PR_SET_CHILD_SUBREAPER = 36


@pytest.fixture(scope="module", autouse=True)
def subreaper():
    """Orphans of the sandbox re-parent to this process instead of init, so that a daemon
    that escaped its sandbox is still visibly ours (and can be killed after the test)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    yield
    libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


@pytest.fixture
def procs():
    watch = ProcessWatch()
    yield watch
    watch.kill_strays()


@pytest.fixture
def decoy():
    """A same-user process outside the sandbox that holds a secret in its environment,
    standing in for the grader or any other service on the host."""
    token = f"tok-{uuid.uuid4().hex}"
    process = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"],
        env={"PATH": os.defpath, "GRADER_API_TOKEN": token}, stdin=subprocess.DEVNULL)
    process.token = token  # type: ignore[attr-defined]
    yield process
    process.kill()
    process.wait()


def check_expectations(attack_expect: dict[str, object], result: SubmissionResult,
                       tmp_path: Path) -> None:
    got = by_id(result)
    assert set(got) == set(attack_expect)
    for ex_id, expect in attack_expect.items():
        e = got[ex_id]
        detail = f"{ex_id}: {e.score}/{e.max_score} {e.status}: {e.message[:300]}"
        if expect == PASS:
            assert e.score == e.max_score and e.status == "passed", detail
        elif expect == ZERO:
            assert e.score == 0, detail
        elif expect == PARTIAL:
            assert 0 < e.score < e.max_score, detail
        else:
            assert isinstance(expect, Twin)
            twin = grade(write_student(tmp_path / "twin", expect.source), {ex_id})
            assert e.score == twin.exercises[0].score, detail


# ---------------------------------------------------------------- the table


def _table() -> list:
    return [pytest.param(a, id=a.id) for a in ATTACKS]


@pytest.mark.parametrize("attack", _table())
def test_attack_scores_what_its_numbers_deserve(attack, tmp_path, procs):
    if attack.needs:
        require(attack.needs)
    folder = write_student(tmp_path / "mallory", attack.source)
    result = grade(folder, attack.only, time_limit=attack.time_limit)  # (2) no exception
    check_expectations(attack.expect, result, tmp_path)  # (1)
    for ex_id, statuses in attack.statuses.items():
        assert by_id(result)[ex_id].status in statuses
    assert procs.strays() == []  # (3)
    assert (folder / "activations.py").read_text() == attack.source


def test_table_is_large_and_ids_unique():
    assert len(ATTACKS) >= 30
    assert len({a.id for a in ATTACKS}) == len(ATTACKS)


# ---------------------------------------------------------------- forged reply frames

FORGE = HEAD + FIND_PIPES + r'''
import io
import json
import struct

_forged = []


def _npy(array, allow_pickle=False):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def _message(header, frames):
    header = dict(header, frames=[len(f) for f in frames])
    raw = json.dumps(header).encode()
    return struct.pack(">I", len(raw)) + raw + b"".join(frames)


class Pickled:
    def __reduce__(self):
        return (open, ("@MARKER@", "w"))


def _payload():
    kind = "@KIND@"
    if kind == "garbage":
        return b"\x00\x00\x00\x05hello"
    if kind == "fake_pass":
        fake = {"ok": True, "score": 2.0, "status": "passed",
                "results": [{"ok": True, "value": {"a": 0}}]}
        return _message(fake, [_npy(np.full((4, 5), 0.5))])
    if kind == "pickle_frame":
        frame = _npy(np.array([Pickled()], dtype=object), allow_pickle=True)
        return _message({"ok": True, "results": [{"ok": True, "value": {"a": 0}}]}, [frame])
    if kind == "short_payload":
        return _message({"ok": True, "results": []}, [_npy(np.zeros((4, 5)))[:-152]])
    if kind == "huge_length":
        return b"\xff\xff\xff\xff" + b"{" * 64
    if kind == "deep_json":
        raw = b"[" * 100000
        return struct.pack(">I", len(raw)) + raw
    if kind == "zero_size_huge_shape":
        header = ("{'descr': '<f8', 'fortran_order': False, "
                  "'shape': (0, 9223372036854775807, 9223372036854775807), }")
        header += " " * (63 - (10 + len(header)) % 64) + "\n"
        frame = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode()
        return _message({"ok": True, "results": []}, [frame])
    raise AssertionError(kind)


def sigmoid_forward(x):
    if not _forged:
        _forged.append(1)
        for fd in _pipes(os.O_WRONLY):
            os.write(fd, _payload())
    out = 0.5 * (1 + np.tanh(0.5 * x))
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)
''' + HONEST_TANH


@pytest.mark.parametrize("kind", ["garbage", "fake_pass", "pickle_frame", "short_payload",
                                  "huge_length"])
def test_forged_reply_frames_are_a_protocol_error_never_a_pass(kind, tmp_path, procs):
    """A correct student who writes a forged message into the reply pipe (found by scanning
    /proc/self/fd) loses that exercise with a protocol error; the next one is graded."""
    marker = tmp_path / "unpickled"
    source = render(FORGE, KIND=kind, MARKER=marker)
    result = grade(write_student(tmp_path / "mallory", source), BOTH)
    got = by_id(result)
    assert got[SIGMOID].score == 0 and got[SIGMOID].status == "error", got[SIGMOID].message
    assert "could not read the reply" in got[SIGMOID].message \
        or "alformed" in got[SIGMOID].message
    assert got[TANH].status == "passed"
    assert not marker.exists()  # the grader never unpickles a frame
    assert procs.strays() == []


def test_forged_deeply_nested_json_does_not_crash_the_grader(tmp_path, procs):
    source = render(FORGE, KIND="deep_json", MARKER=tmp_path / "x")
    result = grade(write_student(tmp_path / "mallory", source), BOTH)
    assert by_id(result)[SIGMOID].score == 0
    assert by_id(result)[TANH].status == "passed"


def test_forged_zero_size_huge_shape_does_not_crash_the_grader(tmp_path, procs):
    source = render(FORGE, KIND="zero_size_huge_shape", MARKER=tmp_path / "x")
    result = grade(write_student(tmp_path / "mallory", source), BOTH)
    assert by_id(result)[SIGMOID].score == 0
    assert by_id(result)[TANH].status == "passed"


# ---------------------------------------------------------------- processes

STORM = HEAD + r'''
import os
import subprocess
import time

_spawned = []


def _storm():
    if "@HOW@" == "fork":
        for _ in range(100):  # within the 128-process cap (a pids cgroup or RLIMIT_NPROC)
            if os.fork() == 0:
                time.sleep(120)
                os._exit(0)
    else:
        for _ in range(40):
            _spawned.append(subprocess.Popen(["sleep", "120"], stdin=subprocess.DEVNULL))


def sigmoid_forward(x):
    if not _spawned:
        _spawned.append(None)
        _storm()
    out = 0.5 * (1 + np.tanh(0.5 * x))
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)
'''

DAEMON = HEAD + r'''
import os
import time

_started = []


def _daemonize():
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.chdir("/")
            for fd in range(3, 64):
                try:
                    os.close(fd)
                except OSError:
                    pass
            end = time.time() + 120
            while time.time() < end:
                time.sleep(0.01)
            os._exit(0)
        os._exit(0)
    os.wait()


def sigmoid_forward(x):
    if not _started:
        _started.append(1)
        _daemonize()
    out = 0.5 * (1 + np.tanh(0.5 * x))
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)
'''


@pytest.mark.parametrize("how", ["fork", "subprocess"])
def test_bounded_process_storm_leaves_nothing_behind(how, tmp_path, procs):
    """100 forked (or 40 exec'd) sleepers: the student still passes, and none survives."""
    result = grade(write_student(tmp_path / "mallory", render(STORM, HOW=how)))
    assert by_id(result)[SIGMOID].status == "passed"
    assert procs.strays() == []


def test_double_fork_setsid_daemon_does_not_survive(tmp_path, procs):
    require("namespaces")  # without a PID namespace a setsid daemon escapes killpg
    result = grade(write_student(tmp_path / "mallory", DAEMON))
    assert by_id(result)[SIGMOID].status == "passed"
    assert procs.strays() == []


SETSID_PID_ONE = HEAD + r'''
import os
import time


def sigmoid_forward(x):
    os.setsid()
    while True:
        time.sleep(0.05)


def sigmoid_backward(dout, cache):
    return dout
''' + HONEST_TANH


def test_pid_one_calling_setsid_does_not_survive_its_timeout(tmp_path, procs):
    require("namespaces")
    result = grade(write_student(tmp_path / "mallory", SETSID_PID_ONE), BOTH)
    got = by_id(result)
    assert got[SIGMOID].status == "timeout" and got[TANH].status == "passed"
    assert procs.strays() == []


SHADOWED = ("numpy", "json", "select", "struct", "traceback", "linecache", "tokenize",
            "importlib", "sitecustomize", "usercustomize", "dlgrade", "os", "io")


@pytest.mark.parametrize("honest", [True, False], ids=["correct", "wrong"])
def test_helper_modules_shadowing_the_stdlib_and_numpy(honest, tmp_path, procs):
    """The submission folder also holds numpy.py, json.py, traceback.py, sitecustomize.py...
    that would sabotage the child (or fake a pass) if they were ever imported."""
    folder = write_student(tmp_path / "mallory",
                           HEAD + (HONEST_SIGMOID if honest else WRONG_SIGMOID))
    for name in SHADOWED:
        (folder / f"{name}.py").write_text(
            "import os\nos.write(1, b'SHADOW RAN\\n')\nos._exit(0)\n")
    result = grade(folder)
    e = by_id(result)[SIGMOID]
    assert (e.status == "passed") if honest else (e.score == 0), e.message
    assert "SHADOW RAN" not in result.output
    assert procs.strays() == []


# ---------------------------------------------------------------- output

HUGE_OUTPUT = HEAD + r'''
import os
import sys

_printed = []


def sigmoid_forward(x):
    if not _printed:
        _printed.append(1)
        chunk = "A" * (1 << 20)
        for _ in range(100):
            try:
                print(chunk)
            except OSError:
                break
        for _ in range(100):
            try:
                os.write(2, b"B" * (1 << 20))
            except OSError:
                break
    out = 0.5 * (1 + np.tanh(0.5 * x))
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)
''' + HONEST_TANH


def test_huge_output_is_capped_and_grading_goes_on(tmp_path, procs):
    started = time.monotonic()
    result = grade(write_student(tmp_path / "mallory", HUGE_OUTPUT), BOTH)
    assert time.monotonic() - started < 10
    got = by_id(result)
    assert got[SIGMOID].status == "passed" and got[TANH].status == "passed"
    assert 0 < len(result.output) <= Limits().output_bytes
    assert result.output.startswith("AAAA")
    assert procs.strays() == []


OUTPUT_SWAP = HEAD + r'''
import os

try:
    os.unlink(".output")
    if "@HOW@" == "symlink":
        os.symlink("@TARGET@", ".output")
    else:
        os.mkfifo(".output")
except OSError:
    pass
''' + HONEST_SIGMOID


def test_output_file_swapped_for_a_symlink_does_not_leak_the_reference(tmp_path, procs):
    source = render(OUTPUT_SWAP, HOW="symlink", TARGET=REFERENCE)
    result = grade(write_student(tmp_path / "mallory", source))
    assert by_id(result)[SIGMOID].status == "passed"
    assert "BEGIN SOLUTION" not in result.output
    assert "def sigmoid_forward" not in result.output


def test_output_file_swapped_for_a_fifo_does_not_hang_the_grader(tmp_path, procs):
    before = set(glob.glob(os.path.join(TMP, "dlgrade-*", "child-*")))
    done = threading.Event()
    rescued = []

    def watchdog() -> None:
        if done.wait(5.0):
            return
        for path in glob.glob(os.path.join(TMP, "dlgrade-*", "child-*", ".output")):
            if os.path.dirname(path) in before:
                continue
            with contextlib.suppress(OSError):
                if stat.S_ISFIFO(os.lstat(path).st_mode):
                    os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
                    rescued.append(path)

    guard = threading.Thread(target=watchdog, daemon=True)
    guard.start()
    try:
        result = grade(write_student(tmp_path / "mallory", render(OUTPUT_SWAP, HOW="fifo",
                                                                  TARGET="")))
    finally:
        done.set()
        guard.join()
    assert by_id(result)[SIGMOID].status == "passed"
    assert rescued == [], "the grader blocked on a FIFO and had to be rescued"


# ---------------------------------------------------------------- files (Landlock)

READ_REFERENCE = HEAD + r'''
import ctypes
import glob
import importlib
import os
import struct

REF = "@REF@"
_tries = []


def _read_reference():
    text = None
    candidates = [REF, os.path.relpath(REF, os.getcwd()), "../../" + REF.lstrip("/"),
                  "/proc/@GRADER@/root" + REF, "/proc/@GRADER@/cwd/reference/activations.py",
                  "/proc/1/root" + REF]
    for path in candidates:
        try:
            with open(path) as f:
                return f.read()
        except OSError as exc:
            _tries.append(f"open {path}: {type(exc).__name__}")
    found = [os.path.join(d, n) for d, _, names in os.walk("/work") for n in names]
    found += glob.glob("/work/**/activations.py", recursive=True)
    found += glob.glob("/tmp/**/activations.py", recursive=True)
    _tries.append(f"walk/glob found {len(found)}")
    for path in found:
        try:
            with open(path) as f:
                text = f.read()
            if "def sigmoid_forward" in text:
                return text
        except OSError:
            pass
    for how in ("symlink", "link"):
        try:
            getattr(os, how)(REF, "via-" + how)
            with open("via-" + how) as f:
                return f.read()
        except OSError as exc:
            _tries.append(f"{how}: {type(exc).__name__}")
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        handle = ctypes.create_string_buffer(8 + 128)
        struct.pack_into("I", handle, 0, 128)
        mount = ctypes.c_int()
        if libc.name_to_handle_at(-100, REF.encode(), handle, ctypes.byref(mount), 0) == 0:
            fd = libc.open_by_handle_at(os.open(".", os.O_RDONLY), handle, os.O_RDONLY)
            if fd >= 0:
                return os.read(fd, 1 << 20).decode()
        _tries.append(f"open_by_handle_at: errno {ctypes.get_errno()}")
    except OSError as exc:
        _tries.append(f"open_by_handle_at: {exc}")
    try:
        return importlib.import_module("reference.activations").__doc__ or "imported"
    except BaseException as exc:
        _tries.append(f"import: {type(exc).__name__}")
    return None


_stolen = _read_reference()
_ref = {}
if _stolen:
    exec(compile(_stolen, "stolen", "exec"), _ref)
print("\n".join(_tries))


def sigmoid_forward(x):
    if _ref:
        return _ref["sigmoid_forward"](x)
    raise PermissionError(f"{len(_tries)} ways to read the reference failed")


def sigmoid_backward(dout, cache):
    return _ref["sigmoid_backward"](dout, cache)
'''


def test_reference_solutions_are_unreadable(tmp_path, procs):
    """Absolute and ../ paths, /proc/<pid>/root and cwd, os.walk, glob, symlink, hard link,
    open_by_handle_at (root keeps CAP_DAC_READ_SEARCH) and import: all fail."""
    require("landlock")
    source = render(READ_REFERENCE, REF=REFERENCE, GRADER=os.getpid())
    result = grade(write_student(tmp_path / "mallory", source))
    e = by_id(result)[SIGMOID]
    assert e.score == 0 and e.status == "error", e.message
    assert "ways to read the reference failed" in e.message
    # Landlock refuses it, or (with the checkout under /tmp) the hiding tmpfs removed it.
    assert (f"open {REFERENCE}: PermissionError" in result.output
            or f"open {REFERENCE}: FileNotFoundError" in result.output), result.output
    assert "walk/glob found 0" in result.output
    said = everything_said(result)
    assert "BEGIN SOLUTION" not in said and "stolen" not in said
    assert procs.strays() == []


WRITE_OUTSIDE = HEAD + r'''
import os

TARGETS = @TARGETS@
_log = []


def _vandalize():
    for path in TARGETS:
        try:
            with open(path, "w") as f:
                f.write("evil")
            _log.append("wrote " + path)
        except OSError as exc:
            _log.append(f"{path}: {type(exc).__name__}")
    for how in ("mkdir", "symlink"):
        try:
            if how == "mkdir":
                os.mkdir(TARGETS[0] + ".d")
            else:
                os.symlink("/etc/passwd", TARGETS[0] + ".lnk")
            _log.append(how + " worked")
        except OSError as exc:
            _log.append(f"{how}: {type(exc).__name__}")
    try:
        os.rename(__file__, TARGETS[0] + ".moved")
        _log.append("rename worked")
    except OSError as exc:
        _log.append(f"rename: {type(exc).__name__}")
    print("; ".join(_log))


_vandalize()
''' + HONEST_SIGMOID


def test_writing_outside_the_scratch_directory_fails(tmp_path, procs):
    require("landlock")
    folder = tmp_path / "mallory"
    targets = [os.path.join(TMP, f"evil-{uuid.uuid4().hex}"), str(tmp_path / "evil"),
               str(folder / "activations.py"), str(ROOT / "reference" / "evil.py")]
    source = render(WRITE_OUTSIDE, TARGETS=repr(targets))
    write_student(folder, source)
    made = [path + suffix for path in targets[:2] + [targets[3]]
            for suffix in ("", ".d", ".lnk", ".moved")]
    try:
        result = grade(folder)
        assert by_id(result)[SIGMOID].status == "passed"
        assert "wrote" not in result.output and "worked" not in result.output, result.output
        assert [path for path in made if os.path.lexists(path)] == []
        assert (folder / "activations.py").read_text() == source
        assert procs.strays() == []
    finally:  # never leave vandalism behind, even when the sandbox failed
        for path in made:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            elif os.path.lexists(path):
                os.unlink(path)


SELF_MODIFY = HEAD + r'''
import os

PATCH = """

def tanh_forward(x):
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    return dout * (1 - cache ** 2)
"""
ORIGINAL = "@ORIGINAL@"
MARK = "# appended" + " by the student itself"
for _path in {__file__, ORIGINAL} - {""}:
    try:
        with open(_path) as _f:
            _text = _f.read()
        if MARK not in _text:
            with open(_path, "a") as _f:
                _f.write(PATCH + MARK + "\n")
    except OSError:
        pass


def sigmoid_forward(x):
    os._exit(0)  # a crash: the next exercise starts a new child from the submission


def sigmoid_backward(dout, cache):
    os._exit(0)


def tanh_forward(x):
    out = np.zeros_like(x)
    return out, out


def tanh_backward(dout, cache):
    return np.zeros_like(dout)
'''


def test_modifying_its_own_source_does_not_change_later_grading(tmp_path, procs):
    """The child appends a correct tanh to its copy (and, without Landlock it could, to the
    original), then crashes; the new child for tanh must load the unchanged submission."""
    folder = tmp_path / "mallory"
    original = str(folder / "activations.py") if caps().landlock else ""
    source = render(SELF_MODIFY, ORIGINAL=original)
    write_student(folder, source)
    got = by_id(grade(folder, BOTH))
    assert got[SIGMOID].status == "crash"
    assert got[TANH].score == 0 and got[TANH].status == "failed", got[TANH].message
    assert (folder / "activations.py").read_text() == source
    assert procs.strays() == []


# ---------------------------------------------------------------- /proc and signals

SECRET = f"dlgrade-adversarial-secret-{uuid.uuid4().hex}".encode()

PROC_MEM = HEAD + r'''
import ctypes

_result = []


def _steal():
    try:
        with open("/proc/@GRADER@/mem", "rb") as f:
            f.seek(@ADDRESS@)
            _result.append(b"LEAK " + f.read(@LENGTH@))
    except OSError as exc:
        _result.append(repr(exc).encode())
    libc = ctypes.CDLL(None, use_errno=True)
    buffer = ctypes.create_string_buffer(@LENGTH@)
    local = (ctypes.c_void_p * 2)(ctypes.addressof(buffer), @LENGTH@)
    remote = (ctypes.c_void_p * 2)(@ADDRESS@, @LENGTH@)
    if libc.process_vm_readv(@GRADER@, local, 1, remote, 1, 0) > 0:
        _result.append(b"LEAK " + buffer.raw)
    else:
        _result.append(b"process_vm_readv errno %d" % ctypes.get_errno())


def sigmoid_forward(x):
    _steal()
    raise RuntimeError(b" | ".join(_result).decode("latin-1"))


def sigmoid_backward(dout, cache):
    return dout
'''


def test_grader_memory_is_unreadable(tmp_path, procs):
    """/proc/<grader>/mem and process_vm_readv at the exact address of a secret."""
    require("landlock")  # a root child is stopped by Landlock only (not by non-dumpable)
    address = ctypes.cast(ctypes.c_char_p(SECRET), ctypes.c_void_p).value
    source = render(PROC_MEM, GRADER=os.getpid(), ADDRESS=address, LENGTH=len(SECRET))
    result = grade(write_student(tmp_path / "mallory", source))
    e = by_id(result)[SIGMOID]
    assert e.score == 0 and "RuntimeError" in e.message
    assert "LEAK" not in e.message and SECRET.decode() not in everything_said(result)
    assert "Permission" in e.message or "errno 1" in e.message


PROC_ENVIRON = HEAD + r'''

def sigmoid_forward(x):
    found = []
    for pid in (@GRADER@, @DECOY@):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                found.append("LEAK " + f.read().replace(b"\0", b" ").decode("latin-1"))
        except OSError as exc:
            found.append(repr(exc))
    raise RuntimeError(" | ".join(found)[:500])


def sigmoid_backward(dout, cache):
    return dout
'''


def test_grader_environment_is_unreadable(tmp_path, procs, request, decoy):
    procs.exclude.add(decoy.pid)
    source = render(PROC_ENVIRON, GRADER=os.getpid(), DECOY=decoy.pid)
    result = grade(write_student(tmp_path / "mallory", source))
    said = everything_said(result)
    assert by_id(result)[SIGMOID].score == 0
    assert decoy.token not in said
    assert "LEAK" not in said


KILLER = HEAD + r'''
import os
import signal

TARGETS = [@GRADER@, @ZYGOTE@, @DECOY@]
_done = []


def _kill_everything():
    for pid in [p for p in TARGETS if p > 1]:
        for action in (lambda: os.kill(pid, signal.SIGKILL),
                       lambda: os.killpg(os.getpgid(pid), signal.SIGKILL),
                       lambda: os.killpg(pid, signal.SIGKILL)):
            try:
                action()
            except OSError:
                pass
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(-1, sig)
        except OSError:
            pass


def sigmoid_forward(x):
    if not _done:
        _done.append(1)
        _kill_everything()
    out = 0.5 * (1 + np.tanh(0.5 * x))
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)


def tanh_forward(x):
    os.kill(os.getppid(), signal.SIGKILL)  # in a PID namespace getppid() is 0: own group
    os.killpg(os.getpgid(0), signal.SIGKILL)
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    return dout * (1 - cache ** 2)
'''


# ---------------------------------------------------------------- a class run


@pytest.fixture(scope="module")
def honest_alone(tmp_path_factory):
    """The honest classmate (a realistic partly-right a1) graded alone, as run_task does."""
    folder = tmp_path_factory.mktemp("alone") / "honest"
    folder.mkdir()
    marker = f"# HONEST-MARKER-{uuid.uuid4().hex}\n"
    (folder / "activations.py").write_text(marker + HONEST_CLASSMATE.read_text())
    result = grade_submission(Submission("honest", folder), [registry.assignment("a1")],
                              hidden=True)
    return marker, {e.id: (e.score, e.status) for e in result.exercises}


def class_run(tmp_path: Path, hostile: str, marker: str) -> dict[str, SubmissionResult]:
    klass = tmp_path / "class"
    write_student(klass / "honest", marker + HONEST_CLASSMATE.read_text())
    write_student(klass / "mallory", hostile)
    students = [Submission("honest", klass / "honest"), Submission("mallory", klass / "mallory")]
    outcome = grade_class(students, [registry.assignment("a1")], executor=LocalExecutor(2),
                          gradebook=None)
    return {r.student: r for r in outcome.results}


def assert_honest_unaffected(results: dict[str, SubmissionResult], alone: dict) -> None:
    assert {e.id: (e.score, e.status) for e in results["honest"].exercises} == alone


READ_CLASSMATE = HEAD + r'''
import glob
import os

PATHS = ["@CLASSMATE@", "../honest/activations.py", "../../honest/activations.py"]
_seen = []


def _snoop():
    candidates = list(PATHS)
    for pattern in ("@TMP@/dlgrade-*/run-*/task-*/*.py",
                    "@TMP@/dlgrade-*/run-*/child-*/submission/*.py",
                    "@TMP@/dlgrade-task-*/*.py", "@TMP@/dlgrade-*/child-*/submission/*.py",
                    "@CLASS@/*/*.py", "../*/*.py", "../../*/*/*.py"):
        candidates += glob.glob(pattern)
    for path in candidates:
        try:
            with open(path) as f:
                text = f.read()
            if "@MARK_REVERSED@"[::-1] in text:
                _seen.append("LEAK " + text[:200])
        except OSError as exc:
            _seen.append(f"{path}: {type(exc).__name__}")
    print("\n".join(_seen))


def sigmoid_forward(x):
    if not _seen:
        _snoop()
    if any(s.startswith("LEAK") for s in _seen):
        raise RuntimeError(" ".join(_seen))
    out = 0.5 * (1 + np.tanh(0.5 * x))
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)
'''

PROC_FD_WRITE = HEAD + r'''
import os

_done = []


def _poison():
    log = []
    for pid in (@GRADER@, @ZYGOTE@):
        try:
            names = os.listdir(f"/proc/{pid}/fd")
        except OSError as exc:
            log.append(f"list {pid}: {type(exc).__name__}")
            names = [str(n) for n in range(3, 40)]
        for name in names:
            try:
                fd = os.open(f"/proc/{pid}/fd/{name}", os.O_WRONLY | os.O_NONBLOCK)
                os.write(fd, b"\x00\x00\x00\x02{}garbage")
                log.append(f"WROTE {pid}/{name}")
            except OSError:
                pass
    print("\n".join(log))


def sigmoid_forward(x):
    if not _done:
        _done.append(1)
        _poison()
    out = 0.5 * (1 + np.tanh(0.5 * x))
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)
'''

CPU_STORM = HEAD + r'''
import os
import time

_done = []


def sigmoid_forward(x):
    if not _done:
        _done.append(1)
        for _ in range(6):
            if os.fork() == 0:
                end = time.time() + 3
                while time.time() < end:
                    pass
                os._exit(0)
        time.sleep(2)
    out = 0.5 * (1 + np.tanh(0.5 * x))
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)
'''

SPINNING_THREAD = HEAD + r'''
import threading


def _spin():
    while True:
        pass


threading.Thread(target=_spin).start()
''' + HONEST_SIGMOID

CLASS_ATTACKS = [
    ("fork_storm", render(STORM, HOW="fork"), ""),
    ("setsid_daemon", DAEMON, "namespaces"),
    ("cpu_storm", CPU_STORM, ""),
    ("spinning_thread", SPINNING_THREAD, ""),
    ("read_classmate", READ_CLASSMATE, "landlock"),
    ("write_into_other_pipes_via_proc", PROC_FD_WRITE, "landlock"),
]


@pytest.mark.parametrize("name,hostile,needs", CLASS_ATTACKS,
                         ids=[c[0] for c in CLASS_ATTACKS])
def test_honest_classmate_graded_alongside_gets_the_same_grade(name, hostile, needs, tmp_path,
                                                             procs, honest_alone):
    if needs:
        require(needs)
    marker, alone = honest_alone
    source = render(hostile, CLASSMATE=tmp_path / "class" / "honest" / "activations.py",
                    TMP=TMP, CLASS=tmp_path / "class", GRADER=os.getpid(),
                    ZYGOTE=warm_zygote(), MARK_REVERSED=marker.strip()[::-1])
    results = class_run(tmp_path, source, marker)
    assert_honest_unaffected(results, alone)
    mallory = by_id(results["mallory"])[SIGMOID]
    assert mallory.status == "passed", mallory.message
    said = everything_said(results["mallory"])
    assert marker.strip() not in said and "LEAK" not in said and "WROTE" not in said
    assert procs.strays() == []


def test_signalling_the_grader_zygote_and_host_fails(tmp_path, procs, decoy, honest_alone):
    """kill/killpg of the grader, the zygote and another host process by pid, kill(-1),
    and kill(getppid()): the grader, the zygote and the decoy live on, and the classmate
    graded in the same run gets the same grade as alone."""
    require("namespaces")  # kill(-1, SIGKILL) must only ever reach the sandbox
    procs.exclude.add(decoy.pid)
    marker, alone = honest_alone
    zygote_before = warm_zygote()
    source = render(KILLER, GRADER=os.getpid(), ZYGOTE=zygote_before, DECOY=decoy.pid)
    results = class_run(tmp_path, source, marker)
    assert_honest_unaffected(results, alone)
    got = by_id(results["mallory"])
    assert got[SIGMOID].status == "passed"
    assert got[TANH].score == 0 or got[TANH].status == "passed"  # killed itself, at worst
    assert decoy.poll() is None
    assert zygote_before == 0 or zygote_before in zygote_pids()
    assert procs.strays() == []


# ---------------------------------------------------------------- network

NETWORK = HEAD + r'''
import socket
import time

_log = []


def _try(label, action):
    started = time.monotonic()
    try:
        action()
        _log.append(f"CONNECTED {label}")
    except OSError as exc:
        _log.append(f"{label}: {type(exc).__name__} {exc.errno} in "
                    f"{time.monotonic() - started:.2f}s")


def _tcp(host, port):
    s = socket.create_connection((host, port), timeout=1.5)
    s.sendall(b"pwned")


def _udp(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"pwned", (host, port))


def _abstract(name):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(name)
    s.sendall(b"pwned")


def _network():
    _try("tcp-local", lambda: _tcp("127.0.0.1", @TCP@))
    _try("tcp-outside", lambda: _tcp("1.1.1.1", 443))
    _try("tcp-outside-v6", lambda: _tcp("2606:4700:4700::1111", 443))
    _try("udp-local", lambda: _udp("127.0.0.1", @UDP@))
    _try("dns", lambda: socket.getaddrinfo("example.com", 80))
    _try("abstract-unix", lambda: _abstract("\0@ABSTRACT@"))
    print("\n".join(_log))


def sigmoid_forward(x):
    if not _log:
        _network()
    out = 0.5 * (1 + np.tanh(0.5 * x))
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)
'''


def test_network_is_unreachable_and_fails_fast(tmp_path, procs):
    require("namespaces")
    with contextlib.ExitStack() as stack:
        tcp = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
        tcp.bind(("127.0.0.1", 0))
        tcp.listen(5)
        udp = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
        udp.bind(("127.0.0.1", 0))
        abstract_name = f"dlgrade-adv-{uuid.uuid4().hex}"
        unix = stack.enter_context(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
        unix.bind("\0" + abstract_name)
        unix.listen(5)
        for s in (tcp, udp, unix):
            s.setblocking(False)
        source = render(NETWORK, TCP=tcp.getsockname()[1], UDP=udp.getsockname()[1],
                        ABSTRACT=abstract_name)
        started = time.monotonic()
        result = grade(write_student(tmp_path / "mallory", source))
        elapsed = time.monotonic() - started
        assert by_id(result)[SIGMOID].status == "passed", by_id(result)[SIGMOID].message
        assert "CONNECTED" not in result.output, result.output
        assert result.output.count(" in 0.") == 6, result.output  # each failed in < 1 s
        assert elapsed < 4.0
        for receive in (tcp.accept, lambda: udp.recvfrom(64), unix.accept):
            with pytest.raises(BlockingIOError):
                receive()
    assert procs.strays() == []


UNIX_SOCKET = HEAD + r'''
import socket


_tried = []


def sigmoid_forward(x):
    if not _tried:
        _tried.append(1)
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect("@PATH@")
            s.sendall(b"pwned")
            print("CONNECTED")
        except OSError as exc:
            print(f"refused: {exc!r}")
    out = 0.5 * (1 + np.tanh(0.5 * x))
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)
'''


def test_unix_sockets_on_the_host_are_unreachable(tmp_path, procs):
    path = tmp_path / "service.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    os.chmod(path, 0o777)  # a typical world-writable service socket
    server.listen(5)
    server.setblocking(False)
    try:
        result = grade(write_student(tmp_path / "mallory", render(UNIX_SOCKET, PATH=path)))
        assert by_id(result)[SIGMOID].status == "passed"
        with pytest.raises(BlockingIOError):
            server.accept()
        assert "CONNECTED" not in result.output
    finally:
        server.close()


# ---------------------------------------------------------------- a child that keeps root

ROOT_POWERS = HEAD + r'''
import fcntl
import os
import resource
import socket
import stat
import struct


def _attempt():
    what = "@WHAT@"
    if what == "mknod":
        os.mknod("kmsg", 0o600 | stat.S_IFCHR, os.makedev(1, 11))
        fd = os.open("kmsg", os.O_RDONLY | os.O_NONBLOCK)
        return os.read(fd, 200).decode("latin-1")
    if what == "sethostname":
        socket.sethostname("mallory-was-here")
        if open("/proc/sys/kernel/hostname").read().strip() == "mallory-was-here":
            return "hostname set"  # readable only without a UTS namespace and Landlock
        raise PermissionError("denied: only the sandbox's own UTS namespace changed")
    if what == "rlimit":
        resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY,) * 2)
        return "address-space limit lifted"
    if what == "immutable":
        with open("@NAME@", "w") as f:
            f.write("x")
        fd = os.open("@NAME@", os.O_RDONLY)
        fcntl.ioctl(fd, 0x40086602, struct.pack("i", 0x10))  # FS_IOC_SETFLAGS, IMMUTABLE
        return "immutable"
    raise AssertionError(what)


_tried = []


def sigmoid_forward(x):
    if not _tried:
        _tried.append(1)
        try:
            print("ROOT POWER: " + _attempt())
        except (OSError, ValueError) as exc:
            print(f"denied: {exc!r}")
    out = 0.5 * (1 + np.tanh(0.5 * x))
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)
'''


def _set_immutable(path: Path, on: bool) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        flags = struct.unpack("i", fcntl.ioctl(fd, 0x80086601, b"\0" * 4))[0]
        flags = flags | 0x10 if on else flags & ~0x10
        fcntl.ioctl(fd, 0x40086602, struct.pack("i", flags))
    finally:
        os.close(fd)


FIXED_ROOT_POWERS = {  # each was a hole while the child kept real root; fixed by the user namespace
    "mknod": "create a device node in scratch and read the kernel log (also: Landlock no "
             "longer grants MAKE_CHAR/MAKE_BLOCK there)",
    "sethostname": "change the host's hostname (also: a UTS namespace of its own)",
    "rlimit": "raise its own hard rlimits",
    "immutable": "make a scratch file immutable so that cleanup leaves it on disk",
}


@pytest.mark.parametrize("what", sorted(FIXED_ROOT_POWERS))
def test_a_root_child_has_no_root_powers(what, tmp_path, procs):
    name = f"adv-immutable-{uuid.uuid4().hex}"
    before = set(glob.glob(os.path.join(TMP, "dlgrade-*", "child-*")))
    hostname = socket.gethostname()
    try:
        result = grade(write_student(tmp_path / "mallory",
                                     render(ROOT_POWERS, WHAT=what, NAME=name)))
        assert socket.gethostname() == hostname  # the host's name never changes
        assert by_id(result)[SIGMOID].status == "passed"
        assert "ROOT POWER" not in result.output, result.output
        assert "denied" in result.output
        left = [d for d in glob.glob(os.path.join(TMP, "dlgrade-*", "child-*"))
                if d not in before and os.path.exists(os.path.join(d, name))]
        assert left == []
    finally:
        for stuck in glob.glob(os.path.join(TMP, "dlgrade-*", "child-*", name)):
            if os.path.dirname(stuck) not in before:
                with contextlib.suppress(OSError):
                    _set_immutable(Path(stuck), False)
                shutil.rmtree(os.path.dirname(stuck), ignore_errors=True)


SYSV_SHM = HEAD + r'''
import ctypes

_tried = []


def sigmoid_forward(x):
    if not _tried:
        _tried.append(1)
        libc = ctypes.CDLL(None, use_errno=True)
        libc.shmat.restype = ctypes.c_void_p
        shmid = libc.shmget(@KEY@, 0, 0)
        if shmid >= 0:
            address = libc.shmat(shmid, None, 0o10000)  # SHM_RDONLY
            print("ATTACHED " + ctypes.string_at(address, @LENGTH@).decode("latin-1"))
        else:
            print(f"shmget errno {ctypes.get_errno()}")
    out = 0.5 * (1 + np.tanh(0.5 * x))
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)
'''


def test_host_sysv_shared_memory_is_out_of_reach(tmp_path, procs):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    secret = f"shm-secret-{uuid.uuid4().hex}".encode()
    key = int.from_bytes(os.urandom(3), "big") + 0x5E000000
    shmid = libc.shmget(key, 4096, 0o1000 | 0o666)  # IPC_CREAT, rw for all
    if shmid < 0:
        pytest.skip(f"no System V shared memory here (errno {ctypes.get_errno()})")
    address = libc.shmat(shmid, None, 0)
    try:
        ctypes.memmove(address, secret, len(secret))
        source = render(SYSV_SHM, KEY=key, LENGTH=len(secret))
        result = grade(write_student(tmp_path / "mallory", source))
        assert by_id(result)[SIGMOID].status == "passed"
        assert secret.decode() not in result.output, result.output
    finally:
        libc.shmdt(ctypes.c_void_p(address))
        libc.shmctl(shmid, 0, None)  # IPC_RMID


# ---------------------------------------------------------------- the file layout


def test_fifo_as_a_single_file_submission_does_not_hang_grade_class(tmp_path, procs):
    klass = tmp_path / "class"
    klass.mkdir()
    fifo = klass / "mallory.py"
    os.mkfifo(fifo)
    write_student(klass / "honest", HONEST)
    done = threading.Event()
    rescued = []

    def watchdog() -> None:
        if not done.wait(5.0):
            with contextlib.suppress(OSError):
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
                rescued.append(str(fifo))

    guard = threading.Thread(target=watchdog, daemon=True)
    guard.start()
    try:
        students = [Submission("honest", klass / "honest"), Submission("mallory", fifo)]
        outcome = grade_class(students, [registry.assignment("a1")],
                              executor=LocalExecutor(2), gradebook=None)
    finally:
        done.set()
        guard.join()
    assert {r.student for r in outcome.results} == {"honest", "mallory"}
    assert rescued == [], "grade_class blocked reading a FIFO and had to be rescued"


def test_symlink_to_the_reference_as_a_single_file_submission(tmp_path, procs):
    klass = tmp_path / "class"
    klass.mkdir()
    (klass / "mallory.py").symlink_to(REFERENCE)
    outcome = grade_class([Submission("mallory", klass / "mallory.py")],
                          [registry.assignment("a1")], executor=LocalExecutor(1),
                          gradebook=None)
    assert outcome.results[0].score == 0


def test_symlink_to_the_reference_inside_a_submission_folder(tmp_path, procs):
    folder = tmp_path / "mallory"
    folder.mkdir()
    (folder / "activations.py").symlink_to(REFERENCE)
    result = grade(folder)
    assert by_id(result)[SIGMOID].score == 0

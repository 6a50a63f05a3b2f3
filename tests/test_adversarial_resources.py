"""Adversarial suite: resources and orphans (issue 13 points 11 and 12).

* Point 11: rlimits bound each process alone, so a submission that forks held 6.6 GiB past
  its 4 GiB cap and could start any number of processes (a root grader's children are
  exempt from RLIMIT_NPROC), and without a mount namespace its scratch directory filled at
  disk speed. Now a cgroup bounds the memory and the processes of the child's whole tree,
  and without namespaces the grader watches the scratch directory.
* Point 12: ``kill -9`` of ``dlgrade grade`` left scratch folders holding students' code.
  Every folder of a grading process now lives in one run folder guarded by a held lock;
  the next run removes the folders (and cgroups, and processes) of dead runs.

Each hostile submission is graded beside an honest one, at the same time, whose full marks
must not change. Tests that need a kernel feature skip with the reason when it is absent.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from dlgrade.courses import registry
from dlgrade.grading.classroom import LocalExecutor, grade_class
from dlgrade.load.submission import Submission
from dlgrade.results import SubmissionResult
from dlgrade.sandbox import capabilities, cgroup
from processes import descendants

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "reference" / "activations.py"

HONEST_SIGMOID = '''

def _honest(x):
    out = 0.5 * (1 + np.tanh(0.5 * x))
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)
'''


def class_run(klass: Path, hostile: str) -> dict[str, SubmissionResult]:
    """mallory (hostile) and an honest classmate, graded side by side in one class run."""
    for name, source in (("mallory", hostile), ("zz-honest", REFERENCE.read_text())):
        (klass / name).mkdir(parents=True)
        (klass / name / "activations.py").write_text(source)
    students = [Submission(name, klass / name) for name in ("mallory", "zz-honest")]
    outcome = grade_class(students, [registry.assignment("a1")], executor=LocalExecutor(2),
                          gradebook=None)
    return {r.student: r for r in outcome.results}


def sigmoid_of(result: SubmissionResult):
    return {e.id: e for e in result.exercises}["a1.sigmoid"]


def assert_full_marks(result: SubmissionResult) -> None:
    assert result.score == result.max_score, [(e.id, e.status, e.message)
                                              for e in result.exercises]


def assert_groups_empty() -> None:
    """No process of any child is left in this run's cgroups."""
    for group in capabilities.cgroup_pool().made:
        deadline = time.monotonic() + 5
        while not group.empty() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert group.empty(), group.dirs


needs_cgroup = pytest.mark.skipif(
    cgroup.layout() is None,
    reason="no writable cgroup here (v1 memory+pids or v2 with them delegated)")


# ---------------------------------------------------------------- memory of the tree

#: 20 children of 300 MB each, all touched: 6 GB, past any tree cap. The answer is right
#: only if every child held its memory, so a run without a tree cap passes it.
FORKED_MEMORY = '''
import os
import time

import numpy as np

_done = []


def _fork_and_hold():
    r, w = os.pipe()
    pids = []
    for _ in range(20):
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                block = b"\\x01" * (300 << 20)
                os.write(w, b"k")
                time.sleep(2)
                del block
            finally:
                os._exit(0)
        pids.append(pid)
    os.close(w)
    held = b""
    while chunk := os.read(r, 64):
        held += chunk
    for pid in pids:
        os.waitpid(pid, 0)
    return len(held)


def sigmoid_forward(x):
    if not _done:
        _done.append(_fork_and_hold())
    if _done[0] < 20:
        return x * 0, x
    return _honest(x)
''' + HONEST_SIGMOID


@needs_cgroup
@pytest.mark.slow
def test_forked_children_cannot_hold_more_than_the_tree_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(capabilities, "TREE_MEMORY_BYTES", 1 << 30, raising=False)
    results = class_run(tmp_path / "class", FORKED_MEMORY)
    sigmoid = sigmoid_of(results["mallory"])
    assert sigmoid.status == "crash", (sigmoid.status, sigmoid.message)
    assert "resource limit" in sigmoid.message.lower(), sigmoid.message
    assert "1 GiB of memory" in sigmoid.message, sigmoid.message
    assert_full_marks(results["zz-honest"])
    # the exercises after it get a fresh child, whose honest code is graded as usual
    others = [e for e in results["mallory"].exercises if e.id != "a1.sigmoid"]
    assert all(e.status != "crash" for e in others), [(e.id, e.message) for e in others]
    assert_groups_empty()


# ---------------------------------------------------------------- processes

#: 300 processes sleeping: right only if all of them could be started.
FORK_STORM = '''
import os
import time

import numpy as np

_done = []


def _storm():
    started = 0
    try:
        for _ in range(300):
            if os.fork() == 0:
                time.sleep(20)
                os._exit(0)
            started += 1
    except OSError:
        pass
    return started


def sigmoid_forward(x):
    if not _done:
        _done.append(_storm())
    if _done[0] >= 300:
        return x * 0, x
    return _honest(x)
''' + HONEST_SIGMOID


@needs_cgroup
def test_a_fork_storm_is_stopped_at_the_process_cap_even_for_a_root_grader(tmp_path,
                                                                          monkeypatch):
    monkeypatch.setattr(capabilities, "PROCESSES", 64)
    results = class_run(tmp_path / "class", FORK_STORM)
    sigmoid = sigmoid_of(results["mallory"])
    assert sigmoid.status == "passed", ("300 processes were started", sigmoid.message)
    assert_full_marks(results["zz-honest"])
    assert_groups_empty()  # the sleeping ones were all killed with the child


# ---------------------------------------------------------------- scratch without namespaces

#: Keeps writing 8 MB files into its working directory (the scratch directory) for 3 s.
FILL_DISK = '''
import os
import time

import numpy as np

_done = []


def _fill():
    chunk = b"\\x00" * (8 << 20)
    end = time.time() + 3
    n = 0
    while time.time() < end and n < 32:
        with open(f"fill-{n}", "wb") as f:
            f.write(chunk)
        n += 1
    time.sleep(max(0.0, end - time.time()))


def sigmoid_forward(x):
    if not _done:
        _done.append(1)
        _fill()
    return _honest(x)
''' + HONEST_SIGMOID

#: Makes empty files and folders, many of them, for 3 s.
MANY_FILES = '''
import os
import time

import numpy as np

_done = []


def _spray():
    end = time.time() + 3
    n = 0
    while time.time() < end and n < 3000:
        os.makedirs(f"d{n % 50}", exist_ok=True)
        open(f"d{n % 50}/f{n}", "w").close()
        n += 1
    time.sleep(max(0.0, end - time.time()))


def sigmoid_forward(x):
    if not _done:
        _done.append(1)
        _spray()
    return _honest(x)
''' + HONEST_SIGMOID


@pytest.fixture
def no_namespaces(monkeypatch):
    """This machine as if it had no namespaces (so no scratch tmpfs, no PID namespace)."""
    found = dataclasses.replace(capabilities.detect(), namespaces=False,
                                namespace_error="turned off by the test")
    monkeypatch.setattr(capabilities, "detect", lambda: found)
    return found


@pytest.mark.parametrize(("hostile", "reason"), [(FILL_DISK, "grew past 32 MiB"),
                                                 (MANY_FILES, "more than 500 files")],
                         ids=["bytes", "files"])
def test_without_namespaces_a_filling_scratch_directory_is_stopped(
        tmp_path, monkeypatch, no_namespaces, hostile, reason):
    monkeypatch.setattr(capabilities, "SCRATCH_BYTES", 32 << 20)
    monkeypatch.setattr(capabilities, "SCRATCH_FILES", 500, raising=False)
    results = class_run(tmp_path / "class", hostile)
    sigmoid = sigmoid_of(results["mallory"])
    assert sigmoid.status == "crash", (sigmoid.status, sigmoid.message)
    assert "resource limit" in sigmoid.message.lower() and reason in sigmoid.message
    assert_full_marks(results["zz-honest"])


# ---------------------------------------------------------------- point 12: kill -9

#: Slow enough to be killed in the middle of; prints a token, leaves a setsid daemon.
SLOW = '''
import os
import sys
import time

import numpy as np

_done = []


def _daemon():
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(60)
        os._exit(0)


def sigmoid_forward(x):
    if not _done:
        _done.append(1)
        _daemon()
        print("@TOKEN@-started", flush=True)
        time.sleep(30)
    return _honest(x)
''' + HONEST_SIGMOID


def _descendants(pid: int) -> dict[int, str]:
    """pid -> start time of every process below ``pid``."""
    return {child: process.start for child, process in descendants(pid).items()}


def _running(pid: int, start: str) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[19] == start and fields[0] != "Z"


def _holding(folder: Path, token: str) -> list[str]:
    """Files under ``folder`` that hold ``token`` (a student's code)."""
    hits = []
    for directory, _, files in os.walk(folder):
        for name in files:
            try:
                if token.encode() in (Path(directory) / name).read_bytes():
                    hits.append(os.path.join(directory, name))
            except OSError:
                continue
    return hits


@pytest.mark.slow
def test_kill_9_of_the_grader_leaves_no_process_and_the_next_run_sweeps(tmp_path):
    token = f"TOKEN{uuid.uuid4().hex}"
    klass = tmp_path / "class"
    for name, source in (("mallory", SLOW.replace("@TOKEN@", token)),
                         ("zz-honest", f"# {token}\n" + REFERENCE.read_text())):
        (klass / name).mkdir(parents=True)
        (klass / name / "activations.py").write_text(source)
    temp = Path(tempfile.mkdtemp(prefix="dlgrade-kill-test-"))  # this run's TMPDIR alone
    env = {**os.environ, "TMPDIR": str(temp)}
    base = temp / f"dlgrade-{os.getuid()}"
    try:
        grading = subprocess.Popen(
            [sys.executable, "-m", "dlgrade", "grade", "a1", str(klass), "--no-gradebook",
             "--workers", "2"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        started = False
        while time.monotonic() < deadline and grading.poll() is None and not started:
            started = any(f"{token}-started" in p.read_text(errors="replace")
                          for p in temp.rglob(".output") if p.is_file())
            time.sleep(0.1)
        assert started, "the slow student never started"
        time.sleep(0.5)  # its daemon is up
        processes = _descendants(grading.pid)
        assert processes, "no zygote or child below the grader"
        grading.send_signal(signal.SIGKILL)
        grading.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_running(p, s) for p, s in processes.items()):
            time.sleep(0.1)
        left = [p for p, s in processes.items() if _running(p, s)]
        assert not left, f"processes of the killed run are still running: {left}"
        assert _holding(temp, token), "the test did not see the student's code on disk"

        # The next grading process sweeps the dead run: folders, cgroups, processes.
        subprocess.run([sys.executable, "-c", "from dlgrade.sandbox import capabilities; "
                        "capabilities.run_folder()"], env=env, check=True, timeout=60)
        assert _holding(temp, token) == [], "a dead run's copy of a submission is left"
        assert list(base.glob("run-*")) == []
        dead = f"dlgrade-run-{grading.pid}-"
        assert not any(name.startswith(dead) for name in cgroup.stale_runs())
    finally:
        subprocess.run(["rm", "-rf", str(temp)], check=False)

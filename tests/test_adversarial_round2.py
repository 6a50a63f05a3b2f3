"""Adversarial suite, round 2 (issue 13): holes a second round of hostile submissions found.

* Point 6: a scratch directory the child made hard to delete (1000 levels deep, mode 000,
  odd names, symbolic-link loops) once crashed the whole class run with a RecursionError out
  of ``shutil.rmtree``; the students after it were never graded.
* Point 9: a student's own ``timestamp.txt`` cancelled a late penalty and outranked the
  instructor's ``--submitted-at`` file.
* Point 11: memory of the child's whole process tree, the number of its processes and the
  size of its scratch directory were unbounded.

Each hostile submission is graded beside an honest one, which must keep its full marks.
Tests that need a kernel feature skip with the reason when it is absent.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from dlgrade.courses import registry
from dlgrade.grading.classroom import LocalExecutor, grade_class
from dlgrade.load.submission import Submission, discover
from dlgrade.policy.deadlines import (
    SOURCE_CSV,
    SOURCE_NBGRADER,
    Deadline,
    apply,
    apply_class,
    submission_time,
)
from dlgrade.results import ExerciseResult, SubmissionResult
from dlgrade.sandbox import capabilities, cleanup

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "reference" / "activations.py"

HONEST_SIGMOID = '''
import numpy as np


def sigmoid_forward(x):
    out = 0.5 * (1 + np.tanh(0.5 * x))
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)
'''


def write_student(folder: Path, source: str, name: str = "activations.py") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(source)
    return folder


def class_run(klass: Path, hostile: str) -> dict[str, SubmissionResult]:
    """mallory (hostile) then honest (the reference), one at a time in one class run, so
    that whatever mallory's clean-up does happens before honest is graded."""
    write_student(klass / "mallory", hostile)
    write_student(klass / "zz-honest", REFERENCE.read_text())
    students = [Submission("mallory", klass / "mallory"),
                Submission("zz-honest", klass / "zz-honest")]
    outcome = grade_class(students, [registry.assignment("a1")], executor=LocalExecutor(1),
                          gradebook=None)
    return {r.student: r for r in outcome.results}


def assert_full_marks(result: SubmissionResult) -> None:
    assert result.score == result.max_score, [(e.id, e.status, e.message)
                                              for e in result.exercises]


# ---------------------------------------------------------------- point 6: clean-up

#: Builds a tree under a folder named by a token, so that the test can look for what is
#: left of it in every scratch directory without confusing it with another run's.
DEEP = HONEST_SIGMOID + r'''
import os


def _build():
    os.mkdir("@TOKEN@")
    fd = os.open("@TOKEN@", os.O_RDONLY)
    for _ in range(1000):  # 1000 levels of 200-character names: 200 KB of path
        name = "d" * 200
        os.mkdir(name, dir_fd=fd)
        inner = os.open(name, os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = inner
    os.close(os.open("leaf", os.O_CREAT | os.O_WRONLY, dir_fd=fd))
    os.close(fd)


_build()
'''

LOCKED = HONEST_SIGMOID + r'''
import os

os.makedirs("@TOKEN@/locked/inner/deeper")
open("@TOKEN@/locked/inner/file", "w").write("x")
open("@TOKEN@/locked/file", "w").write("x")
os.makedirs("@TOKEN@/readonly/sub")
open("@TOKEN@/readonly/sub/file", "w").write("x")
os.chmod("@TOKEN@/locked/inner", 0)
os.chmod("@TOKEN@/locked", 0)
os.chmod("@TOKEN@/readonly/sub", 0o500)
os.chmod("@TOKEN@/readonly", 0o500)
os.chmod("@TOKEN@", 0o500)
'''

NAMES = HONEST_SIGMOID + r'''
import os

os.mkdir("@TOKEN@")
for name in (b"\xff\xfe-not-utf8", b"new\nline", b"-rf", b" ", b"x" * 255, b"..."):
    with open(b"@TOKEN@/" + name, "wb") as f:
        f.write(b"x")
    os.mkdir(b"@TOKEN@/dir-" + name[:200])
    os.chmod(b"@TOKEN@/" + name, 0)
'''

LINKS = HONEST_SIGMOID + r'''
import os

os.mkdir("@TOKEN@")
for source, target in (("loop", "loop"), ("a", "b"), ("b", "a"), ("up", ".."),
                       ("root", "/"), ("sentinel", "@SENTINEL@")):
    try:  # Landlock forbids making links in the scratch directory: then nothing is made
        os.symlink(target, f"@TOKEN@/{source}")
    except OSError:
        pass
try:
    os.symlink("@TOKEN@", "@TOKEN@/self-dir")
    os.mkdir("@TOKEN@/d")
    os.symlink("../d", "@TOKEN@/d/parent")
except OSError:
    pass
'''


@pytest.mark.parametrize("hostile", [DEEP, LOCKED, NAMES, LINKS],
                         ids=["1000-deep", "mode-000", "odd-names", "link-loops"])
def test_a_scratch_tree_hard_to_delete_neither_stops_the_class_nor_stays(
        hostile, tmp_path, capfd):
    token = f"tree-{uuid.uuid4().hex}"
    sentinel = tmp_path / "sentinel.txt"
    sentinel.write_text("keep me")
    source = hostile.replace("@TOKEN@", token).replace("@SENTINEL@", str(sentinel))
    results = class_run(tmp_path / "class", source)
    sigmoid = {e.id: e for e in results["mallory"].exercises}["a1.sigmoid"]
    assert sigmoid.status == "passed", sigmoid.message  # its numbers are honest
    assert_full_marks(results["zz-honest"])
    assert sentinel.read_text() == "keep me"  # a link was never followed
    base = capabilities.scratch_base()
    assert not list(base.glob(f"*/{token}")), "the tree was left behind"
    assert "Traceback" not in capfd.readouterr().err


def test_what_cannot_be_deleted_is_set_aside_with_one_warning(tmp_path, monkeypatch, capfd):
    """Clean-up never raises: a folder that resists (an immutable file, a mount point) is
    renamed out of the way and one line says so, once per process."""
    def refuse(path):
        raise PermissionError(1, "Operation not permitted", str(path))

    monkeypatch.setattr(cleanup, "remove_tree", refuse)
    monkeypatch.setattr(cleanup, "_warned", type(cleanup._warned)())
    for name in ("child-one", "child-two"):
        (tmp_path / name / "sub").mkdir(parents=True)
        cleanup.remove_scratch(tmp_path / name)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["leftover-child-one",
                                                          "leftover-child-two"]
    err = capfd.readouterr().err
    assert err.count("warning: could not delete") == 1 and len(err.strip().splitlines()) == 1


def test_remove_tree_deletes_a_deep_tree_without_recursion(tmp_path):
    fd = os.open(tmp_path, os.O_RDONLY)
    for _ in range(3000):
        os.mkdir("d", dir_fd=fd)
        inner = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = inner
    os.close(fd)
    os.chmod(tmp_path / "d", 0)
    cleanup.remove_tree(tmp_path / "d")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- point 9: submission times

UTC = timezone.utc
DUE = datetime(2026, 11, 30, 23, 59, tzinfo=UTC)
EARLY = "2026-11-30 12:00:00.000000 UTC\n"
LATE = DUE + timedelta(days=3)


def _late_folder(folder: Path) -> Path:
    """A plain folder submission whose files were written three days late."""
    write_student(folder, "x = 1\n", "ops.py")
    os.utime(folder / "ops.py", (LATE.timestamp(), LATE.timestamp()))
    return folder


def _result(student: str) -> SubmissionResult:
    exercises = [ExerciseResult(e.id, e.title, e.points, e.points, "passed")
                 for e in registry.assignment("hw1").exercises]
    return SubmissionResult(student, "", exercises)


def _plant_root(folder: Path, tmp_path: Path) -> None:
    (folder / "timestamp.txt").write_text(EARLY)


def _plant_nbgrader_looking_subfolder(folder: Path, tmp_path: Path) -> None:
    for sub in ("hw1", "submitted", "mallory/hw1"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
        (folder / sub / "timestamp.txt").write_text(EARLY)


def _plant_link(folder: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "early.txt"
    elsewhere.write_text(EARLY)
    (folder / "timestamp.txt").symlink_to(elsewhere)


@pytest.mark.parametrize("plant", [_plant_root, _plant_nbgrader_looking_subfolder,
                                   _plant_link], ids=["root", "subfolder", "symlink"])
def test_a_planted_timestamp_does_not_cancel_the_late_penalty(plant, tmp_path,
                                                              fixture_course):
    klass = tmp_path / "class"
    plant(_late_folder(klass / "mallory"), tmp_path)
    _late_folder(klass / "honest")
    students = discover(klass)
    deadlines = {"hw1": Deadline(DUE, 0.1)}
    late = apply_class([_result("mallory"), _result("honest")], students,
                       [registry.assignment("hw1")], deadlines)
    for name in ("mallory", "honest"):
        found = late[name]["hw1"]
        assert found.submitted.source != SOURCE_NBGRADER
        assert found.days_late == 3 and found.fraction == pytest.approx(0.3)


def test_the_instructors_file_overrides_an_nbgrader_timestamp(tmp_path, fixture_course):
    submitted = tmp_path / "submitted"
    for student, stamp in (("ann", EARLY), ("bob", "2026-12-03 10:00:00 UTC\n")):
        folder = submitted / student / "hw1"
        folder.mkdir(parents=True)
        (folder / "hw1.ipynb").write_text('{"cells": [], "metadata": {}, "nbformat": 4, '
                                          '"nbformat_minor": 5}')
        (folder / "timestamp.txt").write_text(stamp)
    students = {s.student: s for s in discover(submitted, ["hw1"])}
    assert submission_time(students["ann"], None, "hw1").source == SOURCE_NBGRADER
    times = {("ann", "hw1"): LATE, ("bob", None): DUE - timedelta(hours=1)}
    hw1 = [registry.assignment("hw1")]
    ann = apply(_result("ann"), students["ann"], hw1, {"hw1": Deadline(DUE, 0.1)}, times)
    bob = apply(_result("bob"), students["bob"], hw1, {"hw1": Deadline(DUE, 0.1)}, times)
    assert ann["hw1"].submitted.source == SOURCE_CSV and ann["hw1"].days_late == 3
    assert bob["hw1"].submitted.source == SOURCE_CSV and bob["hw1"].days_late == 0
    # Without the instructor's word, nbgrader's collected timestamp.txt counts.
    assert apply(_result("bob"), students["bob"], hw1,
                 {"hw1": Deadline(DUE, 0.1)})["hw1"].days_late == 3


@pytest.fixture
def fixture_course():
    """The engine tests' fixture course in use (it has hw1); the conftest switches back."""
    from dlgrade.api import open_course
    from dlgrade.courses import course
    from fixture_course import FIXTURE

    course.use(open_course(FIXTURE))


# ---------------------------------------------------------------- point 11: resources

#: Honest numbers only if the disk-filling failed: a pass means it was stopped.
FILL_SCRATCH = HONEST_SIGMOID + r'''
import os

_written = 0
try:
    for i in range(64):  # 64 files of 16 MiB (the per-file cap): 1 GiB in all
        with open(f"fill-{i}", "wb") as f:
            for _ in range(16):
                f.write(b"\0" * (1 << 20))
                _written += 1 << 20
except OSError:
    pass
if _written >= 1 << 30:
    def sigmoid_forward(x):
        return x * 0, x
'''

FORK_BOMB = HONEST_SIGMOID + r'''
import os
import time

_children = 0
try:
    for _ in range(2000):
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
        _children += 1
except OSError:
    pass
if _children >= 2000:
    def sigmoid_forward(x):
        return x * 0, x
'''

needs_namespaces = pytest.mark.skipif(
    not capabilities.detect().namespaces,
    reason="no user/mount namespaces here: the scratch tmpfs and RLIMIT_NPROC need them")


@needs_namespaces
def test_filling_the_scratch_directory_is_stopped_at_its_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(capabilities, "SCRATCH_BYTES", 32 << 20)
    results = class_run(tmp_path / "class", FILL_SCRATCH)
    sigmoid = {e.id: e for e in results["mallory"].exercises}["a1.sigmoid"]
    assert sigmoid.status == "passed", "1 GiB reached the scratch directory"
    assert_full_marks(results["zz-honest"])


@needs_namespaces
@pytest.mark.skipif(os.geteuid() == 0, reason="a root grader's children are exempt from "
                    "RLIMIT_NPROC even inside a user namespace (the kernel's INIT_USER rule)")
def test_a_fork_bomb_is_stopped_at_the_process_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(capabilities, "PROCESSES", 64)
    results = class_run(tmp_path / "class", FORK_BOMB)
    sigmoid = {e.id: e for e in results["mallory"].exercises}["a1.sigmoid"]
    assert sigmoid.status == "passed", "2000 processes were forked"
    assert_full_marks(results["zz-honest"])

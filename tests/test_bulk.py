"""Bulk grading: side by side, resumable, and on a Dask cluster, on the fixture course
(tests/fixtures/course) and its students."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dlgrade import api
from dlgrade.grading.classroom import DaskExecutor, LocalExecutor, grade_class
from dlgrade.load.submission import discover
from dlgrade.store.gradebook import Gradebook, GradebookError
from fixture_course import FIXTURE, copy_fixture
from processes import descendants

STUDENTS = ["broken", "late", "right", "wrong"]  # tests/fixtures/course/students


@pytest.fixture(autouse=True)
def fixture_course():
    """The fixture course (tests/fixtures/course) is the one in use."""
    return api.load_course(FIXTURE)


@pytest.fixture
def two_assignments(tmp_path) -> Path:
    """A copy of the fixture course with its hw2 listed too (the fixture lists hw1 only)."""
    return copy_fixture(tmp_path / "course", ("hw1", "hw2"))


@pytest.fixture
def class_dir(tmp_path):
    folder = tmp_path / "class"
    shutil.copytree(FIXTURE / "students", folder,
                    ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def _scores(results):
    return {r.student: {e.id: (e.score, e.status) for e in r.exercises} for r in results}


def test_parallel_grades_equal_serial_grades(fixture_course, class_dir):
    students, hw1 = discover(class_dir), [fixture_course.assignment("hw1")]
    serial = grade_class(students, hw1, executor=LocalExecutor(1))
    parallel = grade_class(students, hw1, executor=LocalExecutor(3))
    assert _scores(serial.results) == _scores(parallel.results)
    assert [r.student for r in parallel.results] == STUDENTS


def test_rerun_skips_unchanged_students_and_regrades_changed_ones(fixture_course, class_dir,
                                                                   tmp_path):
    hw1 = [fixture_course.assignment("hw1")]
    book = Gradebook(tmp_path / "book.sqlite")
    first = grade_class(discover(class_dir), hw1, executor=LocalExecutor(2), gradebook=book)
    assert sorted(first.graded) == STUDENTS and first.skipped == []
    again = grade_class(discover(class_dir), hw1, executor=LocalExecutor(2), gradebook=book)
    assert again.graded == [] and sorted(again.skipped) == STUDENTS
    assert _scores(again.results) == _scores(first.results)  # rebuilt from the gradebook
    # wrong hands in a correct ops.py: only wrong is graded again, and gets full marks.
    shutil.copy(class_dir / "right" / "ops.py", class_dir / "wrong" / "ops.py")
    third = grade_class(discover(class_dir), hw1, executor=LocalExecutor(2), gradebook=book)
    assert third.graded == ["wrong"]
    wrong = next(r for r in third.results if r.student == "wrong")
    assert wrong.score == wrong.max_score == hw1[0].points
    forced = grade_class(discover(class_dir), hw1, executor=LocalExecutor(2), gradebook=book,
                         force=True)
    assert len(forced.graded) == len(STUDENTS)
    book.close()


def test_killed_run_is_finished_by_a_rerun_with_nothing_lost_or_graded_twice(two_assignments,
                                                                             tmp_path):
    course = api.load_course(two_assignments)
    every = list(course.assignments.values())
    assert [a.id for a in every] == ["hw1", "hw2"]
    full = sum(a.points for a in every)
    folder = tmp_path / "big"
    folder.mkdir()
    count = 30  # the fixture grades fast: enough students that the kill lands mid-run
    for i in range(count):  # alternately correct and buggy
        source = two_assignments / "students" / ("right" if i % 2 else "wrong")
        shutil.copytree(source, folder / f"s{i:02d}")
    book = tmp_path / "book.sqlite"
    command = [sys.executable, "-m", "dlgrade", "grade", "hw1,hw2", str(folder),
               "--course", str(two_assignments), "--gradebook", str(book), "--workers", "1"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    recorded = 0
    deadline = time.monotonic() + 120
    while recorded < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
        if book.exists():
            try:
                with sqlite3.connect(book) as db:
                    recorded = db.execute(
                        "SELECT COUNT(DISTINCT student) FROM submissions").fetchone()[0]
            except sqlite3.OperationalError:
                recorded = 0
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert 3 <= recorded < count, "the run finished before it could be killed"
    with sqlite3.connect(book) as db:
        before = db.execute("SELECT COUNT(DISTINCT student) FROM submissions").fetchone()[0]
    finish = subprocess.run(command + ["--json", str(tmp_path / "s.json")],
                            capture_output=True, text=True, timeout=300)
    assert finish.returncode == 0, finish.stdout + finish.stderr
    assert f"{before} unchanged since their last grading" in finish.stdout
    assert f"{count - before} graded now" in finish.stdout
    scores = json.loads((tmp_path / "s.json").read_text())
    totals = {s: round(sum(e["score"] for e in ex.values()), 4) for s, ex in scores.items()}
    assert len(totals) == count
    assert {totals[f"s{i:02d}"] for i in range(1, count, 2)} == {full}
    buggy = {totals[f"s{i:02d}"] for i in range(0, count, 2)}
    assert len(buggy) == 1 and buggy != {full}  # same bytes, same grade
    with sqlite3.connect(book) as db:
        rows = db.execute("SELECT student, COUNT(*) FROM grades GROUP BY student").fetchall()
    assert dict(rows) == {f"s{i:02d}": len(course.exercises()) for i in range(count)}


def test_dask_executor_on_a_local_cluster(fixture_course, class_dir):
    distributed = pytest.importorskip("distributed")
    students, hw1 = discover(class_dir), [fixture_course.assignment("hw1")]
    local = grade_class(students, hw1, executor=LocalExecutor(2))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote = grade_class(students, hw1, executor=DaskExecutor(cluster.scheduler_address))
    assert _scores(remote.results) == _scores(local.results)


def test_dask_needs_a_scheduler_address(runner_cli, class_dir):
    result = runner_cli(["grade", "hw1", str(class_dir), "--executor", "dask", "--no-gradebook",
                         "--course", str(FIXTURE)])
    assert result.exit_code == 2 and "--scheduler" in result.output


@pytest.fixture
def runner_cli():
    from click.testing import CliRunner
    from dlgrade.cli import main

    return lambda args: CliRunner().invoke(main, args)


def test_a_student_is_recorded_in_one_transaction_or_not_at_all(two_assignments, class_dir,
                                                                tmp_path):
    course = api.load_course(two_assignments)
    hw1, hw2 = course.assignment("hw1"), course.assignment("hw2")
    right = [s for s in discover(class_dir) if s.student == "right"]
    result = grade_class(right, [hw1, hw2], executor=LocalExecutor(1)).results[0]
    assert result.score == hw1.points + hw2.points
    book = Gradebook(tmp_path / "book.sqlite")
    broken = next(e for e in result.exercises if e.id.startswith("hw2."))
    broken.message = object()  # not JSON: the hw2 rows fail after the hw1 rows were written
    with pytest.raises(TypeError):
        book.record(result, [(hw1, "h1", "f1"), (hw2, "h2", "f2")])
    assert book.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 0
    assert book.db.execute("SELECT COUNT(*) FROM grades").fetchone()[0] == 0
    book.close()


def test_the_gradebook_folder_is_made(tmp_path):
    book = Gradebook(tmp_path / "out" / "new" / "g.sqlite")
    book.close()
    assert (tmp_path / "out" / "new" / "g.sqlite").is_file()
    (tmp_path / "file").write_text("")
    with pytest.raises(GradebookError, match="cannot use gradebook"):
        Gradebook(tmp_path / "file" / "g.sqlite")


def _zombies_below(pid: int) -> list[int]:
    """Zombie processes among the descendants of ``pid``."""
    return sorted(p for p, process in descendants(pid).items() if process.state == "Z")


def test_no_child_is_left_a_zombie(fixture_course, class_dir):
    """Every child a warm worker forked is reaped as it ends, not at the next request: a
    class graded, nothing of it is left in the process table (issue 16). (Zombies already
    there are another test's: one that made this process a subreaper, say.)"""
    students, hw1 = discover(class_dir), [fixture_course.assignment("hw1")]
    before = set(_zombies_below(os.getpid()))
    grade_class(students * 3, hw1, executor=LocalExecutor(2))
    deadline = time.monotonic() + 2.0
    while set(_zombies_below(os.getpid())) - before and time.monotonic() < deadline:
        time.sleep(0.05)
    left = set(_zombies_below(os.getpid())) - before
    assert left == set(), {pid: _whose(pid) for pid in left}


def _whose(pid: int) -> str:
    """A zombie's parent, as the failure message names it."""
    try:
        parent = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
        command = Path(f"/proc/{parent}/cmdline").read_bytes().replace(b"\0", b" ")
        return f"parent {parent}: {command.decode(errors='replace')[:200]}"
    except OSError as exc:
        return str(exc)


# --- workers as forked grading processes -------------------------------------------------


def _everything(results):
    """All a report shows of each student: scores, statuses, messages, hints, output."""
    return [(r.student, r.output, [(e.id, e.score, e.status, e.message, e.hint,
                                    [(c.name, c.score, c.passed, c.message) for c in e.checks])
                                   for e in r.exercises]) for r in results]


def test_forked_workers_grade_exactly_as_threads_do(fixture_course, class_dir):
    students, hw1 = discover(class_dir), [fixture_course.assignment("hw1")]
    threads = grade_class(students, hw1, executor=LocalExecutor(3, processes=False))
    forked = grade_class(students, hw1, executor=LocalExecutor(3, processes=True))
    assert _everything(forked.results) == _everything(threads.results)
    assert _scores(forked.results) == _scores(grade_class(
        students, hw1, executor=LocalExecutor(1)).results)


def _run_folders() -> set[str]:
    from dlgrade.sandbox import capabilities

    return {p.name for p in capabilities.scratch_base().glob("run-*")}


def test_forked_workers_leave_no_run_folder_and_no_process(fixture_course, class_dir):
    students, hw1 = discover(class_dir), [fixture_course.assignment("hw1")]
    grade_class(students[:1], hw1, executor=LocalExecutor(1))  # this process's own run
    before, processes = _run_folders(), set(descendants(os.getpid()))
    grade_class(students * 2, hw1, executor=LocalExecutor(3, processes=True))
    deadline = time.monotonic() + 3.0
    while (_run_folders() - before or set(descendants(os.getpid())) - processes) \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _run_folders() - before == set()  # each worker removed its own at exit
    assert set(descendants(os.getpid())) - processes == set()


STUCK = """import numpy as np


def cube_forward(x):
    while True:
        pass


def cube_backward(dout, cache):
    return dout


def sq_loss(pred, target, scale=1.0):
    while True:
        pass
"""


def _grading_stuck_students(tmp_path: Path, *options: str) -> subprocess.Popen:
    """``dlgrade grade --workers 2`` of four students stuck in a loop, in a session of its
    own (its output piped, as text)."""
    folder = tmp_path / "class"
    for i in range(4):
        (folder / f"s{i}").mkdir(parents=True)
        (folder / f"s{i}" / "ops.py").write_text(STUCK)
    command = [sys.executable, "-m", "dlgrade", "grade", "hw1", str(folder), "--course",
               str(FIXTURE), "--workers", "2", *options]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    """Whatever a test left running of the run: killed, its output pipe closed."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    if process.stdout is not None:
        process.stdout.close()
    process.wait()


def test_no_worker_or_child_outlives_a_killed_grading_process(tmp_path):
    """SIGKILL of the grading process alone (not its group: as the OOM killer does): its
    forked workers die with it, and so do their zygotes and the students' children, even
    mid-way through a student stuck in a loop."""
    process = _grading_stuck_students(tmp_path, "--no-gradebook")
    try:
        deadline, below = time.monotonic() + 60, {}
        while time.monotonic() < deadline:  # two workers, each with a zygote and a child
            below = descendants(process.pid)
            if sum(1 for p in below.values() if p.parent == process.pid) >= 2 and len(
                    below) >= 6:
                break
            time.sleep(0.05)
        assert len(below) >= 6, below
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        deadline = time.monotonic() + 5
        alive = below
        while alive and time.monotonic() < deadline:
            time.sleep(0.05)
            alive = {pid: p for pid, p in below.items() if _same_process_alive(pid, p)}
        assert alive == {}, alive
    finally:
        _stop(process)


def _is_zygote(pid: int) -> bool:
    try:
        return b"dlgrade.sandbox.zygote" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _same_process_alive(pid: int, process) -> bool:
    """Whether ``pid`` is still the process seen before (same start time), and not a
    zombie waiting for init."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[19] == process.start and fields[0] != "Z"


def test_ctrl_c_stops_forked_workers_at_once_and_says_so(tmp_path):
    """Ctrl-C (SIGINT to the terminal's process group) in the middle of students stuck in
    a loop: the run stops within seconds, not after their time limits, with the one line
    that says nothing is lost, no traceback, and nothing left running."""
    process = _grading_stuck_students(tmp_path, "--gradebook", str(tmp_path / "book.sqlite"))
    try:
        deadline, below = time.monotonic() + 60, {}
        while time.monotonic() < deadline and len(below) < 6:
            below = descendants(process.pid)
            time.sleep(0.05)
        time.sleep(0.3)  # the children are in the loop by now
        started = time.monotonic()
        os.killpg(process.pid, signal.SIGINT)
        output, _ = process.communicate(timeout=30)
        assert time.monotonic() - started < 5.0  # the loops' 10 s limits were not waited for
    finally:
        _stop(process)
    assert process.returncode == 2, output
    assert "interrupted: every student graded so far is saved" in output
    assert "Traceback" not in output
    time.sleep(0.5)
    assert {pid: p for pid, p in below.items() if _same_process_alive(pid, p)} == {}


def test_forked_workers_share_one_zygote(tmp_path):
    """The workers share the grading process's zygote (numpy imported once, not once per
    worker): while two students' children run, the grading process has one zygote, below
    which both children are, and the workers start no process of their own."""
    process = _grading_stuck_students(tmp_path, "--no-gradebook")
    try:
        deadline, below, loops = time.monotonic() + 60, {}, []
        while time.monotonic() < deadline and len(loops) < 2:
            below = descendants(process.pid)
            loops = [pid for pid, p in below.items()
                     if p.state == "R" and p.parent != process.pid]
            time.sleep(0.05)
        direct = [pid for pid, p in below.items() if p.parent == process.pid]
        zygotes = [pid for pid in direct if _is_zygote(pid)]
        workers = [pid for pid in direct if pid not in zygotes]
        assert len(zygotes) == 1 and len(workers) == 2, below
        assert all(set(descendants(pid)) == set() for pid in workers)
        assert set(loops) <= set(descendants(zygotes[0]))
    finally:
        _stop(process)


def test_a_worker_killed_from_outside_costs_one_line(tmp_path):
    """SIGKILL of one forked worker mid-run (as the OOM killer would): the run stops with the
    one line saying so and how to finish, not an internal error or a traceback."""
    process = _grading_stuck_students(tmp_path, "--gradebook", str(tmp_path / "book.sqlite"))
    try:
        deadline, workers, loops = time.monotonic() + 60, [], []
        while time.monotonic() < deadline and (len(workers) < 2 or len(loops) < 2):
            # the workers (the zygote they share aside), once two students' children run
            # their loops (below the zygote)
            below = descendants(process.pid)
            workers = [pid for pid, p in below.items()
                       if p.parent == process.pid and not _is_zygote(pid)]
            loops = [pid for pid, p in below.items()
                     if p.state == "R" and p.parent != process.pid]
            time.sleep(0.05)
        assert len(workers) == 2 and len(loops) >= 2, (workers, loops)
        os.kill(workers[0], signal.SIGKILL)
        output, _ = process.communicate(timeout=60)
    finally:
        _stop(process)
    assert process.returncode == 2, output
    assert "a grading worker process was killed from outside" in output
    assert "run the same command again to finish" in output
    assert "Traceback" not in output and "internal error" not in output


def test_workers_are_not_forked_beside_another_thread():
    """A process running other threads (a notebook kernel's) could be forked while one of
    them holds a lock; left to itself the executor then keeps its workers as threads."""
    import threading

    release = threading.Event()
    other = threading.Thread(target=release.wait, daemon=True)
    other.start()
    try:
        assert LocalExecutor(3).forks() is False
        assert LocalExecutor(3, processes=True).forks() is True  # asked for: forked
        assert LocalExecutor(1, processes=True).forks() is False  # one worker: this process
    finally:
        release.set()
        other.join()


def test_a_full_disk_mid_class_costs_one_line_and_no_graded_student(fixture_course,
                                                                     class_dir, tmp_path,
                                                                     monkeypatch):
    """The class's results cannot be kept (the run folder's disk is full): one line that
    says so and that the gradebook has every student graded so far; the next run grades
    only the rest."""
    import errno

    from click.testing import CliRunner
    from dlgrade.cli import main
    from dlgrade.store.result_log import ResultLog

    added = ResultLog.add
    calls = []

    def full_after_two(self, result):
        calls.append(result.student)
        if len(calls) > 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        added(self, result)

    monkeypatch.setattr(ResultLog, "add", full_after_two)
    book = tmp_path / "book.sqlite"
    command = ["grade", "hw1", str(class_dir), "--course", str(FIXTURE), "--workers", "1",
               "--gradebook", str(book)]
    stopped = CliRunner().invoke(main, command)
    assert stopped.exit_code == 2, stopped.output
    assert ("grading stopped: [Errno 28] No space left on device: every student graded so "
            "far is saved in the gradebook; run the same command again to finish"
            ) in stopped.output
    assert "Traceback" not in stopped.output
    with sqlite3.connect(book) as db:
        saved = {s for (s,) in db.execute("SELECT DISTINCT student FROM submissions")}
    assert saved == set(calls)  # recorded before the log refused the third
    monkeypatch.setattr(ResultLog, "add", added)
    again = CliRunner().invoke(main, command)
    assert again.exit_code == 0, again.output
    assert f"{len(saved)} unchanged since their last grading" in again.output
    assert f"{len(STUDENTS) - len(saved)} graded now" in again.output

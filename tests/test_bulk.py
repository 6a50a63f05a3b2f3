"""Bulk grading: side by side, resumable, and on a Dask cluster."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from dlgrade.courses import registry
from dlgrade.grading.classroom import DaskExecutor, LocalExecutor, grade_class
from dlgrade.load.submission import discover
from dlgrade.store.gradebook import Gradebook, GradebookError


@pytest.fixture
def class_dir(root, tmp_path):
    folder = tmp_path / "class"
    shutil.copytree(root / "samples" / "class", folder)
    shutil.rmtree(folder / "cleo")  # its 10 s infinite loop is tested elsewhere
    return folder


def _scores(results):
    return {r.student: {e.id: (e.score, e.status) for e in r.exercises} for r in results}


def test_parallel_grades_equal_serial_grades(class_dir):
    students, a1 = discover(class_dir), [registry.assignment("a1")]
    serial = grade_class(students, a1, executor=LocalExecutor(1))
    parallel = grade_class(students, a1, executor=LocalExecutor(3))
    assert _scores(serial.results) == _scores(parallel.results)
    assert [r.student for r in parallel.results] == ["ada", "ben", "dev", "eve", "fay"]


def test_rerun_skips_unchanged_students_and_regrades_changed_ones(class_dir, tmp_path):
    a2 = [registry.assignment("a2")]
    book = Gradebook(tmp_path / "book.sqlite")
    first = grade_class(discover(class_dir), a2, executor=LocalExecutor(2), gradebook=book)
    assert sorted(first.graded) == ["ada", "ben", "dev", "eve", "fay"] and first.skipped == []
    again = grade_class(discover(class_dir), a2, executor=LocalExecutor(2), gradebook=book)
    assert again.graded == [] and sorted(again.skipped) == ["ada", "ben", "dev", "eve", "fay"]
    assert _scores(again.results) == _scores(first.results)  # rebuilt from the gradebook
    # dev hands in a correct losses.py: only dev is graded again, and gets full marks.
    shutil.copy(class_dir / "ada" / "losses.py", class_dir / "dev" / "losses.py")
    third = grade_class(discover(class_dir), a2, executor=LocalExecutor(2), gradebook=book)
    assert third.graded == ["dev"]
    dev = next(r for r in third.results if r.student == "dev")
    assert dev.score == dev.max_score
    forced = grade_class(discover(class_dir), a2, executor=LocalExecutor(2), gradebook=book,
                         force=True)
    assert len(forced.graded) == 5
    book.close()


def test_killed_run_is_finished_by_a_rerun_with_nothing_lost_or_graded_twice(root, tmp_path):
    folder = tmp_path / "big"
    folder.mkdir()
    for i in range(10):  # ten students, alternately correct and buggy
        source = root / "samples" / "class" / ("ada" if i % 2 else "ben")
        shutil.copytree(source, folder / f"s{i:02d}")
    book = tmp_path / "book.sqlite"
    command = [sys.executable, "-m", "dlgrade", "grade", "a1,a2", str(folder),
               "--gradebook", str(book), "--workers", "1"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    recorded = 0
    deadline = time.monotonic() + 120
    while recorded < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
        if book.exists():
            try:
                with sqlite3.connect(book) as db:
                    recorded = db.execute(
                        "SELECT COUNT(DISTINCT student) FROM submissions").fetchone()[0]
            except sqlite3.OperationalError:
                recorded = 0
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert 3 <= recorded < 10, "the run finished before it could be killed"
    with sqlite3.connect(book) as db:
        before = db.execute("SELECT COUNT(DISTINCT student) FROM submissions").fetchone()[0]
    finish = subprocess.run(command + ["--json", str(tmp_path / "s.json")],
                            capture_output=True, text=True, timeout=300)
    assert finish.returncode == 0, finish.stdout + finish.stderr
    assert f"{before} unchanged since their last grading" in finish.stdout
    assert f"{10 - before} graded now" in finish.stdout
    scores = json.loads((tmp_path / "s.json").read_text())
    totals = {s: round(sum(e["score"] for e in ex.values()), 4) for s, ex in scores.items()}
    assert len(totals) == 10
    assert {totals[f"s{i:02d}"] for i in range(1, 10, 2)} == {54.0}
    assert len({totals[f"s{i:02d}"] for i in range(0, 10, 2)}) == 1  # same bytes, same grade
    with sqlite3.connect(book) as db:
        rows = db.execute("SELECT student, COUNT(*) FROM grades GROUP BY student").fetchall()
    assert dict(rows) == {f"s{i:02d}": 23 for i in range(10)}


def test_dask_executor_on_a_local_cluster(class_dir):
    distributed = pytest.importorskip("distributed")
    students, a1 = discover(class_dir), [registry.assignment("a1")]
    local = grade_class(students, a1, executor=LocalExecutor(2))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote = grade_class(students, a1, executor=DaskExecutor(cluster.scheduler_address))
    assert _scores(remote.results) == _scores(local.results)


def test_dask_needs_a_scheduler_address(runner_cli, class_dir):
    result = runner_cli(["grade", "a1", str(class_dir), "--executor", "dask", "--no-gradebook"])
    assert result.exit_code == 2 and "--scheduler" in result.output


@pytest.fixture
def runner_cli():
    from click.testing import CliRunner
    from dlgrade.cli import main

    return lambda args: CliRunner().invoke(main, args)


def test_a_student_is_recorded_in_one_transaction_or_not_at_all(class_dir, tmp_path):
    a1, a2 = registry.assignment("a1"), registry.assignment("a2")
    result = grade_class(discover(class_dir)[:1], [a1, a2], executor=LocalExecutor(1)).results[0]
    book = Gradebook(tmp_path / "book.sqlite")
    broken = next(e for e in result.exercises if e.id.startswith("a2."))
    broken.message = object()  # not JSON: the a2 rows fail after the a1 rows were written
    with pytest.raises(TypeError):
        book.record(result, [(a1, "h1", "f1"), (a2, "h2", "f2")])
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

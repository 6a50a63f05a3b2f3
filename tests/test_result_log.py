"""A class's results on disk (dlgrade.store.result_log), read back one student at a time:
the grading process's memory does not grow with the class. On the fixture course."""

from __future__ import annotations

import gc
import os
import pickle
import shutil

import pytest
from class_results import a_class, result
from dlgrade import api
from dlgrade.grading.classroom import LocalExecutor, grade_class
from dlgrade.load.submission import discover
from dlgrade.results import CheckResult, SubmissionResult
from dlgrade.store.result_log import ResultLog
from fixture_course import FIXTURE


@pytest.fixture(autouse=True)
def hw1():
    """The fixture course is the one in use; its hw1, as the list the outputs take."""
    return [api.load_course(FIXTURE).assignment("hw1")]


# ---------------------------------------------------------------- the log


def test_results_survive_pickling_whole():
    """What crosses from a worker and into the log comes back equal, field for field."""
    for r in a_class():
        back = pickle.loads(pickle.dumps(r, pickle.HIGHEST_PROTOCOL))
        assert type(back) is SubmissionResult and back == r
        assert type(back.exercises[0].checks[0]) is CheckResult


def test_the_log_reads_back_in_the_class_order_as_often_as_asked(tmp_path):
    log = ResultLog(tmp_path)
    results = a_class()
    for r in reversed(results):  # workers finish in any order
        log.add(r)
    assert [r.student for r in log] == ["Ann", "cleo", "bob", "ann"]  # as added
    log.arrange(["ann", "nobody", "bob", "cleo", "Ann"])  # never added: left out
    assert len(log) == 4 and list(log) == results and list(log) == results
    assert log[0] == results[0] and log[-1] == results[-1] and log[1:3] == results[1:3]
    assert log.students() == ["ann", "bob", "cleo", "Ann"]
    log.add(result("bob", 4.0, "passed"))  # graded again: replaced, in place
    assert [r.score for r in log] == [r.score for r in results[:1]] + [6.0] + \
        [r.score for r in results[2:]]


def test_the_log_s_file_has_no_name_and_is_gone_when_closed(tmp_path):
    log = ResultLog(tmp_path)
    assert list(log) == [] and len(log) == 0
    log.add(result("ann", 0.8, output="x" * 1_000_000))  # a student who printed a lot
    assert os.listdir(tmp_path) == []  # nothing anyone could open by name
    assert log[0].output == "x" * 1_000_000
    log.close()
    assert len(log) == 0 and list(log) == []


# ---------------------------------------------------------------- a class's run


def test_a_graded_class_keeps_no_result_in_memory(hw1, tmp_path):
    """grade_class returns its results on disk: none is alive in this process until read,
    then they are read back in the class's order, equal to a run in one process's."""
    folder = tmp_path / "class"
    shutil.copytree(FIXTURE / "students", folder, ignore=shutil.ignore_patterns("__pycache__"))
    students = discover(folder)
    before = _alive()  # other tests' fixtures may hold some
    outcome = grade_class(students, hw1, executor=LocalExecutor(2, processes=True))
    assert _alive() == before
    serial = grade_class(students, hw1, executor=LocalExecutor(1)).results
    assert [r.student for r in outcome.results] == [s.student for s in students]
    assert [(r.student, r.output, [(e.id, e.score, e.status, e.message) for e in r.exercises])
            for r in outcome.results] == \
        [(r.student, r.output, [(e.id, e.score, e.status, e.message) for e in r.exercises])
         for r in serial]



def _alive() -> int:
    """Results alive in this process."""
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is SubmissionResult)

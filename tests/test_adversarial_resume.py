"""Resuming a class with a gradebook must never keep a grade for bytes that were not graded:
the content hash covers every file of the student's that reaches the sandbox, not only the
graded module (issue 13 point 10). Hostile students change what the graded module imports
and re-run with the same gradebook; an honest unchanged student is still not re-graded."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from dlgrade import api
from dlgrade.grading.classroom import LocalExecutor, Task, grade_class
from dlgrade.load.submission import discover
from dlgrade.results import SubmissionResult
from dlgrade.store.gradebook import Gradebook
from fixture_course import FIXTURE

RIGHT = (FIXTURE / "students" / "right" / "ops.py").read_text()


@pytest.fixture(autouse=True)
def fixture_course():
    return api.load_course(FIXTURE)


@dataclass
class Spy:
    """An executor that records which students it was asked to grade, and may change the
    class folder just before grading (``before``)."""

    inner: LocalExecutor = field(default_factory=lambda: LocalExecutor(1))
    seen: list[str] = field(default_factory=list)
    before: object = None

    def run(self, tasks: Iterable[Task]) -> Iterator[SubmissionResult]:
        tasks = list(tasks)  # made lazily, as the executor asks: here all before grading
        self.seen += [t.student for t in tasks]
        if callable(self.before):
            self.before()
        yield from self.inner.run(tasks)

    def warm_worker_here(self) -> bool:
        return self.inner.warm_worker_here()


def _class(tmp_path: Path, files: dict[str, str]) -> Path:
    """A class of two: ``honest`` (the fixture's right ops.py) and ``mallory`` (``files``)."""
    folder = tmp_path / "class"
    (folder / "honest").mkdir(parents=True)
    (folder / "honest" / "ops.py").write_text(RIGHT)
    for name, text in files.items():
        (folder / "mallory" / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / "mallory" / name).write_text(text)
    return folder


def _grade(folder: Path, book: Gradebook, spy: Spy | None = None):
    hw1 = [api.load_course(FIXTURE).assignment("hw1")]
    run = grade_class(discover(folder), hw1, executor=spy or Spy(), gradebook=book)
    return {r.student: r.score for r in run.results}, run, hw1[0].points


def _fresh(folder: Path, tmp_path: Path, name: str) -> dict[str, float]:
    """What a fresh gradebook gives the class as it is now."""
    book = Gradebook(tmp_path / f"{name}.sqlite")
    try:
        return _grade(folder, book)[0]
    finally:
        book.close()


def _notebook(code: str) -> str:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                       "cells": [{"cell_type": "code", "metadata": {}, "execution_count": None,
                                  "outputs": [], "source": code}]})


def test_emptied_helper_is_graded_again_and_an_unchanged_class_resumes(tmp_path):
    folder = _class(tmp_path, {"ops.py": "from helpers import *\n", "helpers.py": RIGHT})
    book = Gradebook(tmp_path / "book.sqlite")
    scores, first, points = _grade(folder, book)
    assert scores == {"honest": points, "mallory": points}  # honest helpers: full marks
    spy = Spy()
    again = _grade(folder, book, spy)[1]
    assert spy.seen == [] and sorted(again.skipped) == ["honest", "mallory"]
    (folder / "mallory" / "helpers.py").write_text("")
    spy = Spy()
    scores, third, _ = _grade(folder, book, spy)
    assert spy.seen == ["mallory"] and third.skipped == ["honest"]
    assert scores["mallory"] == 0 and scores == _fresh(folder, tmp_path, "fresh")
    book.close()


@pytest.mark.parametrize("change", ["deleted", "broken", "added_shadow"])
def test_any_change_to_what_the_module_imports_is_graded_again(tmp_path, change):
    files = {"ops.py": "from helpers import *\n", "helpers.py": RIGHT}
    if change == "added_shadow":  # a helper imported only if present, added later
        files["ops.py"] = ("from helpers import *\ntry:\n    from extra import *\n"
                           "except ImportError:\n    pass\n")
    folder = _class(tmp_path, files)
    book = Gradebook(tmp_path / "book.sqlite")
    points = _grade(folder, book)[2]
    helpers = folder / "mallory" / "helpers.py"
    if change == "deleted":
        helpers.unlink()
    elif change == "broken":
        helpers.write_text(RIGHT.replace("3 * cache", "2 * cache"))
    else:
        (folder / "mallory" / "extra.py").write_text("def cube_backward(dout, cache):\n"
                                                     "    return dout\n")
    spy = Spy()
    scores = _grade(folder, book, spy)[0]
    assert spy.seen == ["mallory"] and scores["mallory"] < points
    assert scores == _fresh(folder, tmp_path, "fresh")
    book.close()


def test_a_helper_notebook_is_covered_by_its_extracted_code(tmp_path):
    folder = _class(tmp_path, {"ops.py": "from helpers import *\n",
                               "helpers.ipynb": _notebook(RIGHT)})
    book = Gradebook(tmp_path / "book.sqlite")
    scores, _, points = _grade(folder, book)
    assert scores["mallory"] == points  # the notebook travels as helpers.py
    (folder / "mallory" / "helpers.ipynb").write_text(_notebook("x = 1\n"))
    spy = Spy()
    scores = _grade(folder, book, spy)[0]
    assert spy.seen == ["mallory"] and scores["mallory"] == 0
    assert scores == _fresh(folder, tmp_path, "fresh")
    book.close()


@pytest.mark.parametrize("layout", ["package", "data"])
def test_files_that_never_reach_the_sandbox_resume_as_a_fresh_gradebook_grades(tmp_path,
                                                                                layout):
    """A sub-package or a data file is not copied into the sandbox (only top-level .py
    files are): whatever is done to it, a resumed grade equals a fresh gradebook's."""
    if layout == "package":
        files = {"ops.py": "from pkg.helpers import *\n", "pkg/__init__.py": "",
                 "pkg/helpers.py": RIGHT}
    else:
        files = {"ops.py": RIGHT + "\nimport pathlib\nTEXT = pathlib.Path('w.txt').read_text()\n",
                 "w.txt": "1"}
    folder = _class(tmp_path, files)
    book = Gradebook(tmp_path / "book.sqlite")
    before = _grade(folder, book)[0]
    assert before == _fresh(folder, tmp_path, "fresh1")
    if layout == "package":
        (folder / "mallory" / "pkg" / "helpers.py").write_text("")
    else:
        (folder / "mallory" / "w.txt").write_text("2")
    after = _grade(folder, book)[0]
    assert after == before == _fresh(folder, tmp_path, "fresh2")
    book.close()


def test_the_hash_recorded_is_that_of_the_bytes_graded(tmp_path):
    """A helper emptied while the class is being graded: the gradebook stores the hash of
    what was graded (read once), so the next run sees the change and grades it."""
    folder = _class(tmp_path, {"ops.py": "from helpers import *\n", "helpers.py": RIGHT})
    book = Gradebook(tmp_path / "book.sqlite")
    helpers = folder / "mallory" / "helpers.py"
    scores, _, points = _grade(folder, book, Spy(before=lambda: helpers.write_text("")))
    assert scores["mallory"] == points  # graded from the bytes read before the change
    spy = Spy()
    scores = _grade(folder, book, spy)[0]
    assert spy.seen == ["mallory"] and scores["mallory"] == 0
    book.close()


def test_a_single_file_student_still_resumes(tmp_path):
    folder = _class(tmp_path, {})
    shutil.copy(FIXTURE / "students" / "right" / "ops.py", folder / "solo.py")
    book = Gradebook(tmp_path / "book.sqlite")
    _grade(folder, book)
    spy = Spy()
    run = _grade(folder, book, spy)[1]
    assert spy.seen == [] and sorted(run.skipped) == ["honest", "solo"]
    book.close()

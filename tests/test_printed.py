"""What a student's code printed reaches them at their own file and line (or notebook cell),
never at a path of the sandbox's scratch copy, of dlgrade or of numpy: ``check``,
``grade --details``, the HTML page and Gradescope's results. Real files, the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from dlgrade.cli import main
from dlgrade.integrations.gradescope import write_results
from fixture_course import FIXTURE

COURSE = ["--course", str(FIXTURE)]
WARNS = '''import numpy as np


def cube_forward(x):
    big = np.exp(np.full(2, 1000.0))
    empty = np.mean(np.zeros(0))
    return x * x * x, x


def cube_backward(dout, cache):
    return 3 * cache * cache * dout


def sq_loss(pred, target, scale=1.0):
    d = pred - target
    return scale * float((d * d).sum()), 2 * scale * d
'''
OURS = ("/tmp", "dlgrade", "child-", "site-packages", "numpy/", "/usr/")


def _printed(text: str, start: str) -> str:
    assert start in text, text
    return text.split(start, 1)[1].split("\n\n", 1)[0]


def _only_the_students_places(printed: str, place: str) -> None:
    for ours in OURS:
        assert ours not in printed, printed
    assert f"{place}, line 5: RuntimeWarning: overflow encountered in exp" in printed
    # numpy warns from inside itself: told at the student's line that called it
    assert f"{place}, line 6: RuntimeWarning: Mean of empty slice" in printed


@pytest.fixture
def cls(tmp_path: Path) -> Path:
    student = tmp_path / "class" / "ada"
    student.mkdir(parents=True)
    (student / "ops.py").write_text(WARNS)
    (tmp_path / "class" / "hw.py").write_text(WARNS)
    return tmp_path / "class"


def test_warnings_are_told_at_the_students_line_everywhere(cls: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    checked = runner.invoke(main, ["check", str(cls / "ada"), *COURSE])
    assert checked.exit_code == 0, checked.output  # warnings cost nothing
    _only_the_students_places(_printed(checked.stdout, "Your code printed:"), "ops.py")
    one_file = runner.invoke(main, ["check", str(cls / "hw.py"), *COURSE])
    _only_the_students_places(_printed(one_file.stdout, "Your code printed:"), "hw.py")
    html = tmp_path / "html"
    graded = runner.invoke(main, ["grade", "hw1", str(cls), "--no-gradebook", "--details",
                                  "--html", str(html), *COURSE])
    assert graded.exit_code == 0, graded.output
    for student, place in (("ada", "ops.py"), ("hw", "hw.py")):
        section = graded.stdout.split(f"===== {student} =====")[1]
        _only_the_students_places(_printed(section, "Your code printed:"), place)
        page = (html / "students" / f"{student}.html").read_text()
        printed = _printed(page, "What your code printed</h2>").split("</div>")[0]
        _only_the_students_places(printed, place)
    data = write_results(cls / "ada", tmp_path / "results.json", "hw1", course_path=FIXTURE)
    _only_the_students_places(_printed(data["output"], "Your code printed:"), "ops.py")
    assert "/tmp" not in json.dumps(data["tests"])


def test_a_notebooks_warnings_are_told_by_code_cell(tmp_path: Path) -> None:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# HW"},
             {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 3,
              "source": "import numpy as np"},
             {"cell_type": "markdown", "metadata": {}, "source": "## The cube"},
             {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 9,
              "source": WARNS.split("\n", 2)[2]}]
    path = tmp_path / "hw.ipynb"
    path.write_text(json.dumps({"cells": cells, "nbformat": 4, "nbformat_minor": 5,
                                "metadata": {}}))
    checked = CliRunner().invoke(main, ["check", str(path), *COURSE])
    printed = _printed(checked.stdout, "Your code printed:")
    for ours in OURS:
        assert ours not in printed, printed
    assert "hw.ipynb, code cell 2, line 3: RuntimeWarning: overflow" in printed  # cell 4 of 4

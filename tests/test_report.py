"""What a student reads: one import error said once (check, grade --details, HTML,
Gradescope), and ``check``'s output in a useful order, with --exercise and --quiet. Real
files, the real CLI, on the fixture course."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from dlgrade import api
from dlgrade.cli import main
from dlgrade.integrations.gradescope import write_results
from fixture_course import FIXTURE, copy_fixture

STUDENTS = FIXTURE / "students"
SYNTAX = "SyntaxError: expected ':' in ops.py, line 4"
HINTS = ("d/dx x^3 = 3 x^2.", "Differentiate the square")  # the fixture's maths hints


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """The fixture course with hw2 listed: a broken ops.py, a right layers.py."""
    return copy_fixture(tmp_path_factory.mktemp("course") / "course", ("hw1", "hw2"))


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """A class of one: an ops.py that does not parse beside a layers.py that is right."""
    student = tmp_path / "class" / "cleo"
    student.mkdir(parents=True)
    shutil.copy(STUDENTS / "broken" / "ops.py", student)
    shutil.copy(STUDENTS / "right" / "layers.py", student)
    return student


def _said_once(text: str) -> None:
    assert text.count(SYNTAX) == 1, text
    assert "hw1.cube" in text and "hw1.sq" in text
    for hint in HINTS:
        assert hint not in text  # no maths hint for a file that does not import


def test_check_says_an_import_error_once_with_what_it_costs(course, broken) -> None:
    result = CliRunner().invoke(main, ["check", str(broken), "--course", str(course)])
    assert result.exit_code == 1
    out = result.stdout
    _said_once(out)
    assert "Could not import: 2 exercises (8 points)" in out
    assert "Costs: hw1.cube, hw1.sq" in out
    assert "Passed (1): hw2.softplus" in out  # the other file is graded as usual


def test_grade_details_html_and_gradescope_say_it_once(course, broken, tmp_path) -> None:
    html = tmp_path / "html"
    result = CliRunner().invoke(main, ["grade", "hw1,hw2", str(broken.parent), "--no-gradebook",
                                       "--details", "--html", str(html), "--course",
                                       str(course)])
    assert result.exit_code == 0, result.output
    _said_once(result.stdout.split("===== cleo =====")[1])
    page = (html / "students" / "cleo.html").read_text()
    _said_once(page.replace("&#x27;", "'"))
    chosen = api.load_course(course).resolve("hw1,hw2")
    data = write_results(broken, tmp_path / "results.json", [a.id for a in chosen],
                         course_path=course)
    _said_once(json.dumps(data).replace("\\'", "'"))
    cube = next(t for t in data["tests"] if t["name"].startswith("hw1.cube"))
    assert cube["score"] == 0 and "ops.py could not be imported" in cube["output"]
    assert data["score"] == pytest.approx(chosen[1].points)  # softplus still counts


def test_check_puts_what_to_fix_first_and_groups_what_is_not_attempted(tmp_path) -> None:
    student = tmp_path / "ben"
    student.mkdir()
    shutil.copy(STUDENTS / "wrong" / "ops.py", student)  # cube half right, sq not attempted
    out = CliRunner().invoke(main, ["check", str(student), "--course", str(FIXTURE)]).stdout
    lines = out.splitlines()
    assert lines[0].startswith("Total: 2.50 / 8")
    assert "Not attempted yet (1): hw1.sq" in out
    assert "not implemented yet" not in out  # no block per exercise not attempted
    assert out.index("hw1.cube (Cube): partly right") < out.index("Not attempted yet")


def test_check_exercise_filter_and_quiet(tmp_path) -> None:
    runner = CliRunner()
    course = ["--course", str(FIXTURE)]
    right = STUDENTS / "right"
    one = runner.invoke(main, ["check", str(right), "-e", "hw1.sq", *course])
    assert one.exit_code == 0 and "Total: 3.00 / 3" in one.stdout
    assert "hw1.cube" not in one.stdout
    globbed = runner.invoke(main, ["check", str(right), "--exercise", "hw1.*", "-q", *course])
    assert globbed.exit_code == 0
    rows = [line for line in globbed.stdout.splitlines() if line.startswith("hw1.")]
    assert len(rows) == 2 and all("passed" in r for r in rows)
    assert globbed.stdout.strip().endswith("Total: 8.00 / 8")
    unknown = runner.invoke(main, ["check", str(right), "-e", "hw9.*", *course])
    assert unknown.exit_code == 2 and "no such exercise" in unknown.output

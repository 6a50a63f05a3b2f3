"""A regrade that shows what it will change (``grade --dry-run``) and a gradebook that keeps
every grade it ever recorded (``dlgrade history``): issue 15 point 2."""

from __future__ import annotations

import os
import shutil
import sqlite3

import pytest
from click.testing import CliRunner
from dlgrade.cli import main
from dlgrade.store.gradebook import COURSE, FILES, FIRST, FORCED, Gradebook
from fixture_course import FIXTURE, copy_fixture


@pytest.fixture
def setting(tmp_path):
    """A copy of the fixture course, its class, and a gradebook of one first grading."""
    course = copy_fixture(tmp_path / "course")
    klass = tmp_path / "class"
    shutil.copytree(FIXTURE / "students", klass)
    book = tmp_path / "book.sqlite"
    first = _grade(course, klass, book)
    assert first.exit_code == 0, first.output
    return course, klass, book


def _grade(course, klass, book, *extra):
    return CliRunner().invoke(main, ["grade", "hw1", str(klass), "--course", str(course),
                                     "--gradebook", str(book), *extra])


def _cube_worth_six(course):
    """A course fix: the cube exercise is now worth 6 points instead of 5. Made in a copy
    (secret included): a course is loaded once per process, and these tests run the CLI in
    this one."""
    fixed = course.parent / "course-fixed"
    shutil.copytree(course, fixed)
    spec = fixed / "specs" / "hw1" / "__init__.py"
    text = spec.read_text()
    assert "points=5.0" in text
    spec.write_text(text.replace("points=5.0", "points=6.0", 1))
    return fixed


def _stored(book):
    with sqlite3.connect(book) as db:
        return sorted(db.execute("SELECT student, exercise, score, status FROM grades"))


def test_dry_run_lists_the_changes_and_writes_nothing(setting, tmp_path):
    course, klass, book = setting
    before, stamp = _stored(book), os.stat(book).st_mtime_ns
    course = _cube_worth_six(course)
    result = _grade(course, klass, book, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Dry run: nothing was written." in result.output
    # right scores 5/5 on the cube now 6/6: +1; broken (a syntax error) scores 0 either way.
    assert "right: +1.00 points" in result.output
    assert "hw1.cube: 5.00 (passed) -> 6.00 / 6 (passed), +1.00" in result.output
    assert "broken" not in result.output.split("would change.")[1]
    assert "Run the same command without --dry-run to apply" in result.output
    assert _stored(book) == before and os.stat(book).st_mtime_ns == stamp
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.sqlite", "class", "course",
                                                           "course-fixed"]

    applied = _grade(course, klass, book)
    assert applied.exit_code == 0, applied.output
    assert ("right", "hw1.cube", 6.0, "passed") in _stored(book)
    again = _grade(course, klass, book, "--dry-run")
    assert "0 of 4 students would change" in again.output


def test_history_command_shows_each_grading_with_its_reason(setting):
    course, klass, book = setting
    course = _cube_worth_six(course)
    assert _grade(course, klass, book).exit_code == 0
    (klass / "wrong" / "ops.py").write_text((klass / "right" / "ops.py").read_text())
    assert _grade(course, klass, book).exit_code == 0
    assert _grade(course, klass, book, "--force").exit_code == 0
    rows = Gradebook(book, read_only=True).history("wrong", "hw1.cube")
    assert [r["reason"] for r in rows] == [FIRST, COURSE, FILES, FORCED]
    assert rows[0]["max_score"] == 5.0 and rows[1]["max_score"] == 6.0
    assert rows[0]["fingerprint"] != rows[1]["fingerprint"]
    assert rows[-1]["score"] == 6.0 and rows[0]["score"] < 5.0
    result = CliRunner().invoke(main, ["history", str(book), "--student", "wrong",
                                       "-e", "hw1.cube"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 4 and "(first grading; course " in lines[0]
    assert "6.00 / 6  passed  (regraded on request;" in lines[3]
    assert all(r["student"] == "right" for r in Gradebook(book, read_only=True).history("right"))


@pytest.mark.parametrize("extra, message", [
    (["--json", "x.json"], "drop --json"),
    (["--no-gradebook"], "drop --no-gradebook"),
    (["--html", "out", "--csv", "x.csv"], "drop --csv, --html"),
])
def test_dry_run_refuses_outputs(setting, extra, message):
    course, klass, book = setting
    result = _grade(course, klass, book, "--dry-run", *extra)
    assert result.exit_code == 2 and message in result.output, result.output


def _output_options() -> list[str]:
    """Every option of ``grade`` that names something it would write: a path that need not
    exist (inputs say ``exists=True``), a SQLAlchemy URL, and --no-gradebook; not the
    gradebook itself, which --dry-run reads."""
    import click
    from dlgrade.cli.grade import grade

    found = []
    for param in grade.params:
        if not isinstance(param, click.Option) or param.name in ("gradebook", "course"):
            continue
        writes = (isinstance(param.type, click.Path) and not param.type.exists
                  ) or param.name in ("nbgrader_db", "no_gradebook")
        if writes:
            found.append(param.opts[0])
    return found


def test_every_output_option_is_refused_by_a_dry_run(setting, tmp_path):
    """Derived from the command itself, so an output option added later is refused too (or
    this test names it)."""
    course, klass, book = setting
    options = _output_options()
    assert {"--json", "--csv", "--canvas", "--html", "--similarity", "--nbgrader-db",
            "--no-gradebook"} <= set(options)
    for option in options:
        target = tmp_path / f"out{option}"
        extra = [option] if option == "--no-gradebook" else [option, str(target)]
        result = _grade(course, klass, book, "--dry-run", *extra)
        assert result.exit_code == 2 and f"drop {option}" in result.output, (option,
                                                                             result.output)
        assert not target.exists()


def test_dry_run_needs_a_gradebook_and_never_makes_one(setting, tmp_path):
    course, klass, _ = setting
    missing = tmp_path / "nowhere" / "book.sqlite"
    result = _grade(course, klass, missing, "--dry-run")
    assert result.exit_code == 2 and "no gradebook at" in result.output
    assert "Traceback" not in result.output and not missing.parent.exists()


def test_history_of_a_gradebook_without_history_is_empty(tmp_path):
    old = tmp_path / "old.sqlite"
    with sqlite3.connect(old) as db:
        db.execute("CREATE TABLE submissions (student TEXT)")
    result = CliRunner().invoke(main, ["history", str(old)])
    assert result.exit_code == 0 and "No grades recorded." in result.output

"""How much a failed hidden case says (a course's ``[feedback]``), and Gradescope's daily
budget of detailed feedback: issue 15 point 5."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from dlgrade import api
from dlgrade.cli import main
from dlgrade.courses import course as courses
from dlgrade.grading.grader import grade_submission
from dlgrade.integrations.gradescope import course_files, write_results
from dlgrade.load.submission import Submission
from dlgrade.policy.feedback import RECORD_KEY, Feedback, budgeted
from fixture_course import FIXTURE, copy_fixture

# Right on the public cases; on the hidden ones the cube's backward drops its factor 3 (a
# known mistake of the fixture course) and the loss's gradient is off by one (no known one).
HIDDEN_WRONG = """\
import numpy as np


def cube_forward(x):
    return x**3, x


def cube_backward(dout, cache):
    if cache.shape == (3, 4):
        return 3.0 * cache**2 * dout
    return cache**2 * dout


def sq_loss(pred, target, scale=1.0):
    diff = pred - target
    grad = 2.0 * scale * diff
    if pred.ndim == 1:
        grad = grad + 1.0
    return scale * float(np.sum(diff**2)), grad
"""
# Wrong everywhere: the public case's feedback is full at any level.
PUBLIC_WRONG = HIDDEN_WRONG.replace("if pred.ndim == 1:", "if True:")


@pytest.fixture
def student(tmp_path):
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "ops.py").write_text(HIDDEN_WRONG)
    return folder


def _grade(folder: Path, level: str | None):
    hw1 = api.load_course(FIXTURE).resolve("hw1")
    result = grade_submission(Submission("s", folder), hw1, hidden=True, feedback=level)
    return {e.id: e for e in result.exercises}


def test_levels_change_the_words_never_the_score(student):
    full, mistake, none = (_grade(student, level) for level in ("full", "mistake", "none"))
    for exercise in ("hw1.cube", "hw1.sq"):
        assert 0 < full[exercise].score < full[exercise].max_score
        assert full[exercise].score == mistake[exercise].score == none[exercise].score
        assert ([c.passed for c in full[exercise].checks]
                == [c.passed for c in none[exercise].checks])
    # full: what is wrong, and the known mistake by name
    assert "wrong in every entry" in full["hw1.sq"].message
    assert "an additive offset" in full["hw1.sq"].message
    assert "the backward drops the factor 3" in full["hw1.cube"].message
    # mistake: which hidden case, and the known mistake's name only
    cube = mistake["hw1.cube"].message
    assert "hidden case 1 (shape (2, 5)): wrong. This matches a common mistake: the " \
           "backward drops the factor 3." in cube
    assert "every entry" not in cube and "derivative" not in cube
    assert "offset" not in mistake["hw1.sq"].message
    assert "hidden case 1 (shape (6,)): wrong" in mistake["hw1.sq"].message
    # none: which hidden case failed, nothing more
    for exercise in ("hw1.cube", "hw1.sq"):
        text = none[exercise].message + " ".join(c.message for c in none[exercise].checks)
        assert "hidden case 1" in text
        assert "mistake" not in text and "every entry" not in text and "offset" not in text
        assert "derivative" not in text  # the summary's diagnosis came from hidden cases


def test_public_cases_always_get_the_full_feedback(tmp_path):
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "ops.py").write_text(PUBLIC_WRONG)
    sq = _grade(folder, "none")["hw1.sq"]
    assert "public case 1" in sq.message and "an additive offset" in sq.message
    assert "Your loss value is right but your gradient is not its derivative." in sq.message


def test_the_course_setting_is_the_default_and_the_cli_overrides_it(tmp_path, student):
    course = copy_fixture(tmp_path / "course")
    toml = course / "course.toml"
    toml.write_text(toml.read_text() + '\n[feedback]\nhidden = "mistake"\n')
    loaded = api.load_course(course)
    assert loaded.feedback == Feedback("mistake")
    courses.use(loaded)
    result = grade_submission(Submission("s", student), loaded.resolve("hw1"), hidden=True)
    assert "hidden case 1 (shape (6,)): wrong" in result.exercises[1].message
    klass = tmp_path / "class"
    klass.mkdir()
    shutil.copytree(student, klass / "s")
    out = tmp_path / "scores.json"
    book = tmp_path / "book.sqlite"
    base = ["grade", "hw1", str(klass), "--course", str(course), "--gradebook", str(book),
            "--json", str(out)]
    run = CliRunner().invoke(main, base)
    assert run.exit_code == 0, run.output
    assert "offset" not in json.loads(out.read_text())["s"]["hw1.sq"]["message"]
    # Another level is another grading: the stored grade is not reused for it.
    run = CliRunner().invoke(main, [*base, "--hidden-feedback", "full"])
    assert run.exit_code == 0, run.output
    assert "unchanged since their last grading" not in run.output
    assert "offset" in json.loads(out.read_text())["s"]["hw1.sq"]["message"]


@pytest.mark.parametrize(("table", "message"), [
    ('hidden = "some"', "must be one of none, mistake, full, not 'some'"),
    ("per_day = -1", "per_day must be a whole number >= 0"),
    ('per_day = 2\nhidden = "none"', "after (none) must say less than hidden (none)"),
    ("colour = 1", "unknown key(s) colour in [feedback]"),
])
def test_a_wrong_feedback_table_is_refused_in_one_line(tmp_path, table, message):
    course = copy_fixture(tmp_path / "course")
    toml = course / "course.toml"
    toml.write_text(toml.read_text() + f"\n[feedback]\n{table}\n")
    with pytest.raises(courses.CourseError, match="course.toml") as caught:
        api.load_course(course)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_an_unknown_table_is_refused(tmp_path):
    course = copy_fixture(tmp_path / "course")
    toml = course / "course.toml"
    toml.write_text(toml.read_text() + "\n[feedbak]\nhidden = 'none'\n")
    with pytest.raises(courses.CourseError, match=r"unknown table\(s\) feedbak"):
        api.load_course(course)


# ---------------------------------------------------------------- Gradescope's budget

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)
BUDGET = Feedback("full", per_day=2, after="none")


def _metadata(*hours_ago: float, level: str = "full") -> dict:
    return {"created_at": NOW.isoformat(), "previous_submissions": [
        {"submission_time": (NOW - timedelta(hours=h)).isoformat(), "score": 1.0,
         "results": {"extra_data": {RECORD_KEY: level}}} for h in hours_ago]}


def test_the_budget_counts_detailed_submissions_of_the_last_24_hours():
    assert budgeted(BUDGET, _metadata())[0] == "full"
    assert budgeted(BUDGET, _metadata(30, 26))[0] == "full"  # yesterday's are spent
    level, said = budgeted(BUDGET, _metadata(5))
    assert level == "full" and "submission 2 of 2" in said
    level, said = budgeted(BUDGET, _metadata(5, 1))
    assert level == "none" and "all 2 of the last 24 hours are used" in said
    assert "2026-12-04T07:00" in said  # when the older one leaves the window
    # Submissions that got the rationed level do not use the budget up.
    assert budgeted(BUDGET, _metadata(5, 1, level="none"))[0] == "full"
    assert budgeted(Feedback("mistake"), _metadata(5, 1, 1)) == ("mistake", "")


@pytest.mark.parametrize("metadata", [
    {}, {"created_at": "yesterday"}, {"created_at": NOW.isoformat(), "previous_submissions": 3},
    {"created_at": NOW.isoformat(), "previous_submissions": [1, {"results": []},
                                                              {"submission_time": None}]},
])
def test_odd_metadata_never_fails_the_grading(metadata):
    assert budgeted(BUDGET, metadata)[0] == "full"


def test_gradescope_rations_once_the_budget_is_spent(tmp_path, student):
    course = copy_fixture(tmp_path / "course")
    toml = course / "course.toml"
    toml.write_text(toml.read_text() + '\n[feedback]\nper_day = 1\nafter = "mistake"\n')
    first = write_results(student, tmp_path / "1.json", "hw1", metadata=_metadata(),
                          course_path=course)
    assert first["extra_data"][RECORD_KEY] == "full"
    assert "an additive offset" in first["output"] + json.dumps(first["tests"])
    again = _metadata(2)
    again["previous_submissions"][0]["results"] = first
    second = write_results(student, tmp_path / "2.json", "hw1", metadata=again,
                           course_path=course)
    assert second["extra_data"][RECORD_KEY] == "mistake"
    assert second["score"] == first["score"]
    tests = json.dumps(second["tests"])
    assert "offset" not in tests and "the backward drops the factor 3" in tests
    assert "all 1 of the last 24 hours are used" in second["output"]


def test_the_bundle_carries_the_feedback_table(tmp_path):
    course = copy_fixture(tmp_path / "course")
    toml = course / "course.toml"
    toml.write_text(toml.read_text() + '\n[feedback]\nper_day = 3\n')
    files = dict(course_files(api.load_course(course), api.load_course(course).resolve("hw1")))
    bundled = tmp_path / "bundled"
    for name, content in files.items():
        (bundled / name).parent.mkdir(parents=True, exist_ok=True)
        (bundled / name).write_bytes(content)
    assert api.load_course(bundled).feedback == Feedback("full", 3, "none")

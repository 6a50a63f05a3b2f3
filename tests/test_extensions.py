"""Per-student extensions (``--extensions``, issue 15 point 3): a student's own due date or
extra days on the class's, on top of ``--due``, shown beside the penalty in every output."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from dlgrade.cli import main
from dlgrade.policy.deadlines import (
    Deadline,
    DeadlineError,
    Extension,
    SubmissionTime,
    extension_for,
    late_result,
    read_extensions,
)
from fixture_course import FIXTURE

UTC = timezone.utc
DUE = datetime(2026, 11, 30, 23, 59, tzinfo=UTC)
POLICY = Deadline(DUE, penalty_per_day=0.1)
THREE_DAYS_LATE = SubmissionTime(DUE + timedelta(days=2, hours=12), "instructor CSV")


def test_extra_days_remove_exactly_their_share_of_the_penalty():
    plain = late_result("ann", 10.0, 10.0, POLICY, THREE_DAYS_LATE)
    assert (plain.days_late, plain.penalty, plain.final) == (3, 3.0, 7.0)
    two = late_result("ann", 10.0, 10.0, POLICY, THREE_DAYS_LATE, extension=Extension(days=2))
    assert (two.days_late, two.penalty, two.final) == (1, 1.0, 9.0)
    assert two.due == DUE + timedelta(days=2)
    assert "with an extension of 2 day(s)" in two.describe() and "-10%" in two.describe()


def test_an_own_due_date_after_the_submission_means_on_time():
    mine = Extension(due=DUE + timedelta(days=3))
    result = late_result("ann", 10.0, 10.0, POLICY, THREE_DAYS_LATE, extension=mine)
    assert (result.days_late, result.penalty, result.final) == (0, 0.0, 10.0)
    assert result.describe().startswith("on time") and "extension to 2026-12-03T23:59" in \
        result.describe()
    assert result.to_json()["extension"] == "extension to 2026-12-03T23:59+00:00"


def test_the_class_policy_still_applies_from_the_extended_date():
    strict = Deadline(DUE, penalty_per_day=0.25, grace=timedelta(minutes=15), zero_after=1)
    on_edge = SubmissionTime(DUE + timedelta(days=1, minutes=10), "instructor CSV")
    assert late_result("a", 8.0, 8.0, strict, on_edge, extension=Extension(days=1)).penalty == 0
    way_late = SubmissionTime(DUE + timedelta(days=4), "instructor CSV")
    assert late_result("a", 8.0, 8.0, strict, way_late, extension=Extension(days=1)).final == 0


def test_read_extensions_per_assignment_and_for_all(tmp_path):
    path = tmp_path / "ext.csv"
    path.write_text("student,assignment,due,days\n"
                    "ann,,,1.5\n"
                    "ann,hw2,2026-12-10T12:00Z,\n"
                    "bob,hw1,,3\n")
    found = read_extensions(path)
    assert extension_for(found, "ann", "hw1") == Extension(days=1.5)  # every assignment
    assert extension_for(found, "ann", "hw2").due == datetime(2026, 12, 10, 12, tzinfo=UTC)
    assert extension_for(found, "bob", "hw1") == Extension(days=3)
    assert extension_for(found, "bob", "hw2") is None
    assert extension_for(found, "cid", "hw1") is None


@pytest.mark.parametrize("text, message", [
    ("student,submitted_at\nann,2026-11-30\n", "must name the columns student and due or days"),
    ("student,due,days\nann,2026-12-01T00:00Z,2\n", "line 2: give either due or days, not both"),
    ("student,due,days\nann,,\n", "line 2: give either due or days, not neither"),
    ("student,days\nann,two\n", "line 2: days must be a number"),
    ("student,days\nann,-1\n", "line 2: days must be between 0 and 3650"),
    ("student,due\nann,soon\n", "line 2: cannot read the date-time"),
    ("student,days\nann,1\nann,2\n", "line 3: a second extension for ann"),
])
def test_read_extensions_says_what_is_wrong(tmp_path, text, message):
    path = tmp_path / "ext.csv"
    path.write_text(text)
    with pytest.raises(DeadlineError, match=message):
        read_extensions(path)


@pytest.fixture
def late_class(tmp_path):
    """The fixture course's right student handed in three times: on time, three days late,
    three days late with an extension."""
    klass = tmp_path / "class"
    for name in ("early", "late", "excused"):
        (klass / name).mkdir(parents=True)
        for f in (FIXTURE / "students" / "right").iterdir():
            (klass / name / f.name).write_bytes(f.read_bytes())
    times = tmp_path / "times.csv"
    times.write_text("student,submitted_at\nearly,2026-11-30T12:00Z\n"
                     "late,2026-12-03T12:00Z\nexcused,2026-12-03T12:00Z\n")
    ext = tmp_path / "ext.csv"
    ext.write_text("student,assignment,days\nexcused,hw1,2\nnobody,hw1,1\n")
    return klass, times, ext


def test_grade_with_extensions_end_to_end(late_class, tmp_path):
    klass, times, ext = late_class
    out, table = tmp_path / "scores.json", tmp_path / "scores.csv"
    result = CliRunner().invoke(main, [
        "grade", "hw1", str(klass), "--course", str(FIXTURE), "--no-gradebook",
        "--due", "2026-11-30T23:59Z", "--late-penalty", "0.1", "--submitted-at", str(times),
        "--extensions", str(ext), "--json", str(out), "--csv", str(table)])
    assert result.exit_code == 0, result.output
    assert "warning: extension for 'nobody', who is not in this class" in result.output
    assert "excused hw1: 1 day(s) late" in result.output
    assert "with an extension of 2 day(s)" in result.output
    assert "late hw1: 3 day(s) late" in result.output
    assert "(1 submissions on time)" in result.output
    rows = {r["student"]: r for r in csv.DictReader(table.open())}
    full = float(rows["early"]["total"])
    assert float(rows["late"]["total"]) == pytest.approx(full * 0.7)
    assert float(rows["excused"]["total"]) == pytest.approx(full * 0.9)  # 2 of 3 days forgiven
    assert rows["excused"]["hw1 due"] == "2026-12-02T23:59:00+00:00"
    assert rows["late"]["hw1 due"] == "2026-11-30T23:59:00+00:00"
    scores = json.loads(out.read_text())
    assert set(scores) == {"early", "late", "excused"}  # raw scores: penalties are beside them


def test_export_applies_the_same_extensions(late_class, tmp_path):
    klass, times, ext = late_class
    book = tmp_path / "book.sqlite"
    graded = CliRunner().invoke(main, ["grade", "hw1", str(klass), "--course", str(FIXTURE),
                                       "--gradebook", str(book)])
    assert graded.exit_code == 0, graded.output
    out = tmp_path / "export.json"
    result = CliRunner().invoke(main, [
        "export", str(book), "--format", "json", "--out", str(out), "--course", str(FIXTURE),
        "--due", "2026-11-30T23:59Z", "--late-penalty", "0.1", "--submitted-at", str(times),
        "--extensions", str(ext)])
    assert result.exit_code == 0, result.output
    students = json.loads(out.read_text())["students"]
    assert students["excused"]["assignments"]["hw1"]["days_late"] == 1
    assert students["excused"]["assignments"]["hw1"]["extension"] == "extension of 2 day(s)"
    assert students["late"]["assignments"]["hw1"]["days_late"] == 3


def test_extensions_need_a_due_date(late_class):
    klass, _, ext = late_class
    result = CliRunner().invoke(main, ["grade", "hw1", str(klass), "--course", str(FIXTURE),
                                       "--no-gradebook", "--extensions", str(ext)])
    assert result.exit_code == 2
    assert "--extensions needs --due" in result.output and "Traceback" not in result.output

"""Deadlines: parsing, the late policy, where submission times come from, penalties."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from dlgrade import api
from dlgrade.cli.options import deadline_options, deadlines_from_options
from dlgrade.courses import registry
from dlgrade.grading.grader import ExerciseResult, SubmissionResult
from dlgrade.load.submission import Submission
from dlgrade.policy.deadlines import (
    SOURCE_CSV,
    SOURCE_MTIME,
    SOURCE_NBGRADER,
    Deadline,
    DeadlineError,
    SubmissionTime,
    apply,
    apply_class,
    apply_totals,
    parse_datetime,
    parse_duration,
    read_times,
    submission_time,
    times_from_option,
)
from fixture_course import FIXTURE, copy_fixture

UTC = timezone.utc
DUE = datetime(2026, 11, 30, 23, 59, tzinfo=UTC)


@pytest.fixture(scope="module")
def two_assignments(tmp_path_factory) -> Path:
    """The fixture course with its hw2 listed too (the fixture itself lists hw1 only)."""
    return copy_fixture(tmp_path_factory.mktemp("course") / "course", ("hw1", "hw2"))


@pytest.mark.parametrize("text, expected", [
    ("15m", timedelta(minutes=15)), ("2h", timedelta(hours=2)), ("1d", timedelta(days=1)),
    ("1h30m", timedelta(minutes=90)), ("90s", timedelta(seconds=90)),
    ("10", timedelta(minutes=10)), ("2 days", timedelta(days=2)), ("0m", timedelta(0)),
])
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "soon", "15 parsecs", "m15", "1h x"])
def test_parse_duration_rejects_nonsense(text):
    with pytest.raises(DeadlineError):
        parse_duration(text)


@pytest.mark.parametrize("text, expected", [
    ("2026-11-30T23:59", None),  # local time: checked below
    ("2026-11-30T23:59:00Z", DUE),
    ("2026-11-30T23:59:00+00:00", DUE),
    ("2026-12-01T00:59:00+01:00", DUE),
    ("2026-11-30 23:59:00.000000 UTC", DUE),  # nbgrader's timestamp.txt
    ("2026-11-30 18:59:00 -0500", DUE),
    ("2026-11-30 15:59:00 America/Los_Angeles", DUE),
    ("2026-11-30T23:59:00.000000+00:00", DUE),  # Gradescope's metadata
])
def test_parse_datetime(text, expected):
    value = parse_datetime(text)
    assert value.tzinfo is not None
    if expected is None:
        assert value == datetime(2026, 11, 30, 23, 59).astimezone()
    else:
        assert value == expected


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01", "2026-11-30 23:59 Mars/Base"])
def test_parse_datetime_rejects_nonsense(text):
    with pytest.raises(DeadlineError):
        parse_datetime(text)


def test_days_late_counts_part_days_and_honours_grace():
    deadline = Deadline(DUE, penalty_per_day=0.1, grace=timedelta(minutes=15))
    assert deadline.days_late(DUE - timedelta(hours=3)) == 0
    assert deadline.days_late(DUE + timedelta(minutes=15)) == 0  # within grace
    assert deadline.days_late(DUE + timedelta(minutes=16)) == 1  # counted from the due date
    assert deadline.days_late(DUE + timedelta(days=1)) == 1
    assert deadline.days_late(DUE + timedelta(days=1, seconds=1)) == 2
    assert deadline.penalty_fraction(DUE + timedelta(hours=30)) == pytest.approx(0.2)
    assert deadline.penalty_fraction(DUE + timedelta(days=40)) == 1.0  # never more than all


def test_zero_after_cuts_off():
    deadline = Deadline(DUE, penalty_per_day=0.1, zero_after=3)
    assert deadline.penalty_fraction(DUE + timedelta(days=2, hours=1)) == pytest.approx(0.3)
    assert deadline.penalty_fraction(DUE + timedelta(days=3, hours=1)) == 1.0


def test_a_naive_due_date_is_local_time():
    deadline = Deadline(datetime(2026, 11, 30, 23, 59))
    assert deadline.due == datetime(2026, 11, 30, 23, 59).astimezone()


@pytest.mark.parametrize("kwargs", [{"penalty_per_day": 1.5}, {"penalty_per_day": -0.1},
                                    {"grace": timedelta(minutes=-1)}, {"zero_after": -1}])
def test_bad_policies_are_refused(kwargs):
    with pytest.raises(DeadlineError):
        Deadline(DUE, **kwargs)


def test_read_times(tmp_path):
    path = tmp_path / "times.csv"
    path.write_text("Student,Submitted_At,assignment\n"
                    "ann,2026-11-30T20:00:00Z,\n"
                    "bob,2026-12-02T10:00:00Z,hw1\n"
                    "bob,2026-11-29T10:00:00Z,hw2\n"
                    ",,\n")
    times = read_times(path)
    assert times == {("ann", None): datetime(2026, 11, 30, 20, tzinfo=UTC),
                     ("bob", "hw1"): datetime(2026, 12, 2, 10, tzinfo=UTC),
                     ("bob", "hw2"): datetime(2026, 11, 29, 10, tzinfo=UTC)}
    assert times_from_option(None) is None and times_from_option(path) == times


def test_read_times_says_what_is_wrong(tmp_path):
    path = tmp_path / "times.csv"
    path.write_text("name,when\nann,2026-11-30\n")
    with pytest.raises(DeadlineError, match="student and submitted_at"):
        read_times(path)
    path.write_text("student,submitted_at\nann,2026-11-30T20:00\nbob,tuesday\n")
    with pytest.raises(DeadlineError, match="line 3"):
        read_times(path)
    with pytest.raises(DeadlineError, match="cannot read"):
        read_times(tmp_path / "absent.csv")


def _folder(tmp_path, name="ann", mtime=None):
    folder = tmp_path / name
    folder.mkdir(parents=True)
    (folder / "ops.py").write_text("x = 1\n")
    if mtime is not None:
        os.utime(folder / "ops.py", (mtime.timestamp(), mtime.timestamp()))
    return Submission(name, folder)


def _collected(tmp_path, mtime=None):
    """ann's hw1 as nbgrader collect leaves it: submitted/ann/hw1/."""
    return _folder(tmp_path / "submitted" / "ann", name="hw1", mtime=mtime)


def test_nbgrader_timestamp_beats_file_times_and_the_instructor_beats_both(tmp_path):
    submission = _collected(tmp_path, mtime=DUE + timedelta(days=5))
    submission = Submission("ann", submission.path)
    (submission.path / "timestamp.txt").write_text("2026-11-30 22:00:00.123456 UTC\n")
    found = submission_time(submission, {}, "hw1")
    assert found.source == SOURCE_NBGRADER
    assert found.when == datetime(2026, 11, 30, 22, 0, 0, 123456, tzinfo=UTC)
    times = {("ann", None): DUE + timedelta(days=3)}
    assert submission_time(submission, times, "hw1") == SubmissionTime(
        DUE + timedelta(days=3), SOURCE_CSV)


def test_nbgrader_layout(tmp_path):
    """nbgrader's submitted/STUDENT/ASSIGNMENT/timestamp.txt, whether the submission is the
    assignment folder or the student's; never a file above the student's folder, and never
    one beside the student's own files."""
    submission = _collected(tmp_path)
    submission = Submission("ann", submission.path)
    (submission.path / "timestamp.txt").write_text("2026-12-01 08:00:00 UTC")
    assert submission_time(submission, None, "hw1").source == SOURCE_NBGRADER
    student = Submission("ann", tmp_path / "submitted" / "ann")
    assert submission_time(student, None, "hw1").when == datetime(2026, 12, 1, 8, tzinfo=UTC)
    assert submission_time(student, None, "hw2") is None or \
        submission_time(student, None, "hw2").source == SOURCE_MTIME
    bob = _folder(tmp_path / "class", name="bob")
    (tmp_path / "class" / "timestamp.txt").write_text("2026-12-01 08:00:00 UTC")
    assert submission_time(bob, None, "hw1").source == SOURCE_MTIME
    (bob.path / "timestamp.txt").write_text("2026-12-01 08:00:00 UTC")  # the student's own
    assert submission_time(bob, None, "hw1").source == SOURCE_MTIME


def test_instructor_csv_then_file_times(tmp_path):
    late = DUE + timedelta(days=2)
    submission = _folder(tmp_path, mtime=late)
    times = {("ann", "hw2"): DUE - timedelta(days=1), ("ann", None): DUE + timedelta(hours=1)}
    assert submission_time(submission, times, "hw2") == \
        submission_time(submission, {("ann", "hw2"): DUE - timedelta(days=1)}, "hw2")
    assert submission_time(submission, times, "hw2").source == SOURCE_CSV
    assert submission_time(submission, times, "hw1").when == DUE + timedelta(hours=1)
    found = submission_time(submission, {}, "hw1")
    assert found.source == SOURCE_MTIME and found.when == late


def test_file_time_of_a_single_file_and_links_are_not_followed(tmp_path):
    single = tmp_path / "eve.py"
    single.write_text("x = 1\n")
    os.utime(single, (DUE.timestamp(), DUE.timestamp()))
    assert submission_time(Submission("eve", single)).when == DUE
    submission = _folder(tmp_path, mtime=DUE)
    secret = tmp_path / "secret.txt"
    secret.write_text("2020-01-01 00:00:00 UTC")
    (submission.path / "timestamp.txt").symlink_to(secret)
    assert submission_time(submission).source == SOURCE_MTIME


def test_a_corrupt_timestamp_is_an_error_not_a_guess(tmp_path):
    submission = Submission("ann", _collected(tmp_path).path)
    (submission.path / "timestamp.txt").write_text("not a time")
    with pytest.raises(DeadlineError, match="timestamp.txt"):
        submission_time(submission, None, "hw1")


def _result(student, scores):
    """A result on the fixture course's hw1, one score per exercise."""
    exercises = [ExerciseResult(e.id, e.title, s, e.points, "passed" if s == e.points else
                                "failed") for e, s in zip(registry.assignment("hw1").exercises,
                                                          scores, strict=True)]
    return SubmissionResult(student, "", exercises)


def test_apply_keeps_the_raw_score(tmp_path):
    hw1 = api.load_course(FIXTURE).assignment("hw1")
    result = _result("bob", [e.points for e in hw1.exercises])
    raw = result.score
    assert raw == hw1.points
    submission = _folder(tmp_path, "bob")
    late = apply(result, submission, [hw1], {"hw1": Deadline(DUE, 0.1)},
                 {("bob", None): DUE + timedelta(hours=30)})
    entry = late["hw1"]
    assert result.score == raw  # untouched
    assert (entry.raw, entry.days_late, entry.fraction) == (raw, 2, pytest.approx(0.2))
    assert entry.penalty == pytest.approx(raw * 0.2) and entry.final == pytest.approx(raw * 0.8)
    assert entry.to_json()["source"] == SOURCE_CSV
    assert "2 day(s) late" in entry.describe()
    # No deadline for an assignment: nothing for it.
    assert apply(result, submission, [hw1], {}, None) == {}


def test_apply_class_and_totals(tmp_path):
    hw1 = api.load_course(FIXTURE).assignment("hw1")
    deadlines = {"hw1": Deadline(DUE, 0.25)}
    results = [_result("ann", [e.points for e in hw1.exercises]),
               _result("bob", [e.points / 2 for e in hw1.exercises])]
    subs = [_folder(tmp_path, "ann", mtime=DUE - timedelta(days=1)),
            _folder(tmp_path, "bob", mtime=DUE + timedelta(hours=2))]
    found = apply_class(results, subs, [hw1], deadlines)
    assert found["ann"]["hw1"].fraction == 0
    assert found["ann"]["hw1"].final == found["ann"]["hw1"].raw == hw1.points
    assert found["bob"]["hw1"].raw == pytest.approx(hw1.points / 2)
    assert found["bob"]["hw1"].final == pytest.approx(found["bob"]["hw1"].raw * 0.75)
    totals = apply_totals("bob", {"hw1": (20.0, 30.0), "hw2": (10.0, 26.0)}, deadlines,
                          {"hw1": None})
    assert set(totals) == {"hw1"} and totals["hw1"].final == 20.0  # unknown time: no penalty
    assert "unknown" in totals["hw1"].describe()


@click.command()
@deadline_options
def _probe(due, late_penalty, grace, zero_after, submitted_at, extensions):
    chosen = registry.resolve("hw1,hw2")
    found = deadlines_from_options(due, late_penalty, grace, zero_after, chosen)
    times = times_from_option(submitted_at)
    for a, d in sorted(found.items()):
        click.echo(f"{a} {d.due.isoformat()} {d.penalty_per_day} {d.grace} {d.zero_after}")
    click.echo(f"times {None if times is None else len(times)}")


def test_options_build_deadlines(two_assignments, tmp_path):
    api.load_course(two_assignments)
    times = tmp_path / "t.csv"
    times.write_text("student,submitted_at\nann,2026-11-30T20:00Z\n")
    out = CliRunner().invoke(_probe, ["--due", "hw2=2026-12-07T23:59Z",
                                      "--due", "2026-11-30T23:59Z", "--late-penalty", "0.1",
                                      "--grace", "15m", "--zero-after", "3",
                                      "--submitted-at", str(times)])
    assert out.exit_code == 0, out.output
    assert out.output.splitlines() == [
        "hw1 2026-11-30T23:59:00+00:00 0.1 0:15:00 3",
        "hw2 2026-12-07T23:59:00+00:00 0.1 0:15:00 3",  # the targeted --due wins
        "times 1",
    ]


@pytest.mark.parametrize("args, message", [
    (["--late-penalty", "0.1"], "need --due"),
    (["--due", "tomorrow"], "cannot read the date-time"),
    (["--due", "2026-11-30T23:59", "--grace", "a while"], "cannot read the duration"),
    (["--due", "hw9=2026-11-30T23:59"], "hw9 is not being graded (hw1, hw2)"),
    (["--due", "2026-11-30T23:59", "--late-penalty", "2"], "0<=x<=1"),
])
def test_options_refuse_bad_values(two_assignments, args, message):
    api.load_course(two_assignments)
    out = CliRunner().invoke(_probe, args)
    assert out.exit_code == 2 and message in out.output, out.output
    assert "Traceback" not in out.output

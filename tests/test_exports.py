"""Exports: CSV, Canvas's gradebook import and JSON, from a run and from the gradebook, on
the fixture course's students (tests/fixtures/course) graded for real on hw1."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from dlgrade import api
from dlgrade.cli.exports import export_command
from dlgrade.grading.classroom import LocalExecutor, grade_class
from dlgrade.load.submission import discover
from dlgrade.outputs.exports import (
    CANVAS_POINTS_LABEL,
    ExportError,
    export_results,
    match_roster,
    read_roster,
    render,
    table_from_gradebook,
    table_from_results,
    to_canvas,
    to_csv,
    to_json,
)
from dlgrade.policy.deadlines import SOURCE_CSV, Deadline, apply_class
from dlgrade.store.gradebook import Gradebook

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "course"
STUDENTS = FIXTURE / "students"
DUE = datetime(2026, 11, 30, 23, 59, tzinfo=timezone.utc)
# wrong's cube forward is right and its backward is not (half of cube's 5 points); its sq
# raises NotImplementedError; broken's ops.py does not parse; late is right, handed in late
# (its own timestamp.txt says 2026-12-02 10:00 UTC, which counts for nothing: the tests
# give that time in the instructor's CSV).
WRONG = 2.5


@pytest.fixture(autouse=True)
def fixture_course():
    """The fixture course is the one in use in every test here."""
    return api.load_course(FIXTURE)


@pytest.fixture(scope="module")
def hw1():
    return [api.load_course(FIXTURE).assignment("hw1")]


@pytest.fixture(scope="module")
def expected(hw1):
    full = hw1[0].points
    return {"broken": 0.0, "late": full, "right": full, "wrong": WRONG}


def _fmt(value):
    return format(value, "g")


@pytest.fixture(scope="module")
def graded(hw1, tmp_path_factory):
    """The fixture's students graded on hw1 (public and hidden cases) into a real
    gradebook."""
    api.load_course(FIXTURE)
    book_path = tmp_path_factory.mktemp("book") / "gradebook.sqlite"
    students = discover(STUDENTS)
    book = Gradebook(book_path)
    try:
        outcome = grade_class(students, hw1, executor=LocalExecutor(), gradebook=book)
    finally:
        book.close()
    return outcome.results, students, book_path


def _rows(text):
    return list(csv.reader(io.StringIO(text)))


def test_csv_has_a_row_per_student_and_a_column_per_exercise(graded, hw1, expected):
    results, _, _ = graded
    rows = _rows(to_csv(table_from_results(results, hw1)))
    header, body = rows[0], rows[1:]
    ids = [e.id for e in hw1[0].exercises]
    assert header == ["student", *ids, "total", "max_total"]
    by_student = {r[0]: dict(zip(header, r, strict=True)) for r in body}
    assert list(by_student) == sorted(expected)
    for student, total in expected.items():
        assert float(by_student[student]["total"]) == pytest.approx(total)
        assert by_student[student]["max_total"] == _fmt(hw1[0].points)
        assert sum(float(by_student[student][i]) for i in ids) == pytest.approx(total)
    cube = api.load_course(FIXTURE).exercise("hw1.cube")
    assert by_student["right"]["hw1.cube"] == _fmt(cube.points)
    assert by_student["wrong"]["hw1.cube"] == _fmt(WRONG)  # backward from 3x^2: forward only
    assert by_student["wrong"]["hw1.sq"] == "0"


def test_the_gradebook_gives_the_same_table(graded, hw1):
    results, _, book = graded
    assert to_csv(table_from_gradebook(book)) == to_csv(table_from_results(results, hw1))
    assert to_json(table_from_gradebook(book, ["hw1"])) == to_json(
        table_from_results(results, hw1))


def test_gradebook_errors(graded, tmp_path):
    _, _, book = graded
    with pytest.raises(ExportError, match="does not exist"):
        table_from_gradebook(tmp_path / "none.sqlite")
    assert not (tmp_path / "none.sqlite").exists()  # never created by a read
    with pytest.raises(ExportError, match="no grades for hw2"):  # an assignment not graded
        table_from_gradebook(book, ["hw2"])
    junk = tmp_path / "junk.sqlite"
    junk.write_text("not a database at all, just text " * 20)
    with pytest.raises(ExportError, match="not a dlgrade gradebook"):
        table_from_gradebook(junk)


def test_ungraded_is_blank_not_zero(fixture_course, tmp_path):
    """zoe graded on hw1.cube only, yan on hw1.sq and an exercise of an old course: the cells
    not graded are empty, the total counts what exists; the course's own exercises take
    their title and points from the course, the old one keeps what was stored."""
    cube, sq = fixture_course.exercise("hw1.cube"), fixture_course.exercise("hw1.sq")
    book = tmp_path / "g.sqlite"
    db = sqlite3.connect(book)
    db.executescript("CREATE TABLE grades (student TEXT, assignment TEXT, exercise TEXT, "
                     "score REAL, max_score REAL, status TEXT, feedback TEXT);")
    db.executemany("INSERT INTO grades VALUES (?, ?, ?, ?, ?, ?, ?)", [
        ("zoe", "hw1", "hw1.cube", cube.points, cube.points, "passed",
         '{"title": "An old title"}'),
        ("yan", "hw1", "hw1.sq", 1.5, 99.0, "partial", '{"title": "Squares"}'),
        ("yan", "hw9", "hw9.extra", 1.0, 3.0, "partial", "not json"),  # an old course's row
    ])
    db.commit()
    db.close()
    table = table_from_gradebook(book)
    assert [c.id for c in table.columns] == ["hw1.cube", "hw1.sq", "hw9.extra"]
    assert [c.title for c in table.columns] == [cube.title, sq.title, "hw9.extra"]
    rows = _rows(to_csv(table))
    max_total = _fmt(cube.points + sq.points + 3.0)
    assert rows[1] == ["yan", "", "1.5", "1", "2.5", max_total]
    assert rows[2] == ["zoe", _fmt(cube.points), "", "", _fmt(cube.points), max_total]
    data = to_json(table)
    assert set(data["students"]["zoe"]["assignments"]) == {"hw1"}
    assert set(data["students"]["yan"]["assignments"]) == {"hw1", "hw9"}
    assert data["assignments"]["hw9"]["exercises"]["hw9.extra"] == {"title": "hw9.extra",
                                                                    "max_score": 3.0}


CANVAS_EXPORT = (
    '"Student","ID","SIS User ID","SIS Login ID","Section","Quiz 1 (111)"\r\n'
    '"    Points Possible","","","","","10"\r\n'
    '"Right, Rita","1001","S-1","right","Lab A","9"\r\n'
    '"Wrong, Walt","1002","S-2","wwrong","Lab A","8"\r\n'
    '"Bro Ken","1003","broken","bk3","Lab B",""\r\n'
    '"Student, Test","9999","","","Lab A",""\r\n'
)


def test_canvas_csv(graded, hw1, tmp_path):
    results, _, _ = graded
    points = _fmt(hw1[0].points)
    roster_path = tmp_path / "canvas.csv"
    roster_path.write_text(CANVAS_EXPORT)
    roster = read_roster(roster_path)
    assert [e.canvas_id for e in roster] == ["1001", "1002", "1003"]  # the test student skipped
    assert match_roster("RIGHT", roster).canvas_id == "1001"  # by SIS Login ID
    assert match_roster("broken", roster).canvas_id == "1003"  # by SIS User ID
    assert match_roster("nobody", roster) is None
    text, unmatched = to_canvas(table_from_results(results, hw1), roster,
                                {"hw1": "Homework 1 (12345)"})
    rows = _rows(text)
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                       "Homework 1 (12345)"]
    assert rows[1] == [CANVAS_POINTS_LABEL, "", "", "", "", points]
    assert rows[2][:2] == ["Bro Ken", "1003"] and rows[2][5] == "0"
    assert rows[3][0] == "late" and rows[3][3] == "late" and rows[3][5] == points  # unmatched
    assert rows[4] == ["Right, Rita", "1001", "S-1", "right", "Lab A", points]
    assert rows[5][0] == "wrong" and rows[5][3] == "wrong" and rows[5][5] == _fmt(WRONG)
    assert unmatched == ["late", "wrong"]
    assert "\r\n" in text  # as Canvas writes it
    _, warnings = render(table_from_results(results, hw1), "canvas", roster=roster)
    assert "late, wrong" in warnings[0]
    _, warnings = render(table_from_results(results, hw1), "canvas")
    assert "--roster" in warnings[0]
    header = _rows(render(table_from_results(results, hw1), "canvas")[0])[0]
    assert header[-1] == f"hw1 {hw1[0].title}"


def test_json(graded, hw1):
    results, _, _ = graded
    data = to_json(table_from_results(results, hw1))
    points = hw1[0].points
    assert data["assignments"]["hw1"]["points"] == points
    assert len(data["assignments"]["hw1"]["exercises"]) == len(hw1[0].exercises)
    wrong = data["students"]["wrong"]
    assert wrong["total"] == pytest.approx(WRONG) and wrong["max_total"] == points
    assert wrong["penalty"] == 0
    cube = api.load_course(FIXTURE).exercise("hw1.cube")
    assert wrong["exercises"]["hw1.cube"] == {"score": WRONG, "max_score": cube.points,
                                              "status": "partial"}
    assert wrong["exercises"]["hw1.sq"]["status"] == "not_attempted"
    assert wrong["assignments"]["hw1"] == {"score": pytest.approx(WRONG), "max_score": points}
    assert data["students"]["broken"]["exercises"]["hw1.cube"]["status"] == "syntax"


def test_late_penalties_show_raw_penalty_and_final(graded, hw1, tmp_path):
    results, students, _ = graded
    points = hw1[0].points
    times = {("wrong", None): DUE + timedelta(hours=30),
             ("right", None): DUE - timedelta(hours=1),
             ("late", None): DUE + timedelta(hours=34, minutes=1)}
    # The instructor's CSV gives every time; late's own timestamp.txt (a student's file, not
    # nbgrader's collected layout) counts for nothing.
    late = apply_class(results, students, hw1, {"hw1": Deadline(DUE, 0.1)}, times)
    out = tmp_path / "late.csv"
    assert export_results(results, hw1, out, "csv", late=late) == []
    rows = {r[0]: r for r in _rows(out.read_text())}
    header = rows["student"]
    wrong = dict(zip(header, rows["wrong"], strict=True))
    assert wrong["hw1 days_late"] == "2" and wrong["hw1 penalty"] == _fmt(WRONG * 0.2)
    assert wrong["raw_total"] == _fmt(WRONG) and wrong["total"] == _fmt(WRONG * 0.8)
    assert wrong["hw1 submitted_at"] == "2026-12-02T05:59:00+00:00"
    right = dict(zip(header, rows["right"], strict=True))
    assert right["hw1 days_late"] == "0" and right["total"] == _fmt(points)
    by_file = dict(zip(header, rows["late"], strict=True))  # 1 day 10 hours late: 2 days
    assert by_file["hw1 submitted_at"] == "2026-12-02T10:00:00+00:00"
    assert by_file["hw1 days_late"] == "2" and by_file["total"] == _fmt(points * 0.8)
    canvas = tmp_path / "late-canvas.csv"
    export_results(results, hw1, canvas, "canvas", late=late)
    assert {r[0]: r[-1] for r in _rows(canvas.read_text())}["wrong"] == _fmt(WRONG * 0.8)
    data = json.loads(_json_export(results, hw1, late, tmp_path))
    entry = data["students"]["wrong"]["assignments"]["hw1"]
    assert entry["raw"] == pytest.approx(WRONG) and entry["final"] == pytest.approx(WRONG * 0.8)
    assert entry["source"] == SOURCE_CSV and entry["score"] == pytest.approx(WRONG * 0.8)
    entry = data["students"]["late"]["assignments"]["hw1"]
    assert entry["source"] == SOURCE_CSV and entry["final"] == pytest.approx(points * 0.8)


def _json_export(results, assignments, late, tmp_path):
    out = tmp_path / "late.json"
    export_results(results, assignments, out, "json", late=late)
    return out.read_text()


def test_export_command(graded, hw1, expected, tmp_path):
    _, _, book = graded
    runner = CliRunner()
    for fmt in ("csv", "canvas", "json"):
        out = tmp_path / f"grades.{fmt}"
        result = runner.invoke(export_command, [str(book), "--format", fmt, "--out", str(out),
                                                "--assignment", "hw1", "--course", str(FIXTURE)])
        assert result.exit_code == 0, result.output
        assert f"{len(expected)} students, {len(hw1[0].exercises)} exercises" in result.output
    data = json.loads((tmp_path / "grades.json").read_text())
    assert data["students"]["right"]["total"] == hw1[0].points
    assert _rows((tmp_path / "grades.canvas").read_text())[1][0] == CANVAS_POINTS_LABEL


def test_export_command_with_deadlines(graded, hw1, tmp_path):
    _, _, book = graded
    times = tmp_path / "times.csv"
    times.write_text("student,submitted_at\nwrong,2026-12-01T12:00Z\n"
                     "right,2026-11-30T23:00Z\nlate,2026-12-02T10:00Z\n")
    out = tmp_path / "late.csv"
    result = CliRunner().invoke(export_command, [
        str(book), "--out", str(out), "--due", "2026-11-30T23:59Z", "--late-penalty", "0.5",
        "--submitted-at", str(times), "--submissions", str(STUDENTS), "--course", str(FIXTURE)])
    assert result.exit_code == 0, result.output
    rows = {r[0]: r for r in _rows(out.read_text())}

    def row(student):
        return dict(zip(rows["student"], rows[student], strict=True))

    assert row("wrong")["hw1 days_late"] == "1" and row("wrong")["total"] == _fmt(WRONG * 0.5)
    assert row("right")["hw1 days_late"] == "0" and row("right")["total"] == _fmt(
        hw1[0].points)
    # late: two days at 0.5 a day, nothing left; without a CSV row, a student's time comes
    # from the files (broken's file times).
    late = row("late")
    assert late["hw1 submitted_at"] == "2026-12-02T10:00:00+00:00"
    assert late["hw1 days_late"] == "2" and late["raw_total"] == _fmt(hw1[0].points)
    assert late["total"] == "0"
    assert row("broken")["hw1 submitted_at"] != ""


@pytest.mark.parametrize("args, message, code", [
    (["{book}", "--out", "{tmp}/x.csv", "--assignment", "hw9"], "unknown assignment", 2),
    (["{tmp}/none.sqlite", "--out", "{tmp}/x.csv"], "does not exist", 2),
    (["{book}", "--out", "{tmp}/x.csv", "--format", "canvas", "--column", "hw1"],
     "expected ASSIGNMENT=NAME", 2),
    (["{book}", "--out", "{tmp}/x.csv", "--due", "2026-11-30T23:59"], "--submitted-at", 2),
    (["{book}", "--out", "{tmp}/x.csv", "--late-penalty", "0.1"], "need --due", 2),
])
def test_export_command_errors(graded, tmp_path, args, message, code):
    _, _, book = graded
    argv = [a.format(book=book, tmp=tmp_path) for a in args] + ["--course", str(FIXTURE)]
    result = CliRunner().invoke(export_command, argv)
    assert result.exit_code == code and message in result.output, result.output
    assert "Traceback" not in result.output and result.exception is None or \
        isinstance(result.exception, SystemExit)

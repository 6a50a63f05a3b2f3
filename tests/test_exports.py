"""Exports: CSV, Canvas's gradebook import and JSON, from a run and from the gradebook, on
the sample class graded for real (A1)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from dlgrade.cli.exports import export_command
from dlgrade.courses import registry
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
from dlgrade.policy.deadlines import Deadline, apply_class
from dlgrade.store.gradebook import Gradebook

A1 = registry.resolve("a1")
EXPECTED = {"ada": 28.0, "ben": 25.2, "cleo": 0.0, "dev": 0.0, "eve": 26.8,
            "fay": 24.4}  # README's table
DUE = datetime(2026, 11, 30, 23, 59, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def graded(root, tmp_path_factory):
    """The sample class graded on A1 (public and hidden cases) into a real gradebook."""
    book_path = tmp_path_factory.mktemp("book") / "gradebook.sqlite"
    students = discover(root / "samples" / "class")
    book = Gradebook(book_path)
    try:
        outcome = grade_class(students, A1, executor=LocalExecutor(), gradebook=book)
    finally:
        book.close()
    return outcome.results, students, book_path


def _rows(text):
    return list(csv.reader(io.StringIO(text)))


def test_csv_has_a_row_per_student_and_a_column_per_exercise(graded):
    results, _, _ = graded
    rows = _rows(to_csv(table_from_results(results, A1)))
    header, body = rows[0], rows[1:]
    ids = [e.id for e in A1[0].exercises]
    assert header == ["student", *ids, "total", "max_total"]
    by_student = {r[0]: dict(zip(header, r, strict=True)) for r in body}
    assert list(by_student) == sorted(EXPECTED)
    for student, total in EXPECTED.items():
        assert float(by_student[student]["total"]) == pytest.approx(total)
        assert by_student[student]["max_total"] == "28"
        assert sum(float(by_student[student][i]) for i in ids) == pytest.approx(total)
    assert by_student["ada"]["a1.sigmoid"] == "2"
    assert by_student["ben"]["a1.sigmoid"] == "0.8"  # backward from x: forward only


def test_the_gradebook_gives_the_same_table(graded):
    results, _, book = graded
    assert to_csv(table_from_gradebook(book)) == to_csv(table_from_results(results, A1))
    assert to_json(table_from_gradebook(book, ["a1"])) == to_json(table_from_results(results, A1))


def test_gradebook_errors(graded, tmp_path):
    _, _, book = graded
    with pytest.raises(ExportError, match="does not exist"):
        table_from_gradebook(tmp_path / "none.sqlite")
    assert not (tmp_path / "none.sqlite").exists()  # never created by a read
    with pytest.raises(ExportError, match="no grades for a2"):
        table_from_gradebook(book, ["a2"])
    junk = tmp_path / "junk.sqlite"
    junk.write_text("not a database at all, just text " * 20)
    with pytest.raises(ExportError, match="not a dlgrade gradebook"):
        table_from_gradebook(junk)


def test_ungraded_is_blank_not_zero(tmp_path):
    """A student graded on A1 only: the A2 cells are empty, the total counts what exists."""
    book = tmp_path / "g.sqlite"
    db = sqlite3.connect(book)
    db.executescript("CREATE TABLE grades (student TEXT, assignment TEXT, exercise TEXT, "
                     "score REAL, max_score REAL, status TEXT, feedback TEXT);")
    db.executemany("INSERT INTO grades VALUES (?, ?, ?, ?, ?, ?, ?)", [
        ("zoe", "a1", "a1.sigmoid", 2.0, 2.0, "passed", '{"title": "Sigmoid"}'),
        ("yan", "a2", "a2.mse", 1.5, 2.0, "partial", '{"title": "Mean squared error"}'),
        ("yan", "a9", "a9.extra", 1.0, 3.0, "partial", "not json"),  # an old course's row
    ])
    db.commit()
    db.close()
    table = table_from_gradebook(book)
    assert [c.id for c in table.columns] == ["a1.sigmoid", "a2.mse", "a9.extra"]
    rows = _rows(to_csv(table))
    assert rows[1] == ["yan", "", "1.5", "1", "2.5", "7"]
    assert rows[2] == ["zoe", "2", "", "", "2", "7"]
    data = to_json(table)
    assert set(data["students"]["zoe"]["assignments"]) == {"a1"}
    assert data["assignments"]["a9"]["exercises"]["a9.extra"] == {"title": "a9.extra",
                                                                  "max_score": 3.0}


CANVAS_EXPORT = (
    '"Student","ID","SIS User ID","SIS Login ID","Section","Quiz 1 (111)"\r\n'
    '"    Points Possible","","","","","10"\r\n'
    '"Lovelace, Ada","1001","S-1","ada","Lab A","9"\r\n'
    '"Bennet, Ben","1002","S-2","bbennet","Lab A","8"\r\n'
    '"Cleo Patra","1003","cleo","cp3","Lab B",""\r\n'
    '"Student, Test","9999","","","Lab A",""\r\n'
)


def test_canvas_csv(graded, tmp_path):
    results, _, _ = graded
    roster_path = tmp_path / "canvas.csv"
    roster_path.write_text(CANVAS_EXPORT)
    roster = read_roster(roster_path)
    assert [e.canvas_id for e in roster] == ["1001", "1002", "1003"]  # the test student skipped
    assert match_roster("ADA", roster).canvas_id == "1001"  # by SIS Login ID
    assert match_roster("cleo", roster).canvas_id == "1003"  # by SIS User ID
    assert match_roster("nobody", roster) is None
    text, unmatched = to_canvas(table_from_results(results, A1), roster,
                                {"a1": "Homework 1 (12345)"})
    rows = _rows(text)
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                       "Homework 1 (12345)"]
    assert rows[1] == [CANVAS_POINTS_LABEL, "", "", "", "", "28"]
    assert rows[2] == ["Lovelace, Ada", "1001", "S-1", "ada", "Lab A", "28"]
    assert rows[3][0] == "ben" and rows[3][3] == "ben" and rows[3][5] == "25.2"  # unmatched
    assert rows[4][:2] == ["Cleo Patra", "1003"]
    assert unmatched == ["ben", "dev", "eve", "fay"]
    assert "\r\n" in text  # as Canvas writes it
    _, warnings = render(table_from_results(results, A1), "canvas", roster=roster)
    assert "ben, dev, eve" in warnings[0]
    _, warnings = render(table_from_results(results, A1), "canvas")
    assert "--roster" in warnings[0]
    header = _rows(render(table_from_results(results, A1), "canvas")[0])[0]
    assert header[-1] == "a1 Activations"


def test_json(graded):
    results, _, _ = graded
    data = to_json(table_from_results(results, A1))
    assert data["assignments"]["a1"]["points"] == 28
    assert len(data["assignments"]["a1"]["exercises"]) == 12
    ben = data["students"]["ben"]
    assert ben["total"] == pytest.approx(25.2) and ben["max_total"] == 28 and ben["penalty"] == 0
    assert ben["exercises"]["a1.sigmoid"] == {"score": 0.8, "max_score": 2.0,
                                              "status": "partial"}
    assert ben["assignments"]["a1"] == {"score": pytest.approx(25.2), "max_score": 28}
    assert data["students"]["cleo"]["exercises"]["a1.relu"]["status"] == "syntax"


def test_late_penalties_show_raw_penalty_and_final(graded, tmp_path):
    results, students, _ = graded
    times = {("ben", None): DUE + timedelta(hours=30), ("ada", None): DUE - timedelta(hours=1)}
    # The sample folders have no timestamp.txt; a CSV time is used before file times.
    late = apply_class(results, students, A1, {"a1": Deadline(DUE, 0.1)}, times)
    out = tmp_path / "late.csv"
    assert export_results(results, A1, out, "csv", late=late) == []
    rows = {r[0]: r for r in _rows(out.read_text())}
    header = rows["student"]
    ben = dict(zip(header, rows["ben"], strict=True))
    assert ben["a1 days_late"] == "2" and ben["a1 penalty"] == "5.04"
    assert ben["raw_total"] == "25.2" and ben["total"] == "20.16"
    assert ben["a1 submitted_at"] == "2026-12-02T05:59:00+00:00"
    ada = dict(zip(header, rows["ada"], strict=True))
    assert ada["a1 days_late"] == "0" and ada["total"] == "28"
    canvas = tmp_path / "late-canvas.csv"
    export_results(results, A1, canvas, "canvas", late=late)
    assert {r[0]: r[-1] for r in _rows(canvas.read_text())}["ben"] == "20.16"
    data = json.loads(_json_export(results, late, tmp_path))
    entry = data["students"]["ben"]["assignments"]["a1"]
    assert entry["raw"] == pytest.approx(25.2) and entry["final"] == pytest.approx(20.16)
    assert entry["source"] == "instructor CSV" and entry["score"] == pytest.approx(20.16)


def _json_export(results, late, tmp_path):
    out = tmp_path / "late.json"
    export_results(results, A1, out, "json", late=late)
    return out.read_text()


def test_export_command(graded, tmp_path):
    _, _, book = graded
    runner = CliRunner()
    for fmt in ("csv", "canvas", "json"):
        out = tmp_path / f"grades.{fmt}"
        result = runner.invoke(export_command, [str(book), "--format", fmt, "--out", str(out),
                                                "--assignment", "a1"])
        assert result.exit_code == 0, result.output
        assert "6 students, 12 exercises" in result.output
    assert json.loads((tmp_path / "grades.json").read_text())["students"]["ada"]["total"] == 28
    assert _rows((tmp_path / "grades.canvas").read_text())[1][0] == CANVAS_POINTS_LABEL


def test_export_command_with_deadlines(graded, tmp_path, root):
    _, _, book = graded
    times = tmp_path / "times.csv"
    times.write_text("student,submitted_at\nben,2026-12-01T12:00Z\neve,2026-11-30T23:00Z\n")
    out = tmp_path / "late.csv"
    result = CliRunner().invoke(export_command, [
        str(book), "--out", str(out), "--due", "2026-11-30T23:59Z", "--late-penalty", "0.5",
        "--submitted-at", str(times), "--submissions", str(root / "samples" / "class")])
    assert result.exit_code == 0, result.output
    rows = {r[0]: r for r in _rows(out.read_text())}
    ben = dict(zip(rows["student"], rows["ben"], strict=True))
    eve = dict(zip(rows["student"], rows["eve"], strict=True))
    assert ben["a1 days_late"] == "1" and ben["total"] == "12.6"
    assert eve["a1 days_late"] == "0" and eve["total"] == "26.8"
    # Without a CSV row, a student's time comes from the files (days or years late here).
    ada = dict(zip(rows["student"], rows["ada"], strict=True))
    assert ada["a1 submitted_at"] != ""


@pytest.mark.parametrize("args, message, code", [
    (["{book}", "--out", "{tmp}/x.csv", "--assignment", "a9"], "unknown assignment", 2),
    (["{tmp}/none.sqlite", "--out", "{tmp}/x.csv"], "does not exist", 2),
    (["{book}", "--out", "{tmp}/x.csv", "--format", "canvas", "--column", "a1"],
     "expected ASSIGNMENT=NAME", 2),
    (["{book}", "--out", "{tmp}/x.csv", "--due", "2026-11-30T23:59"], "--submitted-at", 2),
    (["{book}", "--out", "{tmp}/x.csv", "--late-penalty", "0.1"], "need --due", 2),
])
def test_export_command_errors(graded, tmp_path, args, message, code):
    _, _, book = graded
    argv = [a.format(book=book, tmp=tmp_path) for a in args]
    result = CliRunner().invoke(export_command, argv)
    assert result.exit_code == code and message in result.output, result.output
    assert "Traceback" not in result.output and result.exception is None or \
        isinstance(result.exception, SystemExit)

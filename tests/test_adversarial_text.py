"""Adversarial suite, round 2 (issue 13, points 7 and 8): student text that attacks the
grader's outputs rather than its score.

* Point 7: a lone surrogate (``'\\ud800'``) in an exception message, a returned string or the
  printed output cannot be encoded as UTF-8; it once aborted the HTML report, the nbgrader
  export, the gradebook and a strict-UTF-8 ``--details`` (exit 2, nothing written).
* Point 8: terminal escape sequences in what a student printed or raised (clear screen, a
  carriage return that overwrites a score row, an OSC 52 clipboard write) reached the
  instructor's terminal raw through ``--details``, and the HTML pages and Gradescope's
  results.json; a student folder named like a spreadsheet formula (``=HYPERLINK(...)``,
  ``+1``) became a live formula in the CSV exports.

Student text is cleaned once, where it enters the grader (:mod:`dlgrade.sandbox.text`, used
by the sandbox's reader of replies and of the captured output). The CLI runs in a
subprocess with ``PYTHONIOENCODING=utf-8:strict``, as on a terminal that refuses what it
cannot encode. Each hostile student is graded beside an honest one, which keeps full marks.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from dlgrade import api
from dlgrade.integrations.gradescope import write_results
from dlgrade.outputs.exports import table_from_results, to_canvas, to_csv
from dlgrade.results import ExerciseResult, SubmissionResult
from dlgrade.sandbox.text import clean
from fixture_course import FIXTURE

SOLUTION = (FIXTURE / "solutions" / "ops.py").read_text()
CUBE_BACKWARD = "def cube_backward(dout, cache):\n    return 3.0 * cache**2 * dout\n"
SQ_LOSS = ("def sq_loss(pred, target, scale=1.0):\n    diff = pred - target\n"
           "    return scale * float(np.sum(diff**2)), 2.0 * scale * diff\n")

#: Lone surrogates everywhere a child's text comes from: a raised message, the bytes of an
#: encoded surrogate written to stdout, a print (refused or escaped by the child's stdout),
#: a warning's message, and returned strings and dict keys.
SURROGATE_RAISES = f'''
import os
import numpy as np


def cube_forward(x):
    raise ValueError('\\ud800 lone high surrogate')


{CUBE_BACKWARD}

def sq_loss(pred, target, scale=1.0):
    try:
        print('\\udcff lone low surrogate', flush=True)
    except UnicodeError:
        pass
    os.write(1, b'\\xed\\xa0\\x80 an encoded surrogate, \\xff a stray byte\\n')
    raise RuntimeError('\\udcff' * 3 + ' then half an emoji \\ud83d')
'''

SURROGATE_RETURNS = f'''
import warnings
import numpy as np


def cube_forward(x):
    warnings.warn('\\ud800 in a warning', UserWarning)
    return {{'\\ud800': '\\udfff'}}, x


{CUBE_BACKWARD}

def sq_loss(pred, target, scale=1.0):
    return '\\ud800' * 50, pred
'''

#: A fake score row put over the real one by a carriage return, clear screen and home, an
#: OSC 52 clipboard write, the 8-bit CSI, a bidi override, coloured text in a message.
FAKE_ROW = "honest    8.00 / 8   8.00 / 8  2/2"
ESCAPES = f'''
import numpy as np


def cube_forward(x):
    print('\\x1b[2J\\x1b[H', end='')
    print('\\r{FAKE_ROW}')
    print('\\x1b]52;c;ZWNobyBwd25lZA==\\x07 clipboard')
    print('\\x9b2J the C1 CSI, \\u202e reversed, \\x00 a NUL, \\x7f a DEL')
    return x**3, x


def cube_backward(dout, cache):
    raise ValueError('\\x1b[31mred\\x1b[0m\\r{FAKE_ROW}\\x07\\x1b]0;title\\x07')


{SQ_LOSS}'''

HOSTILE = {"mallory-surrogate": SURROGATE_RAISES, "mallory-returns": SURROGATE_RETURNS,
           "mallory-escapes": ESCAPES}
#: nbgrader is optional: its export is checked where it is installed.
NBGRADER = importlib.util.find_spec("nbgrader") is not None
#: Folder names a spreadsheet would run as formulas (a folder cannot hold a '/').
FORMULA_NAMES = ('=HYPERLINK("x")', "+1", "-2+3", "@SUM(A1)")
HONEST = ("honest", *FORMULA_NAMES)
RAW = ("\x1b", "\x07", "\x9b", "\r", "\u202e", "\x00", "\x7f")


def write_class(klass: Path) -> Path:
    for name, source in {**HOSTILE, **dict.fromkeys(HONEST, SOLUTION)}.items():
        (klass / name).mkdir(parents=True)
        (klass / name / "ops.py").write_text(source)
    return klass


def dlgrade(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, PYTHONIOENCODING="utf-8:strict", DLGRADE_COURSE=str(FIXTURE))
    return subprocess.run([sys.executable, "-m", "dlgrade", "grade", "hw1", "class", *args],
                          cwd=cwd, env=env, capture_output=True, timeout=240)


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess[bytes]]:
    """The class graded into every file output: HTML, JSON, CSV, Canvas CSV, gradebook,
    nbgrader's database."""
    work = tmp_path_factory.mktemp("text")
    write_class(work / "class")
    nbgrader = ["--nbgrader-db", f"sqlite:///{work / 'nbgrader.db'}"] if NBGRADER else []
    done = dlgrade("--html", "html", "--json", "scores.json", "--csv", "scores.csv",
                   "--canvas", "canvas.csv", "--gradebook", "book.sqlite", *nbgrader,
                   "--workers", "2", cwd=work)
    return work, done


@pytest.fixture(scope="module")
def details(graded) -> subprocess.CompletedProcess[bytes]:
    """``--details`` on the instructor's (strict UTF-8) terminal."""
    work, _ = graded
    return dlgrade("--details", "--no-gradebook", "--workers", "2", cwd=work)


def read_scores(work: Path) -> dict[str, dict[str, dict]]:
    return json.loads((work / "scores.json").read_text())


def strings(tree: object) -> list[str]:
    if isinstance(tree, str):
        return [tree]
    if isinstance(tree, dict):
        return [s for k, v in tree.items() for s in (k, *strings(v))]
    if isinstance(tree, list):
        return [s for v in tree for s in strings(v)]
    return []


def assert_no_raw_controls(text: str, where: str) -> None:
    found = sorted({repr(c) for c in RAW if c in text})
    assert not found, f"{where} holds raw {', '.join(found)}"
    assert not any("\ud800" <= c <= "\udfff" for c in text), f"{where} holds a lone surrogate"


def full_marks(scores: dict[str, dict], student: str) -> bool:
    return all(e["score"] == e["max_score"] for e in scores[student].values())


# ---------------------------------------------------------------- point 7: lone surrogates


def test_every_output_is_written_beside_lone_surrogates(graded):
    work, done = graded
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert b"internal error" not in done.stderr
    assert (work / "html" / "index.html").is_file()
    pages = {p.stem for p in (work / "html" / "students").glob("*.html")}
    assert {"mallory-surrogate", "mallory-returns", "honest"} <= pages
    if NBGRADER:
        assert b"nbgrader gradebook: " in done.stdout and (work / "nbgrader.db").is_file()
    assert b"Gradebook: book.sqlite" in done.stdout
    scores = read_scores(work)
    assert set(scores) == {*HOSTILE, *HONEST}
    assert all(full_marks(scores, s) for s in HONEST), scores["honest"]


def test_surrogates_become_replacement_characters(graded):
    work, _ = graded
    scores = read_scores(work)
    cube = scores["mallory-surrogate"]["hw1.cube"]
    assert cube["score"] == 0 and "ValueError: \ufffd lone high surrogate" in cube["message"]
    sq = scores["mallory-surrogate"]["hw1.sq"]
    assert sq["score"] == 0 and "RuntimeError: \ufffd\ufffd\ufffd then half" in sq["message"]
    assert scores["mallory-returns"]["hw1.cube"]["score"] < 5
    for student in HOSTILE:
        assert_no_raw_controls("".join(strings(scores[student])), f"{student}'s JSON")
    page = (work / "html" / "students" / "mallory-surrogate.html").read_text()
    assert "\ufffd lone high surrogate" in page


def test_details_on_a_strict_utf8_terminal(details):
    assert details.returncode == 0, details.stderr.decode(errors="replace")
    text = details.stdout.decode("utf-8")  # strict: the terminal got only real UTF-8
    for student in (*HOSTILE, *HONEST):
        assert f"===== {student} =====" in text
    honest = text.split("===== honest =====")[1].split("=====")[0]
    assert "Total: 8.00 / 8" in honest
    surrogate = text.split("===== mallory-surrogate =====")[1].split("=====")[0]
    assert "\ufffd lone high surrogate" in surrogate
    assert "\ufffd a stray byte" in surrogate  # what it printed, shown


# ---------------------------------------------------------------- point 8: escapes


def test_details_shows_escape_sequences_and_runs_none(details):
    text = details.stdout.decode("utf-8")
    assert_no_raw_controls(text, "--details")
    escapes = text.split("===== mallory-escapes =====")[1].split("=====")[0]
    # visible, so the instructor sees what the student tried
    for shown in ("\\x1b[2J\\x1b[H", "\\x1b]52;c;ZWNobyBwd25lZA==\\x07", "\\x9b2J",
                  "\\u202e reversed", "\\x00 a NUL", "\\x7f a DEL", f"\\r{FAKE_ROW}",
                  "\\x1b[31mred\\x1b[0m"):
        assert shown in escapes, shown
    # the fake row never stands at the start of a line, where the class table's rows are
    assert not any(line.startswith(FAKE_ROW) for line in text.splitlines())


def test_html_and_json_hold_no_raw_escapes(graded):
    work, _ = graded
    for page in [work / "html" / "index.html", *(work / "html" / "students").glob("*.html")]:
        assert_no_raw_controls(page.read_text(), page.name)
    scores = read_scores(work)
    assert scores["mallory-escapes"]["hw1.sq"]["score"] == 3  # its right loss is kept
    assert_no_raw_controls("".join(strings(scores["mallory-escapes"])), "JSON")


@pytest.mark.parametrize("student", ["mallory-escapes", "mallory-surrogate"])
def test_gradescope_results_hold_no_raw_escapes(student, tmp_path):
    folder = write_class(tmp_path / "class") / student
    out = tmp_path / "results.json"
    data = write_results(folder, out, "hw1", course_path=FIXTURE)
    assert json.loads(out.read_text()) == data
    assert data["score"] < 8
    assert_no_raw_controls("".join(strings(data)), "results.json")
    honest = write_results(tmp_path / "class" / "honest", tmp_path / "honest.json", "hw1",
                           course_path=FIXTURE)
    assert honest["score"] == 8


# ---------------------------------------------------------------- point 8: CSV formulas


def csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text())))


def test_csv_cells_never_start_a_formula(graded):
    work, _ = graded
    names = {row[0] for row in csv_rows(work / "scores.csv")[1:]}
    assert {"'" + n for n in FORMULA_NAMES} <= names and "honest" in names
    canvas = csv_rows(work / "canvas.csv")[2:]  # after the header and the points row
    for row in canvas:
        assert not row[0].startswith(("=", "+", "-", "@")), row
        assert not row[3].startswith(("=", "+", "-", "@")), row  # SIS Login ID
    assert {"'" + n for n in FORMULA_NAMES} <= {row[0] for row in canvas}
    scores = read_scores(work)  # the JSON keeps the real names, with full marks
    assert all(full_marks(scores, n) for n in FORMULA_NAMES)


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x","click")', "+1", "-1", "@cmd",
                                  "\t=1"])
def test_a_formula_name_is_quoted_in_both_csv_exports(name):
    result = SubmissionResult(name, "", [ExerciseResult("hw1.cube", "Cube", 5.0, 5.0, "passed")])
    honest = SubmissionResult("honest", "", [ExerciseResult("hw1.cube", "Cube", 5.0, 5.0,
                                                            "passed")])
    (hw1,) = api.load_course(FIXTURE).resolve("hw1")
    table = table_from_results([result, honest], [hw1])
    rows = {r[0]: r for r in csv.reader(io.StringIO(to_csv(table), newline=""))}
    assert rows["'" + name][1] == "5" and "honest" in rows
    canvas = {r[0]: r for r in csv.reader(io.StringIO(to_canvas(table)[0], newline=""))}
    assert canvas["'" + name][3] == "'" + name and canvas["honest"][3] == "honest"


def test_a_carriage_return_in_a_name_forges_no_csv_row():
    """The CSV's rows end in a bare newline, so the writer leaves a carriage return
    unquoted; a spreadsheet would start a new row there (``victim`` with 5 points)."""
    forged = SubmissionResult("mallory\rvictim", "",
                              [ExerciseResult("hw1.cube", "Cube", 0.0, 5.0, "failed")])
    (hw1,) = api.load_course(FIXTURE).resolve("hw1")
    exported = to_csv(table_from_results([forged], [hw1]))
    rows = list(csv.reader(io.StringIO(exported, newline="")))
    assert [r[0] for r in rows[1:]] == ["mallory\\rvictim"] and "\r" not in exported


# ---------------------------------------------------------------- the one cleaner


@pytest.mark.parametrize(("raw", "shown"), [
    ("\x1b[2J", "\\x1b[2J"), ("a\rb", "a\\rb"), ("\x1b]52;c;aGk=\x07", "\\x1b]52;c;aGk=\\x07"),
    ("\ud800x\udcff", "\ufffdx\ufffd"), ("\x9b\u202e\x00\x7f", "\\x9b\\u202e\\x00\\x7f"),
    ("line\n\tindented", "line\n\tindented"), ("héllo 🙂", "héllo 🙂"),
])
def test_clean(raw, shown):
    assert clean(raw) == shown
    assert clean(shown) == shown  # cleaning twice changes nothing more


# ---------------------------------------------------------------- hostile folder names


def test_hostile_folder_names_are_shown_cleaned_and_never_collide(tmp_path):
    """Student names are folder names a student may choose: an undecodable byte (a lone
    surrogate once decoded), a clear-screen escape, a carriage return. They are graded,
    every output is written on a strict UTF-8 terminal, no raw control character reaches
    any of them, and a folder whose name reads like another's once cleaned is left out
    with a warning instead of sharing that student's grade."""
    klass = tmp_path / "class"
    names = [b"eve\xff", b"mal\x1b[2Jlory", b"row\rhonest 8.00", b"mal\\x1b[2Jlory"]
    for raw in names:
        folder = os.path.join(os.fsencode(klass), raw)
        os.makedirs(folder)
        with open(os.path.join(folder, b"ops.py"), "w") as f:
            f.write(SOLUTION)
    (klass / "honest").mkdir()
    (klass / "honest" / "ops.py").write_text(SOLUTION)
    done = dlgrade("--details", "--html", "html", "--json", "scores.json", "--csv",
                   "scores.csv", "--no-gradebook", cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    out, err = done.stdout.decode(), done.stderr.decode()
    for text, where in ((out, "--details"), (err, "stderr"),
                        ((tmp_path / "scores.csv").read_text(), "CSV"),
                        ((tmp_path / "html" / "index.html").read_text(), "HTML")):
        assert_no_raw_controls(text, where)
    scores = read_scores(tmp_path)
    assert set(scores) == {"eve\ufffd", "mal\\x1b[2Jlory", "row\\rhonest 8.00", "honest"}
    assert all(full_marks(scores, s) for s in scores)
    assert "reads as 'mal\\\\x1b[2Jlory', another student's" in err

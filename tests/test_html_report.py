"""HTML reports: a page per student and a class overview, from real grading results on the
fixture course (tests/fixtures/course)."""

from __future__ import annotations

import html.parser
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from dlgrade import api
from dlgrade.cli import main
from dlgrade.grading.grader import CheckResult, ExerciseResult, SubmissionResult
from dlgrade.outputs.html_report import (
    class_page,
    common_mistakes,
    student_page,
    student_page_names,
    write_reports,
)


class _Parser(html.parser.HTMLParser):
    """Collects tags, links and text, and fails on tags closed out of order."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.links: list[str] = []
        self.text: list[str] = []
        self.tags: list[str] = []

    VOID = {"meta", "br", "img", "line", "rect", "input", "hr"}

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "a":
            self.links += [v for k, v in attrs if k == "href"]
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def _parse(text: str) -> _Parser:
    parser = _Parser()
    parser.feed(text)
    assert parser.stack == [], parser.stack
    return parser


FIXTURE = Path(__file__).resolve().parent / "fixtures" / "course"


@pytest.fixture(autouse=True)
def hw1():
    """The fixture course is the one in use; its hw1, as the list the reports take."""
    return [api.load_course(FIXTURE).assignment("hw1")]


def _result(student: str, status: str, message: str, hint: str = "") -> SubmissionResult:
    cube = api.load_course(FIXTURE).exercise("hw1.cube")
    checks = [CheckResult("forward", 0.8 if status != "error" else 0.0, 0.8, 1, 1),
              CheckResult("backward", 0.0, 0.6, 0, 1, message)]
    score = sum(c.score for c in checks)
    return SubmissionResult(student, "h", [
        ExerciseResult(cube.id, cube.title, score, cube.points, status, message, hint, checks)])


def test_student_page_escapes_everything_and_shows_checks_and_hint(hw1):
    evil = '<script>alert("x")</script>'
    result = _result(f"mallory{evil}", "partial", f"backward: dx wrong {evil}",
                     hint="Use out, not x.")
    result.output = evil
    page = student_page(result, hw1)
    assert "<script>" not in page and "&lt;script&gt;" in page
    parsed = _parse(page)
    text = " ".join(parsed.text)
    assert "Use out, not x." in text and "backward" in text
    assert f"0.80 / {hw1[0].exercises[0].points:g}" in text
    assert "partly right" in text


def test_file_names_are_safe_and_unique():
    names = student_page_names(["ann", "Ann", "../../etc/passwd", "", "a b"])
    assert len(set(names.values())) == 5
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+\.html", n) for n in names.values())
    assert not any(n.startswith(".") for n in names.values())


def test_common_mistakes_are_named_once_per_student():
    named = "backward: dx ... This matches a common mistake: the backward drops the factor 3."
    results = [_result("a", "partial", named), _result("b", "partial", named),
               _result("c", "error", "cube_forward raised ValueError")]
    mistakes = dict(common_mistakes(results))
    assert mistakes[("hw1.cube", "the backward drops the factor 3")] == 2
    assert mistakes[("hw1.cube", "raised an error")] == 1


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    out = tmp_path_factory.mktemp("html")
    result = CliRunner().invoke(main, ["grade", "hw1", str(FIXTURE / "students"),
                                       "--course", str(FIXTURE), "--no-gradebook",
                                       "--html", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_grade_writes_an_overview_with_plots_and_a_page_per_student(reports):
    index = (reports / "index.html").read_text()
    parsed = _parse(index)
    assert parsed.tags.count("svg") == 2  # the distribution and the pass rates
    pages = {p.name for p in (reports / "students").iterdir()}
    assert pages == {"broken.html", "late.html", "right.html", "wrong.html"}
    assert {f"students/{p}" for p in pages} <= set(parsed.links)
    text = " ".join(parsed.text)
    # The most common mistakes name them: wrong's cube backward, broken's file once (both of
    # its exercises fail on the one syntax error).
    assert "the backward drops the factor 3" in text
    assert "hw1 (the whole file)" in text and text.count("syntax error") == 1


def test_student_pages_never_show_hidden_expected_values(hw1, tmp_path):
    """A cube that is right on the public cases and wrong on the hidden ones: its page
    says where it fails, never with the expected numbers."""
    from dlgrade.grading.grader import grade_submission
    from dlgrade.load.submission import Submission

    public = hw1[0].exercises[0].public_shapes[0]
    path = tmp_path / "sly" / "ops.py"
    path.parent.mkdir()
    path.write_text("def cube_forward(x):\n"
                    f"    out = x**3 * (1.5 if x.shape != {public} else 1.0)\n"
                    "    return out, x\n\n"
                    "def cube_backward(dout, cache):\n"
                    "    return 3 * cache**2 * dout\n")
    result = grade_submission(Submission("sly", path.parent), hw1, hidden=True,
                              only={"hw1.cube"})
    assert 0 < result.exercises[0].score < result.exercises[0].max_score
    page = student_page(result, hw1)
    _parse(page)
    hidden = [line for line in page.split("\n") if "hidden case" in line]
    assert hidden, page
    for line in hidden:
        assert "expected" not in line and "yours" not in line, line


def test_class_page_with_no_results_is_still_a_page(hw1):
    _parse(class_page([], hw1))


def test_write_reports_returns_the_index(hw1, tmp_path):
    index = write_reports([_result("ann", "passed", "All checks passed.")], hw1, tmp_path)
    assert index == tmp_path / "index.html" and (tmp_path / "students" / "ann.html").is_file()

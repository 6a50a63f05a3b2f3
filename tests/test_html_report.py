"""HTML reports: a page per student and a class overview, from real grading results."""

from __future__ import annotations

import html.parser
import re

import pytest
from click.testing import CliRunner
from dlgrade.cli import main
from dlgrade.courses import registry
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


def _result(student: str, status: str, message: str, hint: str = "") -> SubmissionResult:
    checks = [CheckResult("forward", 0.8 if status != "error" else 0.0, 0.8, 1, 1),
              CheckResult("backward", 0.0, 0.6, 0, 1, message)]
    score = sum(c.score for c in checks)
    return SubmissionResult(student, "h", [
        ExerciseResult("a1.sigmoid", "Sigmoid", score, 2.0, status, message, hint, checks)])


A1 = [registry.assignment("a1")]


def test_student_page_escapes_everything_and_shows_checks_and_hint():
    evil = '<script>alert("x")</script>'
    result = _result(f"mallory{evil}", "partial", f"backward: dx wrong {evil}",
                     hint="Use out, not x.")
    result.output = evil
    page = student_page(result, A1)
    assert "<script>" not in page and "&lt;script&gt;" in page
    parsed = _parse(page)
    text = " ".join(parsed.text)
    assert "Use out, not x." in text and "backward" in text and "0.80 / 2" in text
    assert "partly right" in text


def test_file_names_are_safe_and_unique():
    names = student_page_names(["ann", "Ann", "../../etc/passwd", "", "a b"])
    assert len(set(names.values())) == 5
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+\.html", n) for n in names.values())
    assert not any(n.startswith(".") for n in names.values())


def test_common_mistakes_are_named_once_per_student():
    named = "backward: dx ... This matches a common mistake: sigmoid_backward uses x."
    results = [_result("a", "partial", named), _result("b", "partial", named),
               _result("c", "error", "sigmoid_forward raised ValueError")]
    mistakes = dict(common_mistakes(results))
    assert mistakes[("a1.sigmoid", "sigmoid_backward uses x")] == 2
    assert mistakes[("a1.sigmoid", "raised an error")] == 1


@pytest.fixture(scope="module")
def reports(root, tmp_path_factory):
    out = tmp_path_factory.mktemp("html")
    result = CliRunner().invoke(main, ["grade", "a1,a2", str(root / "samples" / "class"),
                                       "--no-gradebook", "--html", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_grade_writes_an_overview_with_plots_and_a_page_per_student(reports):
    index = (reports / "index.html").read_text()
    parsed = _parse(index)
    assert parsed.tags.count("svg") == 2  # the distribution and the pass rates
    pages = {p.name for p in (reports / "students").iterdir()}
    assert pages == {"ada.html", "ben.html", "cleo.html", "dev.html", "eve.html",
                     "fay.html"}
    assert {f"students/{p}" for p in pages} <= set(parsed.links)
    text = " ".join(parsed.text)
    # The most common mistakes name them: ben's sigmoid backward, cleo's broken file once.
    assert "sigmoid_backward computes out * (1 - out) with x" in text
    assert "a1 (the whole file)" in text and text.count("syntax error") == 1


def test_student_pages_never_show_hidden_expected_values(tmp_path):
    """A relu that is right on the public cases and wrong on the hidden ones: its page
    says where it fails, never with the expected numbers."""
    from dlgrade.grading.grader import grade_submission
    from dlgrade.load.submission import Submission

    path = tmp_path / "sly" / "activations.py"
    path.parent.mkdir()
    path.write_text("import numpy as np\n\n"
                    "def relu_forward(x):\n"
                    "    out = np.maximum(x, 0) * (1.5 if x.shape != (4, 5) else 1.0)\n"
                    "    return out, x\n\n"
                    "def relu_backward(dout, cache):\n"
                    "    return dout * (cache > 0)\n")
    result = grade_submission(Submission("sly", path.parent), A1, hidden=True,
                              only={"a1.relu"})
    page = student_page(result, A1)
    _parse(page)
    hidden = [line for line in page.split("\n") if "hidden case" in line]
    assert hidden, page
    for line in hidden:
        assert "expected" not in line and "yours" not in line, line


def test_class_page_with_no_results_is_still_a_page():
    _parse(class_page([], A1))


def test_write_reports_returns_the_index(tmp_path):
    index = write_reports([_result("ann", "passed", "All checks passed.")], A1, tmp_path)
    assert index == tmp_path / "index.html" and (tmp_path / "students" / "ann.html").is_file()

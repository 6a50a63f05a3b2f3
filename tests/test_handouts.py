"""Outdated handouts: templates, kits and notebooks carry the handout they were built from,
and a file written against an older one is said to be so (issue 15 point 4)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from dlgrade import api
from dlgrade.cli import main
from dlgrade.courses import course as courses
from dlgrade.courses import handouts, kit, templates
from dlgrade.grading.grader import grade_submission
from dlgrade.integrations.nbgrader_source import build_notebook
from dlgrade.load.submission import Submission
from fixture_course import FIXTURE, copy_fixture

RIGHT = (FIXTURE / "students" / "right" / "ops.py").read_text()
OLD_SIGNATURE = "def sq_loss(pred, target, scale=1.0):"
NEW_SIGNATURE = 'def sq_loss(pred, target, scale=1.0, reduction="sum"):'


def _course(folder: Path, version: str, edit=None) -> Path:
    """A copy of the fixture course at ``version``, its reference edited by ``edit`` and
    its templates rebuilt (a new folder each time: a course loads once per process)."""
    root = copy_fixture(folder)
    toml = root / "course.toml"
    toml.write_text(toml.read_text() + f'version = "{version}"\n')
    if edit is not None:
        ops = root / "solutions" / "ops.py"
        ops.write_text(edit(ops.read_text()))
    loaded = api.load_course(root)
    templates.write(templates.plan(loaded))
    return root


def _stamp_of(root: Path) -> str:
    return (root / "templates" / "ops.py").read_text().splitlines()[0]


def _student(folder: Path, stamp: str | None, code: str = RIGHT) -> Path:
    folder.mkdir(parents=True)
    (folder / "ops.py").write_text((f"{stamp}\n" if stamp else "") + code)
    return folder


@pytest.fixture
def versions(tmp_path):
    """Version 1 of the course, and version 2 where sq_loss gained an argument."""
    v1 = _course(tmp_path / "v1", "1")
    v2 = _course(tmp_path / "v2", "2", lambda text: text.replace(OLD_SIGNATURE, NEW_SIGNATURE))
    return v1, v2


def test_templates_start_with_their_handout():
    text = (FIXTURE / "templates" / "ops.py").read_text()
    first = text.splitlines()[0]
    assert first.startswith(handouts.STAMP_PREFIX + "ops.py, interface ")
    handout = templates.current_handout(api.load_course(FIXTURE), "ops")
    assert first == handout.stamp()
    assert handout.signatures["sq_loss"] == "sq_loss(pred, target, scale=1.0)"


def test_the_interface_ignores_solutions_and_follows_signatures_and_docstrings(tmp_path):
    base = _stamp_of(_course(tmp_path / "a", "1"))
    body = _stamp_of(_course(tmp_path / "b", "1", lambda t: t.replace(
        "return 3.0 * x**2 * dout", "return 3 * x * x * dout")))
    assert body == base  # a solution's body is not the handout
    doc = _stamp_of(_course(tmp_path / "c", "1", lambda t: t.replace(
        '"""dx = 3 x ** 2 * dout."""', '"""dx = 3 x^2 dout (elementwise)."""')))
    assert doc != base
    assert _stamp_of(_course(tmp_path / "d", "1", lambda t: t.replace(
        OLD_SIGNATURE, NEW_SIGNATURE))) != base


def test_check_says_up_front_which_signature_changed(versions, tmp_path):
    v1, v2 = versions
    student = _student(tmp_path / "s", _stamp_of(v1))
    result = CliRunner().invoke(main, ["check", str(student / "ops.py"), "--course", str(v2),
                                       "-a", "hw1"])
    first = result.output.splitlines()[1]  # after "Checking ... (public cases)..."
    assert first.startswith("Note: ops.py was written against an older handout (version 1; "
                            "the course's is now version 2)."), result.output
    assert ("sq_loss(pred, target, scale=1.0) is now sq_loss(pred, target, scale=1.0, "
            "reduction='sum')") in " ".join(result.output.split())
    # The same file against its own version, or without a stamp: nothing is said.
    for course, stamp in ((v1, _stamp_of(v1)), (v2, None)):
        quiet = _student(tmp_path / f"q{stamp is None}", stamp)
        result = CliRunner().invoke(main, ["check", str(quiet / "ops.py"), "--course",
                                           str(course), "-a", "hw1"])
        assert "handout" not in result.output, result.output


def test_a_docstring_change_is_said_as_such(tmp_path):
    v1 = _course(tmp_path / "v1", "1")
    v2 = _course(tmp_path / "v2", "2", lambda t: t.replace(
        '"""dx = 3 x ** 2 * dout."""', '"""dx = 3 x^2 dout (elementwise)."""'))
    courses.use(api.load_course(v2))
    result = grade_submission(Submission("s", _student(tmp_path / "s", _stamp_of(v1))),
                              api.load_course(v2).resolve("hw1"), hidden=False)
    assert len(result.notices) == 1
    assert "docstrings (the formulas, shapes or conventions) changed" in result.notices[0]
    assert result.score == result.max_score  # the notice never costs points


def test_grade_lists_students_on_an_older_handout(versions, tmp_path):
    v1, v2 = versions
    klass = tmp_path / "class"
    _student(klass / "old", _stamp_of(v1))
    _student(klass / "current", _stamp_of(v2))
    _student(klass / "nostamp", None)
    html = tmp_path / "html"
    book = tmp_path / "book.sqlite"
    args = ["grade", "hw1", str(klass), "--course", str(v2), "--gradebook", str(book),
            "--html", str(html)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    section = result.output.split("Written against an older handout (1;", 1)[1]
    assert section.splitlines()[1].strip() == "old: ops.py"
    assert "current:" not in section and "nostamp:" not in section
    assert "(older handout)" in (html / "index.html").read_text()
    assert "written against an older handout" in (html / "students" / "old.html").read_text()
    # A re-run takes the grades from the gradebook and still says so.
    again = CliRunner().invoke(main, args)
    assert "unchanged since their last grading" in again.output
    assert "Written against an older handout (1;" in again.output


def test_a_kit_carries_its_handouts(versions, tmp_path):
    v1, v2 = versions
    kits = {}
    for name, root in (("k1", v1), ("k2", v2)):
        kit.write(api.load_course(root), api.load_course(root).resolve("hw1"), tmp_path / name)
        kits[name] = tmp_path / name
    assert (kits["k1"] / "ops.py").read_text().splitlines()[0] == _stamp_of(v1)
    data = json.loads((kits["k2"] / "dlgrade-kit" / "kit.json").read_text())
    assert data["assignments"][0]["handouts"]["ops"]["version"] == "2"
    mine = kits["k1"] / "ops.py"
    mine.write_text(mine.read_text().split("\n", 1)[0] + "\n" + RIGHT)
    for name, said in (("k1", False), ("k2", True)):
        shutil.copy(mine, kits[name] / "mine.py")
        result = CliRunner().invoke(main, ["check", str(kits[name] / "mine.py"), "--course",
                                           str(kits[name])])
        assert ("older handout" in result.output) is said, result.output


def test_a_source_notebook_carries_the_handout_and_a_notebook_is_told(versions, tmp_path):
    v1, v2 = versions
    courses.use(api.load_course(v1))
    notebook = build_notebook(api.load_course(v1).resolve("hw1")[0])
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    stamped = [c for c in code if "".join(c["source"]).startswith(handouts.STAMP_PREFIX)]
    assert stamped == code[:1]  # the module's first code cell, its imports
    assert "".join(code[0]["source"]).splitlines()[0] == _stamp_of(v1)
    # Filled in: the right code in a cell after it.
    cells = [code[0], {"cell_type": "code", "metadata": {}, "outputs": [],
                       "execution_count": None, "source": RIGHT}]
    path = tmp_path / "hw.ipynb"
    path.write_text(json.dumps({**notebook, "cells": cells}))
    courses.use(api.load_course(v2))
    result = grade_submission(Submission("nb", path), api.load_course(v2).resolve("hw1"),
                              hidden=False)
    assert len(result.notices) == 1 and "ops.py was written against" in result.notices[0]


@pytest.mark.parametrize("head", [
    "# dlgrade handout: ops.py, interface 000000000000 (keep this line)",  # forged
    "# dlgrade handout: ops.py, version " + "9" * 40 + ", interface abcdefabcdef",
    "# dlgrade handout: other.py, interface abcdefabcdef",  # another module's: ignored
    "# dlgrade handout: ops.py, interface 12",  # malformed: no stamp
])
def test_odd_stamps_never_cost_points_or_crash(versions, tmp_path, head):
    _, v2 = versions
    courses.use(api.load_course(v2))
    broken = _student(tmp_path / "broken", head, "def sq_loss(:\n")  # does not parse
    right = _student(tmp_path / "right", head)
    hw1 = api.load_course(v2).resolve("hw1")
    for folder in (broken, right):
        result = grade_submission(Submission("s", folder), hw1, hidden=False)
        forged = "interface 12\n" not in head + "\n" and "other.py" not in head
        assert bool(result.notices) is forged
        for notice in result.notices:
            assert str(tmp_path) not in notice and "Traceback" not in notice
    assert grade_submission(Submission("s", right), hw1, hidden=False).score == hw1[0].points


def test_a_version_that_cannot_be_a_stamp_is_refused(tmp_path):
    root = copy_fixture(tmp_path / "c")
    toml = root / "course.toml"
    toml.write_text(toml.read_text() + 'version = "1, interface 000000000000"\n')
    with pytest.raises(courses.CourseError, match="version must be at most 40"):
        api.load_course(root)


def test_a_huge_hostile_file_is_never_parsed_whole(versions):
    """A forged stamp over 1 MiB of code (20,000 functions, an unclosed signature, deep
    nesting): the notice is given, from the def lines alone, without parsing the file (a
    whole parse took 270 MB of the grading process)."""
    import tracemalloc

    _, v2 = versions
    current = templates.current_handout(api.load_course(v2), "ops")
    body = "".join(f"def f{i}(a, b=1, *c, **e):\n    return a + b * {i}\n"
                   for i in range(20000))
    text = ("# dlgrade handout: ops.py, interface 000000000000\n" + body
            + "def cube_forward(x, (((:\n" + "(" * 5000 + "\n"
            + "def sq_loss(pred, target):\n    pass\n")
    assert len(text) > 1 << 20
    tracemalloc.start()
    try:
        said = handouts.outdated(current, text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert said is not None and "sq_loss(pred, target) is now sq_loss(pred, target, " \
        "scale=1.0, reduction='sum')" in said
    assert peak < 8 << 20, peak


def test_a_method_is_read_from_its_own_class_and_a_function_from_the_top_level():
    """The notice compares each signature with the student's own definition of it: a
    helper class's method or a nested class's of the same name, or a top-level function
    named like a method, is not it."""
    current = handouts.Handout("autograd.py", "2", "111111111111", {
        "Value.__add__": "__add__(self, other)", "Value.backward": "backward(self)",
        "relu": "relu(x)"})
    text = """# dlgrade handout: autograd.py, version 1, interface 000000000000 (keep this line)
class Helper:
    def __add__(self, other, scale):
        pass


def backward(grad, extra):
    pass


class Value:
    \"\"\"A scalar.

with a line at the margin inside the docstring\"\"\"

    def __add__(self, other):
        return self

    class Tape:
        def backward(self, node):
            pass

    def backward(self):
        pass


def relu(x, inplace):
    pass
"""
    said = handouts.outdated(current, text)
    assert "relu(x, inplace) is now relu(x)" in said
    assert "__add__" not in said and "backward" not in said


def test_a_class_s_block_ends_where_its_indentation_does():
    current = handouts.Handout("m.py", "", "111111111111", {"A.f": "f(self)"})
    text = ("# dlgrade handout: m.py, interface 000000000000\n"
            "class A:\n    x = 1\n\ndef f(self, y):\n    pass\n")
    said = handouts.outdated(current, text)
    assert "new in the current handout" not in said  # A has no f of its own: not compared
    assert "f(self, y)" not in said

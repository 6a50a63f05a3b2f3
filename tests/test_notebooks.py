"""Notebook submissions, nbgrader's layout, nbgrader source notebooks and gradebooks.

The nbgrader tests run the real nbgrader (``generate_assignment``; ``autograde`` too, slow)
and are skipped where it is not installed.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from dlgrade.cli.nbgrader import nbgrader_source
from dlgrade.courses import registry
from dlgrade.grading.classroom import LocalExecutor, grade_class, make_task, run_task
from dlgrade.grading.grader import grade_submission
from dlgrade.integrations.nbgrader_source import build_notebook, grade_id
from dlgrade.load.notebooks import (
    MAX_NOTEBOOK_BYTES,
    NotebookError,
    convert_cell,
    extract,
    relocate,
)
from dlgrade.load.submission import Submission, SubmissionError, discover, from_path

ROOT = Path(__file__).resolve().parent.parent
A1 = registry.assignment("a1")


def notebook(*cells: str | dict, language: str = "python") -> dict:
    """A notebook whose string cells are code cells (dicts are taken as they are)."""
    made = [c if isinstance(c, dict) else {"cell_type": "code", "metadata": {}, "outputs": [],
                                            "execution_count": None, "source": c}
            for c in cells]
    return {"cells": made, "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "x", "display_name": "x",
                                        "language": language}}}


def write(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def reference_notebook(path: Path, *extra: str) -> Path:
    """A notebook holding reference/activations.py (split in two cells) after ``extra``."""
    source = (ROOT / "reference" / "activations.py").read_text()
    cut = source.index("def tanh_forward")
    return write(path, notebook(*extra, {"cell_type": "markdown", "metadata": {},
                                         "source": "# A1"}, source[:cut], source[cut:]))


# ---------------------------------------------------------------- extraction policy


def test_magics_and_shell_escapes_are_commented_out_and_reported() -> None:
    cell = ("%matplotlib inline\n!pip install torch\nfiles = !ls\nnp.sum?\n"
            "for i in range(2):\n    !echo hi\nx = 1\n")
    code, notes = convert_cell(cell, 3)
    compile(code, "cell", "exec")  # plain Python now
    assert "x = 1" in code and "    pass  # !echo hi" in code
    assert len(notes) == 5 and notes[0] == "code cell 3, line 1: %matplotlib inline"
    assert any("!pip install torch" in n for n in notes)


def test_valid_python_is_never_touched() -> None:
    cell = 'def f():\n    """100%\n%s of it"""\n    return get_ipython()\ny = (1\n%2)\n'
    assert convert_cell(cell, 1) == (cell, [])


def test_percent_inside_a_string_is_kept_when_the_cell_has_a_magic() -> None:
    cell = '%load_ext autoreload\ns = """\n%d items\n!not a shell\n"""\n'
    code, notes = convert_cell(cell, 1)
    assert "\n%d items\n!not a shell\n" in code and len(notes) == 1


def test_cell_magics() -> None:
    code, notes = convert_cell("%%time\ndef f(x):\n    return x\n", 2)
    assert "def f(x):" in code and not code.startswith("%%") and len(notes) == 1
    compile(code, "cell", "exec")
    code, notes = convert_cell("%%bash\nrm -rf /\n", 4)
    assert all(line.startswith("#") for line in code.splitlines())
    assert notes == ["code cell 4: cell magic %%bash: the whole cell"]


def test_backslash_continued_magic() -> None:
    code, notes = convert_cell("!pip install \\\n  numpy\nz = 2\n", 1)
    assert code.splitlines()[1].lstrip().startswith("#") and "z = 2" in code
    compile(code, "cell", "exec")


def test_extract_keeps_code_cells_in_order_and_skips_test_cells() -> None:
    nb = notebook("a = 1", {"cell_type": "markdown", "metadata": {}, "source": ["b = 2"]},
                  {"cell_type": "code", "metadata": {"nbgrader": {"grade": True,
                                                                  "solution": False}},
                   "source": "assert a == 2", "outputs": []},
                  "# dlgrade grade cell: a1.relu\ncheck_exercise('a1.relu')",
                  {"cell_type": "code", "metadata": {}, "source": ["c = ", "3\n"]})
    extracted = extract(json.dumps(nb).encode())
    assert "a = 1" in extracted.code and "c = 3" in extracted.code
    assert "b = 2" not in extracted.code and "assert" not in extracted.code
    assert "check_exercise" not in extracted.code
    assert extracted.code.index("a = 1") < extracted.code.index("c = 3")
    assert extracted.notes == () and "print(" not in extracted.code


def test_nbformat3_notebooks_are_read() -> None:
    nb = {"nbformat": 3, "worksheets": [{"cells": [{"cell_type": "code", "input": "q = 5"}]}]}
    assert "q = 5" in extract(json.dumps(nb).encode()).code


@pytest.mark.parametrize("data, message", [
    (b"{not json", "not JSON"),
    (b"[1, 2]", "no cells"),
    (b'{"cells": 3}', "no cells"),
    (json.dumps(notebook("x <- 1", language="R")).encode(), "a r notebook"),
    (b" " * (MAX_NOTEBOOK_BYTES + 1), "larger than"),
    (json.dumps(notebook("x = 1\n" * 200_000)).encode(), "more than"),
    (b"[" * 200_000, "not JSON"),
], ids=["not-json", "a-list", "cells-not-a-list", "r-kernel", "too-big", "too-much-code",
        "nesting-bomb"])
def test_bad_notebooks_are_clear_errors(data: bytes, message: str) -> None:
    with pytest.raises(NotebookError, match=message):
        extract(data, "hw.ipynb")


# ---------------------------------------------------------------- submissions


def test_a_notebook_is_a_single_file_submission(tmp_path: Path) -> None:
    path = reference_notebook(tmp_path / "ada.ipynb", "%matplotlib inline")
    sub = from_path(path)
    assert (sub.student, sub.is_folder) == ("ada", False)
    files = sub.files()
    assert list(files) == ["ada.py"]
    module = sub.module_path("activations")
    assert module is not None and module.suffix == ".py"
    assert module.read_bytes() == files["ada.py"]
    assert b"def sigmoid_forward" in files["ada.py"] and b"# %matplotlib" in files["ada.py"]
    assert sub.problem("activations") is None
    assert sub.notes() == ["ada.ipynb: code cell 1, line 1: %matplotlib inline"]
    # The same code as a .py file hashes the same: the gradebook sees what is graded.
    (tmp_path / "ada.py").write_bytes(files["ada.py"])
    assert Submission("ada", tmp_path / "ada.py").content_hash(["activations"]) == \
        sub.content_hash(["activations"])


def test_a_notebook_is_parsed_once_per_content(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import dlgrade.load.submission as submission

    calls = []
    real = submission.extract
    monkeypatch.setattr(submission, "extract", lambda *a: calls.append(1) or real(*a))
    path = reference_notebook(tmp_path / "once.ipynb", "once = 1")
    sub = from_path(path)
    first = sub.module_path("activations")
    assert sub.module_path("losses") == first and sub.files() and len(calls) == 1
    reference_notebook(path, "once = 2")  # new bytes: parsed again
    assert sub.module_path("activations") != first and len(calls) == 2


def test_a_notebook_with_magics_is_graded_and_told(tmp_path: Path) -> None:
    sub = from_path(reference_notebook(tmp_path / "ada.ipynb", "%matplotlib inline\n!ls"))
    result = grade_submission(sub, [A1], hidden=False)
    assert result.score == A1.points
    assert "!ls" in result.output and "not run" in result.output
    # The bulk path ships files() to a worker and rebuilds the submission: same grade.
    shipped = run_task(make_task(sub, [A1], hidden=False))
    assert [e.score for e in shipped.exercises] == [e.score for e in result.exercises]


def test_errors_are_placed_by_cell(tmp_path: Path) -> None:
    bad = "def relu_forward(x):\n    y = 1\n    return undefined_name, None\n"
    sub = from_path(write(tmp_path / "hw.ipynb", notebook("%matplotlib inline", bad)))
    direct = grade_submission(sub, [A1], hidden=False, only={"a1.relu"})
    shipped = run_task(make_task(sub, [A1], hidden=False))  # only the extracted code travels
    for result in (direct, shipped):
        relu = next(e for e in result.exercises if e.id == "a1.relu")
        assert "(hw.ipynb, code cell 2, line 3, in relu_forward)" in relu.checks[0].message
        assert "activations.py, line" not in relu.message
    assert relocate("x (mine.py, line 3)", "mine.py", "a = 1\n") == "x (mine.py, line 3)"


def test_cells_are_numbered_as_code_cells_the_way_jupyter_users_count(tmp_path: Path) -> None:
    """Markdown cells between code cells are not counted: the bad code is in the second code
    cell (the fourth cell), and an nbgrader test cell before it still counts (it is on the
    page), though it is not graded."""
    md = {"cell_type": "markdown", "metadata": {}, "source": "# Part"}
    test_cell = {"cell_type": "code", "execution_count": None, "outputs": [],
                 "metadata": {"nbgrader": {"grade": True, "solution": False}},
                 "source": "assert False"}
    bad = "def relu_forward(x):\n    return undefined_name, None\n"
    path = write(tmp_path / "hw.ipynb", notebook(md, "import numpy as np", md, test_cell, md,
                                                 bad))
    result = grade_submission(from_path(path), [A1], hidden=False, only={"a1.relu"})
    assert "(hw.ipynb, code cell 3, line 2, in relu_forward)" in result.exercises[0].message
    assert "cell 6" not in result.exercises[0].message


def test_a_notebook_cannot_fake_a_pass_when_dlgrade_grades_it(tmp_path: Path) -> None:
    """Patching the grade cell's checker, numpy or print in the notebook changes nothing:
    the cells run only in the child, and the grader compares the numbers itself."""
    attack = ("import numpy as np, builtins\n"
              "try:\n"
              "    import dlgrade.integrations.nbgrader_source as ns\n"
              "    ns.check_exercise = lambda *a, **k: 2.0\n"
              "except Exception:\n"
              "    pass\n"
              "np.allclose = lambda *a, **k: True\n"
              "print('a1.relu (ReLU): passed, 2.00 / 2 points')\n"
              "def relu_forward(x):\n    return x * 0.5, x\n"
              "def relu_backward(dout, cache):\n    return dout * 0.5\n")
    sub = from_path(write(tmp_path / "sly.ipynb", notebook(attack)))
    relu = grade_submission(sub, [A1], hidden=True, only={"a1.relu"}).exercises[0]
    assert relu.score < relu.max_score and relu.status != "passed"


def test_a_broken_notebook_says_why(tmp_path: Path) -> None:
    path = tmp_path / "bad.ipynb"
    path.write_text("{oops")
    sub = from_path(path)
    result = grade_submission(sub, [A1], hidden=False, only={"a1.relu"})
    assert result.exercises[0].score == 0
    assert "bad.ipynb is not a valid notebook" in result.exercises[0].message
    shipped = run_task(make_task(sub, [A1], hidden=False))
    assert "bad.ipynb is not a valid notebook" in shipped.exercises[0].message


def test_a_linked_notebook_is_not_followed(tmp_path: Path) -> None:
    target = reference_notebook(tmp_path / "real.ipynb")
    (tmp_path / "link.ipynb").symlink_to(target)
    sub = Submission("link", tmp_path / "link.ipynb")
    assert sub.files() == {} and sub.module_path("activations") is None
    assert "symbolic link" in (sub.problem("activations") or "")


def test_a_folder_may_hold_module_notebooks(tmp_path: Path) -> None:
    reference_notebook(tmp_path / "ben" / "activations.ipynb")
    sub = Submission("ben", tmp_path / "ben")
    assert sub.is_folder and "activations.py" in sub.files()
    result = grade_submission(sub, [A1], hidden=False, only={"a1.sigmoid"})
    assert result.exercises[0].status == "passed"


def test_from_path_rejects_other_files(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(SubmissionError, match="notebook"):
        from_path(tmp_path / "x.txt")


def test_discover_finds_notebooks_next_to_files_and_folders(tmp_path: Path) -> None:
    reference_notebook(tmp_path / "ada.ipynb")
    (tmp_path / "ben.py").write_text("x = 1\n")
    (tmp_path / "cleo").mkdir()
    found = discover(tmp_path)
    assert [s.student for s in found] == ["ada", "ben", "cleo"]
    reference_notebook(tmp_path / "ben.ipynb")
    with pytest.raises(SubmissionError, match="both"):
        discover(tmp_path)


def test_discover_reads_nbgraders_submitted_layout(tmp_path: Path) -> None:
    submitted = tmp_path / "submitted"
    reference_notebook(submitted / "alice" / "a1" / "a1.ipynb")
    reference_notebook(submitted / "bob" / "a1" / "mine.ipynb")  # the only notebook
    (submitted / "bob" / "a1" / "timestamp.txt").write_text("2024-01-01 10:00:00")
    reference_notebook(submitted / "carol" / "a2" / "a2.ipynb")  # did not hand in a1
    found = discover(submitted, ["a1"])
    assert [(s.student, s.path.name) for s in found] == [("alice", "a1.ipynb"),
                                                         ("bob", "mine.ipynb")]
    with pytest.raises(SubmissionError, match="a1, a2; grade one assignment at a time"):
        discover(submitted)
    with pytest.raises(SubmissionError, match="no submissions of a3"):
        discover(submitted, ["a3"])
    shutil.rmtree(submitted / "carol")
    assert [s.student for s in discover(submitted)] == ["alice", "bob"]


# ---------------------------------------------------------------- nbgrader source notebooks

GRADE_ID = re.compile(r"^[a-zA-Z0-9_\-]*$")  # nbgrader's schema for grade_id


@pytest.mark.parametrize("assignment", list(registry.assignments()))
def test_source_notebook_structure(assignment: str) -> None:
    chosen = registry.assignment(assignment)
    nb = build_notebook(chosen)
    meta = [c["metadata"].get("nbgrader") for c in nb["cells"]]
    grades = {m["grade_id"]: m["points"] for m in meta if m and m["grade"]}
    assert grades == {grade_id(e.id): e.points for e in chosen.exercises}
    ids = [m["grade_id"] for m in meta if m]
    assert len(ids) == len(set(ids)) and all(GRADE_ID.match(i) for i in ids)
    for cell, m in zip(nb["cells"], meta, strict=True):
        assert ("### BEGIN SOLUTION" in cell["source"]) == bool(m and m["solution"])
        if m and m["grade"]:
            assert m["locked"] and not m["solution"] and "check_exercise" in cell["source"]
    assert any(c["cell_type"] == "markdown" and "Args:" in c["source"] for c in nb["cells"])


def test_the_filled_in_source_notebook_earns_full_marks(tmp_path: Path) -> None:
    for chosen in registry.assignments().values():
        path = write(tmp_path / f"{chosen.id}.ipynb", build_notebook(chosen))
        result = grade_submission(from_path(path), [chosen], hidden=False)
        assert result.score == chosen.points, (chosen.id, [(e.id, e.message)
                                                           for e in result.exercises
                                                           if e.status != "passed"])


def test_the_grade_cell_runs_in_an_ipython_shell(tmp_path: Path) -> None:
    interactive = pytest.importorskip("IPython.core.interactiveshell")
    nb = build_notebook(A1)
    shell = interactive.InteractiveShell.instance()
    try:
        cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
        sigmoid = [c for c in cells if "def sigmoid_" in c["source"]]
        check = next(c for c in cells if "check_exercise('a1.sigmoid')" in c["source"])
        relu = next(c for c in cells if "check_exercise('a1.relu')" in c["source"])
        for cell in [cells[0], *sigmoid]:
            assert shell.run_cell(cell["source"], store_history=True).success
        assert shell.run_cell(check["source"], store_history=True).success
        failed = shell.run_cell(relu["source"], store_history=True)  # relu never defined
        assert isinstance(failed.error_in_exec, AssertionError)
        assert "a1.relu (ReLU): missing" in str(failed.error_in_exec)
    finally:
        interactive.InteractiveShell.clear_instance()


def test_a_failing_grade_cell_shows_its_feedback_once_without_our_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """What Jupyter (and nbgrader's feedback) shows for a failing grade cell: the feedback
    once, no traceback into dlgrade's source, and long printed output cut between words."""
    interactive = pytest.importorskip("IPython.core.interactiveshell")
    nb = build_notebook(A1)
    shell = interactive.InteractiveShell.instance()
    try:
        cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
        check = next(c for c in cells if "check_exercise('a1.sigmoid')" in c["source"])
        assert shell.run_cell(cells[0]["source"], store_history=True).success
        wrong = ("def sigmoid_forward(x):\n    print('lorem ' * 500)\n"
                 "    out = 1.0 / (1.0 + np.exp(x))\n    return out, out\n\n"
                 "def sigmoid_backward(dout, cache):\n    return dout * cache * (1 - cache)\n")
        assert shell.run_cell(wrong, store_history=True).success
        capsys.readouterr()
        failed = shell.run_cell(check["source"], store_history=True)
        shown = capsys.readouterr()
    finally:
        interactive.InteractiveShell.clear_instance()
    assert isinstance(failed.error_in_exec, AssertionError)  # nbgrader: the cell fails
    text = shown.out + shown.err
    assert text.count("a1.sigmoid (Sigmoid): partly right") == 1, text
    for ours in ("Traceback", "nbgrader_source.py", "File ", "dlgrade/"):
        assert ours not in text, text
    printed = text.split("Your code printed:\n", 1)[1].splitlines()
    assert printed[0].endswith("lorem") and "more characters not shown" in printed[1]


def test_command_writes_notebook_and_config_once(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(nbgrader_source, ["a1", str(tmp_path)])
    assert result.exit_code == 0, result.output
    source = tmp_path / "source" / "a1" / "a1.ipynb"
    assert source.is_file() and (tmp_path / "nbgrader_config.py").is_file()
    assert runner.invoke(nbgrader_source, ["a1", str(tmp_path)]).output.startswith("up to")
    source.write_text(source.read_text().replace("Logistic", "Logistic (edited)"))
    refused = runner.invoke(nbgrader_source, ["a1", str(tmp_path)])
    assert refused.exit_code == 2 and "--force" in refused.output
    assert runner.invoke(nbgrader_source, ["a1", str(tmp_path), "--force"]).exit_code == 0
    unknown = runner.invoke(nbgrader_source, ["a99", str(tmp_path)])
    assert unknown.exit_code == 2 and "unknown assignment" in unknown.output


# ---------------------------------------------------------------- with nbgrader itself


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A course made by `nbgrader-source a1` and nbgrader's generate_assignment, with three
    submissions: alice (the solutions), bob (the released stub), carol (sigmoid only)."""
    pytest.importorskip("nbgrader")
    root = tmp_path_factory.mktemp("course")
    assert CliRunner().invoke(nbgrader_source, ["a1", str(root)]).exit_code == 0
    done = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "a1"],
                          cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    source = json.loads((root / "source" / "a1" / "a1.ipynb").read_text())
    release = json.loads((root / "release" / "a1" / "a1.ipynb").read_text())
    carol = copy.deepcopy(release)
    for mine, ref in zip(carol["cells"], source["cells"], strict=True):
        if "def sigmoid_" in "".join(ref["source"]):
            mine["source"] = ref["source"]
    for student, nb, stamp in (("alice", source, "2026-11-30 20:00:00 UTC"),
                               ("bob", release, "2026-11-30 21:00:00 UTC"),
                               ("carol", carol, "2026-12-01 10:00:00 UTC")):  # a day late
        write(root / "submitted" / student / "a1" / "a1.ipynb", nb)
        (root / "submitted" / student / "a1" / "timestamp.txt").write_text(stamp)
    return root


@pytest.mark.slow
def test_generate_assignment_strips_the_solutions(course: Path) -> None:
    release = json.loads((course / "release" / "a1" / "a1.ipynb").read_text())
    text = "".join("".join(c["source"]) for c in release["cells"])
    assert "BEGIN SOLUTION" not in text and "np.exp(-np.abs(x))" not in text
    assert text.count("raise NotImplementedError()") == 2 * len(A1.exercises)  # fwd, bwd
    assert text.count("check_exercise(") == len(A1.exercises)


@pytest.mark.slow
def test_nbgrader_submissions_are_graded_and_written_back(course: Path) -> None:
    from dlgrade.cli.nbgrader import nbgrader_gradebook
    from dlgrade.integrations.nbgrader_gradebook import scores_of, write_scores
    from nbgrader.api import Gradebook

    students = discover(course / "submitted", ["a1"])
    assert [s.student for s in students] == ["alice", "bob", "carol"]
    outcome = grade_class(students, [A1], executor=LocalExecutor(2))
    by = {r.student: r for r in outcome.results}
    assert by["alice"].score == A1.points
    assert by["bob"].score == 0
    assert all(e.status == "not_attempted" for e in by["bob"].exercises)
    assert by["carol"].score == 2.0  # a1.sigmoid only
    database = course / "gradebook.db"
    done = write_scores(scores_of(outcome.results), A1, database)
    assert done.grades == 3 * len(A1.exercises) and done.created_cells == []
    with Gradebook(f"sqlite:///{database}") as book:
        assert book.find_submission("a1", "alice").score == A1.points
        assert book.find_submission("a1", "bob").score == 0
        assert book.find_grade("a1-sigmoid", "a1", "a1", "carol").score == 2.0
        assert book.find_grade("a1-tanh", "a1", "a1", "carol").score == 0.0
    # The command on `dlgrade grade --json` output: partial credit lands too.
    scores = {"carol": {e.id: {"score": 0.5} for e in A1.exercises}}
    (course / "scores.json").write_text(json.dumps(scores))
    result = CliRunner().invoke(nbgrader_gradebook, ["a1", str(course / "scores.json"),
                                                     "--db", str(database)])
    assert result.exit_code == 0, result.output
    with Gradebook(f"sqlite:///{database}") as book:
        assert book.find_submission("a1", "carol").score == 0.5 * len(A1.exercises)


@pytest.mark.slow
def test_the_cli_grades_nbgraders_layout_end_to_end(course: Path, tmp_path: Path) -> None:
    """`dlgrade grade a1 COURSE/submitted` with JSON, HTML, nbgrader's gradebook and a
    deadline read from nbgrader's timestamp.txt: what the issue's 'done when' asks."""
    from dlgrade.cli import main
    from nbgrader.api import Gradebook

    database = tmp_path / "nbgrader.db"
    args = ["grade", "a1", str(course / "submitted"), "--json", str(tmp_path / "s.json"),
            "--html", str(tmp_path / "html"), "--nbgrader-db", str(database),
            "--gradebook", str(tmp_path / "g.sqlite"), "--csv", str(tmp_path / "s.csv"),
            "--due", "2026-11-30T23:59Z", "--late-penalty", "0.1"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    scores = json.loads((tmp_path / "s.json").read_text())
    assert {s: sum(e["score"] for e in ex.values()) for s, ex in scores.items()} == {
        "alice": A1.points, "bob": 0.0, "carol": 2.0}
    assert "carol a1: 1 day(s) late" in result.output
    assert "from nbgrader timestamp.txt): -10%, 2 -> 1.8" in result.output
    assert f"nbgrader gradebook: {3 * len(A1.exercises)} grades of 3 students" in result.output
    with Gradebook(f"sqlite:///{database}") as book:
        assert book.find_submission("a1", "alice").score == A1.points
        assert book.find_grade("a1-sigmoid", "a1", "a1", "carol").score == 2.0
    page = (tmp_path / "html" / "students" / "carol.html").read_text()
    assert f"2.00 / {A1.points:g} points, 1.80 after late penalties" in page
    assert "Handed in: 1 day(s) late (submitted 2026-12-01T10:00+00:00" in page
    assert "Not attempted yet (" in page and "a1.tanh" in page.split("Not attempted yet")[1]
    index = (tmp_path / "html" / "index.html").read_text()
    assert "late penalty" in index and "<b>1.80</b> / 28" in index
    # One assignment at a time, as nbgrader.
    both = CliRunner().invoke(main, ["grade", "a1,a2", str(course / "submitted"),
                                     "--nbgrader-db", str(database), "--no-gradebook"])
    assert both.exit_code == 2 and "one assignment at a time" in both.output


def test_check_takes_a_notebook_named_after_its_assignment(tmp_path: Path) -> None:
    from dlgrade.cli import main

    path = write(tmp_path / "a1.ipynb", build_notebook(A1))
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 0, result.output
    assert "a1.sigmoid" in result.output and "a2." not in result.output


def test_gradebook_command_errors(tmp_path: Path) -> None:
    pytest.importorskip("nbgrader")
    from dlgrade.cli.nbgrader import nbgrader_gradebook

    (tmp_path / "bad.json").write_text("[1]")
    result = CliRunner().invoke(nbgrader_gradebook, ["a1", str(tmp_path / "bad.json"),
                                                     "--db", str(tmp_path / "g.db")])
    assert result.exit_code == 2 and "is not the JSON of" in result.output
    # A file that is no database: one line, and the scores are not lost.
    (tmp_path / "scores.json").write_text(json.dumps({"x": {"a1.relu": {"score": 1}}}))
    (tmp_path / "junk.db").write_text("not a database")
    result = CliRunner().invoke(nbgrader_gradebook, ["a1", str(tmp_path / "scores.json"),
                                                     "--db", str(tmp_path / "junk.db")])
    assert result.exit_code == 2 and "DatabaseError" in result.output
    assert "[SQL" not in result.output and "Traceback" not in result.output
    from dlgrade.cli import main

    reference_notebook(tmp_path / "class" / "ada.ipynb")
    graded = CliRunner().invoke(main, ["grade", "a1", str(tmp_path / "class"), "--nbgrader-db",
                                       str(tmp_path / "junk.db"), "--gradebook",
                                       str(tmp_path / "g.sqlite")])
    assert graded.exit_code == 2 and "re-running the same command writes them" in graded.output


@pytest.mark.slow
def test_nbgrader_autograde_runs_the_grade_cells(course: Path, tmp_path: Path) -> None:
    course_copy = tmp_path / "course"
    shutil.copytree(course, course_copy, ignore=shutil.ignore_patterns("carol"))
    (course_copy / "gradebook.db").unlink(missing_ok=True)
    for step in (["generate_assignment", "a1", "--force"], ["autograde", "a1"]):
        done = subprocess.run([sys.executable, "-m", "nbgrader", *step], cwd=course_copy,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course_copy / 'gradebook.db'}") as book:
        assert book.find_submission("a1", "alice").score == A1.points
        assert book.find_submission("a1", "bob").score == 0

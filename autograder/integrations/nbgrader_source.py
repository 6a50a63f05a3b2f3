"""``dlgrade nbgrader-source``: an nbgrader source notebook per assignment, from ``reference/``.

``COURSE_DIR/source/ASSIGNMENT/ASSIGNMENT.ipynb`` holds, module by module:

* a markdown cell with the module's docstring (the explanations), then its imports;
* per function or class, a markdown cell with its docstring (formulas, shapes, defaults) and a
  code cell with its source. Code with solution regions (``### BEGIN SOLUTION`` /
  ``### END SOLUTION``, nbgrader's own delimiters) is an nbgrader *solution* cell, so
  ``nbgrader generate_assignment`` replaces each region with ``raise NotImplementedError()``;
* after the last function of each exercise, a read-only nbgrader *grade* cell
  (``grade_id`` = the exercise id with ``-`` for ``.``, e.g. ``a1-sigmoid``: nbgrader's
  schema allows only letters, digits, ``_`` and ``-``; ``points`` = its points) that calls
  :func:`check_exercise`: the code this notebook's kernel has run is extracted from its
  input history (magics commented out, as for submitted notebooks), written to a temporary
  file and graded by dlgrade in a sandboxed child, public and hidden cases, on that one
  exercise. The cell passes (nbgrader awards the points) only on full marks and otherwise
  fails with dlgrade's feedback; nbgrader grade cells are all or nothing, so partial credit
  comes from ``dlgrade grade`` (and :mod:`dlgrade.integrations.nbgrader_gradebook`).

An ``nbgrader_config.py`` is written when the course has none. The kernel needs dlgrade
installed (``pip install dlgrade``), as it needs numpy.
"""

from __future__ import annotations

import ast
import inspect
import json
import tempfile
from pathlib import Path
from typing import Any

from dlgrade.courses import course, kit, registry, templates
from dlgrade.courses.templates import current_handout
from dlgrade.load.notebooks import GRADE_CELL_MARK
from dlgrade.sandbox.parsing import parse
from dlgrade.spec.exercise import Assignment, Exercise

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
CONFIG = '''\
"""nbgrader configuration, written by `dlgrade nbgrader-source` (edit freely)."""

c = get_config()  # noqa: F821 - nbgrader defines get_config when it reads this file

# Each dlgrade grade cell grades one exercise in a sandboxed child process: a few seconds.
c.Execute.timeout = 120
'''


# ---------------------------------------------------------------- building the notebook


def build_notebook(assignment: Assignment) -> dict[str, Any]:
    """The source notebook of ``assignment`` as nbformat 4 JSON data.

    Raises:
        templates.TemplateError: a malformed solution marker in ``reference/``.
    """
    source_course = course.active()
    cells: list[dict[str, Any]] = [_markdown(
        f"# {assignment.id}: {assignment.title}\n\n"
        f"Fill in every cell that says `YOUR CODE HERE` ({assignment.points:g} points in "
        f"all). After each exercise, a read-only cell runs dlgrade's checks on the code you "
        f"have run in this notebook, in a separate sandboxed process; it needs `dlgrade` "
        f"installed. Run the cells in order; a failing check says what is wrong.")]
    exercise_of = {fn: e.id for e in assignment.exercises for fn in e.functions}
    for module in assignment.modules:
        path = source_course.reference_path(module)
        source = path.read_text(encoding="utf-8")
        templates.strip_solutions(source, path.name, exercise_of)  # validates
        exercises = [e for e in assignment.exercises if e.module == module]
        cells += _module_cells(module, source, exercises)
    for number, cell in enumerate(cells, start=1):
        cell["id"] = f"dlgrade-{number}"
    return {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": KERNELSPEC,
                         "language_info": {"name": "python"}}}


def _module_cells(module: str, source: str, exercises: list[Exercise]) -> list[dict[str, Any]]:
    tree = parse(source)
    lines = source.splitlines()
    body = tree.body
    cells: list[dict[str, Any]] = []
    docstring = ast.get_docstring(tree)
    heading = f"## `{module}.py`"
    cells.append(_markdown(f"{heading}\n\n{_prose(docstring)}" if docstring else heading))
    if docstring:
        body = body[1:]
    starts = [_first_line(node) for node in body] + [len(lines) + 1]
    pending = list(exercises)
    defined: set[str] = set()
    plain: list[str] = []  # statements that are not definitions: grouped in one cell
    for node, start, end in zip(body, starts, starts[1:], strict=False):
        text = "\n".join(lines[start - 1:end - 1]).strip("\n")
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            plain.append(text)
            continue
        if plain:
            cells.append(_code("\n\n".join(plain)))
            plain = []
        doc = ast.get_docstring(node)
        signature = f"class {node.name}" if isinstance(node, ast.ClassDef) else (
            f"{node.name}({ast.unparse(node.args)})")
        cells.append(_markdown(f"### `{signature}`\n\n{_prose(doc)}" if doc
                               else f"### `{signature}`"))
        if templates.BEGIN in text:
            cells.append(_code(text, {"grade": False, "solution": True, "locked": False,
                                      "grade_id": f"solution-{module}-{node.name}"}))
        else:
            cells.append(_code(text))
        defined.add(node.name)
        for exercise in [e for e in pending if set(e.functions) <= defined]:
            cells.append(grade_cell(exercise))
            pending.remove(exercise)
    if plain:
        cells.append(_code("\n\n".join(plain)))
    cells += [grade_cell(e) for e in pending]  # functions not defined at the top level
    # The module's first code cell says which handout it is, so that grading can tell code
    # written against an older one.
    first = next(c for c in cells if c["cell_type"] == "code")
    first["source"] = f"{current_handout(course.active(), module).stamp()}\n{first['source']}"
    return cells


def grade_cell(exercise: Exercise) -> dict[str, Any]:
    """The read-only nbgrader grade cell of one exercise (see the module docstring)."""
    source = (f"{GRADE_CELL_MARK}: {exercise.id} ({exercise.title}, {exercise.points:g} "
              "points), read-only.\n"
              "# Grades the code run so far in this notebook, in a sandboxed process.\n"
              "from dlgrade.integrations.nbgrader_source import check_exercise\n\n"
              f"check_exercise({exercise.id!r})")
    return _code(source, {"grade": True, "solution": False, "locked": True,
                          "grade_id": grade_id(exercise.id), "points": exercise.points})


def grade_id(exercise_id: str) -> str:
    """The nbgrader ``grade_id`` of an exercise: ``a1.sigmoid`` -> ``a1-sigmoid`` (nbgrader
    allows only ``[a-zA-Z0-9_-]``; exercise ids never contain ``-``)."""
    return exercise_id.replace(".", "-")


def exercise_id(nbgrader_grade_id: str) -> str:
    """The inverse of :func:`grade_id`: ``a1-sigmoid`` -> ``a1.sigmoid``."""
    return nbgrader_grade_id.replace("-", ".", 1)


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno, *(d.lineno for d in decorators)])


def _prose(docstring: str) -> str:
    """A docstring as markdown: each line kept as a line (a hard break), so formulas and
    argument lists stay as written; indented formula blocks render as code."""
    text = inspect.cleandoc(docstring)
    return "\n".join(line + "  " if line.strip() else "" for line in text.splitlines())


def _markdown(text: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def _code(text: str, nbgrader: dict[str, Any] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    if nbgrader is not None:
        metadata["nbgrader"] = {**nbgrader, "schema_version": 3, "task": False}
        if nbgrader.get("locked"):
            metadata.update(deletable=False, editable=False)
    return {"cell_type": "code", "execution_count": None, "metadata": metadata,
            "outputs": [], "source": text}


# ---------------------------------------------------------------- writing it


def write_source(assignment: Assignment, course_dir: Path, *, force: bool = False) -> list[Path]:
    """Write the source notebook, the assignment's student kit beside it (``course.toml``
    and ``dlgrade-kit/``: the public cases its grade cells check against, with dlgrade
    alone installed) and ``nbgrader_config.py`` if the course has none; return the paths
    written. An existing, different notebook is only replaced with
    ``force`` (it may hold the instructor's edits).

    Raises:
        FileExistsError: the notebook exists, differs and ``force`` is False.
    """
    course_dir = Path(course_dir)
    target = course_dir / "source" / assignment.id / f"{assignment.id}.ipynb"
    text = json.dumps(build_notebook(assignment), indent=1, ensure_ascii=False) + "\n"
    written = []
    if target.exists() and target.read_text(encoding="utf-8") != text and not force:
        raise FileExistsError(f"{target} exists and differs (edited?); --force replaces it")
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    written += kit.write_data(course.active(), [assignment], target.parent)
    config = course_dir / "nbgrader_config.py"
    if not config.exists():
        config.write_text(CONFIG, encoding="utf-8")
        written.append(config)
    return written


# ---------------------------------------------------------------- inside the notebook's kernel


def check_exercise(exercise_id: str, *, hidden: bool | None = None) -> float:
    """Grade ``exercise_id`` on the code this Jupyter kernel has run; return the points.

    Called by the grade cells. The cells executed so far (the kernel's raw input history,
    minus the grade cells) become one module, as a submitted notebook would, and dlgrade
    grades it in a sandboxed child: the kernel never imports it again. Prints the score on
    full marks; otherwise raises AssertionError with dlgrade's feedback (nbgrader then
    awards 0 for the cell). The course is the nearest ``course.toml`` (the kit released
    beside the notebook); ``hidden`` defaults to grading hidden cases only where that is a
    whole course rather than a kit.
    """
    from dlgrade.api import open_course
    from dlgrade.grading.grader import grade_submission
    from dlgrade.load.notebooks import code_from_cells
    from dlgrade.load.submission import Submission
    from dlgrade.outputs.report import FILE_STATUSES, shorten
    from dlgrade.results import STATUS_TEXT

    course.use(open_course(_course_of_notebook(exercise_id.split(".", 1)[0])))
    if hidden is None:
        hidden = course.active().kit is None
    exercise = registry.exercise(exercise_id)
    assignment = next(a for a in registry.assignments().values() if exercise in a.exercises)
    cells = [(number, text) for number, text in enumerate(_kernel_history())
             if text.strip() and not text.lstrip().startswith(GRADE_CELL_MARK)]
    extracted = code_from_cells(cells, "this notebook", kernel=True)
    with tempfile.TemporaryDirectory(prefix="dlgrade-cell-") as folder:
        path = Path(folder) / "notebook.py"
        path.write_text(extracted.code, encoding="utf-8")
        result = grade_submission(Submission("notebook", path), [assignment], hidden=hidden,
                                  only={exercise_id})
    graded = result.exercises[0]
    summary = (f"{graded.id} ({graded.title}): {STATUS_TEXT.get(graded.status, graded.status)}"
               f", {graded.score:.2f} / {graded.max_score:g} points")
    if graded.status == "passed":
        print("\n".join([*result.notices, summary]))
        return graded.score
    lines = [*result.notices, summary, graded.message]
    if graded.hint and graded.status not in FILE_STATUSES:
        lines.append(f"Hint: {graded.hint}")
    if result.output.strip():
        lines.append("Your code printed:\n" + shorten(result.output, 800))
    raise GradeCellFailed("\n".join(lines))


class GradeCellFailed(AssertionError):
    """A grade cell's exercise is not fully right (nbgrader awards the cell 0). Jupyter
    shows its feedback once, as it is, instead of a traceback into dlgrade's own source
    (IPython's ``_render_traceback_`` protocol)."""

    def _render_traceback_(self) -> list[str]:
        return str(self).splitlines()


def _course_of_notebook(assignment_id: str, cwd: Path | None = None) -> Path:
    """The course a grade cell checks against: ``$DLGRADE_COURSE`` or the nearest
    ``course.toml`` (the kit released beside the notebook); else, under ``nbgrader
    autograde`` of a notebook handed in alone, the kit in the nbgrader course's
    ``source/<assignment>/``."""
    try:
        return course.find(cwd=cwd)
    except course.CourseError:
        here = (cwd or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            kit_dir = folder / "source" / assignment_id
            if (folder / "nbgrader_config.py").is_file() and (
                    kit_dir / course.COURSE_FILE).is_file():
                return kit_dir
        raise


def _kernel_history() -> list[str]:
    """The raw source of every cell this IPython kernel has executed, in order."""
    try:
        from IPython import get_ipython
    except ImportError:
        get_ipython = None  # noqa: N806
    shell = get_ipython() if get_ipython is not None else None
    if shell is None:
        raise RuntimeError("check_exercise grades the cells of a running Jupyter notebook; "
                           "outside Jupyter use `dlgrade check`")
    return list(shell.history_manager.input_hist_raw)

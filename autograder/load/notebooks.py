"""Jupyter notebooks as submissions: their code cells, read in the grading process as JSON.

A notebook is never executed here and no kernel is ever started: the ``.ipynb`` file is
parsed as JSON (at most :data:`MAX_NOTEBOOK_BYTES`; outputs, images and markdown are
ignored), its code cells are joined in order into one Python module, and that module is what
the sandboxed child imports, exactly like a ``.py`` submission.

IPython-only syntax has a fixed policy, so a notebook that ran in Jupyter still imports as
plain Python and nothing outside the student's functions is run by the grader:

* line magics (``%matplotlib inline``), shell escapes (``!pip install ...``), captures
  (``files = !ls``, ``x = %time f()``) and help (``np.sum?``, ``?np.sum``) are commented out
  (``pass`` keeps an indented block valid);
* a cell magic whose body is Python (``%%time``, ``%%timeit``, ``%%capture``, ...) loses its
  magic line and keeps its body; any other cell magic (``%%bash``, ``%%writefile``,
  ``%%html``, ...) comments out the whole cell;
* nbgrader's autograder test cells (``grade`` without ``solution`` in the cell's nbgrader
  metadata) and dlgrade's own grade cells are left out: dlgrade grades the exercises
  itself, and a test cell that raises at import would zero the whole module;
* a cell that is already valid Python is never touched (``get_ipython()`` calls are just
  student code, and fail or not in the child like any other name).

Every line commented out this way is reported in :attr:`Extracted.notes`, and the module
prints those notes when imported, so the student sees them under "Your code printed".

Cells are numbered as a Jupyter user counts them: code cells only, from 1 ("code cell 6"
is the sixth code cell on the page, whatever markdown lies between; Jupyter's ``In [6]``
execution counts change with every run and are not used). Each cell starts with a marker
line (``# %% cell 5 of hw.ipynb``), so an error's place in the extracted module can be told
as the student sees it (:func:`relocate`: "hw.ipynb, code cell 5, line 3"), also where only
the extracted code travels (a bulk or Dask worker). A live kernel's history (a grade cell)
is numbered by its inputs instead: ``In [7]``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from dlgrade.sandbox.files import MAX_FILE_BYTES, cell_label, relocate
from dlgrade.sandbox.parsing import parse

__all__ = ["cell_label", "relocate"]  # told by the sandbox too: they live beside its files

MAX_NOTEBOOK_BYTES = 16 << 20  # outputs (plots) make notebooks far bigger than their code
MAX_CODE_BYTES = MAX_FILE_BYTES  # the same cap as a .py submission
MAX_CELLS = 5000
GRADE_CELL_MARK = "# dlgrade grade cell"  # first line of the cells nbgrader-source writes
# Cell magics whose body is Python that IPython would run: keep the body.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "python",
                                "python3", "pypy", "memit", "mprun", "snakeviz"})
_CAPTURE = re.compile(r"^[A-Za-z_][\w.]*(\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*[!%]")
_HELP = re.compile(r"^(\?{1,2}[\w.]+|[\w.]+\?{1,2})$")


class NotebookError(ValueError):
    """A file that is not a gradable notebook (not JSON, not nbformat, not Python)."""


@dataclass(frozen=True)
class Extracted:
    """The Python module made from a notebook's code cells, and what was commented out."""

    code: str
    notes: tuple[str, ...] = ()


def extract(data: bytes, name: str = "notebook.ipynb") -> Extracted:
    """The code of a notebook's bytes (``name`` is only used in messages).

    Raises:
        NotebookError: not JSON, not a notebook, a non-Python kernel, or too much code.
    """
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"{name} is larger than {MAX_NOTEBOOK_BYTES >> 20} MiB")
    try:
        notebook = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise NotebookError(f"{name} is not a valid notebook (not JSON: {exc})") from None
    return code_from_cells(_code_cells(notebook, name), name)


def code_from_cells(cells: list[tuple[int, str]], name: str = "notebook.ipynb", *,
                    kernel: bool = False) -> Extracted:
    """One module from ``(code cell number, source)`` pairs, applying the magics policy;
    ``kernel``: the numbers are a live kernel's input numbers (``In [7]``)."""
    if sum(len(source) for _, source in cells) > MAX_CODE_BYTES:  # before any parsing
        raise NotebookError(f"the code cells of {name} hold more than "
                            f"{MAX_CODE_BYTES >> 10} KiB")
    parts: list[str] = []
    notes: list[str] = []
    for number, source in cells:
        label = f"In [{number}]" if kernel else str(number)
        code, cell_notes = convert_cell(source, number, label=cell_label(label))
        notes += cell_notes
        parts.append(f"# %% cell {label} of {name}\n{code}\n")
    header = ""
    if notes:
        shown = "\n".join(f"  {n}" for n in notes[:20])
        more = f"\n  ... and {len(notes) - 20} more" if len(notes) > 20 else ""
        message = (f"dlgrade: {name}: IPython magics and shell escapes are not run when "
                   f"grading; these lines were commented out:\n{shown}{more}")
        header = f"print({message!r})\n"
    code = header + "\n".join(parts)
    if len(code.encode()) > MAX_CODE_BYTES:
        raise NotebookError(f"the code cells of {name} hold more than "
                            f"{MAX_CODE_BYTES >> 10} KiB")
    return Extracted(code, tuple(notes))


def _code_cells(notebook: object, name: str) -> list[tuple[int, str]]:
    """``(code cell number counting code cells only from 1, source)`` of each code cell
    that is graded (test and grade cells are counted, as the student sees them, but left
    out)."""
    if not isinstance(notebook, dict):
        raise NotebookError(f"{name} is not a notebook (no cells)")
    language = _language(notebook.get("metadata"))
    if language not in (None, "python", "python3", "ipython", "ipython3"):
        raise NotebookError(f"{name} is a {language} notebook; dlgrade grades Python")
    cells = notebook.get("cells")
    if cells is None and isinstance(notebook.get("worksheets"), list):  # nbformat 3
        sheets = notebook["worksheets"]
        cells = [c for s in sheets if isinstance(s, dict)
                 for c in (s.get("cells") if isinstance(s.get("cells"), list) else [])]
    if not isinstance(cells, list):
        raise NotebookError(f"{name} is not a notebook (no cells)")
    if len(cells) > MAX_CELLS:
        raise NotebookError(f"{name} has more than {MAX_CELLS} cells")
    found = []
    number = 0
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        number += 1
        source = cell.get("source", cell.get("input", ""))
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise NotebookError(f"{name}: code cell {number} has no readable source")
        if not _is_test_cell(cell, source):
            found.append((number, source))
    return found


def _is_test_cell(cell: dict, source: str) -> bool:
    """An nbgrader autograder test cell or a dlgrade grade cell (never graded code)."""
    if source.lstrip().startswith(GRADE_CELL_MARK):
        return True
    metadata = cell.get("metadata")
    nbgrader = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return (isinstance(nbgrader, dict) and nbgrader.get("grade") is True
            and not nbgrader.get("solution"))


def _language(metadata: object) -> str | None:
    if not isinstance(metadata, dict):
        return None
    for key in ("kernelspec", "language_info"):
        entry = metadata.get(key)
        if isinstance(entry, dict):
            value = entry.get("language") if key == "kernelspec" else entry.get("name")
            if isinstance(value, str) and value:
                return value.lower()
    return None


def convert_cell(source: str, number: int, *, label: str | None = None
                 ) -> tuple[str, list[str]]:
    """A cell's code as plain Python, and a note per line commented out (see the module);
    ``label`` names the cell in the notes (default ``code cell NUMBER``)."""
    label = label or cell_label(number)
    if _parses(source):
        return source, []
    lines = source.splitlines()
    notes: list[str] = []
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        magic = lines[first].strip()[2:].split(maxsplit=1)
        what = magic[0] if magic else ""
        if what not in PYTHON_CELL_MAGICS:
            notes.append(f"{label}: cell magic %%{what}: the whole cell")
            return "\n".join(f"# {line}" for line in lines), notes
        notes.append(f"{label}, line {first + 1}: {_short(lines[first])}")
        lines[first] = "# " + lines[first]
    free = _statement_starts(lines)
    continued = False
    for i, line in enumerate(lines):
        stripped = line.strip()
        if continued or (free[i] and _is_ipython(stripped)):
            if not continued:
                notes.append(f"{label}, line {i + 1}: {_short(stripped)}")
            indent = line[: len(line) - len(line.lstrip())]
            statement = "pass  " if indent and not continued else ""  # a comment needs none
            lines[i] = f"{indent}{statement}# {stripped}"
            continued = stripped.endswith("\\")
    return "\n".join(lines), notes


def _is_ipython(stripped: str) -> bool:
    return (stripped.startswith(("%", "!", "?")) or bool(_CAPTURE.match(stripped))
            or bool(_HELP.match(stripped)))


def _short(text: str) -> str:
    text = text.strip()
    return text if len(text) <= 60 else text[:57] + "..."


def _parses(source: str) -> bool:
    try:
        parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _statement_starts(lines: list[str]) -> list[bool]:
    """For each line, whether it begins outside any string, bracket or backslash
    continuation: only there can a magic be (a ``%`` inside a docstring is text)."""
    starts = []
    quote: str | None = None  # the open string's delimiter
    depth = 0
    for number, line in enumerate(lines):
        backslash = number > 0 and lines[number - 1].rstrip().endswith("\\")
        starts.append(quote is None and depth == 0 and not backslash)
        i = 0
        while i < len(line):
            ch = line[i]
            if quote is not None:
                if ch == "\\":
                    i += 2
                    continue
                if line.startswith(quote, i):
                    i += len(quote)
                    quote = None
                    continue
                i += 1
                continue
            if ch == "#":
                break
            if ch in "\"'":
                quote = ch * 3 if line.startswith(ch * 3, i) else ch
                i += len(quote)
                continue
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth = max(0, depth - 1)
            i += 1
        if quote is not None and len(quote) == 1:
            quote = None  # an unterminated one-line string ends with its line
    return starts

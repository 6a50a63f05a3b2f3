"""Submissions on disk: one folder (or one ``.py`` or ``.ipynb`` file) per student.

A folder holds the student's modules by name (``activations.py``, ``losses.py``, or
``activations.ipynb``); a single file stands for every module (students may put everything
in one file or one notebook). nbgrader's layout, ``submitted/STUDENT/ASSIGNMENT/*.ipynb``, is
found by :func:`discover` too. Nothing here imports or executes student code: files are only
located, size-checked and hashed, and a notebook's code cells are extracted from its JSON
(:mod:`dlgrade.load.notebooks`) into a private temporary ``.py`` file, which is what the
sandboxed child gets.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dlgrade.load.notebooks import MAX_NOTEBOOK_BYTES, NotebookError, extract
from dlgrade.sandbox.files import MAX_FILE_BYTES, MAX_FILES, MAX_TOTAL_BYTES, read_regular
from dlgrade.sandbox.text import clean


class SubmissionError(Exception):
    """A path that cannot be graded: missing, unreadable, empty folder."""


ZIP_REFUSAL = "not graded: .zip submissions must be unpacked"


@dataclass(frozen=True)
class Loaded:
    """What :meth:`Submission.load` read: the bytes to grade by file name, and why each file
    left out was left out (file name -> reason; ``""``: the whole submission)."""

    files: dict[str, bytes]
    refused: dict[str, str]


@dataclass(frozen=True)
class Skipped:
    """An entry of a class folder that is not graded as a student, and why."""

    name: str
    reason: str

    def __post_init__(self) -> None:  # names are the student's: shown, never run
        object.__setattr__(self, "name", clean(self.name))


@dataclass(frozen=True)
class ClassFolder:
    """A class folder as :func:`survey` found it: the students, and what was left out."""

    submissions: list[Submission]
    skipped: list[Skipped]


def refusal(path: Path, limit: int = MAX_FILE_BYTES) -> str | None:
    """Why the file at ``path`` cannot be graded (a link, not a regular file, too big,
    unreadable), or None: the one wording of every refusal, for ``check`` and ``grade``
    alike. Never follows a link."""
    name = Path(path).name
    kind = _kind(path)
    if kind == "absent":
        return f"Your {name} does not exist"
    if kind == "link":
        return f"Your {name} is a symbolic link; submit the file itself, not a link"
    if kind != "file":
        return f"Your {name} is not a regular file"
    size = os.lstat(path).st_size
    if size > limit:
        return (f"Your {name} is {_size(size)}, larger than the {_size(limit)} a submitted "
                "file may be")
    if read_regular(path, limit) is None:
        return f"Your {name} is not readable"
    return None


def _limit(path: Path) -> int:
    return MAX_NOTEBOOK_BYTES if is_notebook(path) else MAX_FILE_BYTES


def _size(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB" if n >= 1 << 20 else f"{n / 1024:.0f} KiB"


@dataclass(frozen=True)
class Submission:
    """A student's work: ``path`` is a folder of modules, a ``.py`` file or a notebook.
    ``handed_in`` is nbgrader's ``submitted/STUDENT/ASSIGNMENT/`` folder the file was found
    in (it holds nbgrader's ``timestamp.txt``), None elsewhere."""

    student: str
    path: Path
    handed_in: Path | None = None
    #: Reasons given when the files were first read (file name -> reason; ``""``: the whole
    #: submission), kept by a copy made of the files that could be read (a bulk or Dask
    #: worker's), so it refuses what it was not given with the words ``check`` uses.
    refused: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        # The student's name is a folder or file name the student may have chosen: it is
        # shown (terminal, HTML, CSV) with its control characters and lone surrogates made
        # visible, by the sanitiser that cleans the child's replies.
        object.__setattr__(self, "student", clean(self.student))

    @property
    def is_folder(self) -> bool:
        return _kind(self.path) == "folder"

    def _source(self, module: str) -> Path | None:
        """The file the student wrote for ``module`` (a ``.py`` file or a notebook)."""
        if _kind(self.path) == "link":
            return None
        if not self.is_folder:
            return self.path if _kind(self.path) != "absent" else None
        for candidate in (self.path / f"{module}.py", self.path / f"{module}.ipynb"):
            if _kind(candidate) != "absent":
                return candidate
        return None

    def module_path(self, module: str) -> Path | None:
        """The ``.py`` file that provides ``module``, or None if the student did not submit
        it. For a notebook this is the code extracted from it (for a notebook that cannot be
        read, a module whose import raises an ImportError saying why)."""
        source = self._source(module)
        if source is None or not is_notebook(source) or _kind(source) != "file":
            return source
        return _convert(source)

    def problem(self, module: str) -> str | None:
        """Why ``module`` cannot be graded (missing, a link, unreadable, too big), or None;
        the same words whether the original files or a worker's copy are graded."""
        refused = dict(self.refused)
        if "" in refused:
            return refused[""]
        whole = _whole_refusal(self.path)
        if whole is not None:
            return whole
        if self.is_folder:
            for name in (f"{module}.py", f"{module}.ipynb"):
                if name in refused:
                    return refused[name]
        path = self.module_path(module)
        if path is None:
            return f"the submission has no {module}.py"
        source = self._source(module) or path
        return refusal(source, _limit(source)) or refusal(path)

    def load(self) -> Loaded:
        """The bytes to grade and why anything was left out: a single file, or the folder's
        top-level ``.py`` files (the graded modules and the student's helpers), capped in
        number and size. A notebook gives its extracted code under the notebook's name with
        ``.py`` (a folder's ``activations.ipynb`` gives ``activations.py`` unless that file
        exists)."""
        refused = dict(self.refused)
        whole = refused.get("") or _whole_refusal(self.path)
        if whole is not None:
            return Loaded({}, {"": whole})
        if not self.is_folder:
            why = refusal(self.path, _limit(self.path))
            content = _read_code(self.path) if why is None else None
            name = f"{self.path.stem}.py" if is_notebook(self.path) else self.path.name
            if content is None:
                return Loaded({}, {"": why or f"Your {self.path.name} is not readable"})
            return Loaded({name: content}, {})
        sources = {f"{path.stem}.py": path for path in self.path.glob("*.ipynb")}
        sources.update({path.name: path for path in sorted(self.path.glob("*.py"))})
        found: dict[str, bytes] = {}
        total = 0
        for name in sorted(sources):
            source = sources[name]
            if len(found) >= MAX_FILES or total > MAX_TOTAL_BYTES:
                refused[source.name] = (f"Your {source.name} was not read: a submission may "
                                        f"hold at most {MAX_FILES} files and "
                                        f"{_size(MAX_TOTAL_BYTES)} of code")
                continue
            why = refusal(source, _limit(source))
            content = _read_code(source) if why is None else None
            if content is None:
                refused[source.name] = why or f"Your {source.name} is not readable"
                continue
            total += len(content)
            if total > MAX_TOTAL_BYTES:
                refused[source.name] = (f"Your {source.name} was not read: a submission may "
                                        f"hold at most {_size(MAX_TOTAL_BYTES)} of code")
                continue
            found[name] = content
        return Loaded(found, refused)

    def files(self) -> dict[str, bytes]:
        """The bytes to grade (see :meth:`load`, which also says what was left out)."""
        return self.load().files

    def notes(self) -> list[str]:
        """What was commented out of the submission's notebooks (magics, shell escapes), to
        show the student; empty for ``.py`` files."""
        if _kind(self.path) == "link":
            return []
        paths = ([self.path] if not self.is_folder
                 else sorted(self.path.glob("*.ipynb")))
        found = []
        for path in paths:
            if is_notebook(path) and _kind(path) == "file":
                found += [f"{path.name}: {note}" for note in _converted_notes(path)]
        return found

    def content_hash(self, modules: list[str]) -> str:
        """SHA-256 over everything of the student's that reaches the sandbox (see
        :func:`content_hash`); ``modules`` are the graded ones."""
        return content_hash(self.load(), modules)


def content_hash(loaded: Loaded, modules: list[str]) -> str:
    """SHA-256 over what :meth:`Submission.load` read: every file name and its bytes (the
    graded modules, the student's helpers, notebooks as their extracted code) and every
    refusal, since all of it decides the grade. A stored grade is reused only while this is
    unchanged, so emptying a helper the graded module imports is graded again. (Course
    files, support files included, are in the course fingerprint.)"""
    digest = hashlib.sha256()
    for module in sorted(modules):
        digest.update(module.encode() + b"\0")
    for name in sorted(loaded.files):
        content = loaded.files[name]
        digest.update(b"F" + name.encode() + b"\0" + str(len(content)).encode() + b"\0")
        digest.update(content)
    for name in sorted(loaded.refused):
        digest.update(b"R" + name.encode() + b"\0" + loaded.refused[name].encode() + b"\0")
    return digest.hexdigest()


def is_notebook(path: Path) -> bool:
    return Path(path).suffix == ".ipynb"


# ---------------------------------------------------------------- notebooks -> .py files

_CACHE_LOCK = threading.Lock()
_CACHE: dict[str, tuple[Path, tuple[str, ...]]] = {}


def _new_cache_lock() -> None:
    global _CACHE_LOCK
    _CACHE_LOCK = threading.Lock()  # another thread may have held it at a fork


os.register_at_fork(after_in_child=_new_cache_lock)


@functools.cache
def _cache_dir() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="dlgrade-notebooks-"))
    atexit.register(shutil.rmtree, folder, True)
    return folder


def _converted_entry(path: Path) -> tuple[Path, tuple[str, ...]]:
    """(extracted ``.py`` file, notes) for a notebook, cached by content: the notebook is
    read (never following a link) and hashed on each call, but parsed as JSON only the first
    time those bytes are seen; never executed. A notebook that cannot be used becomes a
    module that raises ImportError saying why, so ``check``, a local ``grade`` and a
    distributed ``grade`` (which ships :meth:`Submission.files`) report it alike."""
    data = read_regular(path, MAX_NOTEBOOK_BYTES)
    why = None
    if data is None:
        size = path.lstat().st_size if _kind(path) == "file" else 0
        why = (f"{path.name} is larger than {MAX_NOTEBOOK_BYTES >> 20} MiB"
               if size > MAX_NOTEBOOK_BYTES else f"{path.name} is not readable")
        data = why.encode()
    key = hashlib.sha256(data).hexdigest()[:32]
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
        if why is not None:
            code, notes = f"raise ImportError({why!r})\n", ()
        else:
            try:
                extracted = extract(data, path.name)
                code, notes = extracted.code, extracted.notes
            except NotebookError as exc:
                code, notes = f"raise ImportError({str(exc)!r})\n", ()
        target = _cache_dir() / key / "notebook.py"
        target.parent.mkdir(exist_ok=True)
        target.write_text(code, encoding="utf-8")
        _CACHE[key] = (target, notes)
        return _CACHE[key]


def _convert(path: Path) -> Path:
    return _converted_entry(path)[0]


def _converted_notes(path: Path) -> tuple[str, ...]:
    return _converted_entry(path)[1]


def _read_code(path: Path) -> bytes | None:
    """The bytes to grade for one file: a ``.py`` file's own, a notebook's extracted code."""
    if not is_notebook(path):
        return read_regular(path)
    if _kind(path) != "file":
        return None
    return read_regular(_convert(path))


def _kind(path: Path) -> str:
    """``file``, ``folder``, ``link``, ``other`` (FIFO, device...) or ``absent``, without
    following a symbolic link."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return "absent"
    if stat.S_ISLNK(mode):
        return "link"
    return "file" if stat.S_ISREG(mode) else "folder" if stat.S_ISDIR(mode) else "other"


def _whole_refusal(path: Path) -> str | None:
    """Why a submission as a whole cannot be graded (a link to a folder or a file)."""
    if _kind(path) == "link":
        return (f"Your submission {Path(path).name} is a symbolic link; submit the files "
                "themselves, not a link")
    return None


def from_path(path: Path) -> Submission:
    """One submission (used by ``dlgrade check``): a folder, a ``.py`` file or a notebook.
    A link is taken as given, and every exercise then says that a link is not graded, in
    the words ``dlgrade grade`` uses."""
    path = Path(path)
    if _kind(path) == "absent":
        raise SubmissionError(f"{path} does not exist")
    if path.suffix == ".zip":
        raise SubmissionError(f"{path}: {ZIP_REFUSAL}")
    if _kind(path) not in ("folder", "link") and path.suffix not in (".py", ".ipynb"):
        raise SubmissionError(f"{path} is not a .py file or a notebook (.ipynb)")
    if _kind(path) == "link" and not path.is_dir() and path.suffix not in (".py", ".ipynb"):
        raise SubmissionError(f"{path} is not a .py file or a notebook (.ipynb)")
    if _kind(path) == "folder":
        name = path.resolve().name
    else:
        name = path.stem if path.suffix in (".py", ".ipynb") else path.name
    return Submission(name, path)


def discover(directory: Path, assignments: Sequence[str] | None = None) -> list[Submission]:
    """Every student in a class folder (see :func:`survey`, which also says what it left
    out)."""
    return survey(directory, assignments).submissions


def survey(directory: Path, assignments: Sequence[str] | None = None) -> ClassFolder:
    """Every student in a class folder, sorted by name: sub-folders, ``.py`` files and
    notebooks, or nbgrader's ``submitted/`` layout (``STUDENT/ASSIGNMENT/*.ipynb``); and
    every other entry, with why it is not graded (a ``.zip``, a name starting with ``.`` or
    ``_``, another kind of file). A link is a student whose every exercise says so.

    In nbgrader's layout a student is graded on the folder of one assignment: the one in
    ``assignments`` (the ids being graded) that the class handed in, or, when
    ``assignments`` is None, the only assignment folder there is. Students without that
    folder did not hand it in and are left out, as ``nbgrader autograde`` leaves them out.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise SubmissionError(f"{directory} is not a folder")
    try:
        entries = sorted(directory.iterdir())
    except PermissionError:
        raise SubmissionError(f"{directory} is not readable") from None
    found: dict[str, Submission] = {}
    skipped: list[Skipped] = []
    nbgrader: dict[str, dict[str, Path]] = {}  # student -> assignment folder name -> folder
    raw_names: dict[str, str] = {}  # student as shown -> the folder or file name it is
    for entry in entries:
        kind = _kind(entry)
        is_file = entry.suffix in (".py", ".ipynb")
        if entry.name.startswith((".", "_")):
            skipped.append(Skipped(entry.name, f"not graded: its name starts with "
                                               f"{entry.name[0]!r}"))
            continue
        if entry.suffix.lower() == ".zip":
            skipped.append(Skipped(entry.name, ZIP_REFUSAL))
            continue
        if kind == "folder" or is_file or (kind == "link" and entry.is_dir()):
            raw = entry.stem if is_file else entry.name
            student = clean(raw)
            if student in found or student in nbgrader:
                if raw_names[student] != raw:  # two names that read alike once cleaned
                    skipped.append(Skipped(entry.name, f"not graded: its name reads as "
                                                       f"{student!r}, another student's"))
                    continue
                raise SubmissionError(
                    f"student {student!r} has both a folder and a file in {directory}"
                )
            raw_names[student] = raw
            layout = _nbgrader_folders(entry) if kind == "folder" else {}
            if layout:
                nbgrader[student] = layout
            else:
                found[student] = Submission(student, entry)
        else:
            skipped.append(Skipped(entry.name, "not graded: not a folder, .py file or "
                                               "notebook (.ipynb)"))
    if nbgrader:
        found.update(_nbgrader_submissions(directory, nbgrader, assignments))
    if not found:
        left = "".join(f"; {s.name}: {s.reason}" for s in skipped[:5])
        raise SubmissionError(
            f"{directory} has no submissions (expected one folder, .py file or notebook per "
            f"student, or nbgrader's STUDENT/ASSIGNMENT/ folders){left}"
        )
    students = [found[name] for name in sorted(found)] if nbgrader else list(found.values())
    return ClassFolder(students, skipped)


def _nbgrader_folders(folder: Path) -> dict[str, Path]:
    """A student folder in nbgrader's layout: no code of its own, and sub-folders (one per
    assignment) holding notebooks. Returns assignment folder name -> folder ({} if not)."""
    try:
        children = sorted(folder.iterdir())
    except OSError:
        return {}
    if any(c.suffix in (".py", ".ipynb") for c in children):
        return {}
    return {c.name: c for c in children if not c.name.startswith((".", "_"))
            and _kind(c) == "folder" and any(c.glob("*.ipynb"))}


def _nbgrader_submissions(directory: Path, layout: dict[str, dict[str, Path]],
                          assignments: Sequence[str] | None) -> dict[str, Submission]:
    handed_in = sorted({name for folders in layout.values() for name in folders})
    if assignments is not None:
        handed_in = [name for name in handed_in if name in assignments]
    if len(handed_in) != 1:
        if not handed_in:
            raise SubmissionError(f"{directory} (nbgrader's layout) holds no submissions of "
                                  f"{', '.join(assignments or [])}")
        raise SubmissionError(
            f"{directory} (nbgrader's layout) holds submissions of {', '.join(handed_in)}; "
            "grade one assignment at a time"
        )
    chosen = handed_in[0]
    found = {}
    for student, folders in layout.items():
        if chosen in folders:
            found[student] = Submission(student, _notebook_of(folders[chosen], chosen),
                                        handed_in=folders[chosen])
    return found


def _notebook_of(folder: Path, assignment: str) -> Path:
    """The graded file of ``STUDENT/ASSIGNMENT/``: ``ASSIGNMENT.ipynb`` (what
    ``dlgrade nbgrader-source`` makes), else its only notebook, else the folder itself (whose
    ``activations.py`` or ``activations.ipynb`` provide the modules)."""
    named = folder / f"{assignment}.ipynb"
    if _kind(named) == "file":
        return named
    notebooks = sorted(folder.glob("*.ipynb"))
    return notebooks[0] if len(notebooks) == 1 else folder

"""Submissions on disk: one folder (or one ``.py`` file) per student.

A folder holds the student's modules by name (``activations.py``, ``losses.py``); a single
file stands for every module (students may put everything in one file). Nothing here imports
or executes student code: files are only located, size-checked and hashed.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

MAX_FILE_BYTES = 1 << 20  # a hand-written solution module is far smaller
MAX_FILES, MAX_TOTAL_BYTES = 64, 4 << 20  # per submission folder


class SubmissionError(Exception):
    """A path that cannot be graded: missing, unreadable, empty folder."""


@dataclass(frozen=True)
class Submission:
    """A student's work: ``path`` is a folder of modules or a single ``.py`` file."""

    student: str
    path: Path

    @property
    def directory(self) -> Path:
        return self.path if self.path.is_dir() else self.path.parent

    def module_path(self, module: str) -> Path | None:
        """The file that provides ``module``, or None if the student did not submit it."""
        candidate = self.path / f"{module}.py" if self.path.is_dir() else self.path
        return candidate if candidate.is_file() else None

    def problem(self, module: str) -> str | None:
        """Why ``module`` cannot be graded (missing, unreadable, too big), or None."""
        path = self.module_path(module)
        if path is None:
            return f"the submission has no {module}.py"
        if not os.access(path, os.R_OK):
            return f"{path.name} is not readable"
        if path.stat().st_size > MAX_FILE_BYTES:
            return f"{path.name} is larger than {MAX_FILE_BYTES // 1024} KiB"
        return None

    def files(self) -> dict[str, bytes]:
        """The bytes to grade: a single file, or the folder's top-level ``.py`` files (the
        graded modules and the student's helpers), capped in number and size."""
        if not self.path.is_dir():
            return {self.path.name: _read(self.path)}
        found: dict[str, bytes] = {}
        total = 0
        for path in sorted(self.path.glob("*.py")):
            if path.is_file() and not path.is_symlink() and len(found) < MAX_FILES:
                content = _read(path)
                total += len(content)
                if total > MAX_TOTAL_BYTES:
                    break
                found[path.name] = content
        return found

    def content_hash(self, modules: list[str]) -> str:
        """SHA-256 over the files that provide ``modules`` (missing ones hash as absent)."""
        digest = hashlib.sha256()
        for module in sorted(modules):
            path = self.module_path(module)
            digest.update(module.encode() + b"\0")
            if path is not None and self.problem(module) is None:
                digest.update(path.read_bytes())
            digest.update(b"\0\0")
        return digest.hexdigest()


def _read(path: Path) -> bytes:
    """A file's bytes, or nothing if it is unreadable or too big (reported at grading)."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return b""
        return path.read_bytes()
    except OSError:
        return b""


def from_path(path: Path) -> Submission:
    """One submission (used by ``dlgrade check``)."""
    path = Path(path)
    if not path.exists():
        raise SubmissionError(f"{path} does not exist")
    if path.is_file() and path.suffix != ".py":
        raise SubmissionError(f"{path} is not a .py file")
    name = path.resolve().name if path.is_dir() else path.stem
    return Submission(name, path)


def discover(directory: Path) -> list[Submission]:
    """Every student in a class folder: sub-folders and ``.py`` files, sorted by name."""
    directory = Path(directory)
    if not directory.is_dir():
        raise SubmissionError(f"{directory} is not a folder")
    try:
        entries = sorted(directory.iterdir())
    except PermissionError:
        raise SubmissionError(f"{directory} is not readable") from None
    found: dict[str, Submission] = {}
    for entry in entries:
        if entry.name.startswith((".", "_")):
            continue
        if entry.is_dir() or entry.suffix == ".py":
            student = entry.name if entry.is_dir() else entry.stem
            if student in found:
                raise SubmissionError(
                    f"student {student!r} has both a folder and a file in {directory}"
                )
            found[student] = Submission(student, entry)
    if not found:
        raise SubmissionError(
            f"{directory} has no submissions (expected one folder or .py file per student)"
        )
    return list(found.values())

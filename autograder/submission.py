"""Submissions on disk: one folder (or one ``.py`` file) per student.

A folder holds the student's modules by name (``activations.py``, ``losses.py``); a single
file stands for every module (students may put everything in one file). Nothing here imports
or executes student code: files are only located, size-checked and hashed.
"""

from __future__ import annotations

import hashlib
import os
import stat
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
    def is_folder(self) -> bool:
        return _kind(self.path) == "folder"

    def module_path(self, module: str) -> Path | None:
        """The file that provides ``module``, or None if the student did not submit it."""
        if _kind(self.path) == "link":
            return None
        candidate = self.path / f"{module}.py" if self.is_folder else self.path
        return candidate if _kind(candidate) != "absent" else None

    def problem(self, module: str) -> str | None:
        """Why ``module`` cannot be graded (missing, a link, unreadable, too big), or None."""
        if _kind(self.path) == "link":
            return f"{self.path.name} is a symbolic link; submit the files themselves"
        path = self.module_path(module)
        if path is None:
            return f"the submission has no {module}.py"
        kind = _kind(path)
        if kind != "file":
            return f"{path.name} is {'a symbolic link' if kind == 'link' else 'not a file'}"
        if path.lstat().st_size > MAX_FILE_BYTES:
            return f"{path.name} is larger than {MAX_FILE_BYTES // 1024} KiB"
        if read_regular(path) is None:
            return f"{path.name} is not readable"
        return None

    def files(self) -> dict[str, bytes]:
        """The bytes to grade: a single file, or the folder's top-level ``.py`` files (the
        graded modules and the student's helpers), capped in number and size."""
        if _kind(self.path) == "link":
            return {}
        if not self.is_folder:
            content = read_regular(self.path)
            return {self.path.name: content} if content is not None else {}
        found: dict[str, bytes] = {}
        total = 0
        for path in sorted(self.path.glob("*.py")):
            content = read_regular(path) if len(found) < MAX_FILES else None
            if content is not None:
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
            content = read_regular(path) if path is not None else None
            if content is not None:
                digest.update(content)
            digest.update(b"\0\0")
        return digest.hexdigest()


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


def read_regular(path: Path, limit: int = MAX_FILE_BYTES) -> bytes | None:
    """The bytes of a regular file of at most ``limit`` bytes; None for anything else.

    Never follows a symbolic link (which could point at the reference solutions) and never
    blocks on a FIFO: students control what their submission folder contains."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        chunks, left = [], limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        return data if len(data) <= limit else None
    except OSError:
        return None
    finally:
        os.close(fd)


def from_path(path: Path) -> Submission:
    """One submission (used by ``dlgrade check``)."""
    path = Path(path)
    if not path.exists():
        raise SubmissionError(f"{path} does not exist")
    if _kind(path) != "folder" and path.suffix != ".py":
        raise SubmissionError(f"{path} is not a .py file")
    name = path.resolve().name if _kind(path) == "folder" else path.stem
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
        kind = _kind(entry)
        if kind == "folder" or entry.suffix == ".py" or (kind == "link" and entry.is_dir()):
            student = entry.stem if entry.suffix == ".py" else entry.name
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

"""Reading what a student hands in, safely, and how much of it: the one home of the limits.

Students control their submission folder, so a file is read only if it is a regular file
(never through a symbolic link, which could point at a course's solutions, and never
blocking on a FIFO), and only up to these sizes, both when the grader loads a submission and
when the sandbox copies it for a child.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

MAX_FILE_BYTES = 1 << 20  # a hand-written solution module is far smaller
MAX_FILES, MAX_TOTAL_BYTES = 64, 4 << 20  # per submission folder
# The marker line that starts each cell of code extracted from a notebook
# (dlgrade.load.notebooks writes them): a place in that code is told by cell, by the grader
# for errors and by the sandboxed child for warnings.
_CELL_MARK = re.compile(r"^# %% cell (\d+|In \[\d+\]) of (.+)$")


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


def relocate(message: str, module_file: str, code: str) -> str:
    """``message`` with each ``MODULE_FILE, line N`` (a place in ``code``, extracted from a
    notebook) told as ``NOTEBOOK, code cell C, line L``; unchanged when ``code`` has no cell
    markers (a plain ``.py`` file)."""
    if "# %% cell " not in code or f"{module_file}, line " not in message:
        return message
    marks = [(number, cell_label(m.group(1)), m.group(2))
             for number, line in enumerate(code.splitlines(), start=1)
             if (m := _CELL_MARK.match(line))]
    if not marks:
        return message

    def place(match: re.Match[str]) -> str:
        line = int(match.group(1))
        before = [m for m in marks if m[0] < line]
        if not before:
            return match.group(0)
        start, cell, notebook = before[-1]
        return f"{notebook}, {cell}, line {line - start}"

    return re.sub(rf"\b{re.escape(module_file)}, line (\d+)", place, message)


def cell_label(number: str | int) -> str:
    """How a student finds a cell: ``code cell 6`` (the sixth code cell), or ``In [7]`` for
    a live kernel's input."""
    text = str(number)
    return text if text.startswith("In [") else f"code cell {text}"

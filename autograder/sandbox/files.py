"""Reading what a student hands in, safely, and how much of it: the one home of the limits.

Students control their submission folder, so a file is read only if it is a regular file
(never through a symbolic link, which could point at a course's solutions, and never
blocking on a FIFO), and only up to these sizes, both when the grader loads a submission and
when the sandbox copies it for a child.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_FILE_BYTES = 1 << 20  # a hand-written solution module is far smaller
MAX_FILES, MAX_TOTAL_BYTES = 64, 4 << 20  # per submission folder


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

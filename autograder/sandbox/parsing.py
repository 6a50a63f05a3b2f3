"""Python source parsed in the grading process, one thread at a time.

CPython before 3.13 keeps the AST constructor's recursion counter in state shared by every
thread (gh-106905). When two threads build ASTs at once (``ast.parse``, ``ast.literal_eval``,
numpy's ``.npy`` header parser) and the GIL passes between them mid-build (a garbage
collection that runs a finaliser is enough), one of them fails with ``SystemError: AST
constructor recursion depth mismatch``. The class grader runs one thread per worker, so
without this one student's file could turn into "internal error" in another student's
thread. Every AST the grading process builds is built under :data:`LOCK`.
"""

from __future__ import annotations

import ast
import os
import threading

#: Held while any AST is built in this process (parses are short: a module, a ``def``
#: line, a ``.npy`` header).
LOCK = threading.Lock()


def _new_lock() -> None:
    global LOCK
    LOCK = threading.Lock()  # another thread may have held it at a fork


os.register_at_fork(after_in_child=_new_lock)


def parse(source: str) -> ast.Module:
    """``ast.parse(source)`` under :data:`LOCK`; raises what ``ast.parse`` raises
    (SyntaxError, ValueError, RecursionError, MemoryError)."""
    with LOCK:
        return ast.parse(source)

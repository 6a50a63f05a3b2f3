"""ASTs built in the grading process, one thread at a time (gh-106905).

CPython before 3.13 shares the AST constructor's recursion counter between threads: two
threads parsing at once, with a garbage collection running a finaliser in between, fail
with ``SystemError: AST constructor recursion depth mismatch``. It failed CI once in
``grade --dry-run`` (a handout's ``def`` lines parsed in two worker threads). Without the
lock the stress below fails on every run on 3.11; with it, never.
"""

from __future__ import annotations

import ast
import re
import struct
import threading
from pathlib import Path

import numpy as np
from dlgrade.sandbox import parsing, wire

ENGINE = Path(__file__).resolve().parent.parent / "autograder"
SOURCE = "def f(a, b=1, *c, d=(1, 2, [3, {4: 5}]), **e): pass\n" * 50


class _Finaliser:
    """A cycle whose collection runs Python code: the GIL can pass to another thread."""

    def __del__(self) -> None:
        [i for i in range(50)]


def _odd_header_frame() -> bytes:
    """A valid ``.npy`` frame whose header the fast regex does not take, so numpy's own
    parser (``ast.literal_eval``) reads it."""
    header = b"{'shape': (2,), 'fortran_order': False, 'descr': '<f8'}"
    header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"
    return (b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header
            + np.arange(2.0).tobytes())


def test_threads_parsing_at_once_never_fail():
    frame = _odd_header_frame()
    assert wire.decode_frame(frame).tolist() == [0.0, 1.0]
    errors: list[BaseException] = []

    def parse_many() -> None:
        try:
            for _ in range(100):
                parsing.parse(SOURCE)
                for _ in range(20):
                    cycle = _Finaliser()
                    cycle.self = cycle  # type: ignore[attr-defined]
        except BaseException as exc:  # noqa: BLE001 - the test reports whatever it was
            errors.append(exc)

    def decode_many() -> None:
        try:
            for _ in range(300):
                wire.decode_frame(frame)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=parse_many) for _ in range(3)]
    threads.append(threading.Thread(target=decode_many))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors[:2]


def test_parse_raises_what_ast_parse_raises():
    assert isinstance(parsing.parse("x = 1").body[0], ast.Assign)
    for bad in ("def (:", "\x00"):
        try:
            parsing.parse(bad)
        except (SyntaxError, ValueError):
            pass
        else:
            raise AssertionError(f"{bad!r} parsed")
    assert not parsing.LOCK.locked()


def test_no_engine_module_builds_an_ast_but_through_the_lock():
    builds = re.compile(r"\bast\.parse\(|\bliteral_eval\(|PyCF_ONLY_AST")
    offenders = [f"{path.relative_to(ENGINE)}:{number}"
                 for path in sorted(ENGINE.rglob("*.py")) if path.name != "parsing.py"
                 for number, line in enumerate(path.read_text().splitlines(), start=1)
                 if builds.search(line.split("#", 1)[0])]
    assert offenders == []

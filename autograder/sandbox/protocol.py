r"""The parent's half of the child protocol: the requests a grader (or a course's script of
calls) sends to a sandboxed child, and how they are encoded.

A request is a :class:`Step` (call a function, keep or fetch an object, run a program
around the student's code); its arguments may hold arrays, numbers, strings, lists, dicts,
:class:`Handle`\ s of objects kept in the child and :class:`Rng` seeds. The child's half is
:mod:`dlgrade.sandbox.child`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from dlgrade.sandbox import wire


@dataclass
class Reply:
    """What the child said about one request: a value, or an error of the student's code."""

    ok: bool
    value: Any = None
    kind: str = ""  # exception, not_implemented, missing, syntax, import, bad_return,
    # skipped, autograd, timeout, crash, protocol
    message: str = ""
    where: str = ""
    trace: str = ""
    warnings: tuple[str, ...] = ()  # RuntimeWarnings the call raised (overflow, ...)

    @classmethod
    def from_header(cls, header: Any, arrays: list[np.ndarray]) -> Reply:
        if not isinstance(header, dict):
            raise wire.WireError("malformed reply")
        if header.get("ok") is True:
            warned = header.get("warnings", [])
            warned = tuple(str(w)[:300] for w in warned[:5]) if isinstance(warned, list) else ()
            return cls(True, value=wire.decode(header.get("value"), arrays), warnings=warned)
        error = header.get("error")
        if not isinstance(error, dict):
            raise wire.WireError("malformed error reply")
        return cls(False, **{k: str(error.get(k, ""))[:4000]
                             for k in ("kind", "message", "where", "trace")})


class Handle(str):
    """A reference to an object kept in the child (a cache, a dict, a student's object)."""


class Rng(int):
    """An argument the child turns into ``numpy.random.default_rng(seed)``."""


@dataclass(frozen=True)
class Step:
    """One request inside a batch (see the ops in :mod:`dlgrade.sandbox.child`).

    ``op`` is ``"call"`` (with ``keep``, the result is ``(value, cache)`` and the cache is
    kept under that handle), ``"new"`` (keep the whole result), ``"put"`` (keep
    ``args[0]``), ``"get"`` (send back a kept object), ``"method"`` (call method ``fn`` of
    the kept object ``args[0]``), ``"trajectory"`` or ``"graph"``. With ``perturb``, the
    function is called at perturbed copies of its arguments: ``(position, moves)`` where
    ``position`` is an argument index or ``(index, key)`` for an entry of a dict argument
    and ``moves`` are ``(flat index, delta)`` pairs, keeping element ``pick`` of each result.
    ``extra`` holds op-specific JSON fields (``steps`` of a trajectory, a graph's program).
    """

    fn: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] | None = None
    keep: str | None = None
    perturb: tuple[Any, list[tuple[int, float]]] | None = None
    pick: int | None = None
    op: str = "call"
    extra: dict[str, Any] | None = None


class Frames(list):
    """The arrays of one request, each sent once however many steps use it (a case's
    inputs serve its forward call and every perturbed call)."""

    def __init__(self) -> None:
        super().__init__()
        self.index: dict[int, int] = {}

    def add(self, array: np.ndarray) -> int:
        key = id(array)
        if key not in self.index:  # the arrays outlive the request, so ids stay unique
            self.index[key] = len(self)
            self.append(array)
        return self.index[key]


def encode_tree(value: Any, arrays: list[np.ndarray]) -> Any:
    if isinstance(value, Handle):
        return {"h": str(value)}
    if isinstance(value, Rng):
        return {"rng": int(value)}
    if isinstance(value, dict):
        return {"dict": {str(k): encode_tree(v, arrays) for k, v in value.items()}}
    if isinstance(value, np.ndarray):
        if isinstance(arrays, Frames):
            return {"a": arrays.add(value)}
        arrays.append(value)
        return {"a": len(arrays) - 1}
    if isinstance(value, (list, tuple)):
        return {"list": [encode_tree(v, arrays) for v in value]}
    if isinstance(value, str):
        return {"str": value}
    if value is None:
        return None
    if isinstance(value, (bool, int, float)):
        return {"num": value}  # hyper-parameters stay Python numbers, not 0-d arrays
    raise TypeError(f"cannot send {type(value).__name__}")


def encode_step(module: str, step: Step, arrays: list[np.ndarray]) -> dict[str, Any]:
    """The JSON header of one step; its arrays are appended to ``arrays``."""
    header = {"op": step.op, "module": module, "fn": step.fn, "keep": step.keep,
              "args": [encode_tree(a, arrays) for a in step.args],
              "kwargs": {k: encode_tree(v, arrays) for k, v in (step.kwargs or {}).items()},
              **(step.extra or {})}
    if step.perturb is not None:
        position, moves = step.perturb
        header.update(op="perturb", arg=list(position) if isinstance(position, tuple)
                      else position, pick=step.pick,
                      points=[[int(f), float(d)] for f, d in moves])
    return header

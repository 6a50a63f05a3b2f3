"""Small programs the child runs around a student's code, given as data by the grader.

The grader cannot call an optimizer 100 times in 100 round trips, nor send a student's
``Value`` objects across a pipe, so the child runs these loops itself and sends back plain
numbers. The same functions run the reference in the grader's process, which is how the
expected values are made: student and reference go through exactly the same program.

* :func:`trajectory`: ``steps`` updates of an optimizer rule on an objective whose gradient
  :func:`gradient` computes (a random quadratic or a non-convex double well).
* :func:`graph`: an expression graph built from a student's ``Value`` class, then
  ``backward()`` on its last node.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

#: ``call(function, args, kwargs)``: runs student code, turning its errors into reports.
Call = Callable[[Any, list, dict], Any]


class ProgramError(Exception):
    """The student's code returned something the program cannot go on with."""


# ---------------------------------------------------------------- objectives


def objective_value(objective: dict[str, Any], w: np.ndarray) -> float:
    """f(w) of an objective (used by oracles and tests; the child needs only the gradient).

    ``quadratic``: f(w) = 0.5 (w - c)^T A (w - c), A symmetric positive definite.
    ``double_well``: f(w) = sum((w^2 - 1)^2 / 4 + a sin(3 w)), non-convex.
    """
    w = np.asarray(w, dtype=np.float64).ravel()
    if objective["kind"] == "quadratic":
        r = w - np.ravel(objective["c"])
        return float(0.5 * r @ np.asarray(objective["A"]) @ r)
    a = float(objective["a"])
    return float(np.sum((w**2 - 1) ** 2 / 4 + a * np.sin(3 * w)))


def gradient(objective: dict[str, Any], w: np.ndarray) -> np.ndarray:
    """The gradient of :func:`objective_value` at ``w``, shaped like ``w`` (float64)."""
    flat = np.asarray(w, dtype=np.float64).ravel()
    if objective["kind"] == "quadratic":
        g = np.asarray(objective["A"], dtype=np.float64) @ (flat - np.ravel(objective["c"]))
    elif objective["kind"] == "double_well":
        g = flat * (flat**2 - 1) + 3 * float(objective["a"]) * np.cos(3 * flat)
    else:
        raise ProgramError(f"unknown objective {objective['kind']!r}")
    return g.reshape(np.shape(w))


def trajectory(rule: Any, name: str, w: np.ndarray, config: dict | None,
               objective: dict[str, Any], steps: int, call: Call) -> dict[str, Any]:
    """``steps`` updates ``w, config = rule(w, gradient(w), config)``.

    Returns ``{"w": (steps + 1, *w.shape) float64 array of every iterate, "config": the
    final config}``; a step that returns the wrong thing stops the program with a
    :class:`ProgramError` naming the step.
    """
    w = np.array(w, dtype=np.float64)
    iterates = [w.copy()]
    for t in range(int(steps)):
        dw = gradient(objective, w)
        result = call(rule, [w.copy(), dw, config], {})
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise ProgramError(f"{name} must return (next_w, config); at step {t + 1} it "
                               f"returned a {type(result).__name__}")
        next_w, config = result
        try:
            next_w = np.array(next_w, dtype=np.float64)
        except (TypeError, ValueError):
            raise ProgramError(f"{name} returned a next_w that is not an array at step "
                               f"{t + 1}") from None
        if next_w.shape != w.shape:
            raise ProgramError(f"{name} returned next_w of shape {next_w.shape} at step "
                               f"{t + 1}; w has shape {w.shape}")
        if not isinstance(config, dict):
            raise ProgramError(f"{name} must return its config dict; at step {t + 1} it "
                               f"returned a {type(config).__name__}")
        w = next_w
        iterates.append(w.copy())
    return {"w": np.stack(iterates), "config": config}


# ---------------------------------------------------------------- Value graphs

#: Graph instructions: ``[op, i]``, ``[op, i, j]`` (nodes i, j) or ``[op, i, c]`` (a number).
UNARY = ("exp", "log", "tanh", "relu", "sigmoid")
BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b,
          "mul": lambda a, b: a * b, "div": lambda a, b: a / b}
WITH_NUMBER = {
    "addc": lambda a, c: a + c, "cadd": lambda a, c: c + a,
    "subc": lambda a, c: a - c, "csub": lambda a, c: c - a,
    "mulc": lambda a, c: a * c, "cmul": lambda a, c: c * a,
    "divc": lambda a, c: a / c, "cdiv": lambda a, c: c / a,
    "pow": lambda a, c: a**c,
}


def graph(value_class: Any, leaves: np.ndarray, program: list[list[Any]],
          call: Call) -> dict[str, np.ndarray]:
    """Build the expression ``program`` from ``Value(leaf)`` nodes, run ``backward()`` on
    its last node and return ``{"data": every node's value, "grad": every leaf's grad}``.

    Instructions: ``["leaf", k]`` makes ``Value(leaves[k])``; ``["add"|"sub"|"mul"|"div",
    i, j]`` combines nodes i and j; ``["addc", i, c]`` is ``node_i + c`` and ``["cadd", i,
    c]`` is ``c + node_i`` (likewise sub, mul, div; ``pow`` is ``node_i ** c``); ``["neg",
    i]`` is ``-node_i``; ``[f, i]`` for f in exp, log, tanh, relu, sigmoid calls
    ``node_i.f()``. A node used twice (reuse) must collect both gradients.
    """
    nodes: list[Any] = []
    leaf_nodes: list[Any] = []
    for instruction in program:
        op = instruction[0]
        if op == "leaf":
            node = call(value_class, [float(leaves[int(instruction[1])])], {})
            leaf_nodes.append(node)
        elif op == "neg":
            node = call(lambda a: -a, [nodes[int(instruction[1])]], {})
        elif op in UNARY:
            node = call(lambda a, f=op: getattr(a, f)(), [nodes[int(instruction[1])]], {})
        elif op in BINARY:
            node = call(BINARY[op], [nodes[int(instruction[1])], nodes[int(instruction[2])]],
                        {})
        elif op in WITH_NUMBER:
            node = call(WITH_NUMBER[op], [nodes[int(instruction[1])], float(instruction[2])],
                        {})
        else:
            raise ProgramError(f"unknown graph instruction {op!r}")
        nodes.append(node)
    call(lambda out: out.backward(), [nodes[-1]], {})
    return {"data": _numbers(nodes, "data"), "grad": _numbers(leaf_nodes, "grad")}


def _numbers(nodes: list[Any], attribute: str) -> np.ndarray:
    found = []
    for number, node in enumerate(nodes):
        try:
            found.append(float(getattr(node, attribute)))
        except Exception:  # noqa: BLE001 - whatever the student's object does
            raise ProgramError(f"node {number} ({type(node).__name__}) has no numeric "
                               f".{attribute}") from None
    return np.array(found, dtype=np.float64)

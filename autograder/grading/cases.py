"""Cases: seeded inputs for an exercise, and what a set of functions makes of them.

Public cases are a pure function of the exercise id and hidden cases also of the course
secret, so every run, every student and every machine sees the same inputs: re-grading the
same bytes with the same course gives the same grade. Public cases are what
``dlgrade check`` runs; hidden cases are added by ``dlgrade grade``; the stability case uses
huge magnitudes.
"""

from __future__ import annotations

import copy
import functools
import warnings
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from dlgrade.core import gradcheck
from dlgrade.spec.exercise import Exercise

#: Entries per differentiable input perturbed by the numerical gradient check.
GRADCHECK_ENTRIES = 12


@dataclass(frozen=True)
class Case:
    """One call of an exercise's functions.

    ``dout`` is the upstream gradient handed to a layer's backward pass (None for losses);
    ``probes`` maps each differentiable input to the indices the gradient check perturbs.
    Its arrays are read-only: every student is sent the same ones (the grader encodes
    each once, see :mod:`dlgrade.sandbox.runner`), and trusted calls get copies.
    """

    label: str
    inputs: dict[str, np.ndarray]
    params: dict[str, Any]
    hidden: bool
    huge: bool
    dout: np.ndarray | None
    probes: dict[str, list[tuple[int, ...]]]

    def __post_init__(self) -> None:
        for array in (*self.inputs.values(), self.dout):
            if isinstance(array, np.ndarray):
                array.setflags(write=False)

    @functools.cached_property
    def _described(self) -> str:
        shape = next(iter(self.inputs.values())).shape
        params = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.label} (shape {shape}{', ' + params if params else ''})"

    def describe(self) -> str:
        """Where a failure happened, without values: ``public case 2 (shape (4, 5), alpha=0.2)``."""
        return self._described


def fresh(params: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of a case's hyper-parameters for one trusted call: a function that
    writes into a dict argument (batch norm's running averages in ``bn_param``) must not
    change the case for the next call, as every call in the child gets a fresh copy too."""
    return copy.deepcopy(dict(params))


def seed_for(exercise_id: str, *parts: int, hidden: bool = False) -> np.random.Generator:
    """The generator of one case. A public case's is a function of the exercise id and
    ``parts`` alone (so a student kit's frozen public cases are the course's own); a hidden
    case's also of the course secret, so knowing the exercise id is not enough to
    regenerate it. The same course (secret included) always gives the same cases."""
    words = [zlib.crc32(exercise_id.encode()), *parts]
    if hidden:
        from dlgrade.courses.course import active

        words += active().secret_words()
    return np.random.default_rng(words)


@cache
def build_cases(exercise: Exercise, hidden: bool) -> tuple[Case, ...]:
    """The exercise's cases: public ones, plus hidden ones if ``hidden``, plus stability."""
    from dlgrade.courses.registry import reference_module

    reference = reference_module(exercise.module)
    functions = {name: getattr(reference, name) for name in exercise.functions}
    shapes = [(s, False) for s in exercise.public_shapes]
    if hidden:
        shapes += [(s, True) for s in exercise.hidden_shapes]
    plans = [(shape, params, secret, False) for shape, secret in shapes
             for params in exercise.params]
    if exercise.stable:
        plans += [(shape, params, False, True) for shape in exercise.stability_shapes
                  for params in exercise.params]
    cases = []
    counters = {"public": 0, "hidden": 0, "stability": 0}
    for number, (shape, params, secret, huge) in enumerate(plans):
        kind = "stability" if huge else ("hidden" if secret else "public")
        counters[kind] += 1
        rng = seed_for(exercise.id, number, hidden=secret)
        inputs = exercise.sample(rng, tuple(shape), huge)
        dout = None
        if exercise.kind == "layer":
            out, _ = functions[exercise.functions[0]](*inputs.values(), **fresh(params))
            dout = rng.standard_normal(np.shape(out))
        probes = {name: gradcheck.sample_indices(np.shape(inputs[name]), GRADCHECK_ENTRIES, rng)
                  for name in exercise.wrt}
        cases.append(Case(f"{kind} case {counters[kind]}", inputs, dict(params), secret, huge,
                          dout, probes))
    return tuple(cases)


def observe(
    exercise: Exercise, functions: Mapping[str, Callable[..., Any]], case: Case
) -> dict[str, Any]:
    """Run trusted functions (reference, mutant) on a case: ``{"out"|"loss": .., "dx": ..}``."""
    args = [np.array(v, copy=True) for v in case.inputs.values()]
    if exercise.kind == "layer":
        forward, backward = (functions[n] for n in exercise.functions)
        out, cache_ = forward(*args, **fresh(case.params))
        grads = backward(np.array(case.dout, copy=True), cache_)
        grads = (grads,) if len(exercise.wrt) == 1 else tuple(grads)
        values = {"out": np.asarray(out)}
    else:
        loss, grad = functions[exercise.functions[0]](*args, **fresh(case.params))
        grads = (grad,)
        values = {"loss": np.asarray(loss)}
    values.update({name: np.asarray(g) for name, g in zip(exercise.grad_names, grads, strict=True)})
    return values


def observe_quietly(
    exercise: Exercise, functions: Mapping[str, Callable[..., Any]], case: Case
) -> dict[str, Any] | None:
    """:func:`observe` for functions that may fail (mutants): None instead of an error."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return observe(exercise, functions, case)
        except Exception:  # noqa: BLE001 - a broken mutant just matches nothing
            return None

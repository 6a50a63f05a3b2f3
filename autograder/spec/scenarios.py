"""Scenarios: the cases of ``"program"`` exercises (networks, optimizers, classes, random
layers), where one case is a short script of calls rather than one forward and backward.

A scenario lists :class:`~dlgrade.sandbox.protocol.Step`s for the child, names the values
to read from their results (observations), and says how each check judges them: by
comparison with what the reference makes of the same script, and by properties (statistics
for random parts, finite differences of the student's own function). The reference, and each
known mistake, run the very same script in this process through the child's own request
handler (:func:`run_locally`), so student and reference are read the same way.
"""

from __future__ import annotations

import types
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from dlgrade.sandbox import wire
from dlgrade.sandbox.protocol import Handle, Reply, Step, encode_step
from dlgrade.spec.properties import Missing, Property

#: A path into a step's result: list indices, dict keys, and ``"float"`` (the value as a
#: float64 array; integers and booleans are accepted, so ``1`` and ``1.0`` compare equal).
Path = tuple[Any, ...]


@dataclass(frozen=True)
class Result:
    """What one call of a :class:`Script` returns, to observe (or pass on, as a handle)."""

    index: int


class Script:
    """A script of calls for a program exercise, written as the calls read::

        s = Script()
        bn = s.put({"mode": "train"})                       # an object kept in the child
        out = s.call("batchnorm_forward", x, gamma, beta, bn, keep=True)
        s.observe("out", out)                               # the value returned
        s.observe("running mean", s.get(bn), "running_mean")  # a path into a result
        Scenario(..., steps=s.steps, observe=s.observations, ...)

    ``keep=True`` keeps the cache of a ``(value, cache)`` result in the child (the value
    comes back); :meth:`new` keeps an object (a class instance) and :meth:`method` calls it;
    :meth:`trajectory` runs an update rule for many steps in one call, :meth:`graph` builds
    and differentiates an expression of a student's autograd class.
    Handles are named for you, so no index arithmetic and no protocol details.
    """

    def __init__(self) -> None:
        self._steps: list[Step] = []
        self.observations: dict[str, tuple[int, Path]] = {}
        self.last_cache: Handle | None = None  # of the latest call(..., keep=True)
        self._made: dict[Handle, Result] = {}
        self._names = 0

    def _handle(self) -> Handle:
        self._names += 1
        return Handle(f"s{self._names}")

    def _add(self, step: Step) -> Result:
        self._steps.append(step)
        return Result(len(self._steps) - 1)

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(self._steps)

    def put(self, value: Any) -> Handle:
        """Keep ``value`` (a dict such as ``bn_param``) in the child; the handle passes it."""
        handle = self._handle()
        self._add(Step("", (value,), op="put", keep=handle))
        return handle

    def get(self, handle: Handle) -> Result:
        """Send back a kept object as it is now (a dict the student's code changed)."""
        return self._add(Step("", (handle,), op="get"))

    def call(self, function: str, *args: Any, keep: bool = False, **kwargs: Any) -> Result:
        """Call the student's ``function``; with ``keep``, its ``(value, cache)`` result
        keeps the cache in the child and :attr:`last_cache` names it."""
        handle = self._handle() if keep else None
        self.last_cache = handle
        return self._add(Step(function, args, kwargs or None, keep=handle))

    def new(self, cls: str, *args: Any, **kwargs: Any) -> Handle:
        """Make a student's object (``cls(*args, **kwargs)``) and keep it in the child."""
        handle = self._handle()
        self._made[handle] = self._add(Step(cls, args, kwargs or None, op="new", keep=handle))
        return handle

    def made(self, obj: Handle) -> Result:
        """The call of :meth:`new` that made ``obj``, to observe (its failure is then
        reported as itself: "EarlyStopping(...) raised TypeError")."""
        return self._made[obj]

    def method(self, obj: Handle, name: str, *args: Any, **kwargs: Any) -> Result:
        """Call method ``name`` of a kept object."""
        return self._add(Step(name, (obj, *args), kwargs or None, op="method"))

    def trajectory(self, function: str, w0: np.ndarray, config: Mapping[str, Any] | None,
                   objective: Mapping[str, Any], steps: int) -> Result:
        """Run ``steps`` updates ``w, config = function(w, gradient(w), config)`` of the
        student's update rule in the child, from ``w0`` on ``objective`` (see
        :func:`dlgrade.sandbox.programs.gradient`); the result is ``{"w": every iterate,
        shape (steps + 1, *w0.shape), "config": the final config}``."""
        given = None if config is None else dict(config)
        return self._add(Step(function, (np.asarray(w0), given, dict(objective)),
                              op="trajectory", extra={"steps": int(steps)}))

    def graph(self, cls: str, leaves: np.ndarray, program: list[list[Any]]) -> Result:
        """Build the expression ``program`` from ``cls(leaf)`` nodes of the student's
        autograd class and call ``backward()`` on its last node (instructions: see
        :func:`dlgrade.sandbox.programs.graph`); the result is ``{"data": every node's
        value, "grad": every leaf's grad}``."""
        return self._add(Step(cls, (np.asarray(leaves),), op="graph",
                              extra={"program": [list(i) for i in program]}))

    def observe(self, name: str, result: Result, *path: Any) -> str:
        """Read ``result`` (or the part of it at ``path``: indices, keys, ``"float"``) as the
        observation ``name``; returns the name, for ``compare``."""
        if name in self.observations:
            raise ValueError(f"observation {name!r} is read twice")
        self.observations[name] = (result.index, tuple(path))
        return name


@dataclass(frozen=True, eq=False)
class Scenario:
    """One case of a program exercise.

    Attributes:
        label: ``"public case 1"``, ``"hidden case 2"`` ... (shown to the student).
        about: what is special about it, e.g. ``"(2 hidden layers, reg=0.1)"``.
        hidden: graded by ``dlgrade grade`` only.
        steps: the calls made in the child, in order (one round trip).
        observe: observation name -> ``(step index, path into that step's result)``.
        compare: check name -> observations compared with the reference's.
        properties: further judgements, each counting towards its check.
        inputs: the main inputs, for diagnoses such as "wrong only where x < 0".
        tolerance: ``(rtol, atol)`` for every comparison, or None for the dtype table.
        sequence: observations whose first axis is a sequence of steps, named by what one
            step is (``{"w": "update"}``): feedback then says where they first go wrong.
    """

    label: str
    about: str
    hidden: bool
    steps: tuple[Step, ...]
    observe: Mapping[str, tuple[int, Path]]
    compare: Mapping[str, tuple[str, ...]]
    properties: tuple[Property, ...] = ()
    inputs: Mapping[str, np.ndarray] = field(default_factory=dict)
    tolerance: tuple[float, float] | None = None
    sequence: Mapping[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        return f"{self.label} {self.about}".strip()

    @property
    def checks(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*self.compare, *(p.check for p in self.properties)]))


def read(scenario: Scenario, replies: list[Reply], describe_error: Callable[[Reply, str], str],
         returns: Mapping[str, str]) -> dict[str, Any]:
    """The observations of a scenario from the replies to its steps; an observation that
    cannot be read is a :class:`Missing` saying why."""
    found: dict[str, Any] = {}
    for name, (index, path) in scenario.observe.items():
        step, reply = scenario.steps[index], replies[index]
        if not reply.ok:
            found[name] = Missing(describe_error(reply, step.fn))
            continue
        found[name] = follow(reply.value, path, step.fn, returns.get(step.fn, ""))
    return found


def follow(value: Any, path: Path, fn: str, shape_text: str) -> Any:
    """``value`` at ``path`` (see :data:`Path`), or a :class:`Missing`."""
    for key in path:
        if key == "float":
            if type(value) is not np.ndarray or value.dtype.kind not in "biuf":
                return Missing(f"{fn} returned {_kind(value)} where a number or an array of "
                               "numbers belongs")
            value = value.astype(np.float64)
        elif isinstance(key, int):
            if not isinstance(value, list) or len(value) <= key:
                return Missing(f"{fn} must return {shape_text}" if shape_text else
                               f"{fn} returned {_kind(value)}, too few values")
            value = value[key]
        else:
            if not isinstance(value, dict) or key not in value:
                return Missing(f"{fn}: no entry {key!r} in what it returned"
                               + (f" (it must return {shape_text})" if shape_text else ""))
            value = value[key]
    return value


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return f"a sequence of {len(value)} values"
    if isinstance(value, dict):
        return "a dict"
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    return f"a {type(value).__name__}"


# ---------------------------------------------------------------- running trusted code


def run_locally(module_name: str, module: Any, steps: tuple[Step, ...]) -> list[Reply]:
    """The replies the child's request handler gives for ``steps`` when the student module
    is ``module`` (the reference or a known mistake), without a sandbox: trusted code only."""
    from dlgrade.sandbox.child import Child  # the same handler the sandbox runs

    child = Child({}, "/nonexistent")
    child.loaded[module_name] = module
    replies = []
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for step in steps:
            arrays: list[np.ndarray] = []
            header = encode_step(module_name, step, arrays)
            frames: list[bytes] = []
            answer = child.reply(header, [np.array(a, copy=True) for a in arrays], frames)
            decoded = [wire.decode_frame(f) for f in frames]
            replies.append(Reply.from_header(answer, decoded))
    return replies


def with_functions(module: Any, functions: Mapping[str, Callable[..., Any]]) -> Any:
    """A stand-in for ``module`` with some functions replaced (a known mistake)."""
    namespace = types.SimpleNamespace(**vars(module))
    for name, function in functions.items():
        setattr(namespace, name, function)
    return namespace


# ---------------------------------------------------------------- helpers for specs


def finite_difference_property(check: str, loss: str, grad: str, probes_obs: str,
                               probes: list[tuple[int, ...]], eps: float,
                               function: str) -> Property:
    """The gradient ``grad`` (an observation) against centred differences of the student's
    own scalar ``loss`` at the perturbed inputs in observation ``probes_obs`` (the values
    at +eps and -eps of each entry in ``probes``, as :func:`gradcheck.points` orders them):
    a property of family ``"finite_difference"`` (``loss``, the observation of the loss
    itself, is compared with the reference's elsewhere and not needed here)."""
    return Property(check, "finite_difference",
                    {"grad": grad, "probes_obs": probes_obs,
                     "probes": [tuple(int(i) for i in p) for p in probes], "eps": float(eps),
                     "function": function},
                    reads=(grad,))

"""Exercise specs: what is graded, on which inputs, and for how many points.

An exercise is declarative data. The engine turns it into cases (seeded inputs), runs the
student's functions on them in a sandboxed child, and scores the checks in the parent.

Three kinds of exercise exist:

* ``"layer"``: ``forward(*inputs, **params) -> (out, cache)`` and
  ``backward(dout, cache) -> grads`` (one array per name in ``wrt``; a bare array when
  ``wrt`` has one name). Checks: ``forward``, ``backward``, ``gradcheck``, ``stability``.
* ``"loss"``: ``fn(*inputs, **params) -> (loss, dinput)`` where ``dinput`` is the gradient
  with respect to ``wrt[0]``. Checks: ``loss``, ``gradient``, ``gradcheck``, ``stability``.

* ``"program"``: anything else (networks, optimizer trajectories, classes, random layers).
  Each case is a :class:`~dlgrade.spec.scenarios.Scenario`: a short script of calls run in the
  child, the values read from them, and how each check judges them. Its checks are the keys
  of ``weights``.

Observation names (the values checks compare) are ``out`` / ``loss`` for the forward value and
``d<name>`` for the gradient with respect to input ``<name>`` (``dx``, ``dpred``, ``dlogits``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from dlgrade.core.compare import DTYPES

Kind = Literal["layer", "loss", "program"]
Params = Mapping[str, Any]

#: ``sample(rng, shape, huge) -> {input name: array}``. ``shape`` is the shape of the main
#: input; ``huge`` asks for the stability case (magnitudes up to about 1e3). Samplers keep
#: gradient-check inputs away from kinks (ReLU at 0, |r| = delta, hinge margins).
Sampler = Callable[[np.random.Generator, tuple[int, ...], bool], dict[str, np.ndarray]]

#: ``oracle(inputs, params, dout) -> {observation: array}``: an independent implementation
#: (torch.nn.functional + autograd in float64) used by ``dlgrade validate`` to prove the
#: reference right. ``dout`` is the upstream gradient for layers and ``None`` for losses.
Oracle = Callable[[dict[str, np.ndarray], dict[str, Any], "np.ndarray | None"], dict[str, Any]]

CHECKS: dict[str, tuple[str, ...]] = {
    "layer": ("forward", "backward", "gradcheck", "stability"),
    "loss": ("loss", "gradient", "gradcheck", "stability"),
    "program": (),  # declared per exercise, as the keys of ``weights``
}

#: Share of an exercise's points per check (renormalised over the checks an exercise has).
DEFAULT_WEIGHTS: dict[str, float] = {
    "forward": 0.4,
    "loss": 0.4,
    "backward": 0.3,
    "gradient": 0.3,
    "gradcheck": 0.1,
    "stability": 0.2,
}

#: ``<assignment id>.<name>``: both Python identifiers (an assignment id names a package).
ID_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")


#: What :attr:`Assignment.banned_libraries` bans unless a course says otherwise: the
#: deep-learning frameworks, whose autograd and losses would do a fundamentals exercise.
DEFAULT_BANNED: tuple[str, ...] = ("torch", "tensorflow", "jax", "keras", "mxnet", "paddle")


class SpecError(ValueError):
    """An exercise, mutant or assignment is declared wrongly (a bug in the course, not in a
    submission)."""


@dataclass(frozen=True, eq=False)  # hashed by identity: specs hold dicts and callables
class Exercise:
    """One graded exercise.

    Attributes:
        id: ``"<assignment>.<name>"``, e.g. ``"a1.sigmoid"``; also the CLI argument, the
            nbgrader ``grade_id`` and the Gradescope test name.
        title: human name shown in tables.
        module: the student module that defines the functions, e.g. ``"activations"``.
        kind: ``"layer"``, ``"loss"`` or ``"program"`` (see the module docstring).
        functions: layer: ``(forward name, backward name)``; loss: ``(name,)``; program:
            every student function or class its scenarios call.
        inputs: names of the positional array inputs, in call order.
        wrt: differentiable inputs, in the order the backward pass returns their gradients.
        sample: draws the inputs of one case.
        params: hyper-parameter sets; every shape is graded once per set. ``{}`` means
            "call with the defaults", which checks the defaults too.
        public_shapes: main-input shapes of the public cases (``dlgrade check``).
        hidden_shapes: main-input shapes of the hidden cases (``dlgrade grade`` only).
        stable: whether stability cases are graded: the sampler's inputs with ``huge=True``
            (what "huge" means is the sampler's: magnitudes near 1e3 where exp overflows,
            near-zero denominators, whatever the exercise must survive).
        stability_shapes: main-input shapes of the stability cases (one case per shape and
            parameter set; public, shown by ``dlgrade check``).
        points: the exercise's maximum score.
        time_limit: seconds of wall clock for the whole exercise in the child.
        oracle: the torch oracle for ``dlgrade validate``.
        hint: one line shown when the exercise is not fully right (when no more specific
            hint applies).
        no_warnings: the stability case fails when the student's code raises a numpy
            RuntimeWarning (overflow, invalid value, divide by zero) on it, right answer or
            not: for courses whose docstrings forbid formulas that overflow on the way.
        hints: optional per-check hints (check name -> one line), shown in place of
            ``hint`` when that check is the first to fail and no named mistake has a hint.
        weights: optional per-check weights overriding :data:`DEFAULT_WEIGHTS`; for a
            program, the checks themselves with their weights.
        scenarios: program: ``scenarios(hidden) -> cases`` (seeded, deterministic).
        returns: program: what each function must return, for messages, e.g.
            ``{"mlp_loss": "(loss, grads) with grads a dict like params"}``.
        builds_on: ids of exercises this one uses (feedback says when one of them fails).
        tolerance: ``(rtol, atol)`` for every value and gradient of a layer or loss, in place
            of the accepted dtypes' own (a program's scenarios carry their own); it never
            changes which dtypes are accepted.
        dtypes: the float dtypes an answer may have, each with the ``(rtol, atol)`` it is
            judged at, e.g. ``{"float64": (1e-7, 1e-7), "float32": (1.3e-6, 1e-5)}``; None
            (the default) takes the assignment's (:attr:`Assignment.dtypes`). An answer of
            any other dtype (float16, an integer) fails its check with one line saying what
            is accepted, in the gradient check too.
        oracle_check: program: ``dlgrade validate``'s proof of the reference against PyTorch
            (or a closed form); returns a list of disagreements, empty when all is well.
    """

    id: str
    title: str
    module: str
    kind: Kind
    functions: tuple[str, ...]
    inputs: tuple[str, ...]
    wrt: tuple[str, ...]
    sample: Sampler
    params: tuple[Params, ...] = ({},)
    public_shapes: tuple[tuple[int, ...], ...] = ((4, 5),)
    hidden_shapes: tuple[tuple[int, ...], ...] = ((1, 7), (3, 4, 6))
    stable: bool = True
    points: float = 2.0
    time_limit: float = 10.0
    oracle: Oracle | None = None
    hint: str = ""
    weights: Mapping[str, float] = field(default_factory=dict)
    scenarios: Callable[[bool], tuple[Any, ...]] | None = None
    returns: Mapping[str, str] = field(default_factory=dict)
    builds_on: tuple[str, ...] = ()
    oracle_check: Callable[[], list[str]] | None = None
    tolerance: tuple[float, float] | None = None
    hints: Mapping[str, str] = field(default_factory=dict)
    no_warnings: bool = False
    stability_shapes: tuple[tuple[int, ...], ...] = ((4, 6),)
    dtypes: Mapping[str, tuple[float, float]] | None = None

    @property
    def assignment(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.id.split(".", 1)[1]

    @property
    def checks(self) -> tuple[str, ...]:
        if self.kind == "program":
            return tuple(self.weights)
        names = CHECKS[self.kind]
        return names if self.stable else names[:-1]

    @property
    def value_name(self) -> str:
        """Observation name of the forward value: ``out`` or ``loss``."""
        return "out" if self.kind == "layer" else "loss"

    @functools.cached_property
    def grad_names(self) -> tuple[str, ...]:
        """Observation names of the gradients, e.g. ``("dx",)``."""
        return tuple("d" + name for name in self.wrt)

    def check_weights(self) -> dict[str, float]:
        """Fraction of the points each check is worth (sums to 1)."""
        raw = {c: float(self.weights.get(c, DEFAULT_WEIGHTS.get(c, 0.0))) for c in self.checks}
        total = sum(raw.values())
        return {c: w / total for c, w in raw.items()}

    def validate(self) -> None:
        """Raise :class:`SpecError` if the declaration is inconsistent."""
        where = f"exercise {self.id!r}"
        if not ID_PATTERN.match(self.id):
            raise SpecError(f"{where}: id must be '<assignment>.<name>', e.g. 'a1.sigmoid'")
        if self.kind not in CHECKS:
            raise SpecError(f"{where}: unknown kind {self.kind!r}")
        if self.stable and self.kind != "program" and not self.stability_shapes:
            raise SpecError(f"{where}: stable=True needs at least one stability shape")
        if self.dtypes is not None:
            check_dtypes(self.dtypes, where)
        if set(self.hints) - set(self.checks):
            raise SpecError(f"{where}: hints for unknown checks "
                            f"{sorted(set(self.hints) - set(self.checks))}")
        if self.kind == "program":
            if self.scenarios is None or not self.weights or not self.functions:
                raise SpecError(f"{where}: a program needs functions, scenarios and weights")
            if self.points <= 0 or self.time_limit <= 0:
                raise SpecError(f"{where}: points and time_limit must be positive")
            return
        expected_functions = 2 if self.kind == "layer" else 1
        if len(self.functions) != expected_functions:
            raise SpecError(f"{where}: a {self.kind} needs {expected_functions} function name(s)")
        if not self.inputs or not set(self.wrt) <= set(self.inputs):
            raise SpecError(f"{where}: wrt {self.wrt} must be a subset of inputs {self.inputs}")
        if self.kind == "loss" and len(self.wrt) != 1:
            raise SpecError(f"{where}: a loss is differentiated with respect to one input")
        if self.points <= 0 or self.time_limit <= 0:
            raise SpecError(f"{where}: points and time_limit must be positive")
        unknown = set(self.weights) - set(self.checks)
        if unknown:
            raise SpecError(f"{where}: weights for unknown checks {sorted(unknown)}")
        if not self.params:
            raise SpecError(f"{where}: params needs at least one set (use ({{}},))")


def check_dtypes(dtypes: Any, where: str) -> None:
    """Raise :class:`SpecError` unless ``dtypes`` maps numpy float dtypes (names such as
    ``"float32"``, or numpy types) to ``(rtol, atol)`` pairs of finite numbers >= 0."""
    if not isinstance(dtypes, Mapping) or not dtypes:
        raise SpecError(f"{where}: dtypes must map float dtypes to (rtol, atol), e.g. "
                        '{"float64": (1e-7, 1e-7), "float32": (1.3e-6, 1e-5)}')
    for key, tolerance in dtypes.items():
        try:
            kind = np.dtype(key).kind
        except TypeError:
            kind = ""
        if kind != "f":
            raise SpecError(f"{where}: dtypes: {key!r} is not a numpy float dtype (float64, "
                            "float32, float16; torch's bfloat16 has no numpy form)")
        if (not isinstance(tolerance, (tuple, list)) or len(tolerance) != 2
                or not all(isinstance(t, (int, float)) and not isinstance(t, bool)
                           and np.isfinite(t) and t >= 0 for t in tolerance)):
            raise SpecError(f"{where}: dtypes[{key!r}] must be (rtol, atol), two numbers >= 0")


def accepted_dtypes(exercise: Exercise, assignment: Assignment | None
                    ) -> Mapping[str, tuple[float, float]]:
    """The dtypes ``exercise`` accepts: its own, else its assignment's, else the engine's
    default (float64 and float32, :data:`dlgrade.core.compare.DTYPES`)."""
    if exercise.dtypes is not None:
        return exercise.dtypes
    if assignment is not None and assignment.dtypes is not None:
        return assignment.dtypes
    return DTYPES


def apply_patch(source: str, patch: Iterable[tuple[str, str]], where: str) -> str:
    """``source`` with each ``old`` replaced by ``new``; a :class:`SpecError` when an ``old``
    is not found exactly once or changes nothing."""
    for old, new in patch:
        count = source.count(old)
        if count != 1 or old == new:
            why = ("changes nothing" if old == new else
                   "is not in the reference" if count == 0 else f"occurs {count} times")
            first = old.strip().splitlines()[0] if old.strip() else repr(old)
            raise SpecError(f"{where}: the patch text {first!r} {why} (it must occur exactly "
                            "once)")
        source = source.replace(old, new)
    return source


@dataclass(frozen=True, eq=False)
class Mutant:
    """A known-bad variant of the reference: a realistic student mistake.

    ``dlgrade validate`` grades every mutant and requires it to lose points on its exercise,
    failing at least the checks in ``fails``. During grading, a student whose outputs match a
    mutant's is told the mistake by name (``mistake``), which is why it is phrased for students.

    Declare it one of two ways:

    * ``patch``: ``(old text, new text)`` pairs applied to the reference module's source, each
      ``old`` found there exactly once, e.g. ``(("return dout * out * (1.0 - out)",
      "return dout * x * (1.0 - x)"),)``: a one-line mistake is one line;
    * ``functions``: student-facing function names (``"sigmoid_backward"``) mapped to
      replacements, which may use only names that the reference module defines (``np``,
      ``math``, its helpers): the mutant is the reference's source with theirs appended.

    ``hint`` (optional) is shown to a student whose answer is named as this mistake, in place
    of the exercise's hints.
    """

    exercise: str
    name: str
    mistake: str
    fails: tuple[str, ...]
    functions: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    patch: tuple[tuple[str, str], ...] = ()
    hint: str = ""

    @property
    def id(self) -> str:
        return f"{self.exercise}:{self.name}"


@dataclass(frozen=True, eq=False)
class Variant:
    """An accepted variant: a correct solution other than the reference (another formula,
    float32, another order of operations) that must score full marks. ``dlgrade validate``
    grades it and reports its margin: its worst error as a fraction of the tolerance.
    Declared like a :class:`Mutant`, by a ``patch`` of the reference or by ``functions``."""

    exercise: str
    name: str
    why: str
    functions: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    patch: tuple[tuple[str, str], ...] = ()

    @property
    def id(self) -> str:
        return f"{self.exercise}:{self.name}"


@dataclass(frozen=True)
class Assignment:
    """A set of exercises living in one or more student modules (``layers.py`` ...)."""

    id: str
    title: str
    exercises: tuple[Exercise, ...]
    mutants: tuple[Mutant, ...] = ()
    variants: tuple[Variant, ...] = ()
    #: Course-provided files or packages (paths in the course's support folder, e.g.
    #: ``"im2col"`` or ``"plotting.py"``) put into the sandbox beside the student's files.
    support: tuple[str, ...] = ()
    #: Libraries the warm worker imports once before forking children (``torch`` costs ~2 s
    #: per import, so a torch-track assignment lists it here).
    libraries: tuple[str, ...] = ("numpy",)
    #: ``"numpy"`` always; ``"torch"`` when the exercises also run on tensors (CURRICULUM.md,
    #: torch track: A1-A3).
    tracks: tuple[str, ...] = ("numpy",)
    #: The float dtypes its answers may have, each with its ``(rtol, atol)``, for every
    #: exercise that does not declare its own (:attr:`Exercise.dtypes`); None: float64
    #: ``(1e-7, 1e-7)`` and float32 ``(1.3e-6, 1e-5)``. Any other dtype fails.
    dtypes: Mapping[str, tuple[float, float]] | None = field(default=None, hash=False)
    #: Libraries the student's code may not import (top-level module names): their
    #: autograd or ready-made losses would do the exercise. An import raises an ImportError
    #: that names the ban, so the code that needs it scores 0. A track's own library
    #: (torch on the torch track) is exempt, and a student's own module of that name is
    #: theirs. Graded together, assignments ban the union of their lists. ``()`` allows all.
    banned_libraries: tuple[str, ...] = DEFAULT_BANNED

    def __post_init__(self) -> None:
        for name in self.banned_libraries:
            if not isinstance(name, str) or not name.isidentifier():
                raise SpecError(f"assignment {self.id!r}: banned_libraries holds {name!r}; "
                                "name top-level modules, e.g. 'torch'")

    @property
    def points(self) -> float:
        return sum(e.points for e in self.exercises)

    @property
    def modules(self) -> tuple[str, ...]:
        """The student modules, in the order their exercises come."""
        return tuple(dict.fromkeys(e.module for e in self.exercises))

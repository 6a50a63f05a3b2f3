"""Properties: judgements of a program exercise's observations that are not a comparison
with the reference (statistics of random parts, finite differences of the student's own
function, contracts such as "the caller's arrays are left alone").

A :class:`Property` is data: the name of a judge *family* registered here and the plain-data
parameters it is called with (numbers, strings, bools, None, lists, tuples, dicts with string
keys, numpy arrays). Courses pick a family and give its settings; they never ship code of
their own for judging, so a course's public cases can be frozen into a data file (a student
kit) and judged by the engine alone.

Every family is ``fn(student, reference, **params) -> None | message``: None when the
property holds, else the message the student reads. ``student`` and ``reference`` map
observation names to values; a value that could not be read is a :class:`Missing`.

Families:

* ``finite_difference``: a gradient against centred differences of the student's own loss;
* ``config_defaults``: an optimizer's config keeps the given hyper-parameters and fills in
  the documented defaults (the reference's config says which);
* ``input_unchanged``: the caller's arrays, read back after a call, were not changed;
* ``dropout_scaling``, ``dropout_rate``, ``dropout_backward``, ``dropout_test``,
  ``dropout_fresh``: inverted dropout, p being the probability of DROPPING an entry;
* ``decision_sequence``: a sequence of yes/no answers (early stopping) against the expected
  one, naming the known mistakes whose answers it matches;
* ``init_shape``, ``init_mean``, ``init_variance``, ``init_distribution``, ``init_seeded``,
  ``init_orthogonal``: weight initialisers, judged statistically (or exactly for orthogonal).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from dlgrade.core import gradcheck
from dlgrade.core.compare import compare
from dlgrade.spec.exercise import SpecError

#: The judge families by name: ``fn(student, reference, **params) -> str | None``.
FAMILIES: dict[str, Callable[..., str | None]] = {}
_SIGNATURES: dict[str, inspect.Signature] = {}


class Missing(str):
    """Why an observation could not be read (a message for the student)."""


def family(name: str) -> Callable[[Callable[..., str | None]], Callable[..., str | None]]:
    """Register ``fn(student, reference, **params) -> str | None`` as judge family ``name``.

    Registering a second, different function under a name already taken is a
    :class:`SpecError` (re-registering the same function, e.g. on a reload, is not)."""

    def register(fn: Callable[..., str | None]) -> Callable[..., str | None]:
        known = FAMILIES.get(name)
        if known is not None and (known.__module__, known.__qualname__) != (
                fn.__module__, fn.__qualname__):
            raise SpecError(f"judge family {name!r} is already registered "
                            f"({known.__module__}.{known.__qualname__})")
        FAMILIES[name] = fn
        _SIGNATURES[name] = inspect.signature(fn)
        return fn

    return register


def plain_data_problem(value: Any, where: str = "params") -> str | None:
    """Where ``value`` holds something other than plain data (None, bool, int, float, str,
    lists, tuples, dicts with string keys, numpy arrays of numbers or bools, numpy
    scalars), or None."""
    if value is None or isinstance(value, bool | int | float | str | np.generic):
        return None
    if isinstance(value, np.ndarray):
        return None if value.dtype.kind in "biuf" else f"{where} is an array of {value.dtype}"
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            problem = plain_data_problem(item, f"{where}[{index}]")
            if problem:
                return problem
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{where} has a key {key!r} that is not a string"
            problem = plain_data_problem(item, f"{where}[{key!r}]")
            if problem:
                return problem
        return None
    return f"{where} is a {type(value).__name__}, not plain data"


@dataclass(frozen=True, eq=False)
class Property:
    """A judgement of the student's observations that is not a comparison with the
    reference: judge family ``family`` (see :data:`FAMILIES`) called with ``params``.

    ``reads`` names the reference observations the judge looks at (None: all of them);
    the others are not kept for the run, which matters for big random outputs.

    Raises:
        SpecError: at construction, for an unknown family, parameters the family does not
            take (or lacks), or parameters that are not plain data.
    """

    check: str
    family: str
    params: Mapping[str, Any] = field(default_factory=dict)
    reads: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise SpecError(f"property {self.check!r}: unknown judge family {self.family!r} "
                            f"(known: {', '.join(sorted(FAMILIES))})")
        params = dict(self.params)
        problem = plain_data_problem(params)
        if problem:
            raise SpecError(f"property {self.check!r} ({self.family}): {problem}")
        try:
            _SIGNATURES[self.family].bind(None, None, **params)
        except TypeError as exc:
            raise SpecError(f"property {self.check!r} ({self.family}): {exc}") from None
        object.__setattr__(self, "params", params)
        if self.reads is not None:
            object.__setattr__(self, "reads", tuple(self.reads))

    def judge(self, student: dict[str, Any], reference: dict[str, Any]) -> str | None:
        """None when the property holds for ``student``, else the message."""
        return FAMILIES[self.family](student, reference, **self.params)


# ---------------------------------------------------------------- helpers


def float_array(student: Mapping[str, Any], name: str, shape: Any,
                function: str) -> np.ndarray | str:
    """The student's observation ``name`` as a finite float64 array of ``shape``, or why
    not."""
    value = student.get(name)
    if isinstance(value, Missing):
        return str(value)
    if type(value) is not np.ndarray or value.dtype.kind not in "fiu":
        return f"{function} must return an array of floats ({name})"
    shape = _shape(shape)
    if value.shape != shape:
        return f"{name} has shape {value.shape}, expected {shape}"
    value = value.astype(np.float64)
    if not np.isfinite(value).all():
        return f"{name} contains NaN or inf"
    return value


def _shape(shape: Any) -> tuple[int, ...]:
    return tuple(int(s) for s in shape)


# ---------------------------------------------------------------- gradients


@family("finite_difference")
def finite_difference(student: dict[str, Any], reference: dict[str, Any], *, grad: str,
                      probes_obs: str, probes: list[tuple[int, ...]], eps: float,
                      function: str) -> str | None:
    """The gradient observation ``grad`` against centred differences of the student's own
    scalar ``function`` at the perturbed inputs of observation ``probes_obs`` (its values at
    +eps and -eps of each index in ``probes``, as :func:`gradcheck.points` orders them).
    ``grad`` must be shaped like the reference's."""
    values, analytic = student.get(probes_obs), student.get(grad)
    for value in (values, analytic):
        if isinstance(value, Missing):
            return str(value)
    if type(analytic) is not np.ndarray or analytic.shape != reference[grad].shape:
        return f"{grad} must be an array shaped like the parameter"
    try:
        estimate = gradcheck.vjp_from_outputs(values, np.ones(()), eps)
    except gradcheck.GradcheckError as exc:
        return f"{function} at perturbed inputs: {exc}"
    result = gradcheck.check_entries(analytic, estimate, [_shape(p) for p in probes],
                                     gradcheck.settings_for(np.float64), show_values=False)
    if result.ok:
        return None
    return (f"{grad} disagrees with the numerical gradient of your own {function}: "
            f"{result.message}")


# ---------------------------------------------------------------- contracts of calls


@family("config_defaults")
def config_defaults(student: dict[str, Any], reference: dict[str, Any], *, function: str,
                    keys: list[str], missing: str, observation: str = "config",
                    returns: str = "(next_w, config)", rtol: float = 1e-12) -> str | None:
    """Every hyper-parameter in ``keys`` is in the student's dict observation
    ``observation`` (the config the update rule ``function`` returned) and equals the
    reference's there (the value given in the config, else the documented default) within
    ``rtol``. ``missing`` says what to do when a key is absent; ``returns`` is what the
    function returns, for the message when the observation is no dict."""
    config = student.get(observation)
    if isinstance(config, Missing):
        return str(config)
    if not isinstance(config, dict):
        return f"{function} must return {returns} with {observation} a dict"
    for key in keys:
        if key not in config:
            return f"the returned {observation} has no {key!r}: {missing}"
        value, expected = config[key], reference[observation][key]
        if (type(value) is not np.ndarray or value.shape != () or
                value.dtype.kind not in "iuf"):
            return f"{observation}[{key!r}] must be a number"
        if not np.isclose(float(value), float(expected), rtol=rtol, atol=0.0):
            return (f"{observation}[{key!r}] is {float(value)!r} at the end, expected "
                    f"{float(expected)!r} (the value given in {observation}, else the "
                    "documented default)")
    return None


@family("input_unchanged")
def input_unchanged(student: dict[str, Any], reference: dict[str, Any], *, called: str,
                    prefix: str, mistake: str) -> str | None:
    """Every observation whose name starts with ``prefix`` (the caller's arrays, read back
    after the call) equals the reference's exactly; judged only once observation ``called``
    (a result of the call itself) could be read, so an unimplemented stub earns nothing
    here. ``mistake`` names changing the arrays in place."""
    if isinstance(student.get(called), Missing):
        return str(student[called])
    for name, value in student.items():
        if not name.startswith(prefix):
            continue
        if isinstance(value, Missing):
            return str(value)
        if not compare(value, reference[name], rtol=0.0, atol=0.0).ok:
            return f"{name} differs from what was passed in: {mistake}"
    return None


# ---------------------------------------------------------------- dropout
#
# ``p`` is the probability of dropping an entry (``probability="drop"``: kept entries are
# scaled by 1 / (1 - p)) or, as in CS231n, of keeping one (``probability="keep"``: kept
# entries are x / p). The input x must satisfy |x| >= 0.5 everywhere, so that out / x tells
# dropped (0) from kept entries. The judges read only the student's values (reads=() suits
# them).

#: How each convention names p and writes a kept entry.
CONVENTIONS = {"drop": ("DROPPING", "x / (1 - p)"), "keep": ("KEEPING", "x / p")}


def _keep_rate(p: float, probability: str) -> float:
    """The probability that an entry is kept, under the ``probability`` convention."""
    if probability not in CONVENTIONS:
        raise ValueError(f"probability must be 'drop' or 'keep', not {probability!r}")
    return 1.0 - p if probability == "drop" else p


def _ratios(student: dict[str, Any], name: str, x: np.ndarray,
            function: str) -> np.ndarray | str:
    out = float_array(student, name, x.shape, function)
    return out if isinstance(out, str) else out / x


@family("dropout_scaling")
def dropout_scaling(student: dict[str, Any], reference: dict[str, Any], *, p: float,
                    x: np.ndarray, unscaled: str, keep: str, out: str = "out",
                    forward: str = "dropout_forward", probability: str = "drop") -> str | None:
    """Every kept entry of observation ``out`` (the train-mode output of ``forward`` on
    ``x``) is x divided by the keep rate (x / (1 - p), or x / p with ``probability="keep"``).
    ``unscaled`` names kept entries left equal to x, ``keep`` reading p the other way round
    (kept entries divided by the drop rate)."""
    n = x.size
    rate = _keep_rate(p, probability)
    meaning, kept_text = CONVENTIONS[probability]
    scale = 1.0 / rate
    r = _ratios(student, out, x, forward)
    if isinstance(r, str):
        return r
    dropped = np.abs(r) <= 1e-6
    kept = r[~dropped]
    if np.all(np.abs(kept - scale) <= 1e-5 * scale):
        return None
    if kept.size and np.all(np.abs(kept - 1.0) <= 1e-5):
        return (f"kept entries equal x: {unscaled} (inverted dropout divides them by "
                f"{rate:.4g}, so that the expected output is x)")
    if kept.size and rate < 1 and np.all(np.abs(kept * (1 - rate) - 1.0) <= 1e-5):
        return (f"kept entries are x / {1 - rate:.4g}: {keep}; p is the probability of "
                f"{meaning} an entry, so kept entries are {kept_text}")
    bad = int(np.sum(np.abs(kept - scale) > 1e-5 * scale))
    return f"{bad} of {n} entries of {out} are neither 0 nor {kept_text}"


@family("dropout_rate")
def dropout_rate(student: dict[str, Any], reference: dict[str, Any], *, p: float,
                 x: np.ndarray, z: float, keep: str, out: str = "out",
                 forward: str = "dropout_forward", probability: str = "drop") -> str | None:
    """The fraction of dropped entries of observation ``out`` is the drop rate (p, or 1 - p
    with ``probability="keep"``) within ``z`` standard deviations of a binomial proportion
    over x.size entries. ``keep`` names reading p the other way round."""
    drop = 1.0 - _keep_rate(p, probability)
    meaning = CONVENTIONS[probability][0]
    bound = z * math.sqrt(drop * (1.0 - drop) / x.size)
    r = _ratios(student, out, x, forward)
    if isinstance(r, str):
        return r
    fraction = float(np.mean(np.abs(r) <= 1e-6))
    if abs(fraction - drop) <= bound:
        return None
    if drop != 0.5 and abs(fraction - (1.0 - drop)) <= bound:
        return (f"{fraction:.4f} of the entries are dropped where p = {p}: {keep}; p is the "
                f"probability of {meaning} an entry")
    return (f"{fraction:.4f} of the entries are dropped; with p = {p} the fraction must "
            f"lie within {drop:.4g} +- {bound:.4f} ({z} standard deviations)")


@family("dropout_backward")
def dropout_backward(student: dict[str, Any], reference: dict[str, Any], *, x: np.ndarray,
                     dout: np.ndarray, new_mask: str, out: str = "out", dx: str = "dx",
                     forward: str = "dropout_forward",
                     backward: str = "dropout_backward") -> str | None:
    """Observation ``dx`` (``backward`` of ``dout`` through the call that gave ``out``) is
    dout * out / x: the forward's mask and scale. ``new_mask`` names a mask drawn anew in
    the backward pass."""
    r = _ratios(student, out, x, forward)
    grad = float_array(student, dx, x.shape, backward)
    for value in (r, grad):
        if isinstance(value, str):
            return value
    expected = dout * r
    if np.allclose(grad, expected, rtol=1e-5, atol=1e-12):
        return None
    if np.any((np.abs(r) <= 1e-6) != (np.abs(grad) <= 1e-12 * np.abs(dout))):
        return (f"{dx} is not zero exactly where {out} is zero: {new_mask} (keep the mask "
                "in the cache)")
    return f"{dx} must be dout * mask / keep rate, with the forward's mask and scale"


@family("dropout_test")
def dropout_test(student: dict[str, Any], reference: dict[str, Any], *, x: np.ndarray,
                 dout: np.ndarray, applied: str, out: str = "out (train=False)",
                 dx: str = "dx (train=False)", forward: str = "dropout_forward",
                 backward: str = "dropout_backward") -> str | None:
    """In test mode observation ``out`` is x and ``dx`` is dout, unchanged. ``applied``
    names dropping or scaling at test time."""
    for name, want, fn in ((out, x, forward), (dx, dout, backward)):
        got = float_array(student, name, x.shape, fn)
        if isinstance(got, str):
            return got
        if not np.allclose(got, want, rtol=1e-6, atol=0.0):
            return (f"{name} must be {'x' if fn == forward else 'dout'} "
                    f"itself: {applied} (in test mode nothing is dropped or scaled)")
    return None


@family("dropout_fresh")
def dropout_fresh(student: dict[str, Any], reference: dict[str, Any], *, x: np.ndarray,
                  same: str, out: str = "out", again: str = "out of a second call",
                  forward: str = "dropout_forward") -> str | None:
    """Two train-mode calls on the same x (observations ``out`` and ``again``) drop
    different entries. ``same`` names reusing one mask."""
    first, second = _ratios(student, out, x, forward), _ratios(student, again, x, forward)
    for value in (first, second):
        if isinstance(value, str):
            return value
    if np.array_equal(np.abs(first) <= 1e-6, np.abs(second) <= 1e-6):
        return (f"two train-mode calls dropped exactly the same entries: {same} (do "
                f"not seed a generator inside {forward})")
    return None


def dropout_properties(p: float, x: np.ndarray, dout: np.ndarray, *,
                       mistakes: Mapping[str, str], probability: str = "drop",
                       z: float = 5.5, forward: str = "dropout_forward",
                       backward: str = "dropout_backward",
                       names: Mapping[str, str] | None = None) -> tuple[Property, ...]:
    """The five checks of one dropout case, each a property of the student's values alone:
    ``scaling`` (kept entries divided by the keep rate), ``rate`` (the dropped fraction,
    within ``z`` binomial standard deviations), ``backward`` (the forward's mask and
    scale), ``test`` (identity at test time) and ``fresh`` (a new mask per call).

    The scenario calls, on input ``x`` with |x| >= 0.5 everywhere: ``forward`` in train mode
    and ``backward`` of ``dout`` through its cache, ``forward`` in train mode again (another
    seed, if the API takes one), and ``forward`` in test mode and ``backward`` through that.
    It observes them as ``names`` says (keys ``out``, ``dx``, ``again``, ``test out``,
    ``test dx``; by default ``"out"``, ``"dx"``, ``"out of a second call"``, ``"out
    (train=False)"``, ``"dx (train=False)"``).

    Args:
        p: the case's probability, read as ``probability`` says: ``"drop"`` (kept entries
            are x / (1 - p)) or ``"keep"`` (CS231n: kept entries are x / p).
        mistakes: the feedback for each mistake the checks tell apart: ``unscaled`` (kept
            entries not scaled), ``other_convention`` (p read the other way round),
            ``new_mask`` (a new mask in the backward pass), ``test_mode`` (dropping or
            scaling at test time), ``same_mask`` (one mask for every call).
    """
    o = {"out": "out", "dx": "dx", "again": "out of a second call",
         "test out": "out (train=False)", "test dx": "dx (train=False)", **(names or {})}
    fns = {"forward": forward, "backward": backward}
    m = dict(mistakes)
    return (
        Property("scaling", "dropout_scaling",
                 {"p": p, "x": x, "unscaled": m["unscaled"], "keep": m["other_convention"],
                  "out": o["out"], "forward": forward, "probability": probability}, reads=()),
        Property("rate", "dropout_rate",
                 {"p": p, "x": x, "z": z, "keep": m["other_convention"], "out": o["out"],
                  "forward": forward, "probability": probability}, reads=()),
        Property("backward", "dropout_backward",
                 {"x": x, "dout": dout, "new_mask": m["new_mask"], "out": o["out"],
                  "dx": o["dx"], **fns}, reads=()),
        Property("test", "dropout_test",
                 {"x": x, "dout": dout, "applied": m["test_mode"], "out": o["test out"],
                  "dx": o["test dx"], **fns}, reads=()),
        Property("fresh", "dropout_fresh",
                 {"x": x, "same": m["same_mask"], "out": o["out"], "again": o["again"],
                  "forward": forward}, reads=()),
    )


# ---------------------------------------------------------------- decisions


@family("decision_sequence")
def decision_sequence(student: dict[str, Any], reference: dict[str, Any], *,
                      expected: list[bool], mistakes: Mapping[str, list[bool]],
                      values: list[float], hidden: bool, method: str = "step",
                      constructor: str | None = None, value_name: str = "val_loss",
                      values_name: str = "losses") -> str | None:
    """The answers of calls ``method`` 1..n (observations ``"{method} 1"``, ...: scalars
    read as bools, non-zero meaning True), made with the inputs ``values``, against
    ``expected``. ``mistakes`` maps the message of each known mistake to the answers it
    gives on these inputs (computed when the case is made); matching answers name it. A
    hidden case names only the first wrong call, a public one its input and the inputs so
    far. ``constructor``: the observation of the object's construction, whose failure is
    reported as itself."""
    if constructor is not None:
        made = student.get(constructor)
        if isinstance(made, Missing):  # the constructor failed: say why, not "skipped"
            return str(made)
    values = [float(v) for v in values]
    expected = [bool(e) for e in expected]
    got = []
    for k in range(len(values)):
        value = student.get(f"{method} {k + 1}")
        if isinstance(value, Missing):
            return str(value)
        if value.shape != ():
            return f"{method} must return one bool, got an array of shape {value.shape}"
        got.append(bool(value != 0))
    if got == expected:
        return None
    matches = [mistake for mistake, answers in mistakes.items()
               if got == [bool(a) for a in answers]]
    if matches:  # on some sequences two mistakes decide alike: name both
        return f"the decisions match a common mistake: {' (or: '.join(matches)}" + (
            ")" * (len(matches) - 1))
    k = next(i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b)
    if hidden:
        return f"{method} returned a wrong decision at call {k + 1}"
    return (f"call {k + 1} ({value_name}={values[k]}) returned {got[k]}, expected "
            f"{expected[k]} ({values_name} so far: {values[:k + 1]})")


# ---------------------------------------------------------------- initialisers
#
# ``function`` is the initialiser's name, ``shape`` the shape it was asked for, ``w`` the
# observation holding its draw. Statistical bounds allow ``z`` standard deviations.

#: Kurtosis E[w^4] / E[w^2]^2 of the zero-mean distributions an initialiser draws from.
KURTOSIS = {"uniform": 1.8, "normal": 3.0}


@family("init_shape")
def init_shape(student: dict[str, Any], reference: dict[str, Any], *, function: str,
               shape: list[int], w: str = "w") -> str | None:
    """Observation ``w`` is a float array of ``shape``."""
    shape = _shape(shape)
    value = student.get(w)
    if isinstance(value, Missing):
        return str(value)
    if type(value) is not np.ndarray or value.dtype.kind != "f":
        return f"{function} must return an array of floats"
    if value.shape != shape:
        return f"{function} returned shape {value.shape} for shape {shape}"
    return None


@family("seeded")
def seeded(student: dict[str, Any], reference: dict[str, Any], *, function: str,
           first: str, again: str, other: str | None = None, ignores_seed: str,
           seed_unused: str = "draw every random number from the seed or generator given",
           shape: list[int] | None = None) -> str | None:
    """Same seed, same output: observations ``first`` and ``again`` (two calls of
    ``function`` with the same seed or a generator of the same seed) are equal, and
    ``other`` (another seed), when given, differs from them. ``ignores_seed`` names the
    mistake of drawing from a global or fresh generator, ``seed_unused`` what to do about two
    seeds giving one output. With ``shape``, each must be a float array of that shape."""
    values = []
    for name in (first, again, *((other,) if other is not None else ())):
        if shape is not None:
            value = float_array(student, name, shape, function)
            if isinstance(value, str):
                return value
        else:
            value = student.get(name)
            if isinstance(value, Missing):
                return str(value)
        values.append(value)
    if not _same(values[0], values[1]):
        return (f"two calls of {function} with the same seed returned different values: "
                f"{ignores_seed}")
    if other is not None and _same(values[0], values[2]):
        return f"two different seeds gave the same values from {function}: {seed_unused}"
    return None


def _same(a: Any, b: Any) -> bool:
    """Exact equality of two observations (arrays, numbers, lists, dicts of them)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    try:
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    except (TypeError, ValueError):
        return a == b


@family("init_seeded")
def init_seeded(student: dict[str, Any], reference: dict[str, Any], *, function: str,
                shape: list[int], no_rng: str, first: str = "w small",
                again: str = "w again", other: str = "w other seed") -> str | None:
    """Draws of ``shape`` from generators of one seed (observations ``first``, ``again``)
    are equal, and differ from one of another seed (``other``): :func:`seeded` for an
    initialiser. ``no_rng`` names ignoring the generator passed in."""
    return seeded(student, reference, function=function, first=first, again=again,
                  other=other, ignores_seed=f"{no_rng}; draw every number from rng",
                  seed_unused="draw them from rng", shape=shape)


@family("init_orthogonal")
def init_orthogonal(student: dict[str, Any], reference: dict[str, Any], *, function: str,
                    shape: list[int], gain: float, not_orthogonal: str, no_gain: str,
                    w: str = "w") -> str | None:
    """W, as a (shape[0], rest) matrix, has orthonormal columns (tall) or rows (wide)
    times ``gain``: W^T W (or W W^T) = gain^2 I. ``not_orthogonal`` names normalised but
    not orthogonal ones, ``no_gain`` a gain ignored."""
    shape = _shape(shape)
    value = float_array(student, w, shape, function)
    if isinstance(value, str):
        return value
    a = value.reshape(shape[0], -1)
    gram = a.T @ a if a.shape[0] >= a.shape[1] else a @ a.T
    eye = np.eye(gram.shape[0])
    if np.allclose(gram, gain**2 * eye, atol=1e-8 * max(gain**2, 1.0)):
        return None
    if gain != 1.0 and np.allclose(gram, eye, atol=1e-8):
        return f"W^T W = I where it must be gain^2 I with gain = {gain}: {no_gain}"
    side = "columns" if a.shape[0] >= a.shape[1] else "rows"
    norms = np.diag(gram)
    if np.allclose(norms, np.mean(norms), rtol=1e-6):
        return (f"the {side} have equal norms but are not orthogonal to each other: "
                f"{not_orthogonal} (use a QR decomposition)")
    return f"the {side} of W (as a {a.shape} matrix) are not orthonormal times gain"


@family("init_mean")
def init_mean(student: dict[str, Any], reference: dict[str, Any], *, function: str,
              shape: list[int], std: float, z: float, w: str = "w") -> str | None:
    """The mean of the draw is 0 within ``z`` standard errors of the draw itself (its own
    sample std / sqrt(n), or ``std``'s where the draw is constant): whether the weights are
    centred, whatever their scale, so a wrong scale fails the variance check alone (a
    too-wide draw judged by the right std's error once failed this check too, by chance)."""
    value = float_array(student, w, shape, function)
    if isinstance(value, str):
        return value
    own = float(value.std()) if value.size > 1 else 0.0
    bound = z * (own if own > 0 else std) / math.sqrt(math.prod(_shape(shape)))
    m = float(value.mean())
    if abs(m) <= bound:
        return None
    return f"the mean of the weights is {m:.3g}; it must be 0 (within +-{bound:.2g})"


@family("init_variance")
def init_variance(student: dict[str, Any], reference: dict[str, Any], *, function: str,
                  shape: list[int], std: float, distribution: str, fans: list[int],
                  wrong: Mapping[str, float], z: float, w: str = "w") -> str | None:
    """The draw's E[w^2] is std^2 within ``z`` standard deviations (for a ``distribution``
    of :data:`KURTOSIS`, ``"uniform"`` or ``"normal"``). ``wrong`` maps the message of each
    known mistake to the std it draws with (entries <= 0 are ignored): the first within the
    bound is named. ``fans`` = (fan_in, fan_out), shown in the message."""
    value = float_array(student, w, shape, function)
    if isinstance(value, str):
        return value
    n = math.prod(_shape(shape))
    # E[w^2] / std^2 has standard deviation sqrt((kurtosis - 1) / n).
    slack = z * math.sqrt((KURTOSIS[distribution] - 1.0) / n)
    ratio = float(np.mean(value * value)) / std**2
    if abs(ratio - 1.0) <= slack:
        return None
    observed = math.sqrt(ratio) * std
    named = [m for m, s in wrong.items() if s > 0 and abs(observed / s - 1.0) <= slack]
    why = f": {named[0]}" if named else ""
    return (f"the weights' std is {observed:.4g} where it must be {std:.4g} "
            f"(fan_in={int(fans[0])}, fan_out={int(fans[1])}){why}")


@family("init_distribution")
def init_distribution(student: dict[str, Any], reference: dict[str, Any], *, function: str,
                      shape: list[int], std: float, distribution: str,
                      slack: Mapping[str, float], looks_other: str, edge: float = 0.0,
                      std_as_bound: str | None = None, w: str = "w") -> str | None:
    """The draw's kurtosis is that of ``distribution`` (``"uniform"`` or ``"normal"``,
    :data:`KURTOSIS`) within ``slack[distribution]``; one within ``slack`` of the other
    distribution's is named by ``looks_other``. A uniform's entries also lie within its
    bound sqrt(3) * std and the largest reaches (1 - ``edge``) times it; falling short
    near std names ``std_as_bound`` (the std used as the bound) when given."""
    value = float_array(student, w, shape, function)
    if isinstance(value, str):
        return value
    square = value * value  # value**4 takes a general power: 8x slower on 256k entries
    m2 = float(np.mean(square))
    kurtosis = float(np.mean(square * square)) / m2**2 if m2 > 0 else math.inf
    other = "normal" if distribution == "uniform" else "uniform"
    if abs(kurtosis - KURTOSIS[distribution]) > slack[distribution]:
        if abs(kurtosis - KURTOSIS[other]) <= slack[other]:
            return f"the weights look {other} (kurtosis {kurtosis:.3f}): {looks_other}"
        return (f"the weights' kurtosis is {kurtosis:.3f}, where a {distribution} "
                f"distribution has {KURTOSIS[distribution]}")
    if distribution == "uniform":
        bound = math.sqrt(3.0) * std
        largest = float(np.max(np.abs(value)))
        if largest > bound * (1 + 1e-9):
            return f"an entry has |w| = {largest:.4g} > the bound {bound:.4g}"
        if largest < bound * (1 - edge):
            return (f"the largest |w| is {largest:.4g}, short of the bound {bound:.4g}"
                    + (f": {std_as_bound}" if std_as_bound is not None
                       and abs(largest / std - 1) < 0.01 else ""))
    return None

"""Update-rule exercises: an optimizer ``rule(w, dw, config) -> (next_w, config)`` graded on
whole trajectories, as one declaration (:func:`update_rule`).

One case runs ``steps`` updates ``w, config = rule(w, gradient(w), config)`` in the sandboxed
child on an :class:`Objective` (a random quadratic, a non-convex double well) and reads back
every iterate and the final config. Checks:

* ``trajectory``: every iterate against the reference's (feedback names the first update
  that goes wrong);
* ``state``: the final value of each state key (velocity, cache, m, v, t), when the rule
  has state;
* ``defaults``: every hyper-parameter in the final config, the given ones kept and the
  missing ones filled in with the rule's defaults (as the reference fills them).

The course chooses the rule's config keys (``hyper``, ``state``), its settings (configs
per public and hidden case, ``None`` for ``config=None``), the objectives, the trajectory
lengths and the tolerance. Hidden cases depend on the course secret, so whatever the secret,
each start point is redrawn until the reference's trajectory from it is insensitive to
rounding: the reference computed in the coarsest float type the exercise accepts (float32
unless the course declares other ``dtypes``) must stay within :data:`ROUNDING_MARGIN` of the
tolerance. A chaotic case (RMSProp on a double well near its saddle) would fail a correct
float32 student.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from dlgrade.core.compare import coarsest
from dlgrade.grading.cases import seed_for
from dlgrade.sandbox.programs import trajectory
from dlgrade.spec.exercise import Exercise, SpecError
from dlgrade.spec.properties import Property
from dlgrade.spec.scenarios import Scenario, Script

#: A config per case: the dict handed to the first call, or None (every default).
Config = Mapping[str, Any] | None

#: Draws of a case's start point before one is well conditioned.
MAX_DRAWS = 20
#: Share of the tolerance a well-conditioned case leaves to a correct rule computed in the
#: coarsest accepted float type; a case where rounding grows beyond it is redrawn.
ROUNDING_MARGIN = 0.5


@dataclass(frozen=True)
class Objective:
    """A function to minimise over w of ``shape``, made by :func:`quadratic` or
    :func:`double_well` (the objectives the child's :func:`dlgrade.authoring.gradient`
    differentiates). ``name`` and ``shape`` are shown in each case's description."""

    name: str
    shape: tuple[int, ...]
    make: Callable[[np.random.Generator, tuple[int, ...]], tuple[dict, np.ndarray]]

    def draw(self, rng: np.random.Generator) -> tuple[dict, np.ndarray]:
        """``(objective, w0)``: the objective's plain data and a start point."""
        return self.make(rng, self.shape)


def quadratic(shape: tuple[int, ...], eigenvalues: tuple[float, float] = (0.5, 2.5),
              distance: float = 1.5) -> Objective:
    """0.5 (w - c)^T A (w - c), A symmetric with eigenvalues uniform in ``eigenvalues``,
    started about ``distance`` away from the minimum c in each coordinate (w of ``shape``)."""
    low, high = eigenvalues

    def draw(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[dict, np.ndarray]:
        n = int(np.prod(shape))
        q, _ = np.linalg.qr(rng.normal(size=(n, n)))
        a = (q * rng.uniform(low, high, size=n)) @ q.T
        c = rng.normal(size=shape)
        w0 = c + rng.normal(scale=distance, size=shape)
        return {"kind": "quadratic", "A": (a + a.T) / 2, "c": c}, w0

    return Objective("quadratic", tuple(shape), draw)


def double_well(shape: tuple[int, ...], a: float = 0.1, start: float = 1.8) -> Objective:
    """The non-convex sum((w^2 - 1)^2 / 4 + a sin(3 w)), started uniformly in
    [-start, start] in each coordinate."""
    def draw(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[dict, np.ndarray]:
        return {"kind": "double_well", "a": float(a)}, rng.uniform(-start, start, size=shape)

    return Objective("double well", tuple(shape), draw)


#: The objectives of the k-th case, cycling, when the course names none.
OBJECTIVES = (quadratic((5,)), quadratic((2, 3)), double_well((4,)))


@dataclass(frozen=True, eq=False)
class TrajectoryCase:
    """One graded trajectory: ``steps`` updates from ``w0`` on ``objective`` with
    ``config`` (what a course's oracle re-runs to prove its reference)."""

    label: str
    about: str
    hidden: bool
    w0: np.ndarray
    config: dict | None
    objective: dict
    steps: int

    def run(self, rule: Callable[..., Any], name: str) -> dict[str, Any]:
        """``{"w": every iterate, "config": the final config}`` of trusted ``rule`` on this
        case, by the very program the child runs."""
        config = None if self.config is None else dict(self.config)
        return trajectory(rule, name, self.w0, config, self.objective, self.steps, _call)


def _call(function: Callable[..., Any], args: list, kwargs: dict) -> Any:
    return function(*args, **kwargs)


def _rounded(rule: Callable[..., Any], dtype: Any) -> Callable[..., Any]:
    """``rule`` as a student computing in ``dtype`` would return it: next_w and every array
    of its state rounded to ``dtype``."""
    def update(w: np.ndarray, dw: np.ndarray, config: dict | None = None) -> Any:
        next_w, config = rule(w, dw, config)
        for key, value in config.items():
            if isinstance(value, np.ndarray) and value.dtype.kind == "f":
                config[key] = value.astype(dtype)
        return np.asarray(next_w).astype(dtype), config

    return update


def _well_conditioned(rule: Callable[..., Any], name: str, case: TrajectoryCase,
                      tolerance: tuple[float, float], dtype: Any) -> bool:
    """Whether ``rule`` rounded to ``dtype`` stays within :data:`ROUNDING_MARGIN` of the
    tolerance of ``rule`` itself on ``case`` (and the trajectory is finite)."""
    exact = case.run(rule, name)["w"]
    if not np.all(np.isfinite(exact)):
        return False
    rounded = case.run(_rounded(rule, dtype), name)["w"]
    rtol, atol = (ROUNDING_MARGIN * t for t in tolerance)
    return bool(np.allclose(rounded, exact, rtol=rtol, atol=atol))


def trajectory_cases(exercise_id: str, function: str, module: str,
                     settings: tuple[Sequence[Config], Sequence[Config]], *, hidden: bool,
                     steps: tuple[int, int] = (60, 80),
                     objectives: Sequence[Objective] = OBJECTIVES,
                     tolerance: tuple[float, float] = (1e-5, 1e-6),
                     accepted_dtype: Any = None) -> list[TrajectoryCase]:
    """The cases of an update rule: one per config of ``settings`` (public, hidden; the
    hidden ones only if ``hidden``), the k-th on ``objectives[k % len]``, with ``steps``
    (public, hidden) updates, seeded by the exercise id (hidden ones by the secret too).
    Each start is drawn again until the case is well conditioned for ``tolerance`` and
    ``accepted_dtype`` (see the module docstring); None: the coarsest of the dtypes the
    course accepts for the exercise (float32 by default)."""
    from dlgrade.courses.course import UnknownName, active

    course = active()
    rule = getattr(course.reference_module(module), function)
    if accepted_dtype is None:
        try:
            accepted_dtype = coarsest(course.accepted_dtypes(course.exercise(exercise_id)))
        except UnknownName:  # cases drawn for an exercise not (yet) in the course
            accepted_dtype = coarsest()
    public, secret = settings
    plans = [(False, c) for c in public] + ([(True, c) for c in secret] if hidden else [])
    cases: list[TrajectoryCase] = []
    counters = {False: 0, True: 0}
    for number, (is_hidden, config) in enumerate(plans):
        counters[is_hidden] += 1
        objective = objectives[number % len(objectives)]
        rng = seed_for(exercise_id, number, hidden=is_hidden)
        n_steps = steps[1] if is_hidden else steps[0]
        given = "config=None" if config is None else ", ".join(
            f"{k}={v!r}" for k, v in config.items())
        label = f"{'hidden' if is_hidden else 'public'} case {counters[is_hidden]}"
        about = f"({objective.name}, w of shape {objective.shape}, {n_steps} steps, {given})"
        for _ in range(MAX_DRAWS):
            data, w0 = objective.draw(rng)
            case = TrajectoryCase(label, about, is_hidden, w0,
                                  None if config is None else dict(config), data, n_steps)
            if _well_conditioned(rule, function, case, tolerance, accepted_dtype):
                break
        else:
            raise SpecError(
                f"{exercise_id} {label} {about}: in {MAX_DRAWS} draws no start point keeps "
                f"the reference computed in {np.dtype(accepted_dtype).name} within "
                f"{ROUNDING_MARGIN:g} of the tolerance {tuple(tolerance)}; loosen the "
                "tolerance, accept a finer dtype (accepted_dtype=np.float64) or choose a "
                "smoother setting")
        cases.append(case)
    return cases


def update_rule(exercise_id: str, function: str, *, module: str, title: str,
                hyper: Sequence[str], state: Sequence[str],
                settings: tuple[Sequence[Config], Sequence[Config]],
                steps: tuple[int, int] = (60, 80),
                objectives: Sequence[Objective] = OBJECTIVES,
                tolerance: tuple[float, float] = (1e-5, 1e-6),
                accepted_dtype: Any = None,
                dtypes: Mapping[str, tuple[float, float]] | None = None,
                weights: Mapping[str, float] | None = None, points: float = 2.0,
                time_limit: float = 10.0, hint: str = "",
                missing_defaults: str = ("fill in each missing hyper-parameter with "
                                         "config.setdefault(key, default)"),
                oracle: Callable[[list[TrajectoryCase]], list[str]] | None = None,
                builds_on: tuple[str, ...] = ()) -> Exercise:
    """The exercise of update rule ``function`` of student module ``module``.

    Args:
        hyper: the config keys of its hyper-parameters (``"learning_rate"``, ...), checked
            by ``defaults``.
        state: the config keys of its state (``"velocity"``, ``"m"``, ``"t"``), checked by
            ``state`` after the last step; ``()`` for a rule without state.
        settings: (public configs, hidden configs); a partial config checks that the rule
            fills in the rest.
        steps: trajectory lengths of (public, hidden) cases.
        tolerance: ``(rtol, atol)`` of iterates and state. The child casts every next_w to
            float64, so a float32 implementation is judged by this tolerance alone.
        accepted_dtype: the coarsest float type a correct rule may compute in; cases are
            drawn so that its rounding stays well within ``tolerance``. None (the default):
            the coarsest dtype the course accepts for this exercise (``dtypes``, else the
            assignment's; float32 by default).
        dtypes: the exercise's accepted dtypes (:attr:`Exercise.dtypes`) for the state
            and iterates it reads; None takes the assignment's.
        weights: the checks' weights; by default trajectory 0.6, state 0.3, defaults 0.1
            (trajectory 0.8, defaults 0.2 without state).
        missing_defaults: what ``defaults`` says when a hyper-parameter is not in config.
        oracle: ``dlgrade validate``'s proof of the reference, given every case (hidden
            ones included); returns the disagreements.
    """
    state, hyper = tuple(state), tuple(hyper)
    if weights is None:
        weights = ({"trajectory": 0.6, "state": 0.3, "defaults": 0.1} if state
                   else {"trajectory": 0.8, "defaults": 0.2})

    def cases(hidden: bool) -> list[TrajectoryCase]:
        return trajectory_cases(exercise_id, function, module, settings, hidden=hidden,
                                steps=steps, objectives=objectives, tolerance=tolerance,
                                accepted_dtype=accepted_dtype)

    defaults = Property("defaults", "config_defaults",
                        {"function": function, "keys": list(hyper),
                         "missing": missing_defaults})

    def scenarios(hidden: bool) -> tuple[Scenario, ...]:
        found = []
        for case in cases(hidden):
            s = Script()
            run = s.trajectory(function, case.w0, case.config, case.objective, case.steps)
            s.observe("w", run, "w")
            s.observe("config", run, "config")
            for key in state:
                s.observe(key, run, "config", key, "float")
            compare = {"trajectory": ("w",), **({"state": state} if state else {})}
            found.append(Scenario(
                label=case.label, about=case.about, hidden=case.hidden, steps=s.steps,
                observe=s.observations, compare=compare, properties=(defaults,),
                tolerance=tolerance, sequence={"w": "update"}))
        return tuple(found)

    held = f" holding {', '.join(state)}" if state else ""
    return Exercise(
        id=exercise_id, title=title, module=module, kind="program", functions=(function,),
        inputs=(), wrt=(), sample=_no_inputs, scenarios=scenarios, weights=dict(weights),
        points=points, time_limit=time_limit, hint=hint, builds_on=builds_on, dtypes=dtypes,
        returns={function: f"(next_w, config) with next_w shaped like w and config a dict{held}"},
        oracle_check=None if oracle is None else (lambda: oracle(cases(True))),
    )


def _no_inputs(rng: np.random.Generator, shape: tuple[int, ...],
               huge: bool) -> dict[str, np.ndarray]:
    return {}  # a program exercise draws its inputs in its scenarios

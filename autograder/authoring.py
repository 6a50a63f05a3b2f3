r"""The public authoring API: everything a course's specs may import from dlgrade.

A course (``course.toml`` and its folders, see :mod:`dlgrade.courses.course`) declares its
assignments with these types and helpers and with nothing else of the engine:

* :class:`Assignment`, :class:`Exercise`, :class:`Mutant` (a known mistake, as a patch of the
  reference or as replacement functions) and :class:`Variant` (an accepted one), with the
  :data:`Sampler`, :data:`Oracle` and :data:`Params` types of their fields; their ``dtypes``
  field declares which float dtypes answers may have and each one's ``(rtol, atol)``
  (:data:`DTYPES`, float64 and float32, unless an assignment or an exercise says otherwise);
* :func:`update_rule` declares an optimizer exercise graded on whole trajectories (its
  config keys, settings, :class:`Objective`\\ s such as :func:`quadratic` and
  :func:`double_well`, tolerance), :func:`update_rule_cases` gives its cases to an oracle;
* for program exercises (networks, optimizers, classes): a :class:`Scenario` is a
  :class:`Script` of calls (built as the calls read) or, lower down, a list of
  :class:`Step`\\ s run in the sandboxed child (:class:`Handle` names an object kept there,
  :class:`Rng` a seeded generator made there), read into observations and judged by
  comparison with the reference and by :class:`Property`\\ s: data, the name of a judge
  family of :mod:`dlgrade.spec.properties` and its plain-data parameters (:func:`family`
  registers another family; a course frozen into a student kit may use only the engine's);
* :func:`seed_for` draws a case's inputs (pass ``hidden=True`` for hidden cases, which then
  depend on the course secret), :func:`compare` is the one comparison, :mod:`gradcheck` the
  one gradient checker, :func:`finite_difference_property` its scenario form;
* :func:`reference` gives a spec or oracle the course's own reference module, and
  :func:`reference_observations` what the reference makes of a scenario.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType
from typing import Any

from dlgrade.core import gradcheck
from dlgrade.core.compare import DTYPES, compare
from dlgrade.courses.course import active
from dlgrade.grading.cases import seed_for
from dlgrade.sandbox.programs import BINARY, UNARY, WITH_NUMBER, gradient, trajectory
from dlgrade.sandbox.protocol import Handle, Rng, Step
from dlgrade.spec.exercise import (
    DEFAULT_BANNED,
    Assignment,
    Exercise,
    Mutant,
    Oracle,
    Params,
    Sampler,
    SpecError,
    Variant,
)
from dlgrade.spec.properties import Missing, Property, dropout_properties, family
from dlgrade.spec.scenarios import (
    Scenario,
    Script,
    finite_difference_property,
    read,
    run_locally,
)
from dlgrade.spec.update_rules import (
    Objective,
    TrajectoryCase,
    double_well,
    quadratic,
    update_rule,
)
from dlgrade.spec.update_rules import trajectory_cases as update_rule_cases

__all__ = [
    "BINARY", "DEFAULT_BANNED", "DTYPES", "UNARY", "WITH_NUMBER", "Assignment", "Exercise",
    "Handle", "Missing",
    "Mutant", "Objective", "Oracle", "Params", "Property", "Rng", "Sampler", "Scenario", "Script",
    "SpecError", "Step", "TrajectoryCase", "Variant",
    "compare", "double_well", "dropout_properties", "family", "finite_difference_property",
    "gradcheck", "gradient", "quadratic", "reference", "reference_observations", "seed_for",
    "trajectory", "update_rule", "update_rule_cases",
]


def reference(module: str) -> ModuleType:
    """The course's reference solution of student module ``module`` (``"layers"``)."""
    return active().reference_module(module)


def reference_observations(module: str, scenarios: Iterable[Scenario]
                           ) -> list[tuple[Scenario, dict[str, Any]]]:
    """``(scenario, observations)``: what the reference of ``module`` makes of each
    scenario, read exactly as a student's replies are read."""
    found = []
    ref = reference(module)
    for scenario in scenarios:
        replies = run_locally(module, ref, scenario.steps)
        found.append((scenario, read(scenario, replies, lambda r, fn: f"{fn}: {r.message}", {})))
    return found

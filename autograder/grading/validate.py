"""``dlgrade validate``: prove the course sound before students see it.

* templates are in sync with ``reference/``;
* every reference agrees with its oracle (PyTorch: torch.nn.functional + autograd, float64,
  or another independent implementation) on every case;
* every reference scores full marks and every untouched stub scores 0, through real children;
* every known-bad mutant loses points on exactly the checks it declares, and its feedback
  names the mistake.

Hidden cases depend on the course secret, and every copy of a course that makes its own
secret (a fresh clone in CI, a colleague's checkout) grades other hidden cases: the steps that
use them can be run again under random secrets (:func:`under_secret`, ``validate --secrets``),
so a case drawn unluckily for one secret is found before it fails a real student.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from dlgrade.core.compare import compare, tolerance_for
from dlgrade.courses import templates
from dlgrade.courses.course import active
from dlgrade.courses.registry import (
    assignments,
    exercise,
    exercises,
    fingerprint,
    mutants,
    reference_module,
)
from dlgrade.grading.cases import build_cases, observe
from dlgrade.grading.grader import (
    expectations,
    grade_submission,
    program_expectations,
    reference_probes,
)
from dlgrade.grading.mutants import mutant_functions, mutant_source
from dlgrade.load.submission import Submission
from dlgrade.results import ExerciseResult
from dlgrade.spec.exercise import Exercise, Mutant, Variant


@dataclass(frozen=True)
class Finding:
    ok: bool
    topic: str
    detail: str = ""


def check_templates() -> Iterator[Finding]:
    try:
        files = templates.plan(active())
    except templates.TemplateError as exc:
        yield Finding(False, "templates", str(exc))
        return
    stale = [str(f.target.name) for f in files if not f.in_sync()]
    yield Finding(not stale, "templates in sync with reference/",
                  f"out of date: {', '.join(stale)} (run `dlgrade build-templates`)"
                  if stale else "")


def _oracle_problems(ex: Exercise) -> list[str]:
    """Disagreements of the reference with the exercise's oracle on every case."""
    if ex.kind == "program":
        return ex.oracle_check() if ex.oracle_check is not None else ["no oracle declared"]
    if ex.oracle is None:
        return ["no oracle declared"]
    reference = reference_module(ex.module)
    problems = []
    for case in build_cases(ex, True):
        ours = observe(ex, {n: getattr(reference, n) for n in ex.functions}, case)
        theirs = ex.oracle(dict(case.inputs), dict(case.params), case.dout)
        for name, value in ours.items():
            result = compare(value, theirs[name])
            if not result.ok:
                problems.append(f"{case.describe()}: {name} {result.message}")
    return problems


def check_oracles() -> Iterator[Finding]:
    """Reference outputs against each exercise's oracle (PyTorch, or any independent
    implementation) on public, hidden and stability cases."""
    for a in assignments().values():
        for ex in a.exercises:
            try:
                problems = _oracle_problems(ex)
            except ImportError as exc:  # an oracle needs torch, which is a dev extra
                problems = [f"the oracle needs {exc.name or exc}, which is not installed"]
            yield Finding(not problems, f"{ex.id} agrees with its oracle",
                          "; ".join(problems[:2]))


def check_reference_and_stubs() -> Iterator[Finding]:
    course = active()
    every = list(assignments().values())
    ref = grade_submission(Submission("reference", course.reference_dir), every, hidden=True)
    for e in ref.exercises:
        yield Finding(e.status == "passed", f"{e.id} reference scores full marks",
                      e.message if e.status != "passed" else "")
    stub = grade_submission(Submission("stub", course.templates_dir), every, hidden=True)
    for e in stub.exercises:
        yield Finding(e.score == 0 and e.status == "not_attempted",
                      f"{e.id} stub scores 0", f"{e.score} points, {e.status}")


def _graded_alone(m: Mutant | Variant) -> ExerciseResult:
    """The mutant's (or variant's) whole module, graded through a child on its exercise."""
    ex = exercise(m.exercise)
    with tempfile.TemporaryDirectory(prefix="dlgrade-mutant-") as tmp:
        path = Path(tmp) / f"{ex.module}.py"
        path.write_text(mutant_source(m))
        a = assignments()[ex.assignment]
        result = grade_submission(Submission(m.name, path), [a], hidden=True, only={ex.id})
    return result.exercises[0]


def check_mutant(m: Mutant) -> Finding:
    graded = _graded_alone(m)
    lost = {c.name for c in graded.checks if c.score < c.max_score}
    problems = []
    if graded.score >= graded.max_score:
        problems.append("not caught: full marks")
    if lost != set(m.fails):
        problems.append(f"failed checks {sorted(lost)}, declared {sorted(m.fails)}")
    if m.mistake not in graded.message:
        problems.append("feedback does not name the mistake")
    return Finding(not problems, f"mutant {m.id} is caught", "; ".join(problems))


def check_mutants(workers: int | None = None) -> Iterator[Finding]:
    every = mutants()
    with ThreadPoolExecutor(workers or os.cpu_count() or 2) as pool:
        yield from pool.map(check_mutant, every)


def variant_margin(v: Variant) -> float | None:
    """The variant's worst error on every case, as a fraction of the tolerance in force
    (1.0 would be on the edge); None for a program exercise (its scenarios hold their own
    tolerance)."""
    ex = exercise(v.exercise)
    if ex.kind == "program":
        return None
    reference = reference_module(ex.module)
    functions = {**{n: getattr(reference, n) for n in ex.functions},
                 **mutant_functions(v, ex.functions)}
    worst = 0.0
    for expected in expectations(ex, True):
        got = observe(ex, functions, expected.case)
        for name, want in expected.reference.items():
            value = np.asarray(got[name])
            rtol, atol = ex.tolerance or tolerance_for(value.dtype,
                                                       active().accepted_dtypes(ex))
            want = np.asarray(want, dtype=np.float64)
            error = np.abs(value.astype(np.float64) - want) / (atol + rtol * np.abs(want))
            worst = max(worst, float(np.max(error, initial=0.0)))
    return worst


def check_variant(v: Variant) -> Finding:
    graded = _graded_alone(v)
    if graded.status != "passed":
        return Finding(False, f"variant {v.id} scores full marks",
                       f"{graded.score:g} / {graded.max_score:g}: {graded.message}")
    margin = variant_margin(v)
    return Finding(True, f"variant {v.id} scores full marks",
                   f"worst error {margin:.2g} of the tolerance ({v.why})" if margin is not None
                   else f"passes ({v.why})")


def check_variants() -> Iterator[Finding]:
    yield from (check_variant(v) for v in active().variants())


#: Known mistakes every exercise needs: one can be caught by luck, two show the checks bite.
MIN_MISTAKES = 2


def check_mistake_coverage() -> Iterator[Finding]:
    """Every exercise has at least :data:`MIN_MISTAKES` known mistakes; which of its checks
    no known mistake fails is said (a note: such a check is not yet shown to catch one)."""
    for ex in exercises().values():
        known = mutants(ex.id)
        failed = {check for m in known for check in m.fails}
        untested = [c for c in ex.checks if c not in failed]
        note = f"no known mistake fails {', '.join(untested)}" if untested else ""
        yield Finding(len(known) >= MIN_MISTAKES, f"{ex.id} has known mistakes",
                      f"{len(known)} declared, at least {MIN_MISTAKES} needed"
                      + (f"; {note}" if note else "") if len(known) < MIN_MISTAKES else note)


STEPS: tuple[tuple[str, Callable[[], Iterator[Finding]]], ...] = (
    ("templates", check_templates),
    ("known mistakes", check_mistake_coverage),
    ("oracle agreement", check_oracles),
    ("reference and stubs", check_reference_and_stubs),
    ("mutants", check_mutants),
    ("accepted variants", check_variants),
)


#: The steps whose outcome depends on the hidden cases, so on the secret.
SECRET_STEPS = ("oracle agreement", "reference and stubs", "mutants", "accepted variants")


@contextmanager
def under_secret(secret: bytes) -> Iterator[None]:
    """The active course graded as if its secret were ``secret`` (the file is not touched),
    with every per-run cache of hidden cases and their outputs cleared on the way in and out."""
    course = active()
    kept = course._secret
    caches = (build_cases, expectations, program_expectations, reference_probes,
              fingerprint)
    for cached in caches:
        cached.cache_clear()
    course._secret = secret
    try:
        yield
    finally:
        course._secret = kept
        for cached in caches:
            cached.cache_clear()


def trial_secrets(count: int) -> list[bytes]:
    """``count`` fresh random secrets, as ``Course.secret`` would make them."""
    return [secrets.token_hex(32).encode() for _ in range(count)]

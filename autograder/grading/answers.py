"""The wrong answers a student's code gives on the hidden cases, as digests (for collusion
evidence, :mod:`dlgrade.grading.similarity`).

A pass of its own, beside grading: :class:`~dlgrade.results.SubmissionResult` holds no
per-case value (by design: a result is what a student may be shown), so the values are
asked for again, in a sandboxed child per student exactly as the grader asks for them (the
course's support files beside the student's, the course folder hidden, the exercise's time
limit), but only the calls whose outputs are compared: a function exercise's forward (and a
layer's backward) on each hidden case, a program exercise's hidden scenarios. No finite
differences, so it costs a fraction of grading. What the child prints is dropped.

Each output that the grader's comparison would fail becomes a :class:`WrongAnswer`: a digest
of the student's numbers (float32-rounded, so the order of floating-point operations does not
tell two copies of one formula apart), a short preview of the student's own numbers, and the
name of the course's known mistake it matches, if any. Expected values are never kept, shown
or digested. Trivial outputs (a constant array, an input handed back unchanged) are dropped:
every unfinished solution shares them.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from dlgrade.core.compare import compare
from dlgrade.courses.course import active
from dlgrade.grading.grader import expectations, program_expectations
from dlgrade.load.submission import Submission
from dlgrade.sandbox.protocol import Handle, Reply, Step
from dlgrade.sandbox.runner import Limits, Session, SessionOver
from dlgrade.spec import scenarios
from dlgrade.spec.exercise import Assignment, Exercise

IMPORT_TIMEOUT = 20.0
PREVIEW_NUMBERS = 4


@dataclass(frozen=True)
class WrongAnswer:
    """One wrong output of one student on one hidden case."""

    exercise: str  # the exercise id
    case: str  # "hidden case 2" or a scenario's description
    value: str  # which output: "out", "dx", "loss", an observation's name
    digest: str  # of the student's numbers only
    preview: str  # the student's first numbers and the shape: "shape (2, 5): 0.123, ..."
    known: str = ""  # the course's known mistake these numbers are, if any

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.exercise, self.case, self.value, self.digest)


@dataclass
class StudentAnswers:
    student: str
    wrong: list[WrongAnswer]
    exercises: set[str]  # the exercises whose hidden outputs were read


def digest(value: Any) -> str | None:
    """A digest of a numeric answer (None: not an array of numbers). Float32 rounding makes
    ``x * 3 * x`` and ``3 * x * x`` one answer; NaN and the infinities are digested as such."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        return None
    if type(value) not in (np.ndarray, float, int, np.float64, np.float32) or \
            array.dtype.kind not in "fiub" or array.size == 0:
        return None
    with np.errstate(all="ignore"):  # beyond float32's range: inf, an answer like any
        rounded = np.ascontiguousarray(array.astype(np.float32))
    rounded[rounded == 0] = 0.0  # -0.0 is 0.0
    h = hashlib.blake2b(digest_size=8)
    h.update(repr(array.shape).encode())
    h.update(rounded.tobytes())
    return h.hexdigest()


def preview(value: Any) -> str:
    """The student's own first numbers, e.g. ``shape (2, 5): 0.1235, -1.04, 3, 2.5e-07, ...``."""
    array = np.asarray(value, dtype=np.float64).ravel()
    numbers = ", ".join(f"{v:.4g}" for v in array[:PREVIEW_NUMBERS])
    more = ", ..." if array.size > PREVIEW_NUMBERS else ""
    return f"shape {np.shape(value)}: {numbers}{more}"


def trivial(value: Any, inputs: Iterable[Any]) -> bool:
    """A constant array, or one of the inputs handed back: what unfinished code gives."""
    array = np.asarray(value, dtype=np.float64)
    finite = array[np.isfinite(array)]
    if array.size <= 1 or finite.size == 0 or np.all(finite == finite.flat[0]):
        return True
    return any(np.shape(x) == array.shape and np.array_equal(np.asarray(x, np.float64), array)
               for x in inputs if x is not None)


def _wrong(exercise: Exercise, case: str, name: str, value: Any, expected: Any,
           known: Sequence[tuple[str, Any]], inputs: Iterable[Any],
           tolerance: tuple[float, float] | None) -> WrongAnswer | None:
    rtol, atol = tolerance or (None, None)
    if compare(value, expected, rtol=rtol, atol=atol, show_values=False).ok:
        return None
    found = digest(value)
    if found is None or trivial(value, inputs):
        return None
    mistake = next((m for m, v in known
                    if compare(value, v, rtol=rtol, atol=atol, show_values=False).ok), "")
    return WrongAnswer(exercise.id, case, name, found, preview(value), mistake)


class _Student:
    """One student's child, restarted after a timeout or a crash."""

    def __init__(self, submission: Submission, assignments: list[Assignment],
                 limits: Limits, session_class: type[Session]) -> None:
        self.submission = submission
        self.limits = limits
        self.session_class = session_class
        self.modules = list(dict.fromkeys(m for a in assignments for m in a.modules))
        self.libraries = tuple(dict.fromkeys(lib for a in assignments for lib in a.libraries))
        self.support = active().support_files(assignments)
        self.session: Session | None = None
        self.imported: dict[str, bool] = {}

    def _session(self) -> Session:
        if self.session is None or not self.session.alive:
            self.stop()
            self.imported = {}
            paths = {}
            for module in self.modules:
                if self.submission.problem(module) is None:
                    path = self.submission.module_path(module)
                    if path is not None:
                        paths[module] = path
            folder = self.submission.path if self.submission.is_folder else None
            extra = {"support": self.support} if self.support else {}
            self.session = self.session_class(paths, folder, self.limits,
                                              preload=self.libraries,
                                              private=(str(active().root),), **extra)
        return self.session

    def ready(self, module: str) -> bool:
        """Whether ``module`` is submitted and imports."""
        if self.submission.problem(module) is not None:
            return False
        session = self._session()
        if module not in self.imported:
            try:
                reply = session.request({"op": "import", "module": module}, [], IMPORT_TIMEOUT)
                self.imported[module] = reply.ok
            except SessionOver:
                self.imported[module] = False
        return self.imported[module]

    def batch(self, module: str, steps: list[Step], timeout: float,
              budget: int) -> list[Reply] | None:
        try:
            return self._session().batch(module, steps, timeout, budget)
        except SessionOver:
            return None

    def stop(self) -> None:
        if self.session is not None:
            self.session.cleanup()  # what it printed is nobody's business here
            self.session = None


def _function_answers(student: _Student, exercise: Exercise) -> list[WrongAnswer]:
    expected = [e for e in expectations(exercise, True) if e.case.hidden and not e.case.huge]
    if not expected:
        return []
    steps: list[Step] = []
    slots: list[tuple[int, int]] = []
    for number, expectation in enumerate(expected):
        case = expectation.case
        args = tuple(case.inputs.values())
        if exercise.kind == "layer":
            handle = f"s{number}"
            steps.append(Step(exercise.functions[0], args, case.params, keep=handle))
            steps.append(Step(exercise.functions[1], (case.dout, Handle(handle))))
            slots.append((len(steps) - 2, len(steps) - 1))
        else:
            steps.append(Step(exercise.functions[0], args, case.params))
            slots.append((len(steps) - 1, len(steps) - 1))
    values = sum(np.size(v) for e in expected for v in e.reference.values())
    replies = student.batch(exercise.module, steps, exercise.time_limit,
                            4 * 8 * values + 4096 * (len(steps) + 1))
    if replies is None:
        return []
    found = []
    for expectation, (first, second) in zip(expected, slots, strict=True):
        case = expectation.case
        got = _values(exercise, replies[first], replies[second])
        inputs = [*case.inputs.values(), case.dout]
        for name, value in got.items():
            if name not in expectation.reference:
                continue
            known = [(m.name, v[name]) for m, v in expectation.known if name in v]
            wrong = _wrong(exercise, case.label, name, value, expectation.reference[name],
                           known, inputs, exercise.tolerance)
            if wrong is not None:
                found.append(wrong)
    return found


def _values(exercise: Exercise, first: Reply, second: Reply) -> dict[str, Any]:
    """The student's outputs of one case by name, as the grader reads them (only those that
    came back)."""
    if not first.ok:
        return {}
    if exercise.kind == "loss":
        if isinstance(first.value, list) and len(first.value) == 2:
            return {"loss": first.value[0], exercise.grad_names[0]: first.value[1]}
        return {}
    found = {"out": first.value}
    if second.ok:
        grads = second.value
        if len(exercise.wrt) == 1:
            grads = [grads[0]] if isinstance(grads, list) and len(grads) == 1 else [grads]
        if isinstance(grads, list) and len(grads) == len(exercise.grad_names):
            found.update(zip(exercise.grad_names, grads, strict=True))
    return found


def _program_answers(student: _Student, exercise: Exercise) -> list[WrongAnswer]:
    found = []
    for expectation in program_expectations(exercise, True):
        scenario = expectation.scenario
        if not scenario.hidden:
            continue
        replies = student.batch(exercise.module, list(scenario.steps), exercise.time_limit,
                                expectation.reply_bytes)
        if replies is None:
            continue
        got = scenarios.read(scenario, replies, lambda reply, fn: reply.kind, exercise.returns)
        names = dict.fromkeys(n for check in scenario.compare.values() for n in check)
        inputs = list(scenario.inputs.values())
        for name in names:
            value = got.get(name)
            if isinstance(value, scenarios.Missing) or name not in expectation.reference:
                continue
            known = [(m.name, v[name]) for m, v in expectation.known
                     if name in v and not isinstance(v[name], scenarios.Missing)]
            wrong = _wrong(exercise, scenario.describe(), name, value,
                           expectation.reference[name], known, inputs, scenario.tolerance)
            if wrong is not None:
                found.append(wrong)
    return found


def student_answers(submission: Submission, assignments: Sequence[Assignment], *,
                    limits: Limits | None = None,
                    session_class: type[Session] = Session) -> StudentAnswers:
    """The wrong answers of one student on the hidden cases of ``assignments``."""
    assignments = list(assignments)
    student = _Student(submission, assignments, limits or Limits(), session_class)
    wrong: list[WrongAnswer] = []
    read: set[str] = set()
    try:
        for assignment in assignments:
            for exercise in assignment.exercises:
                if not student.ready(exercise.module):
                    continue
                read.add(exercise.id)
                if exercise.kind == "program":
                    wrong += _program_answers(student, exercise)
                else:
                    wrong += _function_answers(student, exercise)
    finally:
        student.stop()
    return StudentAnswers(submission.student, wrong, read)


def class_answers(submissions: Sequence[Submission], assignments: Sequence[Assignment], *,
                  workers: int = 2, limits: Limits | None = None,
                  on_student: Callable[[StudentAnswers], None] | None = None
                  ) -> list[StudentAnswers]:
    """:func:`student_answers` for a class, ``workers`` students side by side (threads, each
    driving its own child), in the order of ``submissions``."""
    # The reference outputs are computed once, here, before the threads share them.
    for assignment in assignments:
        for exercise in assignment.exercises:
            (program_expectations if exercise.kind == "program" else expectations)(exercise,
                                                                                   True)
    lock = threading.Lock()

    def one(submission: Submission) -> StudentAnswers:
        answers = student_answers(submission, assignments, limits=limits)
        if on_student is not None:
            with lock:
                on_student(answers)
        return answers

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(one, submissions))

"""Grade submissions: run the student's functions in a sandboxed child, score in the parent.

For each exercise and case the child is asked for the student's forward value, gradients
and the forward values at perturbed inputs (for the numerical gradient check). Everything is
compared here, in the trusted process, with :func:`dlgrade.core.compare.compare`; a mismatch is
explained by :func:`dlgrade.core.diagnose.explain`. Reference outputs and the outputs of known
mistakes are computed once per run and reused for every student.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from dlgrade.core import gradcheck
from dlgrade.core.compare import (
    NEAR_FACTOR,
    SHAPE_CREDIT,
    accepts,
    compare,
    refusal,
    same_up_to_singletons,
)
from dlgrade.core.diagnose import explain, known_mistake
from dlgrade.courses import handouts
from dlgrade.courses.course import CourseError, active
from dlgrade.courses.registry import mutants, reference_module
from dlgrade.courses.templates import current_handout
from dlgrade.grading.cases import Case, build_cases, fresh, observe, observe_quietly
from dlgrade.grading.mutants import mutant_functions, patched_module
from dlgrade.load.notebooks import relocate
from dlgrade.load.submission import Submission
from dlgrade.policy.feedback import ration
from dlgrade.results import (  # also dlgrade.grading.grader's names, as before results.py
    STATUS_TEXT,
    CheckResult,
    ExerciseResult,
    SubmissionResult,
)
from dlgrade.sandbox.files import read_regular
from dlgrade.sandbox.protocol import Handle, Reply, Step
from dlgrade.sandbox.runner import Limits, Session, SessionOver
from dlgrade.spec import scenarios
from dlgrade.spec.exercise import Assignment, Exercise, Mutant
from dlgrade.spec.scenarios import Scenario

IMPORT_TIMEOUT = 20.0
_SHAPE_CREDIT_TEXT = f"the values are right, so this check gets {SHAPE_CREDIT:.0%} of its credit"
_NO_SHAPE_CREDIT_TEXT = ("the values are right, but other cases have a wrong shape, so this "
                         "gets no credit")


# ---------------------------------------------------------------- expectations (per run)


@dataclass(frozen=True)
class Expectation:
    case: Case
    reference: dict[str, Any]
    known: tuple[tuple[Mutant, dict[str, Any]], ...]  # what each known mistake produces


def _probed(name: str) -> str:
    """The key of the replies at the perturbed inputs of ``name`` among a case's replies:
    never an input name (an input called ``value`` or ``grads`` once overwrote a reply)."""
    return f"probes:{name}"


@cache
def expectations(exercise: Exercise, hidden: bool) -> tuple[Expectation, ...]:
    """Reference and known-mistake outputs for every case, computed once per run (a kit
    has them frozen)."""
    kit = active().kit
    if kit is not None:
        return kit.expectations(exercise, hidden)
    reference = reference_module(exercise.module)
    ref_functions = {n: getattr(reference, n) for n in exercise.functions}
    found = []
    for case in build_cases(exercise, hidden):
        known = []
        for mutant in mutants(exercise.id):
            values = observe_quietly(
                exercise, {**ref_functions, **mutant_functions(mutant, exercise.functions)}, case)
            if values is not None:
                known.append((mutant, values))
        found.append(Expectation(case, observe(exercise, ref_functions, case), tuple(known)))
    return tuple(found)


@cache
def reference_probes(exercise: Exercise, hidden: bool, case_number: int, name: str,
                     eps: float) -> np.ndarray:
    """The reference forward value at every perturbed input of the gradient check, stacked
    (computed once per run): a student's forward must agree there too, so it cannot spot
    the probes and answer them differently."""
    kit = active().kit
    if kit is not None:
        return kit.reference_probes(exercise, hidden, case_number, name, eps)
    case = expectations(exercise, hidden)[case_number].case
    forward = getattr(reference_module(exercise.module), exercise.functions[0])
    sets = gradcheck.perturbations(case.inputs, name, case.probes[name], eps)
    return np.stack([np.asarray(forward(*s.values(), **fresh(case.params))[0], dtype=np.float64)
                     for s in sets])


# ---------------------------------------------------------------- grading one submission


class Grader:
    """Grades one submission, restarting its child after a timeout or a crash."""

    def __init__(self, submission: Submission, *, hidden: bool, limits: Limits | None = None,
                 time_limit: float | None = None, session_class: type[Session] = Session,
                 track: dict[str, str] | None = None, feedback: str | None = None):
        self.submission = submission
        self.session_class = session_class  # the benchmark's no-isolation floor swaps it
        self.time_limit = time_limit  # overrides every exercise's own limit when given
        self.hidden = hidden
        self.limits = limits or Limits()
        self._session: Session | None = None
        self._outputs: list[str] = []  # printed before any hidden input reached the child
        self._withheld: list[str] = []  # printed once it had: instructors only
        self._hidden_from: int | None = None  # where the session's output turned hidden
        self._import_errors: dict[str, Reply] = {}
        self._module_names: list[str] = []
        self._libraries: tuple[str, ...] = ("numpy",)
        self._banned: list[str] = []  # libraries student code may not import (the child's)
        self._support: dict[str, bytes] = {}
        self.track = track  # {"name": "torch", "device": "cpu"}; None: the numpy track
        # What a failed hidden case says (dlgrade.policy.feedback): the course's by default.
        self.feedback = feedback or active().feedback.hidden

    def grade(self, assignments: Iterable[Assignment],
              only: set[str] | None = None) -> SubmissionResult:
        """Grade every exercise of ``assignments`` (or just the exercise ids in ``only``)."""
        started = time.monotonic()
        assignments = list(assignments)
        modules = [m for a in assignments for m in a.modules]
        self._module_names = modules
        self._libraries = tuple(dict.fromkeys(lib for a in assignments for lib in a.libraries))
        self._banned = sorted({lib for a in assignments for lib in a.banned_libraries})
        self._support = active().support_files(assignments)
        if self.track is not None and self.track.get("name") == "torch":
            self._libraries = tuple(dict.fromkeys((*self._libraries, "torch")))
        notices = handouts.notices(self.submission, modules,
                                   lambda m: current_handout(active(), m))
        results: list[ExerciseResult] = []
        imported: set[str] = set()
        problems: dict[str, str | None] = {}
        try:
            for assignment in assignments:
                for exercise in assignment.exercises:
                    if only is not None and exercise.id not in only:
                        continue
                    if exercise.module not in problems:  # each file is looked at once
                        problems[exercise.module] = self.submission.problem(exercise.module)
                    problem = problems[exercise.module]
                    if problem is not None:
                        results.append(_zero(exercise, "missing", problem[0].upper()
                                             + problem[1:] + "."))
                        continue
                    if exercise.module not in imported:
                        imported.add(exercise.module)
                        self._import(exercise.module)
                    results.append(self._grade_exercise(exercise))
        finally:
            self._stop()
        _note_foundations(results)
        self._notebook_places(results)
        return SubmissionResult(
            student=self.submission.student,
            content_hash=self.submission.content_hash(modules),
            exercises=results,
            output="".join(self._outputs)[: self.limits.output_bytes],
            withheld_output="".join(self._withheld)[: self.limits.output_bytes],
            seconds=round(time.monotonic() - started, 3),
            notices=notices,
        )

    def _notebook_places(self, results: list[ExerciseResult]) -> None:
        """Tell errors in code from a notebook by cell ("hw.ipynb, cell 5, line 3")."""
        for module in dict.fromkeys(self._module_names):
            place = f"{module}.py, line "
            if not any(place in text for e in results
                       for text in (e.message, *(c.message for c in e.checks))):
                continue  # nothing to place: no need to read the file again
            path = self.submission.module_path(module)
            code = read_regular(path) if path is not None else None
            if code is None or b"# %% cell " not in code:
                continue
            text = code.decode("utf-8", "replace")
            for e in results:
                e.message = relocate(e.message, f"{module}.py", text)
                for c in e.checks:
                    c.message = relocate(c.message, f"{module}.py", text)

    # ------------------------------------------------------------ sessions

    def session(self, hidden: bool = False) -> Session:
        """The child, started if need be. ``hidden``: the request carries hidden inputs, so
        what the child prints from now on (even later, from a thread, or in later exercises)
        is withheld from the student until the child stops. It keeps serving the next
        exercises: a fresh child per exercise made grading three times slower."""
        if self._session is None or not self._session.alive:
            self._stop()
            paths = {}
            for module in self._module_names:
                path = self.submission.module_path(module)
                if path is not None:
                    paths[module] = path  # never resolved: a link is not followed
            folder = self.submission.path if self.submission.is_folder else None
            extra = {"track": {**(self.track or {"name": "numpy"}), "banned": self._banned}}
            private = (str(active().root),)  # a course is never a child's business
            if self._support:
                extra["support"] = self._support
            self._session = self.session_class(paths, folder, self.limits,
                                               preload=self._libraries, private=private,
                                               **extra)
        if hidden and self._hidden_from is None:
            self._hidden_from = len(self._session.output())
        return self._session

    def withholding(self) -> bool:
        """Whether the live child has had hidden inputs, so that all it prints from now
        on is withheld from the student whatever the next request carries."""
        return (self._session is not None and self._session.alive
                and self._hidden_from is not None)

    def _stop(self) -> None:
        if self._session is not None:
            text = self._session.cleanup()
            cut = len(text) if self._hidden_from is None else self._hidden_from
            self._outputs.append(text[:cut])
            self._withheld.append(text[cut:])
            self._session = None
            self._hidden_from = None

    def _import(self, module: str) -> None:
        try:
            reply = self.session().request(
                {"op": "import", "module": module}, [], IMPORT_TIMEOUT
            )
        except SessionOver as over:
            reply = over.reply
            if reply.kind == "timeout":
                reply.message = f"importing {module}.py {reply.message}"
        if not reply.ok:
            self._import_errors[module] = reply

    # ------------------------------------------------------------ one exercise

    def _grade_exercise(self, exercise: Exercise) -> ExerciseResult:
        failed_import = self._import_errors.get(exercise.module)
        if failed_import is not None:
            status = failed_import.kind if failed_import.kind in STATUS_TEXT else "import"
            return _zero(exercise, status, _error_text(failed_import, f"{exercise.module}.py"))
        if exercise.kind == "program":
            return _ProgramRun(self, exercise).grade(program_expectations(exercise, self.hidden))
        run = _ExerciseRun(self, exercise)
        return run.grade(expectations(exercise, self.hidden))


class _ExerciseRun:
    """The state of grading one exercise: outcomes per check, errors, deadline."""

    def __init__(self, grader: Grader, exercise: Exercise) -> None:
        self.grader = grader
        self.exercise = exercise
        self.dtypes = active().accepted_dtypes(exercise)  # the course's, never the student's
        self.deadline = time.monotonic() + (grader.time_limit or exercise.time_limit)
        # Per check and case: the credit earned (1, 0, or SHAPE_CREDIT) and the failure.
        self.outcomes: dict[str, list[tuple[float, str]]] = {c: [] for c in exercise.checks}
        self.errors: list[Reply] = []
        self.first_replies: list[Reply] = []  # the forward call of every case
        self.second_replies: list[Reply] = []  # a layer's backward call of every case
        self.over: Reply | None = None
        self.consistent: list[bool] = []  # per standard case: gradient matches own forward
        # Why the gradient check failed, per failing case: "values" when the backward gave
        # a right-shaped array of wrong values, else a sentence saying what happened.
        self.grad_trouble: list[str] = []
        self.named: dict[str, str] = {}  # check -> hint of the first named mistake on it
        # Checks failed on a public case: at a rationed feedback level only these get the
        # summary's sentences about where the mistake is.
        self.public_failed: set[str] = set()
        self.forgiven = False  # a slightly-off forward whose backward is its own derivative
        self.misshaped = False  # some value had a wrong shape beyond singleton dimensions
        # Per input of the current case: the probe replies the differences used, and the step.
        self.fed: dict[str, tuple[Any, float]] = {}
        # (case number, value name) that compared right before any probe was asked.
        self.right: set[tuple[int, str]] = set()

    def _left(self) -> float:
        return max(0.05, self.deadline - time.monotonic())

    # -------------------------------------------------------- asking the child

    def _fd_step(self, case: Case, name: str, eps: float) -> Step:
        moves = gradcheck.points(np.shape(case.inputs[name]), case.probes[name], eps)
        position = list(case.inputs).index(name)
        return Step(self.exercise.functions[0], tuple(case.inputs.values()), case.params,
                    perturb=(position, moves), pick=0)

    def _ask(self, expected: tuple[Expectation, ...]) -> list[dict[str, Reply]]:
        """Per case, the forward (or loss) call and the backward call, in one batch; then, in
        a second, the forward at perturbed inputs (assuming float64) of the cases whose
        answers are not all right. Where the forward and every gradient match the reference
        (whose gradient validate proves is its forward's derivative), the student's gradient
        is the derivative of their forward within the tolerance, so finite differences have
        nothing left to find: they were 1,300 of a correct conv2d's 1,348 calls."""
        replies = self._ask_steps(expected, probe=False)
        wrong = [number for number, (expectation, got) in enumerate(
            zip(expected, replies, strict=True))
            if not expectation.case.huge and not self._all_right(number, expectation, got)]
        if wrong:
            chosen = tuple(expected[n] for n in wrong)
            for number, got in zip(wrong, self._ask_steps(chosen, probe=True), strict=True):
                replies[number].update(got)
        return replies

    def _all_right(self, number: int, expectation: Expectation,
                   replies: dict[str, Reply]) -> bool:
        """Whether the value and every gradient of case ``number`` compare equal to the
        reference's; the names found right are remembered in :attr:`right` for the
        verdicts (the same comparison, not made twice)."""
        ex = self.exercise
        values, missing = self._student(replies)
        if missing:
            return False
        rtol, atol = ex.tolerance or (None, None)
        for name in (ex.value_name, *ex.grad_names):
            if not compare(values[name], expectation.reference[name], rtol=rtol, atol=atol,
                           dtypes=self.dtypes, show_values=False).ok:
                return False
            self.right.add((number, name))
        return True

    def _ask_steps(self, expected: tuple[Expectation, ...], *, probe: bool
                   ) -> list[dict[str, Reply]]:
        """One batch of calls per kind of case (public, then hidden): per case the forward
        and backward calls, or (``probe``) the forward at perturbed inputs."""
        ex, steps, slots = self.exercise, [], []
        eps = gradcheck.settings_for(np.float64).eps
        for number, expectation in enumerate(expected):
            case, slot = expectation.case, {}
            args = tuple(case.inputs.values())
            if probe:
                for name in ex.wrt:
                    slot[_probed(name)] = len(steps)
                    steps.append(self._fd_step(case, name, eps))
            elif ex.kind == "layer":
                handle = f"h{number}"
                slot["value"] = len(steps)
                steps.append(Step(ex.functions[0], args, case.params, keep=handle))
                slot["grads"] = len(steps)
                steps.append(Step(ex.functions[1], (case.dout, Handle(handle))))
            else:
                slot["value"] = slot["grads"] = len(steps)
                steps.append(Step(ex.functions[0], args, case.params))
            slots.append(slot)
        # The hidden cases' steps go in a batch of their own, after the others: what the
        # child prints from then on is withheld from the student (Grader.session). Once a
        # live child has had hidden inputs, everything it prints is withheld anyway, so the
        # public and hidden steps share one round trip (in the same order).
        merged = self.grader.withholding()
        hidden = [merged or any(expected[n].case.hidden for n, slot in enumerate(slots)
                                if i in slot.values()) for i in range(len(steps))]
        replies: list[Reply] = [Reply(False, kind="skipped")] * len(steps)
        for secret in (False, True):
            part = [i for i in range(len(steps)) if hidden[i] == secret]
            if not part:
                continue
            cases = tuple(e for e in expected if merged or e.case.hidden == secret)
            got = self.grader.session(hidden=secret).batch(
                ex.module, [steps[i] for i in part], self._left(),
                _reply_budget(cases, [steps[i] for i in part]))
            for i, reply in zip(part, got, strict=True):
                replies[i] = reply
        for reply in replies:
            if not reply.ok:
                self.errors.append(reply)
        if not probe:
            self.first_replies = [replies[slot["value"]] for slot in slots]
            if ex.kind == "layer":
                self.second_replies = [replies[slot["grads"]] for slot in slots]
        return [{key: replies[index] for key, index in slot.items()} for slot in slots]

    def _student(self, replies: dict[str, Reply]) -> tuple[dict[str, Any], dict[str, str]]:
        """The student's values for a case, and why any of them are absent."""
        ex = self.exercise
        values: dict[str, Any] = {}
        missing: dict[str, str] = {}
        first = ex.functions[0]
        reply = replies["value"]
        if not reply.ok:
            missing.update(dict.fromkeys([ex.value_name, *ex.grad_names],
                                         _error_text(reply, first)))
            return values, missing
        if ex.kind == "loss":
            if not isinstance(reply.value, list) or len(reply.value) != 2:
                text = f"{first} must return (loss, {ex.grad_names[0]})"
                missing.update(dict.fromkeys(["loss", *ex.grad_names], text))
                return values, missing
            values["loss"], values[ex.grad_names[0]] = reply.value
            return values, missing
        values["out"] = reply.value
        backward, reply = ex.functions[1], replies["grads"]
        if not reply.ok:
            missing.update(dict.fromkeys(ex.grad_names, _error_text(reply, backward)))
            return values, missing
        grads = reply.value
        if len(ex.wrt) == 1:
            grads = [grads[0]] if isinstance(grads, list) and len(grads) == 1 else [grads]
        elif not isinstance(grads, list) or len(grads) != len(ex.wrt):
            names = ", ".join(ex.grad_names)
            missing.update(dict.fromkeys(
                ex.grad_names, f"{backward} must return {len(ex.wrt)} gradients ({names})"))
            return values, missing
        values.update(zip(ex.grad_names, grads, strict=True))
        return values, missing

    def _numerical(self, case: Case, value: Any, replies: dict[str, Reply]) -> dict[str, Any]:
        """Finite-difference gradients of the student's own forward (or a reason string).

        The differences are taken at the step of the coarsest accepted dtype the forward
        returned, at the case or at any perturbed input (asked again until no reply is
        coarser than the step it was asked with): float32 replies to float64's tiny step
        would carry rounding noise that excuses any gradient. Other dtypes are refused."""
        ex = self.exercise
        if type(value) is not np.ndarray or value.dtype.kind != "f":
            return dict.fromkeys(ex.grad_names, f"{ex.functions[0]} did not return a float array")
        if accepts(value.dtype, self.dtypes) is None:
            return dict.fromkeys(ex.grad_names,
                                 f"{ex.value_name} {refusal(value.dtype, self.dtypes)}")
        asked, precision = gradcheck.settings_for(np.float64), value.dtype
        for _ in range(len(gradcheck.SETTINGS) + 1):
            precision = gradcheck.coarsest_reply(
                [precision, *(d for name in ex.wrt for d in _dtypes(replies[_probed(name)]))],
                self.dtypes)
            settings = gradcheck.settings_for(precision)
            if settings == asked:
                break
            again = self.grader.session(hidden=case.hidden).batch(  # ask with a wider step
                ex.module, [self._fd_step(case, name, settings.eps) for name in ex.wrt],
                self._left())
            replies = dict(replies, **{_probed(n): r for n, r in zip(ex.wrt, again, strict=True)})
            asked = settings
        settings = asked
        found: dict[str, Any] = {}
        self.fed = {}
        for name, grad_name in zip(ex.wrt, ex.grad_names, strict=True):
            reply = replies[_probed(name)]
            self.fed[name] = (reply.value, settings.eps)
            if not reply.ok:
                found[grad_name] = _error_text(reply, ex.functions[0])
                continue
            outputs = reply.value
            wanted = np.shape(case.dout) if case.dout is not None else ()
            if (type(outputs) is np.ndarray and outputs.ndim >= 1
                    and same_up_to_singletons(outputs.shape[1:], wanted)):
                outputs = outputs.reshape(len(outputs), *wanted)  # (1, D) for (D,): see verdict
            try:
                found[grad_name] = (gradcheck.vjp_from_outputs(
                    outputs, case.dout, settings.eps, self.dtypes), settings)
            except gradcheck.GradcheckError as exc:
                found[grad_name] = f"{ex.functions[0]} at perturbed inputs: {exc}"
        return found

    # -------------------------------------------------------- checks

    def _judge(self, number: int, expectation: Expectation, replies: dict[str, Reply]) -> None:
        ex, case, ref = self.exercise, expectation.case, expectation.reference
        values, missing = self._student(replies)
        show = not case.hidden
        where = case.describe()
        rtol, atol = ex.tolerance or (None, None)  # None: the accepted dtypes' own
        dtypes = self.dtypes
        near: dict[str, bool] = {}  # wrong values within NEAR_FACTOR x the tolerance
        named: dict[str, Mutant] = {}

        def verdict(name: str) -> tuple[float, str]:
            if name in missing:
                return 0.0, f"{where}: {missing[name]}"
            if (number, name) in self.right:
                return 1.0, ""
            result = compare(values[name], ref[name], rtol=rtol, atol=atol, dtypes=dtypes,
                             show_values=show)
            if result.ok:
                return 1.0, ""
            if result.reason == "dtype":  # one line, the same public or hidden
                return 0.0, f"{where}: {name} {result.message}"
            if result.reason == "shape" and not result.reshaped:
                self.misshaped = True
            if result.reshaped:
                return SHAPE_CREDIT, (
                    f"{where}: {name} has shape {np.shape(values[name])} where "
                    f"{np.shape(ref[name])} is expected; {_SHAPE_CREDIT_TEXT}")
            near[name] = result.near
            known = [(m, v[name]) for m, v in expectation.known if name in v]
            matched = known_mistake(values[name], [(m.mistake, v) for m, v in known], dtypes)
            if matched is not None:
                named[name] = known[matched][0]
            why = explain(values[name], ref[name], name=name, inputs=case.inputs,
                          known=[(known[matched][0].mistake, known[matched][1])]
                          if matched is not None else (),
                          sizes=_sizes(case), show_values=show, dtypes=dtypes)
            return 0.0, f"{where}: {name} {result.message}" + (f". {why}" if why else "")

        def record(check: str, names: list[str], results: list[tuple[float, str]]) -> None:
            mistake = next((named[n] for n in names if n in named), None)
            self._record(check, results, case, mistake.mistake if mistake else "")
            hint = next((named[n].hint for n in names if n in named and named[n].hint), "")
            if hint and (not case.hidden or self.grader.feedback != "none"):
                self.named.setdefault(check, hint)

        value_names = [ex.value_name, *ex.grad_names]
        if case.huge:
            results = [verdict(n) for n in value_names]
            if self.forgiven and all(near.values()):
                # The slight deviation is the forward check's loss already, not stability's.
                results = [(1.0, "") if n in near else r
                           for n, r in zip(value_names, results, strict=True)]
            if ex.no_warnings:
                results.append(self._warned(case, replies))
            record("stability", value_names, results)
            return
        value_check, grad_check = ex.checks[0], ex.checks[1]
        value_ok = verdict(ex.value_name)
        grads = [verdict(n) for n in ex.grad_names]
        # No probes were asked where every answer is right (see _ask): consistent by then.
        probed = _probed(ex.wrt[0]) in replies
        consistency = (self._gradcheck(case, values, missing, replies) if probed
                       else [(True, "")])
        self.consistent.append(all(ok for ok, _ in consistency))
        if (value_ok[0] < 1 and near.get(ex.value_name) and self.consistent[-1]
                and all(credit == 1 or near.get(n) for n, (credit, _) in
                        zip(ex.grad_names, grads, strict=True))):
            # Slightly off (say eps placed differently) and the gradient is the exact
            # derivative of the student's own forward: only the forward check loses.
            self.forgiven = True
            grads = [(1.0, "") for _ in grads]
            value_ok = (0.0, f"{value_ok[1]}. It is only slightly off (within "
                             f"{NEAR_FACTOR:g} times the tolerance) and your gradient is the "
                             f"derivative of your own {ex.value_name}, so the {grad_check} and "
                             "gradcheck checks keep their credit")
        elif value_ok[0] > 0 and self.consistent[-1]:  # right values, maybe in a (1, D)
            if probed:
                consistency = self._probes_honest(number, case, replies)
        elif self.consistent[-1]:
            # Consistent with a wrong forward earns no points (else returning zeros would),
            # but it still tells the student where the mistake is (see _summary).
            consistency = [(False, f"{where}: not scored, because your {ex.value_name} is "
                                   "wrong on this case (your gradient is consistent with it)")]
        record(value_check, [ex.value_name], [value_ok])
        record(grad_check, list(ex.grad_names), grads)
        self._record("gradcheck", [(1.0 if ok else 0.0, m) for ok, m in consistency], case)

    def _warned(self, case: Case, replies: dict[str, Reply]) -> tuple[float, str]:
        """The stability case of a ``no_warnings`` exercise: no RuntimeWarning allowed."""
        ex = self.exercise
        for key, fn in (("value", ex.functions[0]), ("grads", ex.functions[-1])):
            if replies[key].warnings:
                return 0.0, (f"{case.describe()}: {fn} raised {replies[key].warnings[0]} on "
                             "huge inputs; the docstring asks for formulas that never overflow "
                             "(exp must never see a large positive number), even where the "
                             "answer comes out right")
        return 1.0, ""

    def _gradcheck(self, case: Case, values: dict[str, Any], missing: dict[str, str],
                   replies: dict[str, Reply]) -> list[tuple[bool, str]]:
        ex, where = self.exercise, case.describe()
        if ex.value_name in missing or any(n in missing for n in ex.grad_names):
            reason = missing.get(ex.grad_names[0]) or missing.get(ex.value_name)
            self.grad_trouble.append(reason)
            return [(False, f"{where}: {reason}")]
        numerical = self._numerical(case, values[ex.value_name], replies)
        results = []
        backward = ex.functions[-1]
        for name, wrt in zip(ex.grad_names, ex.wrt, strict=True):
            estimate = numerical[name]
            if isinstance(estimate, str):
                self.grad_trouble.append(estimate)
                results.append((False, f"{where}: {estimate}"))
                continue
            grad, shape = values[name], np.shape(case.inputs[wrt])
            if type(grad) is np.ndarray and same_up_to_singletons(grad.shape, shape):
                grad = grad.reshape(shape)  # the shape costs its deduction in the value check
            if type(grad) is not np.ndarray or grad.shape != shape:
                self.grad_trouble.append(
                    f"{backward} returns None for {name} (is it implemented yet?)" if grad is None
                    else f"{backward} returns {name} in the wrong shape "
                    f"({np.shape(grad) if type(grad) is np.ndarray else type(grad).__name__}, "
                    f"where the shape of {wrt} is expected)")
                results.append((False, f"{where}: {name} must be an array shaped like {wrt}"))
                continue
            numbers, settings = estimate
            result = gradcheck.check_entries(grad, numbers, case.probes[wrt], settings,
                                             dtypes=self.dtypes, show_values=not case.hidden)
            if not result.ok:
                self.grad_trouble.append("values" if result.reason != "dtype" else
                                         f"{backward} returns {name} that {result.message}")
            results.append((result.ok, "" if result.ok else (
                f"{where}: {name} disagrees with the numerical gradient of your own "
                f"{ex.functions[0]}: {result.message}")))
        return results

    def _probes_honest(self, number: int, case: Case,
                       replies: dict[str, Reply]) -> list[tuple[bool, str]]:
        """The forward values behind the finite differences must be the right values at the
        perturbed inputs (only checked where the forward is right on the case itself)."""
        ex, results = self.exercise, []
        rtol, atol = ex.tolerance or (None, None)
        dtypes = self.dtypes
        for name in ex.wrt:
            # Exactly the replies the differences were taken from, at the step they were
            # asked with: mixed dtypes come as a list, each row then judged by its own dtype.
            outputs, eps = self.fed[name]
            try:
                expected = reference_probes(ex, self.grader.hidden, number, name, eps)
            except CourseError:
                if active().kit is None:
                    raise
                continue  # a student kit holds the float64 step's probes only: no grade
            rows = [outputs] if type(outputs) is np.ndarray else list(outputs)
            wanted = [expected] if type(outputs) is np.ndarray else list(expected)
            honest = len(rows) == len(wanted) and all(
                (c.ok or c.reshaped) for c in (
                    compare(row, want, rtol=rtol, atol=atol, dtypes=dtypes,
                            show_values=False)
                    for row, want in zip(rows, wanted, strict=True)))
            if not honest:
                results.append((False, f"{case.describe()}: {ex.functions[0]} gives wrong "
                                f"values at inputs moved by {eps:g}, though it is right at "
                                "the inputs themselves (does it depend on earlier calls?)"))
        return results or [(True, "")]

    def _record(self, check: str, results: list[tuple[float, str]], case: Case,
                mistake: str = "") -> None:
        """One case's outcome of a check: the least credit of its values, and the message of
        the first value short of full credit (rationed on a hidden case, see
        :mod:`dlgrade.policy.feedback`; ``mistake``: the known mistake its answer matched)."""
        credit = float(min((r[0] for r in results), default=1.0))
        message = next((m for c, m in results if c < 1), "")
        if credit < 1 and not case.hidden:
            self.public_failed.add(check)
        if case.hidden:
            message = ration(message, case.describe(), self.grader.feedback, mistake)
        self.outcomes[check].append((credit, message))

    # -------------------------------------------------------- the whole exercise

    def grade(self, expected: tuple[Expectation, ...]) -> ExerciseResult:
        ex = self.exercise
        try:
            for number, (expectation, replies) in enumerate(
                    zip(expected, self._ask(expected), strict=True)):
                self._judge(number, expectation, replies)
        except SessionOver as over:
            self.over = over.reply
        cheat = _autograd(self.errors)
        if cheat is not None:
            return _zero(ex, "autograd", cheat)
        weights = ex.check_weights()
        checks = []
        for name in ex.checks:
            outcomes = self.outcomes[name]
            if self.misshaped:
                # (7,) for (1, 7) is a convention only if the other cases' shapes are right:
                # an answer flattened or transposed everywhere is not right up to singletons.
                outcomes = [(0.0, m.replace(_SHAPE_CREDIT_TEXT, _NO_SHAPE_CREDIT_TEXT))
                            if c == SHAPE_CREDIT else (c, m) for c, m in outcomes]
            total = sum(1 for e in expected if e.case.huge == (name == "stability"))
            credit = sum(c for c, _ in outcomes) if self.over is None else 0.0
            passed = sum(1 for c, _ in outcomes if c == 1) if self.over is None else 0
            max_score = ex.points * weights[name]
            message = next((m for c, m in outcomes if c < 1), "")
            if self.over is not None:
                message = _error_text(self.over, ex.functions[0])
            checks.append(CheckResult(name, round(max_score * credit / max(total, 1), 4),
                                      round(max_score, 4), passed, total, message))
        score = round(sum(c.score for c in checks), 4)
        status = self._status(score, checks)
        return ExerciseResult(
            id=ex.id, title=ex.title, score=score, max_score=ex.points, status=status,
            message=self._summary(status, checks),
            hint="" if status == "passed" else _hint(ex, checks, self.named), checks=checks,
        )

    def _status(self, score: float, checks: list[CheckResult]) -> str:
        if self.over is not None:
            return self.over.kind if self.over.kind in ("timeout", "crash") else "error"
        if score >= self.exercise.points - 1e-9:
            return "passed"
        kinds = {r.kind for r in self.errors}
        first = {r.kind for r in self.first_replies}
        if first == {"not_implemented"} or (score == 0 and self._stubs()):
            return "not_attempted"
        if first == {"missing"}:
            return "missing"
        if score == 0 and kinds & {"exception", "bad_return", "protocol"}:
            return "error"
        return "failed" if score == 0 else "partial"

    def _stubs(self) -> list[str]:
        """The functions that returned None, when every call of the exercise was a stub's
        (returned None or raised NotImplementedError, a backward skipped after it); else []."""
        calls = [r for r in (*self.first_replies, *self.second_replies) if r.kind != "skipped"]
        if not calls or not all(r.kind == "not_implemented" or _returned_none(r) for r in calls):
            return []
        replies = (self.first_replies, self.second_replies)
        return [fn for fn, these in zip(self.exercise.functions, replies, strict=False)
                if any(_returned_none(r) for r in these)]

    def _summary(self, status: str, checks: list[CheckResult]) -> str:
        if status == "passed":
            return "All checks passed."
        stubs = self._stubs() if status == "not_attempted" else []
        if stubs:
            verb = "is" if len(stubs) == 1 else "are"
            who = "it returns" if len(stubs) == 1 else "they return"
            return f"{' and '.join(stubs)} {verb} not implemented yet ({who} None)."
        if status in ("not_attempted", "missing", "timeout", "crash"):
            return next(c.message for c in checks if c.message)
        failed = {c.name for c in checks if c.score < c.max_score}
        value_check, grad_check = self.exercise.checks[:2]
        layer = self.exercise.kind == "layer"
        what = "backward pass" if layer else "gradient"
        value = "forward pass" if layer else "loss value"
        if self.grader.feedback != "full":  # what hidden cases showed is not said here
            failed &= self.public_failed
        lines = []
        if {value_check, grad_check} <= failed and self.consistent and all(self.consistent):
            lines.append(f"Your {what} is the derivative of your {value}, so the mistake is in "
                         f"the {value}.")
        if "gradcheck" in failed and value_check not in failed and self.grad_trouble:
            # Only a right-shaped array of wrong values is "not its derivative"; an
            # exception, a wrong shape or a stub is named for what it is.
            trouble = self.grad_trouble[0]
            said = f"{trouble[0].lower()}{trouble[1:].rstrip('.')}"
            lines.append(f"Your {value} is right but your {what} is not its derivative."
                         if trouble == "values" else f"Your {value} is right, but {said}.")
        lines += [f"{c.name}: {c.message}" for c in checks if c.score < c.max_score]
        return "\n".join(lines)


def _dtypes(reply: Reply) -> list[np.dtype]:
    """The dtypes of the arrays in a reply to perturbed inputs (stacked or a list)."""
    if not reply.ok:
        return []
    value = reply.value
    items = [value] if type(value) is np.ndarray else value if isinstance(value, list) else []
    return [v.dtype for v in items if type(v) is np.ndarray]


def _reply_budget(expected: tuple[Expectation, ...], steps: list[Step]) -> int:
    """Bytes a batch's reply may hold: every expected value and gradient, and every
    perturbed forward value, four times over in float64 (so a student's odd but honest
    extra output fits), plus room for headers. A reply claiming more is refused unread."""
    values = sum(np.size(v) for e in expected for v in e.reference.values())
    largest = max((np.size(v) for e in expected for v in e.reference.values()), default=1)
    perturbed = sum(len(s.perturb[1]) for s in steps if s.perturb is not None)
    return 4 * 8 * (values + perturbed * largest) + 4096 * (len(steps) + 1)


def _returned_none(reply: Reply) -> bool:
    """Whether a call returned None (or a tuple of Nones), a stub's ``return None`` /
    ``pass``: also where the child wanted ``(out, cache)`` and said it got a NoneType."""
    if reply.ok:
        value = reply.value
        return value is None or (isinstance(value, list) and bool(value)
                                 and all(v is None for v in value))
    return reply.kind == "bad_return" and reply.message.endswith("got a NoneType")


def _hint(exercise: Exercise, checks: list[CheckResult], named: dict[str, str]) -> str:
    """The hint for the first check short of full marks: the hint of the known mistake named
    on it, else the exercise's hint for that check, else the exercise's hint."""
    first = next((c.name for c in checks if c.score < c.max_score), None)
    if first is None:
        return exercise.hint
    return named.get(first) or exercise.hints.get(first) or exercise.hint


def _zero(exercise: Exercise, status: str, message: str) -> ExerciseResult:
    weights = exercise.check_weights()
    checks = [CheckResult(name, 0.0, round(exercise.points * weights[name], 4), 0, 0, message)
              for name in exercise.checks]
    return ExerciseResult(exercise.id, exercise.title, 0.0, exercise.points, status, message,
                          exercise.hint, checks)


def _error_text(reply: Reply, fn: str) -> str:
    if reply.kind == "not_implemented":
        return f"{fn} is not implemented yet (it raises NotImplementedError)."
    if reply.kind in ("skipped", "autograd"):
        return f"{fn}: {reply.message}."
    if reply.kind in ("missing", "timeout", "crash", "protocol"):
        first = reply.message.split(" ", 1)[0]
        if "." in first:  # it starts with a file name: keep its case
            return f"{reply.message}."
        return f"{reply.message[0].upper()}{reply.message[1:]}."
    where = f" ({reply.where})" if reply.where else ""
    if reply.kind == "syntax":
        line = f": {reply.trace.strip()}" if reply.trace.strip() else ""
        return f"{reply.message} in {reply.where}{line}"
    if reply.kind == "import":
        return f"importing {fn} raised {reply.message}{where}"
    if reply.kind == "bad_return":  # "returned ..." from the child says whose value it was
        return f"{fn} {reply.message}" if reply.message.startswith("returned ") else reply.message
    return f"{fn} raised {reply.message}{where}"


def _sizes(case: Case) -> dict[str, int]:
    main = next(iter(case.inputs.values()))
    sizes = {}
    if main.ndim >= 1:
        sizes["N (the batch size)"] = main.shape[0]
    sizes.setdefault(f"the number of elements ({main.size})", main.size)
    if main.ndim >= 2:
        sizes.setdefault("C (the number of classes)", main.shape[-1])
    unique: dict[int, str] = {}
    for label, n in sizes.items():
        unique.setdefault(n, label)
    return {label: n for n, label in unique.items()}


def grade_submission(submission: Submission, assignments: Iterable[Assignment], *,
                     hidden: bool, only: set[str] | None = None,
                     limits: Limits | None = None,
                     time_limit: float | None = None,
                     track: dict[str, str] | None = None,
                     feedback: str | None = None) -> SubmissionResult:
    """Grade one submission on the given assignments (public cases only unless ``hidden``;
    ``only`` restricts to some exercise ids; ``time_limit`` overrides the exercises';
    ``track`` is ``{"name": "torch", "device": "cpu" | "cuda"}`` for the torch track;
    ``feedback`` what failed hidden cases say, ``none``, ``mistake`` or ``full``: by default
    the course's ``[feedback] hidden``)."""
    return Grader(submission, hidden=hidden, limits=limits, time_limit=time_limit,
                  track=track, feedback=feedback).grade(assignments, only)


# ---------------------------------------------------------------- program exercises


@dataclass(frozen=True)
class ProgramExpectation:
    scenario: Scenario
    reference: dict[str, Any]
    known: tuple[tuple[Mutant, dict[str, Any]], ...]
    reply_bytes: int


@cache
def program_expectations(exercise: Exercise, hidden: bool) -> tuple[ProgramExpectation, ...]:
    """What the reference (and each known mistake) makes of every scenario, once per run
    (a kit has it frozen)."""
    kit = active().kit
    if kit is not None:
        return kit.program_expectations(exercise, hidden)
    reference = reference_module(exercise.module)
    found = []
    for scenario in exercise.scenarios(hidden):
        replies = scenarios.run_locally(exercise.module, reference, scenario.steps)
        broken = [r for r in replies if not r.ok]
        if broken:
            raise RuntimeError(f"{exercise.id}: the reference fails {scenario.describe()}: "
                               f"{broken[0].kind}: {broken[0].message}")
        ref = scenarios.read(scenario, replies, _error_text, exercise.returns)
        unreadable = [n for n, v in ref.items() if isinstance(v, scenarios.Missing)]
        if unreadable:
            raise RuntimeError(f"{exercise.id}: cannot read {unreadable} from the reference")
        known = []
        compared = {n for names in scenario.compare.values() for n in names}
        for mutant in mutants(exercise.id) if compared else ():
            module = (patched_module(mutant) if mutant.patch
                      else scenarios.with_functions(reference, mutant.functions))
            try:
                values = scenarios.read(
                    scenario, scenarios.run_locally(exercise.module, module, scenario.steps),
                    _error_text, exercise.returns)
            except Exception:  # noqa: BLE001 - a broken mutant just matches nothing
                continue
            # Only compared values are matched against mistakes; big property-only outputs
            # (initialisers, dropout masks) are not kept for the whole run.
            known.append((mutant, {n: v for n, v in values.items() if n in compared}))
        size = sum(_array_bytes(r.value) for r in replies)
        reads = [p.reads for p in scenario.properties]
        if all(r is not None for r in reads):
            kept = compared.union(*reads)
            ref = {n: v for n, v in ref.items() if n in kept}
        found.append(ProgramExpectation(scenario, ref, tuple(known),
                                        4 * size + 4096 * (len(scenario.steps) + 1)))
    return tuple(found)


def _first_wrong(value: Any, expected: np.ndarray, scenario: Scenario, name: str,
                 dtypes: Any = None) -> str:
    """``"first wrong after update 3 of 60; "`` for a sequence observation, else ``""``."""
    step = scenario.sequence.get(name)
    if step is None or type(value) is not np.ndarray or value.shape != expected.shape:
        return ""
    rtol, atol = scenario.tolerance or (None, None)
    for k in range(len(expected)):
        if not compare(value[k], expected[k], rtol=rtol, atol=atol, dtypes=dtypes,
                       show_values=False).ok:
            total = len(expected) - 1
            return (f"first wrong at the start, before any {step}; " if k == 0 else
                    f"first wrong after {step} {k} of {total}; ")
    return ""


def _array_bytes(value: Any) -> int:
    if isinstance(value, np.ndarray):
        return 8 * max(value.size, 1)
    if isinstance(value, list):
        return sum(_array_bytes(v) for v in value)
    if isinstance(value, dict):
        return sum(_array_bytes(v) for v in value.values())
    return 8


class _ProgramRun:
    """Grading one program exercise: each scenario is one round trip to the child."""

    def __init__(self, grader: Grader, exercise: Exercise) -> None:
        self.grader = grader
        self.exercise = exercise
        self.dtypes = active().accepted_dtypes(exercise)
        self.deadline = time.monotonic() + (grader.time_limit or exercise.time_limit)
        self.outcomes: dict[str, list[tuple[bool, str]]] = {c: [] for c in exercise.checks}
        self.error_kinds: list[str] = []
        self.over: Reply | None = None

    def _verdict(self, name: str, student: dict[str, Any],
                 expected: ProgramExpectation) -> tuple[bool, str]:
        """Whether observation ``name`` is right, and what is wrong (rationed when the
        scenario is hidden: see :mod:`dlgrade.policy.feedback`)."""
        ok, message, mistake = self._compare(name, student, expected)
        if not ok and expected.scenario.hidden:
            message = ration(message, expected.scenario.describe(), self.grader.feedback,
                             mistake)
        return ok, message

    def _compare(self, name: str, student: dict[str, Any],
                 expected: ProgramExpectation) -> tuple[bool, str, str]:
        scenario, where = expected.scenario, expected.scenario.describe()
        value = student.get(name)
        if isinstance(value, scenarios.Missing):
            return False, f"{where}: {value}", ""
        rtol, atol = scenario.tolerance or (None, None)
        result = compare(value, expected.reference[name], rtol=rtol, atol=atol,
                         dtypes=self.dtypes, show_values=not scenario.hidden)
        if result.ok:
            return True, "", ""
        if result.reason == "dtype":
            return False, f"{where}: {name} {result.message}", ""
        first = _first_wrong(value, expected.reference[name], scenario, name, self.dtypes)
        known = [(m.mistake, v[name]) for m, v in expected.known
                 if name in v and not isinstance(v[name], scenarios.Missing)]
        main = next(iter(scenario.inputs.values()), None)
        sizes = ({"N (the batch size)": main.shape[0]}
                 if main is not None and np.ndim(main) >= 1 else {})
        matched = known_mistake(value, known, self.dtypes)
        mistake = known[matched] if matched is not None else None
        why = explain(value, expected.reference[name], name=name, inputs=dict(scenario.inputs),
                      known=[mistake] if mistake else (), sizes=sizes,
                      show_values=not scenario.hidden, dtypes=self.dtypes)
        return False, (f"{where}: {name} {first}{result.message}"
                       + (f". {why}" if why else "")), mistake[0] if mistake else ""

    def grade(self, expected: tuple[ProgramExpectation, ...]) -> ExerciseResult:
        ex = self.exercise
        totals = dict.fromkeys(ex.checks, 0)
        for expectation in expected:
            scenario = expectation.scenario
            for check in scenario.checks:
                totals[check] += 1
            if self.over is not None:
                continue
            try:
                replies = self.grader.session(hidden=scenario.hidden).batch(
                    ex.module, list(scenario.steps),
                    max(0.05, self.deadline - time.monotonic()), expectation.reply_bytes)
            except SessionOver as over:
                self.over = over.reply
                continue
            self.error_kinds += [r.kind for r in replies if not r.ok]
            cheat = _autograd(replies)
            if cheat is not None:
                return _zero(ex, "autograd", cheat)
            student = scenarios.read(scenario, replies, _error_text, ex.returns)
            for check in scenario.checks:
                results = [self._verdict(n, student, expectation)
                           for n in scenario.compare.get(check, ())]
                for prop in scenario.properties:
                    if prop.check == check:
                        message = _judge_safely(prop, student, expectation.reference)
                        said = "" if message is None else f"{scenario.describe()}: {message}"
                        if scenario.hidden:
                            said = ration(said, scenario.describe(), self.grader.feedback)
                        results.append((message is None, said))
                ok = all(r[0] for r in results)
                self.outcomes[check].append(
                    (ok, next((m for passed, m in results if not passed), "")))
        weights = ex.check_weights()
        checks = []
        for name in ex.checks:
            outcomes = self.outcomes[name]
            passed = sum(1 for ok, _ in outcomes if ok) if self.over is None else 0
            max_score = ex.points * weights[name]
            message = next((m for ok, m in outcomes if not ok), "")
            if self.over is not None:
                message = _error_text(self.over, ex.functions[0])
            checks.append(CheckResult(name, round(max_score * passed / max(totals[name], 1), 4),
                                      round(max_score, 4), passed, totals[name], message))
        score = round(sum(c.score for c in checks), 4)
        status = self._status(score)
        if status == "passed":
            message = "All checks passed."
        elif status in ("not_attempted", "missing", "timeout", "crash"):
            message = next((c.message for c in checks if c.message), "")
        else:
            message = "\n".join(f"{c.name}: {c.message}" for c in checks
                                if c.score < c.max_score)
        return ExerciseResult(id=ex.id, title=ex.title, score=score, max_score=ex.points,
                              status=status, message=message,
                              hint="" if status == "passed" else _hint(ex, checks, {}),
                              checks=checks)

    def _status(self, score: float) -> str:
        if self.over is not None:
            return self.over.kind if self.over.kind in ("timeout", "crash") else "error"
        if score >= self.exercise.points - 1e-9:
            return "passed"
        kinds = set(self.error_kinds) - {"skipped"}
        if score == 0 and kinds == {"not_implemented"}:
            return "not_attempted"
        if score == 0 and kinds == {"missing"}:
            return "missing"
        if score == 0 and kinds & {"exception", "bad_return", "protocol"}:
            return "error"
        return "failed" if score == 0 else "partial"


def _autograd(replies: Iterable[Reply]) -> str | None:
    """The message for a torch-track exercise that used autograd (it scores 0), or None."""
    used = next((r for r in replies if not r.ok and r.kind == "autograd"), None)
    if used is None:
        return None
    return (f"{used.message[0].upper()}{used.message[1:]}. This exercise scores 0: compute "
            "the gradients with tensor operations, as the formulas in the docstring say.")


def _judge_safely(prop: scenarios.Property, student: dict[str, Any],
                  reference: dict[str, Any]) -> str | None:
    """A property's verdict; one that trips over an odd student value is a failure."""
    try:
        with np.errstate(all="ignore"):
            return prop.judge(student, reference)
    except Exception as exc:  # noqa: BLE001 - the values are untrusted
        return f"the values returned could not be checked ({type(exc).__name__})"


def _note_foundations(results: list[ExerciseResult]) -> None:
    """Tell a student when an exercise fails while one it builds on fails too."""
    from dlgrade.courses.registry import exercise as spec_of

    by_id = {r.id: r for r in results}
    for result in results:
        if result.status == "passed":
            continue
        broken = [by_id[d] for d in spec_of(result.id).builds_on
                  if d in by_id and by_id[d].status != "passed"]
        if broken:
            names = " and ".join(f"{b.id} ({b.title})" for b in broken)
            verb = "is" if len(broken) == 1 else "are"
            result.message += (f"\nThis exercise builds on {names}, which {verb} not right "
                               "yet: fix that first, then look at this one again.")

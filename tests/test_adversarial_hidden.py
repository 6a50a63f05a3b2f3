"""Adversarial suite on what hidden cases give away (issue 13, points 4, 5 and 1).

* Point 4: feedback on a hidden case names the mistake and the case (label, shape), never a
  number derived from the expected value (a largest difference and its tolerance recovered a
  hidden loss in three resubmissions); public cases keep their numbers.
* Point 5: what the student's code prints once hidden inputs reached it (the inputs
  themselves, say) reaches neither Gradescope's results.json nor the student's HTML page;
  what it printed on the public cases still does.
* Point 1: a forward that spots the gradient check's probes and answers them flat cannot
  earn the gradcheck share with a zero backward, whatever dtypes its probe replies have.

Each hostile submission is graded beside an honest one, which keeps its full marks.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from dlgrade import api
from dlgrade.courses.course import load, using
from dlgrade.grading.cases import build_cases
from dlgrade.integrations.gradescope import write_results
from dlgrade.outputs.html_report import student_page
from dlgrade.results import SubmissionResult
from fixture_course import FIXTURE

HONEST = '''import numpy as np


def cube_forward(x):
    return x ** 3, x


def cube_backward(dout, cache):
    return 3 * cache ** 2 * dout


def sq_loss(pred, target, scale=1.0):
    d = pred - target
    return scale * float((d * d).sum()), 2 * scale * d
'''

# Right on the public shapes, wrong on the hidden ones (the fixture's (2, 5) and (6,)): the
# resubmission attack, where only hidden-case feedback is left to read.
ONLY_HIDDEN_WRONG = '''import numpy as np

HIDDEN = {{(2, 5), (6,)}}


def _wrong(shape):
    return {everywhere} or shape in HIDDEN


def cube_forward(x):
    out = x ** 3
    return ({array}) if _wrong(x.shape) else out, x


def cube_backward(dout, cache):
    return 3 * cache ** 2 * dout


def sq_loss(pred, target, scale=1.0):
    d = pred - target
    loss = scale * float((d * d).sum())
    return ({scalar}) if _wrong(pred.shape) else loss, 2 * scale * d
'''
VARIANTS = {  # cube's out, sq's loss: what the student returns instead
    "offset": ("out + 0.5", "loss + 0.5"),
    "scaled": ("out * 1.37", "loss * 1.37"),
    "close": ("out * 1.01", "loss * 1.003"),
    "shifted-odd": ("out - 0.3125", "loss + 0.0221"),
}

# describe()'s own numbers: the case's label, its shape and its hyper-parameters.
_WHERE = re.compile(r"(public|hidden|stability) case \d+ \(shape \([\d, ]*\)(, [^()]*)?\)")
_NUMBER = re.compile(r"\d")


def _grade(folder: Path, source: str) -> SubmissionResult:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ops.py").write_text(source)
    return api.grade(folder, course=FIXTURE)


def _messages(result: SubmissionResult, label: str) -> list[str]:
    """Every check's message, and every line of an exercise's message, about ``label``
    cases ("hidden" or "public")."""
    found = []
    for e in result.exercises:
        for text in (e.message, *(c.message for c in e.checks)):
            found += [line for line in text.splitlines() if f"{label} case" in line]
    return found


def test_honest_student_keeps_full_marks(tmp_path: Path) -> None:
    result = _grade(tmp_path / "honest", HONEST)
    assert result.score == result.max_score, [(e.id, e.message) for e in result.exercises]
    assert not result.withheld_output


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_hidden_feedback_holds_no_number_from_the_expected_value(
        tmp_path: Path, variant: str) -> None:
    array, scalar = VARIANTS[variant]
    source = ONLY_HIDDEN_WRONG.format(everywhere="False", array=array, scalar=scalar)
    result = _grade(tmp_path / variant, source)
    hidden = _messages(result, "hidden")
    assert len(hidden) >= 2, [(e.id, e.message) for e in result.exercises]
    assert any("out" in m for m in hidden) and any("loss" in m for m in hidden), hidden
    for message in hidden:
        rest = _WHERE.sub("", message)
        assert not _NUMBER.search(rest), message
        for said in ("largest", "allowed", "expected 0", "yours", "about", "times"):
            assert said not in rest, message
    assert _messages(result, "public") == []  # right on every public case


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_public_feedback_still_shows_the_numbers(tmp_path: Path, variant: str) -> None:
    array, scalar = VARIANTS[variant]
    source = ONLY_HIDDEN_WRONG.format(everywhere="True", array=array, scalar=scalar)
    result = _grade(tmp_path / variant, source)
    public = _messages(result, "public")
    assert any("largest difference" in m and "expected" in m for m in public), public


# ---------------------------------------------------------------- point 5: printed output

PRINTS = '''import threading
import time

import numpy as np

np.set_printoptions(precision=17)
SEEN = []
SHAPES = set()


def _once(name, *arrays):  # once per function and shape, so the pages' excerpts hold all
    if (name, arrays[0].shape) not in SHAPES:
        SHAPES.add((name, arrays[0].shape))
        print(name, *(repr(a.ravel()[:4].tolist()) for a in arrays))


def _later():  # prints what it saw after the hidden cases, from a thread
    time.sleep(0.05)
    for x in list(SEEN):
        print("later", repr(x.ravel()[:4].tolist()), flush=True)


def cube_forward(x):
    _once("cube input", x)
    SEEN.append(x)
    if len(SEEN) == 1:
        threading.Thread(target=_later, daemon=True).start()
    return x ** 3, x


def cube_backward(dout, cache):
    _once("cube dout", dout)
    return 3 * cache ** 2 * dout


def sq_loss(pred, target, scale=1.0):
    _once("sq input", pred, target)
    d = pred - target
    return scale * float((d * d).sum()), 2 * scale * d
'''


def _digits(values: np.ndarray) -> list[str]:
    """Digit strings a print of ``values`` shows, however it is formatted (repr, str,
    tolist): the first few significant digits of a few entries."""
    return [f"{abs(float(v)):.6f}"[:7] for v in np.ravel(values)[:4]]


def test_hidden_inputs_printed_by_the_student_never_reach_the_student(
        tmp_path: Path) -> None:
    folder = tmp_path / "printer"
    folder.mkdir()
    (folder / "ops.py").write_text(PRINTS)
    with using(load(FIXTURE)) as course:
        hw1 = course.assignment("hw1")
        cases = {e.id: build_cases(e, True) for e in hw1.exercises}
    hidden = [c for cs in cases.values() for c in cs if c.hidden]
    public = [c for cs in cases.values() for c in cs if not c.hidden and not c.huge]
    assert hidden and public
    secrets = [d for c in hidden for x in c.inputs.values() for d in _digits(x)]
    shown = [d for c in public for x in c.inputs.values() for d in _digits(x)]

    data = write_results(folder, tmp_path / "results.json", "hw1", course_path=FIXTURE)
    result = api.grade(folder, course=FIXTURE)
    assert result.score == result.max_score  # printing costs nothing
    page = student_page(result, [hw1])
    for text in (json.dumps(data), page, result.output):
        leaked = [d for d in secrets if d in text]
        assert not leaked, leaked
        assert any(d in text for d in shown)  # the first public cases' prints are there
        assert "cube input" in text
        # After the first hidden case the child keeps serving later exercises, and nothing
        # it prints reaches students any more (not even those exercises' public cases).
        assert "sq input" not in text
    assert "not shown" in data["output"] and "not shown" in page
    # the instructor's view keeps it all
    assert any(d in result.withheld_output for d in secrets)
    assert "sq input" in result.withheld_output


def test_after_the_first_hidden_batch_an_exercise_takes_one_round_trip(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first exercise's public cases go alone (what they print is shown); once the
    child has had hidden inputs all it prints is withheld anyway, so each later exercise's
    public and hidden cases share one round trip, public first, and grade the same."""
    from dlgrade.sandbox import runner

    trips: list[tuple[str, int]] = []
    batch = runner.Session.batch

    def counted(self, module, steps, timeout, max_bytes=None):
        trips.append((steps[0].fn, len(steps)))
        return batch(self, module, steps, timeout, max_bytes)

    monkeypatch.setattr(runner.Session, "batch", counted)
    with using(load(FIXTURE)) as course:
        exercises = course.assignment("hw1").exercises
        cases = {e.id: build_cases(e, True) for e in exercises}
    result = _grade(tmp_path / "honest", HONEST)
    assert result.score == result.max_score
    first, *later = exercises
    steps = {e.id: len(cases[e.id]) * (2 if e.kind == "layer" else 1) for e in exercises}
    public = sum(1 for c in cases[first.id] if not c.hidden)
    public_steps = public * (2 if first.kind == "layer" else 1)
    assert trips == [(first.functions[0], public_steps),
                     (first.functions[0], steps[first.id] - public_steps),
                     *((e.functions[0], steps[e.id]) for e in later)]
    assert later  # the fixture has an exercise after the first


# ---------------------------------------------------------------- point 1: gradient check

# A forward that spots the finite-difference probes (one entry of an input it saw moved by a
# small step) and answers them "flat", so that a zero backward agrees with the differences.
FLAT_PROBES = '''import numpy as np

SEEN = []
CALLS = [0]


def _probe_of(x):
    for x0 in SEEN:
        if x0.shape == x.shape:
            moved = np.abs(x - x0)
            if np.count_nonzero(moved) == 1 and moved.max() < 1e-2:
                return x0, moved.max()
    return None, 0.0


def cube_forward(x):
    x0, step = _probe_of(x)
    if x0 is None:
        SEEN.append(x.copy())
        return np.asarray(x ** 3, dtype={dtype}), x
    CALLS[0] += 1
    if {flat}:
        out = (x0 ** 3).astype(np.float32)  # flat: the unmoved value
        return out if CALLS[0] % 2 else out.astype(np.float64), x
    return {honest}, x


def cube_backward(dout, cache):
    return np.zeros_like(cache)


def sq_loss(pred, target, scale=1.0):
    d = pred - target
    return scale * float((d * d).sum()), 2 * scale * d
'''
ATTACKS = {
    # float64 answers; the probes alternate float32 / float64, which once skipped the check
    "alternating-dtypes": FLAT_PROBES.format(dtype="np.float64", flat="True",
                                             honest="None"),
    # the same from a float32 forward, probed again with float32's wider step
    "alternating-float32": FLAT_PROBES.format(dtype="np.float32", flat="True",
                                              honest="None"),
    # honest at the checked float64 step, flat at float32's step (never checked)
    "flat-at-the-wider-step": FLAT_PROBES.format(
        dtype="np.float32", flat="step > 1e-4", honest="(x ** 3).astype(np.float32)"),
}
HONEST_FLOAT32 = '''import numpy as np


def cube_forward(x):
    return (x ** 3).astype(np.float32), x


def cube_backward(dout, cache):
    return (3 * cache ** 2 * dout).astype(np.float32)


def sq_loss(pred, target, scale=1.0):
    d = (pred - target).astype(np.float32)
    return np.float32(scale * (d * d).sum()), (2 * scale * d).astype(np.float32)
'''


def _check(result: SubmissionResult, exercise: str, check: str) -> tuple[float, str]:
    found = next(c for e in result.exercises if e.id == exercise for c in e.checks
                 if c.name == check)
    return found.score, found.message


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_flat_probe_answers_earn_no_gradcheck_share(tmp_path: Path, attack: str) -> None:
    result = _grade(tmp_path / attack, ATTACKS[attack])
    assert _check(result, "hw1.cube", "forward")[0] == 2.5  # the forward itself is right
    score, message = _check(result, "hw1.cube", "gradcheck")
    assert score == 0, message
    assert "gives wrong values at inputs moved by" in message, message


def test_honest_float32_student_keeps_full_marks(tmp_path: Path) -> None:
    result = _grade(tmp_path / "float32", HONEST_FLOAT32)
    assert result.score == result.max_score, [(e.id, e.message) for e in result.exercises]

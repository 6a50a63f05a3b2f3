"""Made-up results of a small class for the tests of what reads results (the result log,
the class outputs): four students of the fixture course's hw1, one written against an
older handout, two whose names differ only in case."""

from __future__ import annotations

from dlgrade.results import CheckResult, ExerciseResult, SubmissionResult


def result(student: str, score: float, status: str = "partial", *, output: str = "",
           notices: tuple[str, ...] = ()) -> SubmissionResult:
    """hw1.cube at ``score`` of 4 (``status``) and hw1.sq passed (2 of 2)."""
    checks = [CheckResult("forward", score, 0.8, 1, 1),
              CheckResult("backward", 0.0, 0.6, 0, 1, "This matches a common mistake: "
                          "the backward drops the factor 3.")]
    return SubmissionResult(student, "h" * 64, [
        ExerciseResult("hw1.cube", "Cube", score, 4.0, status, "backward: wrong", "3 x^2",
                       checks),
        ExerciseResult("hw1.sq", "Square", 2.0, 2.0, "passed", "All checks passed.")],
        output, 0.25, "withheld\n", list(notices))


def a_class() -> list[SubmissionResult]:
    return [result("ann", 0.8), result("bob", 0.0, "failed", output="hi\n"),
            result("cleo", 4.0, "passed", notices=("ops.py was written against handout 1",)),
            result("Ann", 0.4)]

"""Benchmark: where grading time goes, student by student (run on purpose, prints figures).

Two views, both in this process with the real sandbox (one student at a time):

1. ``--exercises``: the bundled course's reference solution graded on every exercise of
   ``--assignments`` (hidden cases on), repeated ``--repeat`` times after one warm-up run:
   the median seconds of each assignment and of the slowest exercises. A correct student's
   time is mostly their own code in the child (training runs, statistical draws), which
   only the course's cases decide.
2. ``--class``: a class like bench_grading.py's (``--students``, A1+A2 by default): per
   student, the grading process's CPU, the round trips to the child and what they carry
   (steps, arrays each way), and the seconds spent starting children, in round trips
   (the child's work included) and cleaning up.

Usage: ``python bench/bench_breakdown.py --exercises --assignments all`` and
``python bench/bench_breakdown.py --class --students 20``.
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _open_course() -> None:
    from dlgrade.api import open_course
    from dlgrade.courses import course

    course.use(open_course(ROOT))


def exercises(selector: str, repeat: int, top: int) -> None:
    """Median seconds per assignment and per exercise of the reference solution."""
    from dlgrade.courses import registry
    from dlgrade.grading import grader
    from dlgrade.load.submission import Submission

    times: dict[str, list[float]] = collections.defaultdict(list)
    original = grader.Grader._grade_exercise

    def timed(self: Any, exercise: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(self, exercise)
        finally:
            times[exercise.id].append(time.perf_counter() - started)

    grader.Grader._grade_exercise = timed  # type: ignore[method-assign]
    chosen = registry.resolve(selector)
    reference = Submission("reference", ROOT / "reference")
    grader.grade_submission(reference, chosen, hidden=True)  # reference outputs, zygote
    times.clear()
    totals = []
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        result = grader.grade_submission(reference, chosen, hidden=True)
        totals.append(time.perf_counter() - started)
        lost = [e.id for e in result.exercises if e.score != e.max_score]
        if lost:
            raise SystemExit(f"the reference lost points on {', '.join(lost)}")
    grader.Grader._grade_exercise = original  # type: ignore[method-assign]
    median = {k: statistics.median(v) for k, v in times.items()}
    per_assignment: dict[str, float] = collections.defaultdict(float)
    for exercise_id, seconds in median.items():
        per_assignment[exercise_id.split(".")[0]] += seconds
    print(f"the reference on {selector}: {statistics.median(totals):.3f} s per run "
          f"(median of {len(totals)})")
    print("per assignment: " + "  ".join(f"{a} {s:.3f}" for a, s in per_assignment.items()))
    print(f"slowest {top} exercises (s):")
    for exercise_id, seconds in sorted(median.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {seconds:7.3f}  {exercise_id}")


def class_costs(selector: str, students: int) -> None:
    """Per student: the grading side's CPU and the child's round trips."""
    from bench_grading import build_class
    from dlgrade.courses import registry
    from dlgrade.grading.grader import grade_submission
    from dlgrade.load.submission import Submission
    from dlgrade.sandbox import runner

    made = build_class(Path(tempfile.mkdtemp(prefix="dlgrade-breakdown-")), students, selector)
    chosen = registry.resolve(selector)
    counts: collections.Counter[str] = collections.Counter()
    seconds: collections.Counter[str] = collections.Counter()
    session = runner.Session
    exchange, start, cleanup = session._exchange, session.__init__, session.cleanup

    def timed_exchange(self: Any, header: dict, arrays: list, timeout: float,
                       max_bytes: int | None = None) -> Any:
        began = time.perf_counter()
        reply = exchange(self, header, arrays, timeout, max_bytes)
        seconds["round trips"] += time.perf_counter() - began
        counts["round trips"] += 1
        counts["steps"] += len(header.get("steps", [None]))
        counts["arrays sent"] += len(arrays)
        counts["arrays back"] += len(reply[1])
        return reply

    def timed_start(self: Any, *args: Any, **kwargs: Any) -> None:
        began = time.perf_counter()
        start(self, *args, **kwargs)
        seconds["child start"] += time.perf_counter() - began
        counts["children"] += 1

    def timed_cleanup(self: Any) -> str:
        began = time.perf_counter()
        try:
            return cleanup(self)
        finally:
            seconds["cleanup"] += time.perf_counter() - began

    session._exchange, session.__init__, session.cleanup = (  # type: ignore[method-assign]
        timed_exchange, timed_start, timed_cleanup)
    try:
        grade_submission(Submission(*made[0]), chosen, hidden=True)  # warm-up
        counts.clear()
        seconds.clear()
        wall, cpu = time.perf_counter(), time.process_time()
        for name, path in made:
            grade_submission(Submission(name, path), chosen, hidden=True)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        session._exchange, session.__init__, session.cleanup = (  # type: ignore[method-assign]
            exchange, start, cleanup)
    n = len(made)
    print(f"{n} students of {selector}, one at a time: {1000 * wall / n:.1f} ms wall, "
          f"{1000 * cpu / n:.1f} ms of the grading process's CPU per student")
    print("per student: " + ", ".join(f"{k} {v / n:.1f}" for k, v in counts.items()))
    print("ms per student: " + ", ".join(f"{k} {1000 * v / n:.1f}" for k, v in seconds.items())
          + " (round trips include the child's work)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exercises", action="store_true",
                        help="seconds per exercise of the reference solution")
    parser.add_argument("--class", dest="klass", action="store_true",
                        help="per-student costs of a class")
    parser.add_argument("--assignments", default=None,
                        help="selector (default: all for --exercises, a1,a2 for --class)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    if not (args.exercises or args.klass):
        parser.error("say --exercises, --class or both")
    _open_course()
    if args.exercises:
        exercises(args.assignments or "all", args.repeat, args.top)
    if args.klass:
        class_costs(args.assignments or "a1,a2", args.students)
    return 0


if __name__ == "__main__":
    sys.exit(main())

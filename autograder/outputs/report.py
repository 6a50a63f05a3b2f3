"""Plain-text tables for the terminal: one student's feedback, and a class overview."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

from dlgrade.results import STATUS_TEXT, ExerciseResult, SubmissionResult
from dlgrade.spec.exercise import Assignment

if TYPE_CHECKING:
    from dlgrade.load.submission import Skipped

MARK = {"passed": "ok", "partial": "~~", "failed": "XX"}


def _points(score: float, max_score: float) -> str:
    return f"{score:5.2f} / {max_score:g}"


def student_report(result: SubmissionResult, *, details: bool = True, width: int = 100) -> str:
    """Per-exercise table, then what went wrong and a hint for each exercise not passed."""
    rows = [(e.id, _points(e.score, e.max_score), STATUS_TEXT.get(e.status, e.status))
            for e in result.exercises]
    lines = [_table(("exercise", "score", "status"), rows)]
    lines.append(f"\nTotal: {result.score:.2f} / {result.max_score:g}")
    if details:
        for e in result.exercises:
            if e.status != "passed":
                lines.append(_details(e, width))
    if result.output.strip():
        shown = result.output.strip()[:800]
        lines.append("\nYour code printed:\n" + textwrap.indent(shown, "  | "))
    return "\n".join(lines)


def _details(e: ExerciseResult, width: int) -> str:
    body = [f"\n{e.id} ({e.title}): {STATUS_TEXT.get(e.status, e.status)}"]
    for paragraph in e.message.splitlines():
        body.append(textwrap.fill(paragraph, width, initial_indent="  ",
                                  subsequent_indent="    "))
    if e.hint:
        body.append(textwrap.fill(f"Hint: {e.hint}", width, initial_indent="  ",
                                  subsequent_indent="    "))
    return "\n".join(body)


def class_report(results: Sequence[SubmissionResult], assignments: Sequence[Assignment], *,
                 skipped: Sequence[Skipped] = ()) -> str:
    """Students by rows, assignment totals by columns, then per-exercise pass rates, then
    the entries of the class folder that were not graded (``skipped``) and why."""
    headers = ("student", *(a.id for a in assignments), "total", "exercises passed")
    rows = []
    for r in results:
        by_id = {e.id: e for e in r.exercises}
        cells = [r.student]
        for a in assignments:
            got = sum(by_id[e.id].score for e in a.exercises if e.id in by_id)
            cells.append(_points(got, a.points))
        passed = sum(1 for e in r.exercises if e.status == "passed")
        cells += [_points(r.score, r.max_score), f"{passed}/{len(r.exercises)}"]
        rows.append(tuple(cells))
    lines = [_table(headers, rows)]
    if results:
        mean = sum(r.score for r in results) / len(results)
        lines.append(f"\n{len(results)} students, mean {mean:.2f} / {results[0].max_score:g}")
        rates = []
        for a in assignments:
            for e in a.exercises:
                passed = sum(1 for r in results for x in r.exercises
                             if x.id == e.id and x.status == "passed")
                rates.append((passed / len(results), e.id, passed))
        hardest = [f"{eid} ({n}/{len(results)})" for rate, eid, n in sorted(rates)[:5]
                   if rate < 1]
        if hardest:
            lines.append("Fewest full marks: " + ", ".join(hardest))
    if skipped:
        lines.append(f"\nLeft out of the table ({len(skipped)}):")
        lines += [f"  {s.name}: {s.reason}" for s in skipped]
    return "\n".join(lines)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()
    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])

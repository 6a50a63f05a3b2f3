"""Plain-text tables for the terminal: one student's feedback, and a class overview."""

from __future__ import annotations

import re
import textwrap
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dlgrade.results import STATUS_TEXT, ExerciseResult, SubmissionResult
from dlgrade.spec.exercise import Assignment

if TYPE_CHECKING:
    from dlgrade.load.submission import Skipped

MARK = {"passed": "ok", "partial": "~~", "failed": "XX"}


def _points(score: float, max_score: float) -> str:
    return f"{score:5.2f} / {max_score:g}"


# ---------------------------------------------------------------- grouping what failed alike

#: Statuses that say a whole file failed (it did not import): always one group per reason.
FILE_STATUSES = ("syntax", "import")
#: Statuses grouped when several exercises share the same reason (a missing or refused file,
#: an import that timed out or crashed).
SHARED_STATUSES = ("missing", "timeout", "crash")
_BUILDS_ON = "This exercise builds on "
_FILE = re.compile(r"[\w.-]+\.(?:py|ipynb)\b")


@dataclass
class Group:
    """Exercises that fail for one reason of their file (it does not import, it is missing,
    it is refused): the reason is said once, then the exercises it costs."""

    status: str
    message: str
    exercises: list[ExerciseResult]

    @property
    def ids(self) -> list[str]:
        return [e.id for e in self.exercises]

    @property
    def points(self) -> float:
        return sum(e.max_score for e in self.exercises)

    @property
    def file(self) -> str:
        """The file the reason names (``activations.py``, ``hw.ipynb``), or ``""``."""
        found = _FILE.search(self.message)
        return found.group(0) if found else ""

    def pointer(self) -> str:
        """What an exercise of the group says instead of the reason: where to read it."""
        status = STATUS_TEXT.get(self.status, self.status)
        if self.status in FILE_STATUSES and self.file:
            what = f"{self.file} could not be imported"
        else:
            what = f"{status}, because of {self.file}" if self.file else status
        return (f"Not graded: {what}. The reason is given once, with the "
                f"{len(self.exercises)} exercises it costs, at the top of the results.")

    def heading(self) -> str:
        """``Could not import: 12 exercises (28 points)``."""
        what = ("Could not import" if self.status in FILE_STATUSES
                else STATUS_TEXT.get(self.status, self.status).capitalize())
        n = len(self.exercises)
        return (f"{what}: {n} exercise{'s' if n != 1 else ''} "
                f"({self.points:g} point{'s' if self.points != 1 else ''})")


def _reason(e: ExerciseResult) -> str:
    """An exercise's message without what is said of the exercises it builds on (a broken
    import breaks those too: it is the same reason)."""
    return "\n".join(line for line in e.message.splitlines()
                     if not line.startswith(_BUILDS_ON)).strip()


def groups(exercises: Sequence[ExerciseResult]) -> tuple[list[Group], list[ExerciseResult]]:
    """The exercises that fail for one file-level reason, grouped by (status, reason) in
    order of appearance, and every other exercise, in order. The results stay per exercise;
    this is how the outputs say a reason once."""
    found: dict[tuple[str, str], Group] = {}
    for e in exercises:
        if e.status in FILE_STATUSES or e.status in SHARED_STATUSES:
            key = (e.status, _reason(e))
            found.setdefault(key, Group(e.status, key[1], [])).exercises.append(e)
    kept = [g for g in found.values()
            if g.status in FILE_STATUSES or len(g.exercises) > 1]
    grouped = {id(e) for g in kept for e in g.exercises}
    return kept, [e for e in exercises if id(e) not in grouped]


# ---------------------------------------------------------------- one student


#: Said to students instead of what their code printed once hidden inputs reached it.
WITHHELD = ("What your code printed from the first hidden case on is not shown (it may "
            "hold the hidden inputs).")


def student_report(result: SubmissionResult, *, details: bool = True, width: int = 100,
                   quiet: bool = False) -> str:
    """One student's feedback, most useful first: the total; each file that failed as a
    whole, said once with the exercises it costs; the exercises attempted but not right,
    with what is wrong and a hint; what the code printed (its warnings); then the passed
    exercises and those not attempted yet, one line each.

    ``quiet``: one line per exercise (score and status) and the total; ``details=False``:
    the table and the total only."""
    exercises = result.exercises
    total = f"Total: {result.score:.2f} / {result.max_score:g}"
    if quiet or not details:
        rows = [(e.id, _points(e.score, e.max_score), STATUS_TEXT.get(e.status, e.status))
                for e in exercises]
        table = _table(("exercise", "score", "status"), rows) if rows else "(no exercises)"
        return "".join(f"Note: {n}\n\n" for n in result.notices) + f"{table}\n\n{total}"
    shared, rest = groups(exercises)
    passed = [e for e in rest if e.status == "passed"]
    untried = [e for e in rest if e.status == "not_attempted"]
    wrong = [e for e in rest if e.status not in ("passed", "not_attempted")]
    counts = [f"{len(passed)} passed"]
    if wrong or shared:
        counts.append(f"{len(wrong) + sum(len(g.exercises) for g in shared)} to fix")
    if untried:
        counts.append(f"{len(untried)} not attempted")
    lines = [f"Note: {textwrap.fill(n, width, subsequent_indent='  ')}\n" for n in result.notices]
    lines.append(f"{total} ({', '.join(counts)})")
    for group in shared:
        lines.append(_group_text(group, width))
    for e in wrong:
        lines.append(_details(e, width))
    if result.output.strip():
        shown = shorten(result.output, 800)
        lines.append("\nYour code printed:\n" + textwrap.indent(shown, "  | "))
    if result.withheld_output.strip():  # only a grading run has any: an instructor's view
        shown = shorten(result.withheld_output, 800)
        lines.append("\nPrinted once hidden cases had run (withheld from the student):\n"
                     + textwrap.indent(shown, "  | "))
    if passed or untried:
        lines.append("")
    if passed:
        lines.append(_id_line(f"Passed ({len(passed)})", passed, width))
    if untried:
        lines.append(_id_line(f"Not attempted yet ({len(untried)})", untried, width))
    return "\n".join(lines)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most about ``limit`` characters at a line's end (or, for one
    long line, a word's), never mid-word, saying how much was left out."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit)
    if cut < limit // 2:
        cut = text.rfind(" ", 0, limit)
    cut = cut if cut > 0 else limit
    left = len(text) - cut
    return f"{text[:cut].rstrip()}\n... ({left} more characters not shown)"


def _id_line(label: str, exercises: Sequence[ExerciseResult], width: int) -> str:
    return textwrap.fill(f"{label}: " + ", ".join(e.id for e in exercises), width,
                         subsequent_indent="    ")


def _group_text(group: Group, width: int) -> str:
    body = [f"\n{group.heading()}"]
    for paragraph in group.message.splitlines():
        body.append(textwrap.fill(paragraph, width, initial_indent="  ",
                                  subsequent_indent="    "))
    body.append(textwrap.fill("Costs: " + ", ".join(group.ids), width, initial_indent="  ",
                              subsequent_indent="    "))
    return "\n".join(body)


def _details(e: ExerciseResult, width: int) -> str:
    body = [f"\n{e.id} ({e.title}): {STATUS_TEXT.get(e.status, e.status)}, "
            f"{e.score:.2f} / {e.max_score:g}"]
    for paragraph in e.message.splitlines():
        body.append(textwrap.fill(paragraph, width, initial_indent="  ",
                                  subsequent_indent="    "))
    if e.hint:
        body.append(textwrap.fill(f"Hint: {e.hint}", width, initial_indent="  ",
                                  subsequent_indent="    "))
    return "\n".join(body)


def class_report(results: Iterable[SubmissionResult], assignments: Sequence[Assignment], *,
                 skipped: Sequence[Skipped] = ()) -> str:
    """Students by rows, assignment totals by columns, then per-exercise pass rates, then
    the entries of the class folder that were not graded (``skipped``) and why. One walk
    over ``results`` (a class's may be read back from disk one student at a time)."""
    headers = ("student", *(a.id for a in assignments), "total", "exercises passed")
    rows, old = [], []
    passed_by_id: Counter[str] = Counter()
    total = maximum = 0.0
    for r in results:
        by_id = {e.id: e for e in r.exercises}
        cells = [r.student]
        for a in assignments:
            got = sum(by_id[e.id].score for e in a.exercises if e.id in by_id)
            cells.append(_points(got, a.points))
        passed = [e.id for e in r.exercises if e.status == "passed"]
        passed_by_id.update(passed)
        cells += [_points(r.score, r.max_score), f"{len(passed)}/{len(r.exercises)}"]
        maximum = maximum if rows else r.max_score  # the first student's, as printed
        rows.append(tuple(cells))
        total += r.score
        if r.notices:
            old.append(f"  {r.student}: " + ", ".join(n.split(" ", 1)[0] for n in r.notices))
    lines = [_table(headers, rows)]
    n = len(rows)
    if n:
        lines.append(f"\n{n} students, mean {total / n:.2f} / {maximum:g}")
        rates = [(passed_by_id[e.id] / n, e.id, passed_by_id[e.id])
                 for a in assignments for e in a.exercises]
        hardest = [f"{eid} ({k}/{n})" for rate, eid, k in sorted(rates)[:5] if rate < 1]
        if hardest:
            lines.append("Fewest full marks: " + ", ".join(hardest))
    if old:
        lines.append(f"\nWritten against an older handout ({len(old)}; --details says what "
                     "changed):")
        lines += old
    if skipped:
        lines.append(f"\nLeft out of the table ({len(skipped)}):")
        lines += [f"  {s.name}: {s.reason}" for s in skipped]
    return "\n".join(lines)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()
    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])

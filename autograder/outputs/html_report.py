"""HTML reports: a page per student and a class overview with plots.

``write_reports(results, assignments, out_dir)`` writes ``out_dir/index.html`` (the class:
score distribution, pass rate per exercise, the most common mistakes, a table of students)
and ``out_dir/students/<student>.html`` (per exercise and check: score, what went wrong and
a hint). Pages are self-contained (inline CSS, plots as inline SVG, no scripts, nothing
fetched), so they can be mailed, archived or served as they are. Everything a student
wrote or a message quotes is escaped. The feedback is the grader's, which never shows a
hidden case's expected values.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dlgrade.outputs import atomic
from dlgrade.outputs.report import WITHHELD, Group, groups, shorten
from dlgrade.results import STATUS_TEXT, ExerciseResult, SubmissionResult
from dlgrade.spec.exercise import Assignment

if TYPE_CHECKING:
    from dlgrade.load.submission import Skipped
    from dlgrade.policy.deadlines import LateResult

Late = Mapping[str, Mapping[str, "LateResult"]]  # student -> assignment id -> late result

_STYLE = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1100px;
color:#1d2330;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:2em}
.sub{color:#5b6475;margin-top:0}
table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{text-align:left;padding:.35em .6em;border-bottom:1px solid #e3e6ec;vertical-align:top}
th{background:#f4f6f9;font-weight:600}th.num{text-align:right}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.passed{color:#17803d}.partial{color:#a15c00}.bad{color:#b3261e}
.pill{display:inline-block;padding:0 .5em;border-radius:1em;font-size:.85em;font-weight:600}
.pill.passed{background:#e3f4e8}.pill.partial{background:#fdf0dc}.pill.bad{background:#fbe4e2}
.ex{border:1px solid #e3e6ec;border-radius:8px;padding:.6em 1em;margin:.8em 0}
.ex h3{margin:.2em 0 .4em;font-size:1.05em}
.msg{white-space:pre-wrap;font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,monospace;
background:#f7f8fa;border-radius:6px;padding:.6em .8em;margin:.4em 0;overflow-x:auto}
.hint{background:#eef4ff;border-left:3px solid #3b6fd8;padding:.4em .8em;margin:.4em 0}
.bar{display:inline-block;height:.7em;background:#dfe3ea;border-radius:.35em;width:8em;
vertical-align:middle;overflow:hidden}.bar>span{display:block;height:100%;background:#3b8f5a}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:1.5em}
svg text{font:12px system-ui,sans-serif;fill:#1d2330}
a{color:#2f5fc4}
"""


def write_reports(results: Iterable[SubmissionResult], assignments: Sequence[Assignment],
                  out_dir: Path, *, late: Late | None = None,
                  skipped: Sequence[Skipped] = ()) -> Path:
    """Write the class overview and one page per student; returns the overview's path.
    ``late`` (from :func:`dlgrade.policy.deadlines.apply_class`) adds submission times and late
    penalties to both; ``skipped`` (entries of the class folder not graded) are listed on
    the overview. One walk over ``results``: a class's may be read back from disk one
    student at a time."""
    out_dir = Path(out_dir)
    (out_dir / "students").mkdir(parents=True, exist_ok=True)
    late = late or {}
    overview = _Overview(assignments, late)
    for result in results:
        page = overview.add(result)
        _write(out_dir / "students" / page,
               student_page(result, assignments, back="../index.html",
                            late=late.get(result.student)))
    index = out_dir / "index.html"
    _write(index, overview.page(skipped))
    return index


def student_page_names(students: Iterable[str]) -> dict[str, str]:
    """A safe, unique file name per student (names come from folder names)."""
    used: set[str] = set()
    return {student: _page_name(student, used) for student in students}


def _page_name(student: str, used: set[str]) -> str:
    """The next safe file name for ``student`` not in ``used`` (lower-cased; added to it):
    the same, student after student, as :func:`student_page_names` of them all."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", student).strip("._") or "student"
    name, n = f"{stem}.html", 1
    while name.lower() in used:
        n += 1
        name = f"{stem}-{n}.html"
    used.add(name.lower())
    return name


# ---------------------------------------------------------------- one student


def student_page(result: SubmissionResult, assignments: Sequence[Assignment], *,
                 back: str | None = None,
                 late: Mapping[str, LateResult] | None = None) -> str:
    """One student's report: totals per assignment (and when it was handed in, with any late
    penalty, given ``late``: assignment id -> late result), then every exercise and its
    checks."""
    by_id = {e.id: e for e in result.exercises}
    late = late or {}
    penalty = sum(lr.penalty for lr in late.values())
    after = f", {result.score - penalty:.2f} after late penalties" if penalty else ""
    parts = [f"<h1>{_e(result.student)}</h1>",
             f'<p class="sub">{result.score:.2f} / {result.max_score:g} points{after}, '
             f"{sum(e.status == 'passed' for e in result.exercises)} of "
             f"{len(result.exercises)} exercises fully right"
             + (f' · <a href="{_e(back)}">class overview</a>' if back else "") + "</p>"]
    parts += [f'<p class="bad">{_e(n)}</p>' for n in result.notices]
    for a in assignments:
        exercises = [by_id[e.id] for e in a.exercises if e.id in by_id]
        if not exercises:
            continue
        got = sum(e.score for e in exercises)
        parts.append(f"<h2>{_e(a.id)} · {_e(a.title)} — {got:.2f} / {a.points:g}</h2>")
        if a.id in late:
            kind = "bad" if late[a.id].penalty else "passed"
            parts.append(f'<p class="{kind}">Handed in: {_e(late[a.id].describe())}</p>')
        shared, rest = groups(exercises)
        anchors = {e.id: f"{a.id}-file-{k}" for k, g in enumerate(shared, start=1)
                   for e in g.exercises}
        parts.append(_summary_table(exercises, anchors))
        parts += [_group_block(g, f"{a.id}-file-{k}") for k, g in enumerate(shared, start=1)]
        parts += [_exercise_block(e) for e in rest
                  if e.status not in ("passed", "not_attempted")]
        untried = [e.id for e in rest if e.status == "not_attempted"]
        if untried:
            parts.append(f"<p>Not attempted yet ({len(untried)}): "
                         f"{_e(', '.join(untried))}</p>")
    if result.output.strip():
        parts.append("<h2>What your code printed</h2>")
        parts.append(f'<div class="msg">{_e(shorten(result.output, 2000))}</div>')
    if result.withheld_output.strip():  # it may print the hidden inputs: never shown here
        parts.append(f"<p>{_e(WITHHELD)}</p>")
    return _page(f"{result.student}: dlgrade report", "\n".join(parts))


def _summary_table(exercises: Sequence[ExerciseResult],
                   anchors: Mapping[str, str] | None = None) -> str:
    rows = []
    anchors = anchors or {}
    for e in exercises:
        target = anchors.get(e.id, e.id)
        anchor = (f'<a href="#{_e(target)}">{_e(e.id)}</a>'
                  if e.status not in ("passed", "not_attempted") else _e(e.id))
        rows.append(f"<tr><td>{anchor}</td><td>{_e(e.title)}</td>"
                    f'<td class="num">{e.score:.2f} / {e.max_score:g}</td>'
                    f"<td>{_bar(e.score, e.max_score)}</td><td>{_pill(e.status)}</td></tr>")
    return ("<table><tr><th>exercise</th><th>title</th><th class=\"num\">score</th><th></th>"
            "<th>status</th></tr>" + "".join(rows) + "</table>")


def _group_block(group: Group, anchor: str) -> str:
    """One file-level failure (an import error, a missing or refused file), said once, with
    the exercises it costs."""
    return (f'<div class="ex" id="{_e(anchor)}"><h3>{_e(group.heading())} '
            f"{_pill(group.status)}</h3>"
            f'<div class="msg">{_e(group.message)}</div>'
            f"<p>Costs: {_e(', '.join(group.ids))}</p></div>")


def _exercise_block(e: ExerciseResult) -> str:
    checks = "".join(
        f"<tr><td>{_e(c.name)}</td><td class=\"num\">{c.score:.2f} / {c.max_score:g}</td>"
        f"<td class=\"num\">{c.passed} / {c.total} cases</td></tr>" for c in e.checks)
    hint = f'<div class="hint"><b>Hint.</b> {_e(e.hint)}</div>' if e.hint else ""
    return (f'<div class="ex" id="{_e(e.id)}"><h3>{_e(e.id)} · {_e(e.title)} '
            f"{_pill(e.status)}</h3>"
            '<table><tr><th>check</th><th class="num">score</th><th class="num">passed</th>'
            f"</tr>{checks}</table>"
            f'<div class="msg">{_e(e.message)}</div>{hint}</div>')


# ---------------------------------------------------------------- the class


def class_page(results: Iterable[SubmissionResult], assignments: Sequence[Assignment], *,
               late: Late | None = None, skipped: Sequence[Skipped] = ()) -> str:
    """The class overview: plots, the most common mistakes, and every student's totals
    (with ``late``, also each student's late penalty and final total), then what in the
    class folder was not graded (``skipped``). Each student links to the page
    :func:`student_page_names` names."""
    overview = _Overview(assignments, late or {})
    for r in results:
        overview.add(r)
    return overview.page(skipped)


class _Overview:
    """The class overview, gathered student by student (see :func:`class_page`)."""

    def __init__(self, assignments: Sequence[Assignment], late: Late) -> None:
        self.assignments, self.late = assignments, late
        self.used: set[str] = set()  # the page names given so far
        self.scores: list[float] = []
        self.rows: list[str] = []
        self.graded: Counter[str] = Counter()
        self.passed: Counter[str] = Counter()
        self.mistakes: Counter[tuple[str, str]] = Counter()

    def add(self, r: SubmissionResult) -> str:
        """Count one student in; returns the file name of their page."""
        page = _page_name(r.student, self.used)
        self.scores.append(r.score)
        self.graded.update(e.id for e in r.exercises)
        self.passed.update(e.id for e in r.exercises if e.status == "passed")
        self.mistakes.update(_mistakes(r))
        by_id = {e.id: e for e in r.exercises}
        cells = "".join(
            f'<td class="num">{sum(by_id[e.id].score for e in a.exercises if e.id in by_id):.2f}'
            "</td>" for a in self.assignments)
        if self.late:
            penalty = sum(lr.penalty for lr in self.late.get(r.student, {}).values())
            cells += (f'<td class="num">{-penalty:.2f}</td>' if penalty
                      else '<td class="num"></td>')
            final = r.score - penalty
        else:
            final = r.score
        old = ' <span class="bad">(older handout)</span>' if r.notices else ""
        self.rows.append(
            f'<tr><td><a href="students/{_e(page)}">{_e(r.student)}</a>'
            f'{old}</td>{cells}<td class="num"><b>{final:.2f}</b> / {r.max_score:g}</td>'
            f"<td>{_bar(final, r.max_score)}</td></tr>")
        return page

    def page(self, skipped: Sequence[Skipped]) -> str:
        total = sum(a.points for a in self.assignments)
        n = len(self.scores)
        mean = sum(self.scores) / n if n else 0.0
        rates = [(e.id, self.passed[e.id] / self.graded[e.id])
                 for a in self.assignments for e in a.exercises if self.graded[e.id]]
        parts = ["<h1>Class overview</h1>",
                 f'<p class="sub">{n} students · '
                 f'{", ".join(_e(a.id) for a in self.assignments)} · '
                 f"mean {mean:.2f} / {total:g}</p>"]
        parts.append('<div class="grid"><div><h2>Score distribution</h2>'
                     + histogram(self.scores, total) + "</div>"
                     + "<div><h2>Pass rate per exercise</h2>"
                     + pass_rates(rates) + "</div></div>")
        mistakes = _most_common(self.mistakes)
        parts.append("<h2>Most common mistakes</h2>")
        if mistakes:
            parts.append("<table><tr><th>exercise</th><th>mistake</th>"
                         '<th class="num">students</th></tr>'
                         + "".join(f"<tr><td>{_e(ex)}</td><td>{_e(what)}</td>"
                                   f'<td class="num">{count}</td></tr>'
                                   for (ex, what), count in mistakes[:15]) + "</table>")
        else:
            parts.append("<p>None: every exercise was fully right for everyone.</p>")
        parts.append("<h2>Students</h2>")
        header = "".join(f'<th class="num">{_e(a.id)}</th>' for a in self.assignments)
        if self.late:
            header += '<th class="num">late penalty</th>'
        parts.append(f'<table><tr><th>student</th>{header}<th class="num">total</th>'
                     "<th></th></tr>" + "".join(self.rows) + "</table>")
        if skipped:
            parts.append(f"<h2>Not graded ({len(skipped)})</h2><table><tr><th>entry</th>"
                         "<th>why</th></tr>" + "".join(f"<tr><td>{_e(s.name)}</td><td>"
                                                       f"{_e(s.reason)}</td></tr>"
                                                       for s in skipped)
                         + "</table>")
        return _page("dlgrade class overview", "\n".join(parts))


def common_mistakes(results: Iterable[SubmissionResult]) -> list[tuple[tuple[str, str], int]]:
    """``((exercise id, mistake), number of students)``, most frequent first. A mistake is
    the one the feedback names, else the kind of failure (an exception, a timeout...)."""
    counts: Counter[tuple[str, str]] = Counter()
    for r in results:
        counts.update(_mistakes(r))
    return _most_common(counts)


def _mistakes(r: SubmissionResult) -> set[tuple[str, str]]:
    """``(exercise id, mistake)`` of each exercise one student got wrong (a broken file is
    one mistake of its assignment, not one per exercise)."""
    seen: set[tuple[str, str]] = set()
    for e in r.exercises:
        if e.status in ("passed", "not_attempted", "missing"):
            continue  # nothing handed in is not a mistake
        if e.status in ("syntax", "import"):  # one broken file, counted once
            seen.add((f"{e.id.split('.')[0]} (the whole file)", mistake_of(e)))
        else:
            seen.add((e.id, mistake_of(e)))
    return seen


def _most_common(counts: Counter[tuple[str, str]]) -> list[tuple[tuple[str, str], int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


_NAMED = re.compile(r"This matches a common mistake: (.+?)\.(?:\s|$)")
_PATTERNS = (
    (re.compile(r"is transposed"), "a transposed result"),
    (re.compile(r"too (?:large|small).*1/N|missing (?:a |the )?1/N|division by N"),
     "a missing or extra 1/N"),
    (re.compile(r"has the wrong sign|sign is flipped"), "the wrong sign"),
    (re.compile(r"NaN|inf"), "NaN or inf (overflow on large inputs?)"),
    (re.compile(r"wrong only where"), "wrong in one region of the inputs"),
)


def mistake_of(e: ExerciseResult) -> str:
    """A short name for what went wrong in an exercise (for grouping students)."""
    named = _NAMED.search(e.message)
    if named:
        return named.group(1)
    for pattern, label in _PATTERNS:
        if pattern.search(e.message):
            return label
    if e.status in ("partial", "failed"):
        failed = [c.name for c in e.checks if c.score < c.max_score]
        return "wrong " + ", ".join(failed) if failed else STATUS_TEXT.get(e.status, e.status)
    return STATUS_TEXT.get(e.status, e.status)


# ---------------------------------------------------------------- plots (inline SVG)


def histogram(scores: Sequence[float], maximum: float, bins: int = 10) -> str:
    """Students per score band, as an SVG bar chart."""
    counts = [0] * bins
    for s in scores:
        k = min(bins - 1, int(bins * s / maximum)) if maximum > 0 else 0
        counts[max(k, 0)] += 1
    width, height, pad = 420, 200, 28
    step = (width - 2 * pad) / bins
    top = max(counts) or 1
    bars = []
    for k, c in enumerate(counts):
        h = (height - 2 * pad) * c / top
        x, y = pad + k * step, height - pad - h
        low = maximum * k / bins
        bars.append(f'<rect x="{x + 2:.1f}" y="{y:.1f}" width="{step - 4:.1f}" height="{h:.1f}"'
                    f' fill="#3b8f5a"><title>{low:g}-{low + maximum / bins:g}: {c}</title>'
                    "</rect>")
        if c:
            bars.append(f'<text x="{x + step / 2:.1f}" y="{y - 4:.1f}" '
                        f'text-anchor="middle">{c}</text>')
    ticks = "".join(f'<text x="{pad + k * step:.1f}" y="{height - 8}" text-anchor="middle">'
                    f"{maximum * k / bins:g}</text>" for k in range(0, bins + 1, 2))
    return (f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" '
            f'aria-label="score distribution">'
            f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
            f'stroke="#8a93a3"/>{"".join(bars)}{ticks}</svg>')


def pass_rates(rows: Sequence[tuple[str, float]]) -> str:
    """Share of students with full marks, per exercise (``(exercise id, share)``), as
    horizontal SVG bars."""
    line, label, width = 16, 200, 460
    height = line * len(rows) + 10
    bars = []
    for k, (eid, rate) in enumerate(rows):
        y = 5 + k * line
        colour = "#3b8f5a" if rate >= 0.75 else "#d08a1e" if rate >= 0.4 else "#c0392b"
        bars.append(f'<text x="{label - 6}" y="{y + 11}" text-anchor="end">{_e(eid)}</text>'
                    f'<rect x="{label}" y="{y + 2}" width="{(width - label - 40) * rate:.1f}" '
                    f'height="{line - 5}" fill="{colour}"/>'
                    f'<text x="{label + (width - label - 40) * rate + 4:.1f}" y="{y + 11}">'
                    f"{rate:.0%}</text>")
    return (f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" '
            f'aria-label="pass rate per exercise">{"".join(bars)}</svg>')


# ---------------------------------------------------------------- pieces


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _pill(status: str) -> str:
    kind = "passed" if status == "passed" else "partial" if status == "partial" else "bad"
    return f'<span class="pill {kind}">{_e(STATUS_TEXT.get(status, status))}</span>'


def _bar(score: float, maximum: float) -> str:
    share = 0.0 if maximum <= 0 else max(0.0, min(1.0, score / maximum))
    return f'<span class="bar"><span style="width:{share * 100:.0f}%"></span></span>'


def _page(title: str, body: str) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_e(title)}</title><style>{_STYLE}</style></head>"
            f"<body>\n{body}\n<p class=\"sub\">Made by dlgrade.</p></body></html>\n")


def _write(path: Path, text: str) -> None:
    """Write atomically, so a page is never left half-written."""
    atomic.write_text(path, text)

"""The similarity report, for instructors: ``index.html`` ranks the pairs, and a page per
pair shows its evidence: the identical rare wrong answers (exercise, case, the students' own
numbers and their digest: never an expected value) and the two students' code side by side
with the stretches they share highlighted.

Pages are self-contained (inline CSS, no scripts, nothing fetched); everything a student
wrote (names, code) is escaped.
"""

from __future__ import annotations

import html
from pathlib import Path

from dlgrade.grading.similarity import Analysis, Document, Pair
from dlgrade.outputs import atomic

MAX_PAGES = 200  # pair pages written (the index lists every pair)

_STYLE = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1300px;
color:#1d2330;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:2em}h3{font-size:1em}
.sub{color:#5b6475;margin-top:0}
table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{text-align:left;padding:.35em .6em;border-bottom:1px solid #e3e6ec;vertical-align:top}
th{background:#f4f6f9;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.about{background:#eef4ff;border-left:3px solid #3b6fd8;padding:.4em .8em;margin:.8em 0}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:1em}
pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace;background:#f7f8fa;
border-radius:6px;padding:.6em .8em;overflow-x:auto;margin:.3em 0}
mark{background:#ffe08a}.ln{color:#98a0ae;user-select:none}
a{color:#2f5fc4}
"""

ABOUT = (
    "Evidence, not a verdict: read each pair's code and answers before concluding anything. "
    "<b>code</b>: the mean of the two students' shares, each the part of that student's own "
    "code that the other has too, after the course's template code and code that many "
    "students write alike are set aside; names, comments and layout do not count, so "
    "renaming and reformatting do not hide a copy, and reordered functions are found where "
    "they are. Independent students rarely reach 0.3. <b>answers</b>: exercises where the "
    "two give the same wrong numbers on a hidden case, numbers that few students of the "
    "class give (not a known mistake of the course, not a constant or an input handed "
    "back): 0.5 for one exercise that only the two of them got wrong that way, 0.75 for "
    "two, 0.875 for three (less when more students share the numbers). <b>score</b>: both "
    "as independent evidence, 1 - (1 - code) (1 - answers).")


def write_report(analysis: Analysis, out_dir: Path) -> Path:
    """Write ``out_dir/index.html`` and a page per pair (``pairs/0001.html``, the first
    :data:`MAX_PAGES`); returns the index's path."""
    out_dir = Path(out_dir)
    pages = {}
    for rank, pair in enumerate(analysis.pairs[:MAX_PAGES], 1):
        name = f"pairs/{rank:04d}.html"
        pages[rank] = name
        atomic.write_text(out_dir / name, pair_page(pair, rank, analysis))
    index = out_dir / "index.html"
    atomic.write_text(index, index_page(analysis, pages))
    return index


def index_page(analysis: Analysis, pages: dict[int, str]) -> str:
    n = analysis.students
    rows = []
    for rank, pair in enumerate(analysis.pairs, 1):
        who = f"{_e(pair.a)} &amp; {_e(pair.b)}"
        link = f'<a href="{pages[rank]}">{who}</a>' if rank in pages else who
        wrong = ", ".join(_e(w.exercise) for w in pair.wrong) or "-"
        rows.append(f"<tr><td class=num>{rank}</td><td>{link}</td>"
                    f"<td class=num><b>{pair.score:.2f}</b></td><td class=num>{pair.code:.2f} "
                    f"({pair.a_share:.0%} / {pair.b_share:.0%})</td>"
                    f"<td class=num>{pair.answers:.2f}</td><td class=num>{len(pair.regions)}</td>"
                    f"<td>{wrong}</td></tr>")
    table = ("<table><tr><th>#</th><th>pair</th><th>score</th><th>code (shares)</th>"
             "<th>answers</th><th>regions</th><th>identical wrong answers in</th></tr>"
             + "".join(rows) + "</table>") if rows else "<p>No pair shows evidence.</p>"
    answers = ("the hidden-answers pass ran" if analysis.answers_read
               else "no hidden answers were compared (code only)")
    settings = (f"{analysis.pairs_scored} of {n * (n - 1) // 2} pairs scored (those sharing "
                f"at least {analysis.settings.min_shared} fingerprints); fingerprints held by "
                f"more than {analysis.max_holders} students and those of the template "
                f"({_e(', '.join(analysis.template_files) or 'none found')}) set aside; a "
                f"wrong answer is rare when at most {analysis.rare} students give it; "
                f"{answers}.")
    notes = [f"<li>{_e(d.student)}: {_e(note)}</li>" for d in analysis.documents.values()
             for note in d.notes]
    left_out = f"<h2>Files left out</h2><ul>{''.join(notes)}</ul>" if notes else ""
    body = (f"<h1>Similarity</h1><p class=sub>{n} students, {len(analysis.pairs)} pairs with "
            f"evidence, most suspicious first</p><div class=about>{ABOUT}</div>{table}"
            f"<p class=sub>{settings}</p>{left_out}")
    return _page("Similarity", body)


def pair_page(pair: Pair, rank: int, analysis: Analysis) -> str:
    parts = [f'<p><a href="../index.html">All pairs</a></p><h1>#{rank}: {_e(pair.a)} &amp; '
             f"{_e(pair.b)}</h1><p class=sub>score {pair.score:.2f}: code {pair.code:.2f} "
             f"({pair.a_share:.0%} of {_e(pair.a)}'s own code, {pair.b_share:.0%} of "
             f"{_e(pair.b)}'s), answers {pair.answers:.2f}</p><div class=about>{ABOUT}</div>"]
    if pair.wrong:
        rows = "".join(
            f"<tr><td>{_e(w.exercise)}</td><td>{_e(c['case'])}</td><td>{_e(c['value'])}</td>"
            f"<td><code>{_e(c['preview'])}</code></td><td><code>{_e(c['digest'])}</code></td>"
            f"<td class=num>{w.holders}</td></tr>"
            for w in pair.wrong for c in w.cases)
        parts.append("<h2>Identical wrong answers on hidden cases</h2><p>Both give exactly "
                     "these numbers (the students' own: the expected values are not shown).</p>"
                     "<table><tr><th>exercise</th><th>case</th><th>output</th><th>their "
                     "numbers</th><th>digest</th><th>students with them</th></tr>"
                     f"{rows}</table>")
    if pair.regions:
        rows = "".join(f"<tr><td>{_e(r.a_file)} lines {r.a_lines[0]}-{r.a_lines[1]}</td>"
                       f"<td>{_e(r.b_file)} lines {r.b_lines[0]}-{r.b_lines[1]}</td>"
                       f"<td class=num>{r.size}</td></tr>" for r in pair.regions)
        parts.append(f"<h2>Matching regions</h2><table><tr><th>{_e(pair.a)}</th>"
                     f"<th>{_e(pair.b)}</th><th>size (normalised characters)</th></tr>"
                     f"{rows}</table>")
        columns = [_code_column(analysis.documents[s], pair) for s in (pair.a, pair.b)]
        parts.append(f"<h2>Side by side</h2><div class=grid>{''.join(columns)}</div>")
    return _page(f"{pair.a} & {pair.b}", "".join(parts))


def _code_column(doc: Document, pair: Pair) -> str:
    blocks = [f"<div><h3>{_e(doc.student)}</h3>"]
    for f in doc.files:
        marks = pair.highlights.get((doc.student, f.name))
        if not marks:
            blocks.append(f"<p class=sub>{_e(f.name)}: nothing shared</p>")
            continue
        blocks.append(f"<p><b>{_e(f.name)}</b></p><pre>{_highlighted(f.code, marks)}</pre>")
    return "".join(blocks) + "</div>"


def _highlighted(code: str, marks: list[tuple[int, int]]) -> str:
    """The code escaped, with line numbers and each shared stretch in <mark>."""
    out, at = [], 0
    for start, end in sorted(marks):
        start, end = max(start, at), max(end, at)
        out.append(_e(code[at:start]))
        if end > start:
            out.append("<mark>" + _e(code[start:end]).replace("\n", "</mark>\n<mark>")
                       + "</mark>")
        at = end
    out.append(_e(code[at:]))
    lines = "".join(out).split("\n")
    return "\n".join(f"<span class=ln>{n:4d} </span>{line}" for n, line in enumerate(lines, 1))


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _page(title: str, body: str) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_e(title)}</title><style>{_STYLE}</style></head>"
            f"<body>\n{body}\n<p class=\"sub\">Made by dlgrade similarity.</p></body></html>\n")

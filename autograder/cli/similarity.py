"""``dlgrade similarity``: collusion evidence for a class (and ``grade --similarity``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import click
from dlgrade.cli.errors import Failure, with_course
from dlgrade.courses import registry
from dlgrade.courses.course import active
from dlgrade.grading import similarity as analysis
from dlgrade.load.submission import Submission, survey
from dlgrade.outputs import atomic
from dlgrade.spec.exercise import Assignment


def require() -> None:
    """Fail in one line, saying how to install it, unless copydetect is there."""
    try:
        analysis.require()
    except analysis.SimilarityMissing as missing:
        raise Failure(str(missing)) from None


def run(students: Sequence[Submission], chosen: Sequence[Assignment], *,
        html_dir: Path | None, json_out: Path | None, answers: bool = True,
        workers: int | None = None, settings: analysis.Settings | None = None,
        boilerplate: Sequence[Path] = (), top: int = 20) -> analysis.Analysis:
    """Analyse, print the top pairs, write the JSON and the HTML report."""
    require()
    found = None
    if answers and active().kit is not None:
        click.echo("warning: a student kit has no hidden cases: code similarity only", err=True)
        answers = False
    if answers:
        from dlgrade.grading.answers import class_answers
        from dlgrade.grading.classroom import default_workers

        with click.progressbar(length=len(students), file=sys.stderr,
                               label=f"Hidden answers of {len(students)} students") as bar:
            found = class_answers(students, chosen, workers=workers or default_workers(),
                                  on_student=lambda _: bar.update(1))
    result = analysis.analyse(students, chosen, settings=settings, answers=found,
                              boilerplate=boilerplate,
                              on_stage=lambda text: click.echo(f"similarity: {text}", err=True))
    n = result.students
    click.echo(f"{len(result.pairs)} pairs with evidence among {n} students "
               f"({result.pairs_scored} of {n * (n - 1) // 2} pairs scored, "
               f"{result.seconds['total']:.1f} s)")
    for rank, pair in enumerate(result.pairs[:top], 1):
        wrong = (f"; identical wrong answers in {', '.join(w.exercise for w in pair.wrong)}"
                 if pair.wrong else "")
        click.echo(f"{rank:3d}. {pair.a} & {pair.b}: score {pair.score:.2f} (code "
                   f"{pair.code:.2f}, answers {pair.answers:.2f}){wrong}")
    if len(result.pairs) > top:
        click.echo(f"     ... {len(result.pairs) - top} more")
    if json_out is not None:
        atomic.write_text(json_out, json.dumps(result.to_json(), indent=2))
        click.echo(f"Pairs written to {json_out}")
    if html_dir is not None:
        from dlgrade.outputs.similarity_report import write_report

        click.echo(f"Similarity report: {write_report(result, html_dir)}")
    return result


@click.command()
@click.argument("assignment")
@click.argument("submissions", type=click.Path(path_type=Path))
@click.option("--html", "html_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write the report here: index.html (the pairs, ranked) and a page per "
                   "pair (their code side by side, their identical wrong answers).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the pairs as JSON, most suspicious first.")
@click.option("--answers/--no-answers", default=True, show_default=True,
              help="Also compare the students' wrong answers on the hidden cases (runs each "
                   "student's code in a sandboxed child, as grading does).")
@click.option("--template", "boilerplate", multiple=True,
              type=click.Path(exists=True, path_type=Path),
              help="More code every student was given (a file or folder, e.g. lecture code); "
                   "the course's templates are always set aside. Repeatable.")
@click.option("--max-holders", type=click.IntRange(min=2),
              help="Ignore code that more than this many students share (default: 10, or a "
                   "fifth of a small class).")
@click.option("--rare", type=click.IntRange(min=2),
              help="A wrong answer counts when at most this many students give it (default: "
                   "2%% of the class, at least 2).")
@click.option("--min-code", type=click.FloatRange(0, 1), default=analysis.MIN_CODE,
              show_default=True, help="List a pair on its code alone from this code score.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Students run side by side for the hidden answers (default: cores + 1).")
@click.option("--top", type=click.IntRange(min=0), default=20, show_default=True,
              help="Pairs printed here (the JSON and HTML have them all).")
@with_course
def similarity(assignment: str, submissions: Path, html_dir: Path | None,
               json_out: Path | None, answers: bool, boilerplate: tuple[Path, ...],
               max_holders: int | None, rare: int | None, min_code: float,
               workers: int | None, top: int) -> None:
    """Look for copying in a class: code similarity between every pair of students (the
    course's template code set aside; renaming and reformatting do not hide a copy) and
    identical rare wrong answers on the hidden cases.

    ASSIGNMENT is a1, a1,a2 or all; SUBMISSIONS holds one folder (or .py file or notebook)
    per student, as for `dlgrade grade`. Evidence, not a verdict: read the pairs' pages.
    Needs copydetect (pip install 'dlgrade[similarity]').
    """
    chosen = registry.resolve(assignment)
    found = survey(submissions, [a.id for a in chosen])
    for entry in found.skipped:
        click.echo(f"warning: {entry.name}: {entry.reason}", err=True)
    settings = analysis.Settings(max_holders=max_holders, rare=rare, min_code=min_code)
    run(found.submissions, chosen, html_dir=html_dir, json_out=json_out, answers=answers,
        workers=workers, settings=settings, boilerplate=boilerplate, top=top)


COMMANDS = (similarity,)

"""Grading commands: check (a student, public cases), grade (a class), doctor."""

from __future__ import annotations

import ast
import fnmatch
import sys
from pathlib import Path
from typing import Any

import click
from dlgrade.cli.errors import Failure, friendly, with_course
from dlgrade.cli.options import (
    _track,
    deadline_options,
    deadlines_from_options,
    extensions_from_options,
    track_options,
)
from dlgrade.courses import registry
from dlgrade.grading.grader import grade_submission
from dlgrade.load.submission import from_path, survey
from dlgrade.outputs import report
from dlgrade.outputs.exports import export_results, write_scores_json
from dlgrade.policy.deadlines import apply_class, times_from_option, unused_extensions
from dlgrade.sandbox.parsing import parse
from dlgrade.spec.exercise import Assignment
from dlgrade.store.gradebook import Gradebook


def _infer_assignments(path: Path, selector: str | None) -> list[Assignment]:
    if selector:
        return registry.resolve(selector)
    every = list(registry.assignments().values())
    if path.is_file():
        # A notebook from `dlgrade nbgrader-source` is named after its assignment; else the
        # assignments whose functions the file defines (so an A1 file is not told that all
        # of A2-A5 is missing); a file that does not parse gets every one, each saying so.
        named = [a for a in every if a.id == path.stem]
        defined = _defined_names(path)
        return named or [a for a in every if any(f in defined for e in a.exercises
                                                 for f in e.functions)] or every
    present = [a for a in every
               if any((path / f"{m}{ext}").is_file() for m in a.modules
                      for ext in (".py", ".ipynb"))]
    if not present:
        names = ", ".join(f"{m}.py" for a in every for m in a.modules)
        raise Failure(f"found none of {names} (or their .ipynb) in {path}; pass --assignment "
                      "or a file")
    return present


def _defined_names(path: Path) -> set[str]:
    """The top-level functions and classes a single-file submission defines: its code is
    parsed, never run. Empty when it does not parse."""
    names: set[str] = set()
    for code in from_path(path).files().values():
        try:
            tree = parse(code)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return set()
        names |= {node.name for node in tree.body if isinstance(
            node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}
    return names


def _chosen_exercises(patterns: tuple[str, ...], path: Path, assignment: str | None
                      ) -> tuple[list[Assignment], set[str] | None]:
    """The assignments to check and the exercise ids ``--exercise`` picks (None: all).
    Patterns are ids or globs (``a1.*``); one that matches nothing is an error."""
    if not patterns:
        return _infer_assignments(path, assignment), None
    pool = (registry.resolve(assignment) if assignment
            else list(registry.assignments().values()))
    ids = [e.id for a in pool for e in a.exercises]
    picked: set[str] = set()
    for pattern in patterns:
        matched = fnmatch.filter(ids, pattern)
        if not matched:
            raise click.UsageError(f"--exercise {pattern}: no such exercise (try "
                                   f"`dlgrade list`; globs such as a1.* work)")
        picked.update(matched)
    return [a for a in pool if any(e.id in picked for e in a.exercises)], picked


@click.command()
@click.argument("path", required=False, default=".", type=click.Path(path_type=Path))
@click.option("--assignment", "-a", help="Assignment(s) to check: a1, a1,a2 or all "
              "(default: those whose files are in PATH).")
@click.option("--exercise", "-e", "exercises", multiple=True, metavar="ID",
              help="Check only this exercise (a1.relu, or a glob: 'a1.*'); repeatable.")
@click.option("--quiet", "-q", is_flag=True,
              help="One line per exercise (score and status) and the total.")
@track_options
@with_course
def check(path: Path, assignment: str | None, exercises: tuple[str, ...], quiet: bool,
          track: str, device: str) -> None:
    """Check your work on the public cases (PATH: your folder, .py file or notebook)."""
    submission = from_path(path)
    chosen, only = _chosen_exercises(exercises, path, assignment)
    config = _track(track, device, chosen)
    on = f", {track} track on {device}" if config else ""
    what = ", ".join(sorted(only)) if only is not None else ", ".join(a.id for a in chosen)
    click.echo(f"Checking {path} on {what} (public cases{on})...", err=True)
    result = grade_submission(submission, chosen, hidden=False, track=config, only=only)
    click.echo(report.student_report(result, quiet=quiet))
    if any(e.status != "passed" for e in result.exercises):
        sys.exit(1)


@click.command()
@click.argument("assignment")
@click.argument("submissions", type=click.Path(path_type=Path))
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the scores as JSON to this file.")
@click.option("--gradebook", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("gradebook.sqlite"), show_default=True,
              help="SQLite gradebook to record the results in.")
@click.option("--no-gradebook", is_flag=True, help="Do not write a gradebook.")
@click.option("--details/--no-details", default=False,
              help="Print every student's feedback after the class table.")
@click.option("--html", "html_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Also write HTML reports here: index.html (the class, with plots) and a "
                   "page per student.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Students graded side by side (default: CPU cores + 1).")
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local",
              show_default=True, help="Where to grade: this machine, or a Dask cluster.")
@click.option("--scheduler", help="Address of the Dask scheduler (with --executor dask).")
@click.option("--force", is_flag=True,
              help="Regrade students whose files have not changed since the last run.")
@click.option("--dry-run", "dry_run", is_flag=True,
              help="Grade, then list every student whose stored grades would change (by how "
                   "much, on which exercise) without writing anything.")
@click.option("--csv", "csv_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a CSV: a row per student, a column per exercise, the total.")
@click.option("--canvas", "canvas_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write Canvas's gradebook import CSV (a column per assignment).")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Canvas's gradebook export, for Canvas's student ids (with --canvas).")
@click.option("--nbgrader-db", "nbgrader_db",
              help="Also write the scores into this nbgrader gradebook (COURSE_DIR/gradebook.db "
                   "or an SQLAlchemy URL), one grade per exercise; needs nbgrader.")
@click.option("--similarity", "similarity_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Also look for copying, as `dlgrade similarity` does: its report (index.html) "
                   "and similarity.json go in this folder; needs copydetect.")
@click.option("--hidden-feedback", "hidden_feedback",
              type=click.Choice(["none", "mistake", "full"]), default=None,
              help="What a failed hidden case says: nothing but where, the known mistake's "
                   "name, or everything (default: the course's [feedback] hidden, else full).")
@deadline_options
@track_options
@with_course
def grade(assignment: str, submissions: Path, json_out: Path | None, gradebook: Path,
          no_gradebook: bool, details: bool, html_dir: Path | None, workers: int | None,
          executor: str, scheduler: str | None, force: bool, dry_run: bool,
          csv_out: Path | None,
          canvas_out: Path | None, roster: Path | None, nbgrader_db: str | None,
          due: tuple[str, ...],
          late_penalty: float, grace: str, zero_after: int | None,
          submitted_at: Path | None, extensions: Path | None, track: str, device: str,
          similarity_dir: Path | None = None, hidden_feedback: str | None = None) -> None:
    """Grade a class: SUBMISSIONS holds one folder (or .py file or notebook) per student,
    or is nbgrader's submitted/ folder (STUDENT/ASSIGNMENT/*.ipynb).

    ASSIGNMENT is a1, a2, a1,a2 or all. Public and hidden cases are graded. Each student is
    recorded in the gradebook as soon as they are graded; a re-run skips students whose
    files are unchanged, so an interrupted run loses nothing.
    """
    from dlgrade.grading.classroom import DaskExecutor, LocalExecutor, default_workers, grade_class

    if dry_run:
        _refuse_outputs_in_dry_run(no_gradebook=no_gradebook, json=json_out, csv=csv_out,
                                   canvas=canvas_out, html=html_dir, nbgrader_db=nbgrader_db,
                                   similarity=similarity_dir)
    if similarity_dir is not None:
        from dlgrade.cli.similarity import require

        require()  # before grading: say so now if copydetect is missing
    chosen = registry.resolve(assignment)
    config = _track(track, device, chosen)
    deadlines = deadlines_from_options(due, late_penalty, grace, zero_after, chosen)
    times = times_from_option(submitted_at)
    granted = extensions_from_options(extensions, deadlines)
    found = survey(submissions, [a.id for a in chosen])
    students = found.submissions
    for entry in found.skipped:
        click.echo(f"warning: {entry.name}: {entry.reason}", err=True)
    for problem in unused_extensions(granted, [s.student for s in students], deadlines):
        click.echo(f"warning: {problem}", err=True)
    if nbgrader_db is not None and len(chosen) != 1:
        raise click.UsageError("--nbgrader-db takes one assignment at a time (as nbgrader)")
    if device == "cuda" and workers is None:
        workers = 1  # one GPU: students take turns on it
    if executor == "dask":
        if not scheduler:
            raise click.UsageError("--executor dask needs --scheduler ADDRESS")
        runner: Any = DaskExecutor(scheduler)
    else:
        runner = LocalExecutor(workers or default_workers())
    book = None if no_gradebook else Gradebook(gradebook, read_only=dry_run)
    try:
        with click.progressbar(length=len(students), label=f"Grading {len(students)} students",
                               file=sys.stderr) as bar:
            outcome = grade_class(students, chosen, executor=runner, gradebook=book,
                                  force=force, on_result=lambda r, now: bar.update(1),
                                  track=config, feedback=hidden_feedback or "")
    except (KeyboardInterrupt, OSError) as exc:  # OSError: a full disk, say
        kept = ("nothing was saved (a dry run)" if dry_run else
                "nothing was saved (--no-gradebook)" if book is None else
                "every student graded so far is saved in the gradebook; run the same "
                "command again to finish")
        why = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"grading stopped: {exc}"
        raise Failure(f"{why}: {kept}") from None
    finally:
        if book is not None and not dry_run:
            book.close()
    if dry_run:
        try:
            _report_dry_run(outcome.results, book, gradebook)
        finally:
            book.close()
        return
    click.echo(report.class_report(outcome.results, chosen, skipped=found.skipped))
    if outcome.skipped:
        click.echo(f"{len(outcome.skipped)} unchanged since their last grading, taken from the "
                   f"gradebook (--force regrades them); {len(outcome.graded)} graded now.")
    late = (apply_class(outcome.results, students, chosen, deadlines, times, granted)
            if deadlines else None)
    if late:
        lines = [f"  {student} {lr.assignment}: {lr.describe()}"
                 for student, per in late.items() for lr in per.values()
                 if lr.days_late > 0 or lr.submitted is None or lr.extension]
        on_time = sum(1 for per in late.values() for lr in per.values()
                      if lr.days_late == 0 and lr.submitted is not None)
        click.echo(f"\nLate penalties ({on_time} submissions on time):")
        click.echo("\n".join(lines) if lines else "  none")
    for path, fmt in ((csv_out, "csv"), (canvas_out, "canvas")):
        if path is not None:
            for warning in export_results(outcome.results, chosen, path, fmt, late=late,
                                          roster=roster if fmt == "canvas" else None):
                click.echo(f"warning: {warning}", err=True)
            click.echo(f"{'CSV' if fmt == 'csv' else 'Canvas CSV'} written to {path}")
    if details:
        for r in outcome.results:
            click.echo(f"\n===== {r.student} =====")
            click.echo(report.student_report(r))
    if json_out is not None:
        write_scores_json(outcome.results, json_out)
        click.echo(f"Scores written to {json_out}")
    if html_dir is not None:
        from dlgrade.outputs.html_report import write_reports

        index = write_reports(outcome.results, chosen, html_dir, late=late,
                              skipped=found.skipped)
        click.echo(f"HTML reports: {index}")
    if nbgrader_db is not None:
        from dlgrade.integrations.nbgrader_gradebook import (
            NbgraderMissing,
            error_text,
            scores_of,
            write_scores,
        )

        try:
            done = write_scores(scores_of(outcome.results), chosen[0], nbgrader_db)
        except NbgraderMissing:
            raise  # friendly says so in one line
        except Exception as exc:  # noqa: BLE001 - SQLAlchemy and nbgrader errors, one line
            kept = (f"the scores are kept in {gradebook}, so re-running the same command "
                    "writes them without regrading" if book is not None
                    else "the other outputs above were written")
            raise Failure(f"could not write {nbgrader_db}: {error_text(exc)}; {kept}") from None
        click.echo(f"nbgrader gradebook: {done.grades} grades of {len(done.students)} "
                   f"students written to {nbgrader_db}")
    if similarity_dir is not None:
        from dlgrade.cli.similarity import run as look_for_copying

        look_for_copying(students, chosen, html_dir=similarity_dir, workers=workers,
                         json_out=similarity_dir / "similarity.json")
    if book is not None:
        click.echo(f"Gradebook: {gradebook}")


def _refuse_outputs_in_dry_run(**given: object) -> None:
    """``--dry-run`` writes nothing, so it takes no output option (and needs the gradebook
    it compares with)."""
    names = {"no_gradebook": "--no-gradebook", "json": "--json", "csv": "--csv",
             "canvas": "--canvas", "html": "--html", "nbgrader_db": "--nbgrader-db",
             "similarity": "--similarity"}
    clash = [names[k] for k, v in given.items() if v]
    if clash:
        raise click.UsageError(f"--dry-run writes nothing and compares with the gradebook: "
                               f"drop {', '.join(clash)}")


def _report_dry_run(results: list[Any], book: Gradebook, path: Path) -> None:
    """What a real run would change in the gradebook, student by student."""
    from dlgrade.store.gradebook import changes

    changed = {r.student: changes(book.current(r.student), r) for r in results}
    changed = {s: c for s, c in changed.items() if c}
    click.echo(f"Dry run: nothing was written. Compared with {path}: {len(changed)} of "
               f"{len(results)} students would change.")
    for student, found in changed.items():
        total = round(sum(c.delta for c in found), 4)
        click.echo(f"  {student}: {total:+.2f} points")
        for c in found:
            old = "new" if c.old_score is None else f"{c.old_score:.2f} ({c.old_status})"
            click.echo(f"    {c.exercise}: {old} -> {c.new_score:.2f} / {c.max_score:g} "
                       f"({c.new_status}), {c.delta:+.2f}")
    if changed:
        click.echo("Run the same command without --dry-run to apply (with --force to regrade "
                   "students whose files and course did not change).")


@click.command()
@friendly
def doctor() -> None:
    """Show which isolation layers this machine gives sandboxed student code."""
    from dlgrade.sandbox.capabilities import detect

    for layer, used, detail in detect().report():
        click.echo(f"[{'x' if used else ' '}] {layer}: {detail}")


COMMANDS = (check, grade, doctor)

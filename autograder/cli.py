"""The ``dlgrade`` command line: a thin click layer over the grading API.

Exit codes: 0 success, 1 something was graded as not (fully) right or validation failed,
2 bad usage or an error of the grader itself (never a traceback in front of a student).
"""

from __future__ import annotations

import ast
import functools
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from dlgrade import course, registry, report, templates
from dlgrade.deadlines import (
    DeadlineError,
    apply_class,
    deadline_options,
    deadlines_from_options,
    times_from_option,
)
from dlgrade.exports import ExportError, export_results
from dlgrade.gradebook import Gradebook, GradebookError
from dlgrade.grading import grade_submission
from dlgrade.spec import Assignment, SpecError
from dlgrade.submission import SubmissionError, discover, from_path

F = TypeVar("F", bound=Callable[..., Any])


class Failure(click.ClickException):
    exit_code = 2


def friendly(command: F) -> F:
    """Turn our known errors into one-line messages and anything else into a short report."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except registry.UnknownName as exc:
            raise click.UsageError(str(exc.args[0])) from None
        except (SubmissionError, GradebookError, templates.TemplateError, SpecError,
                DeadlineError, ExportError, course.CourseError, OSError) as exc:
            raise Failure(str(exc)) from None
        except KeyboardInterrupt:
            raise click.Abort() from None
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            if os.environ.get("DLGRADE_DEBUG"):
                raise
            raise Failure(
                f"internal error in dlgrade ({type(exc).__name__}: {exc}). This is a bug in "
                "the grader, not in your code; set DLGRADE_DEBUG=1 for details."
            ) from None

    return wrapper  # type: ignore[return-value]


def with_course(command: F) -> F:
    """``--course PATH`` for a command; the course (else ``$DLGRADE_COURSE``, else the
    nearest course.toml) is loaded before the command runs."""

    @functools.wraps(command)
    def wrapper(*args: Any, course_path: str | None = None, **kwargs: Any) -> Any:
        course.use(course.load(course.find(course_path)))
        return command(*args, **kwargs)

    return click.option(
        "--course", "course_path", metavar="PATH",
        help="The course folder (its course.toml); default: $DLGRADE_COURSE, else the nearest "
             "course.toml here or above.")(friendly(wrapper))  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dlgrade")
def main() -> None:
    """dlgrade: auto-graded deep-learning fundamentals.

    Students: `dlgrade check` in the folder with your files. Instructors: `dlgrade grade`.
    """


@main.command("list")
@with_course
def list_command() -> None:
    """List the assignments and their exercises."""
    for a in registry.assignments().values():
        files = ", ".join(f"{m}.py" for m in a.modules)
        click.echo(f"{a.id}  {a.title}  ({files}, {a.points:g} points)")
        for e in a.exercises:
            click.echo(f"  {e.id:<28} {e.points:>4g} pts  {', '.join(e.functions)}")


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
            tree = ast.parse(code)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return set()
        names |= {node.name for node in tree.body if isinstance(
            node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}
    return names


def _track(track: str, device: str, chosen: list[Assignment]) -> dict[str, str] | None:
    """The ``--track`` / ``--device`` choice as a track config (None: the numpy track)."""
    if track == "numpy":
        if device != "cpu":
            raise click.UsageError("--device cuda needs --track torch")
        return None
    missing = [a.id for a in chosen if "torch" not in a.tracks]
    if missing:
        have = ", ".join(a.id for a in registry.assignments().values() if "torch" in a.tracks)
        raise Failure(f"{', '.join(missing)} has no torch track (it exists for {have})")
    if device == "cuda":
        from dlgrade.sandbox.capabilities import cuda_available

        if not cuda_available():
            raise Failure("--device cuda: no CUDA device is visible to torch on this machine")
    return {"name": "torch", "device": device}


def track_options(command: Any) -> Any:
    command = click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu",
                           show_default=True,
                           help="Where torch-track tensors live (cuda: one GPU).")(command)
    return click.option("--track", type=click.Choice(["numpy", "torch"]), default="numpy",
                        show_default=True,
                        help="numpy arrays, or torch tensors with autograd forbidden.")(command)


@main.command()
@click.argument("path", required=False, default=".", type=click.Path(path_type=Path))
@click.option("--assignment", "-a", help="Assignment(s) to check: a1, a1,a2 or all "
              "(default: those whose files are in PATH).")
@track_options
@with_course
def check(path: Path, assignment: str | None, track: str, device: str) -> None:
    """Check your work on the public cases (PATH: your folder, .py file or notebook)."""
    submission = from_path(path)
    chosen = _infer_assignments(path, assignment)
    config = _track(track, device, chosen)
    on = f", {track} track on {device}" if config else ""
    click.echo(f"Checking {path} on {', '.join(a.id for a in chosen)} (public cases{on})...",
               err=True)
    result = grade_submission(submission, chosen, hidden=False, track=config)
    click.echo(report.student_report(result))
    if any(e.status != "passed" for e in result.exercises):
        sys.exit(1)


@main.command()
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
@click.option("--csv", "csv_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a CSV: a row per student, a column per exercise, the total.")
@click.option("--canvas", "canvas_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write Canvas's gradebook import CSV (a column per assignment).")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Canvas's gradebook export, for Canvas's student ids (with --canvas).")
@click.option("--nbgrader-db", "nbgrader_db",
              help="Also write the scores into this nbgrader gradebook (COURSE_DIR/gradebook.db "
                   "or an SQLAlchemy URL), one grade per exercise; needs nbgrader.")
@deadline_options
@track_options
@with_course
def grade(assignment: str, submissions: Path, json_out: Path | None, gradebook: Path,
          no_gradebook: bool, details: bool, html_dir: Path | None, workers: int | None,
          executor: str, scheduler: str | None, force: bool, csv_out: Path | None,
          canvas_out: Path | None, roster: Path | None, nbgrader_db: str | None,
          due: tuple[str, ...],
          late_penalty: float, grace: str, zero_after: int | None,
          submitted_at: Path | None, track: str, device: str) -> None:
    """Grade a class: SUBMISSIONS holds one folder (or .py file or notebook) per student,
    or is nbgrader's submitted/ folder (STUDENT/ASSIGNMENT/*.ipynb).

    ASSIGNMENT is a1, a2, a1,a2 or all. Public and hidden cases are graded. Each student is
    recorded in the gradebook as soon as they are graded; a re-run skips students whose
    files are unchanged, so an interrupted run loses nothing.
    """
    from dlgrade.bulk import DaskExecutor, LocalExecutor, default_workers, grade_class

    chosen = registry.resolve(assignment)
    config = _track(track, device, chosen)
    deadlines = deadlines_from_options(due, late_penalty, grace, zero_after, chosen)
    times = times_from_option(submitted_at)
    students = discover(submissions, [a.id for a in chosen])
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
    book = None if no_gradebook else Gradebook(gradebook)
    try:
        with click.progressbar(length=len(students), label=f"Grading {len(students)} students",
                               file=sys.stderr) as bar:
            outcome = grade_class(students, chosen, executor=runner, gradebook=book,
                                  force=force, on_result=lambda r, now: bar.update(1),
                                  track=config)
    except KeyboardInterrupt:
        raise Failure("interrupted: every student graded so far is saved in the gradebook; "
                      "run the same command again to finish") from None
    finally:
        if book is not None:
            book.close()
    click.echo(report.class_report(outcome.results, chosen))
    if outcome.skipped:
        click.echo(f"{len(outcome.skipped)} unchanged since their last grading, taken from the "
                   f"gradebook (--force regrades them); {len(outcome.graded)} graded now.")
    late = apply_class(outcome.results, students, chosen, deadlines, times) if deadlines else None
    if late:
        lines = [f"  {student} {lr.assignment}: {lr.describe()}"
                 for student, per in late.items() for lr in per.values()
                 if lr.days_late > 0 or lr.submitted is None]
        on_time = sum(1 for per in late.values() for lr in per.values()) - len(lines)
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
        _write_json(json_out, {r.student: {e.id: e.to_json() for e in r.exercises}
                               for r in outcome.results})
        click.echo(f"Scores written to {json_out}")
    if html_dir is not None:
        from dlgrade.html_report import write_reports

        index = write_reports(outcome.results, chosen, html_dir, late=late)
        click.echo(f"HTML reports: {index}")
    if nbgrader_db is not None:
        from dlgrade.nbgrader_gradebook import (
            NbgraderMissing,
            error_text,
            scores_of,
            write_scores,
        )

        try:
            done = write_scores(scores_of(outcome.results), chosen[0], nbgrader_db)
        except NbgraderMissing as exc:
            raise Failure(str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - SQLAlchemy and nbgrader errors, one line
            kept = (f"the scores are kept in {gradebook}, so re-running the same command "
                    "writes them without regrading" if book is not None
                    else "the other outputs above were written")
            raise Failure(f"could not write {nbgrader_db}: {error_text(exc)}; {kept}") from None
        click.echo(f"nbgrader gradebook: {done.grades} grades of {len(done.students)} "
                   f"students written to {nbgrader_db}")
    if book is not None:
        click.echo(f"Gradebook: {gradebook}")


@main.command()
@friendly
def doctor() -> None:
    """Show which isolation layers this machine gives sandboxed student code."""
    from dlgrade.sandbox.capabilities import detect

    for layer, used, detail in detect().report():
        click.echo(f"[{'x' if used else ' '}] {layer}: {detail}")


def _write_json(path: Path, data: object) -> None:
    """Write atomically: a crash never leaves a truncated file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2)
    os.replace(tmp, path)


@main.command()
@with_course
def validate() -> None:
    """Prove the course sound (for CI): references, stubs, templates, mutants, PyTorch."""
    from dlgrade.validate import STEPS

    failures = 0
    for title, step in STEPS:
        findings = list(step())
        bad = [f for f in findings if not f.ok]
        failures += len(bad)
        click.echo(f"{title}: {len(findings) - len(bad)}/{len(findings)} ok")
        for finding in bad:
            click.echo(f"  FAIL {finding.topic}: {finding.detail}")
    if failures:
        raise click.ClickException(f"validation failed: {failures} problem(s)")
    click.echo("Everything is valid.")


@main.command("kit")
@click.argument("assignment")
@click.argument("out", type=click.Path(path_type=Path))
@with_course
def kit_command(assignment: str, out: Path) -> None:
    """Write the student kit of ASSIGNMENT (a1, a1,a2 or all) into the new folder OUT.

    A kit is what students get: the templates and the public cases as data, with which
    `dlgrade check` runs with only dlgrade installed. It holds no solution, no spec code and
    nothing of the hidden cases.
    """
    from dlgrade import kit

    chosen = registry.resolve(assignment)
    click.echo(f"Freezing the public cases of {', '.join(a.id for a in chosen)}...", err=True)
    files = kit.write(course.active(), chosen, out)
    size = sum(f.stat().st_size for f in files)
    click.echo(f"Kit written to {out}: {len(files)} files, {size / 1e6:.1f} MB "
               f"({sum(len(a.exercises) for a in chosen)} exercises). Students fill in the "
               f"templates there and run `dlgrade check`.")


@main.command("build-templates")
@click.option("--check", "check_only", is_flag=True,
              help="Only check that the course's templates are in sync; exit 1 if not.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Write the templates here instead of the course's templates folder.")
@with_course
def build_templates(check_only: bool, out: Path | None) -> None:
    """Generate the course's templates from its reference (solution regions become stubs)."""
    files = templates.plan(course.active(), out_dir=out)
    if check_only:
        stale = [f for f in files if not f.in_sync()]
        for f in stale:
            click.echo(f"out of date: {f.target}")
        if stale:
            raise click.ClickException("templates are out of sync; run `dlgrade build-templates`")
        click.echo(f"{len(files)} templates in sync.")
        return
    changed = templates.write(files)
    for path in changed:
        click.echo(f"wrote {path}")
    click.echo(f"{len(files)} templates, {len(changed)} updated.")


from dlgrade.exports import export_command  # noqa: E402 - they use Failure and friends
from dlgrade.gradescope import gradescope_command  # noqa: E402
from dlgrade.nbgrader_gradebook import nbgrader_gradebook  # noqa: E402
from dlgrade.nbgrader_source import nbgrader_source  # noqa: E402

main.add_command(gradescope_command)
main.add_command(export_command)
main.add_command(nbgrader_source)
main.add_command(nbgrader_gradebook)

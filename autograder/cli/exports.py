"""``dlgrade export``: a gradebook's grades as CSV, Canvas's import CSV or JSON; ``dlgrade
history``: every grade a gradebook ever recorded, and why."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click
from dlgrade.cli.errors import friendly, with_course
from dlgrade.cli.options import deadline_options, deadlines_from_options, extensions_from_options
from dlgrade.courses import registry
from dlgrade.outputs import atomic
from dlgrade.outputs.exports import (
    FORMATS,
    late_from_gradebook,
    read_roster,
    render,
    table_from_gradebook,
)
from dlgrade.policy.deadlines import times_from_option
from dlgrade.store.gradebook import Gradebook


def _parse_names(items: Sequence[str]) -> dict[str, str]:
    names = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise click.UsageError(f"--column {item!r}: expected ASSIGNMENT=NAME, e.g. "
                                   "a1='Homework 1 (12345)'")
        names[key.strip()] = value.strip()
    return names


@click.command("export")
@click.argument("gradebook", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True,
              help="csv: a column per exercise; canvas: Canvas's gradebook import; json.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="File to write.")
@click.option("--assignment", "-a", help="Only these assignments: a1, a1,a2 or all "
              "(default: every assignment in the gradebook).")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Canvas's gradebook export, to fill in Canvas's student ids (canvas).")
@click.option("--column", "columns", multiple=True, metavar="ASSIGNMENT=NAME",
              help="Canvas column for an assignment, e.g. a1='Homework 1 (12345)'.")
@click.option("--submissions", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The class folder, to read submission times from (with --due).")
@deadline_options
@with_course
def export_command(gradebook: Path, fmt: str, out: Path, assignment: str | None,
                   roster: Path | None, columns: tuple[str, ...], submissions: Path | None,
                   due: tuple[str, ...], late_penalty: float, grace: str,
                   zero_after: int | None, submitted_at: Path | None,
                   extensions: Path | None) -> None:
    """Export a gradebook's grades as CSV, Canvas's import CSV or JSON.

    With --due, each assignment's late penalty is applied (raw score, penalty and final
    score are all exported); the submission times come from --submitted-at first, then
    --submissions (nbgrader's timestamp.txt where nbgrader collected, else file times).
    """
    ids = [a.id for a in registry.resolve(assignment)] if assignment else None
    table = table_from_gradebook(gradebook, ids)
    known = [registry.assignment(a) for a in table.assignments if a in registry.assignments()]
    deadlines = deadlines_from_options(due, late_penalty, grace, zero_after, known)
    if deadlines:
        if submissions is None and submitted_at is None:
            raise click.UsageError("--due needs --submissions DIR or --submitted-at CSV "
                                   "(the gradebook does not hold submission times)")
        late_from_gradebook(table, deadlines, times_from_option(submitted_at), submissions,
                            extensions_from_options(extensions, deadlines))
    text, warnings = render(table, fmt, roster=read_roster(roster) if roster else None,
                            names=_parse_names(columns))
    atomic.write_text(out, text)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"{len(table.rows)} students, {len(table.columns)} exercises written to {out} "
               f"({fmt})")


@click.command("history")
@click.argument("gradebook", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--student", help="Only this student.")
@click.option("--exercise", "-e", help="Only this exercise id.")
@friendly
def history_command(gradebook: Path, student: str | None, exercise: str | None) -> None:
    """Every grade GRADEBOOK recorded, oldest first: when, the score, and why it was graded
    (first grading, files changed, course or grader changed, regraded on request)."""
    book = Gradebook(gradebook, read_only=True)
    try:
        rows = book.history(student, exercise)
    finally:
        book.close()
    if not rows:
        click.echo("No grades recorded" + (f" for {student}" if student else "")
                   + (f" on {exercise}" if exercise else "") + ".")
        return
    for row in rows:
        click.echo(f"{row['graded_at']}  {row['student']}  {row['exercise']}  "
                   f"{row['score']:.2f} / {row['max_score']:g}  {row['status']}  "
                   f"({row['reason']}; course {row['fingerprint']})")


COMMANDS = (export_command, history_command)

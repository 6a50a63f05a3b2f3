"""nbgrader's commands: nbgrader-source (source notebooks) and nbgrader-gradebook (scores
into nbgrader's gradebook)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from dlgrade.cli.errors import Failure, with_course
from dlgrade.courses import registry
from dlgrade.integrations.nbgrader_gradebook import NbgraderMissing, error_text, write_scores
from dlgrade.integrations.nbgrader_source import write_source


@click.command("nbgrader-source")
@click.argument("assignment")
@click.argument("course_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True,
              help="Replace an existing source notebook that differs from the generated one.")
@with_course
def nbgrader_source(assignment: str, course_dir: Path, force: bool) -> None:
    """Write an nbgrader source notebook for ASSIGNMENT into COURSE_DIR/source/ASSIGNMENT/.

    Solution cells come from reference/'s marked regions, explanations from the docstrings,
    and each exercise gets a read-only grade cell (its points) that runs dlgrade's checks.
    Then, in COURSE_DIR: nbgrader generate_assignment ASSIGNMENT.
    """
    chosen = registry.assignment(assignment)
    written = write_source(chosen, course_dir, force=force)
    for path in written:
        click.echo(f"wrote {path}")
    if not written:
        click.echo("up to date")
    click.echo(f"next, in {course_dir}: nbgrader generate_assignment {chosen.id}")


@click.command("nbgrader-gradebook")
@click.argument("assignment")
@click.argument("scores_json", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--db", "database", default="gradebook.db", show_default=True,
              help="nbgrader's gradebook: a file (COURSE_DIR/gradebook.db) or an SQLAlchemy "
                   "URL.")
@click.option("--notebook", help="Notebook name in nbgrader (default: ASSIGNMENT).")
@with_course
def nbgrader_gradebook(assignment: str, scores_json: Path, database: str,
                       notebook: str | None) -> None:
    """Write the scores of `dlgrade grade ASSIGNMENT ... --json SCORES_JSON` into an
    nbgrader gradebook: one auto-graded score per exercise (grade_id a1-sigmoid ...)."""
    chosen = registry.assignment(assignment)
    try:
        data = json.loads(scores_json.read_text(encoding="utf-8"))
        scores = {str(student): {str(eid): float(entry["score"]) for eid, entry in ex.items()}
                  for student, ex in data.items()}
    except (ValueError, TypeError, KeyError, AttributeError, OSError) as exc:
        raise Failure(f"{scores_json} is not the JSON of `dlgrade grade --json` "
                      f"({exc})") from None
    try:
        done = write_scores(scores, chosen, database, notebook=notebook)
    except NbgraderMissing:
        raise  # friendly says so in one line
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy and nbgrader errors, one line each
        raise Failure(f"could not write {database}: {error_text(exc)}") from None
    if done.created_cells:
        click.echo(f"added {len(done.created_cells)} grade cells to notebook "
                   f"{notebook or chosen.id} (the gradebook had no dlgrade grade cells)")
    click.echo(f"{done.grades} grades of {len(done.students)} students written to {database}")


COMMANDS = (nbgrader_source, nbgrader_gradebook)

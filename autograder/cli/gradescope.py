"""``dlgrade gradescope`` (build the autograder zip) and ``gradescope-run`` (what the zip's
run_autograder runs inside Gradescope)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from dlgrade.cli.errors import Failure, with_course
from dlgrade.courses import registry
from dlgrade.integrations.gradescope import (
    VISIBILITIES,
    WHEELS_DIR,
    build_bundle,
    wheel_distribution,
    write_results,
)
from dlgrade.policy.deadlines import DeadlineError, parse_duration


@click.command("gradescope")
@click.argument("assignment")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--track", type=click.Choice(["numpy", "torch"]), default="numpy",
              show_default=True, help="torch: tensors on the CPU (installs the CPU torch).")
@click.option("--visibility", type=click.Choice(VISIBILITIES), default="visible",
              show_default=True, help="When students see each exercise's test.")
@click.option("--late-penalty", type=click.FloatRange(0, 1), default=None,
              help="Fraction taken per day or part day past Gradescope's due date.")
@click.option("--grace", default="0m", show_default=True,
              help="Lateness forgiven (with --late-penalty): 15m, 2h.")
@click.option("--zero-after", type=click.IntRange(min=0), default=None,
              help="Days late after which the score is 0 (with --late-penalty).")
@click.option("--wheels", type=click.Path(path_type=Path), default=None, metavar="DIR",
              help="Wheels for Gradescope's image (numpy, click; torch): setup.sh installs "
                   "from them alone, offline.")
@with_course
def gradescope_command(assignment: str, out: Path, track: str, visibility: str,
                       late_penalty: float | None, grace: str, zero_after: int | None,
                       wheels: Path | None) -> None:
    """Build Gradescope's autograder zip for ASSIGNMENT (a1, a1,a2 or all) as OUT.zip.

    Upload OUT.zip as the autograder of a Gradescope programming assignment; students
    upload their .py files (or a folder holding them). With --wheels DIR setup.sh needs
    no network: the wheels must suit the image's Python and platform.
    """
    chosen = registry.resolve(assignment)
    config = None
    if track == "torch":
        missing = [a.id for a in chosen if "torch" not in a.tracks]
        if missing:
            raise Failure(f"{', '.join(missing)} has no torch track")
        config = {"name": "torch", "device": "cpu"}
    late = None
    if late_penalty is not None or zero_after is not None:
        try:
            late = {"penalty_per_day": late_penalty or 0.0,
                    "grace_seconds": parse_duration(grace).total_seconds(),
                    "zero_after": zero_after}
        except DeadlineError as exc:
            raise click.UsageError(str(exc)) from None
    if out.suffix != ".zip":
        raise click.UsageError(f"{out} should end in .zip")
    names = build_bundle(chosen, out, track=config, visibility=visibility, late=late,
                         wheels=wheels)
    click.echo(f"Wrote {out}: {', '.join(names)}")
    if wheels is not None:  # not checked against the image's tags: say what went in
        put = [n.split("/", 1)[1] for n in names if n.startswith(f"{WHEELS_DIR}/")]
        click.echo(f"Wheels in {WHEELS_DIR}/ (setup.sh installs from them alone): "
                   f"{', '.join(put)}")
        if config and not any(wheel_distribution(n) == "torch" for n in put):
            click.echo("No torch wheel among them: setup.sh downloads torch from "
                       "download.pytorch.org.")
    click.echo("Upload it as the autograder of a Gradescope programming assignment "
               f"({', '.join(a.id for a in chosen)}; "
               f"{sum(a.points for a in chosen):g} points).")


@click.command("gradescope-run", hidden=True)
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              required=True)
@click.option("--submission", type=click.Path(path_type=Path), required=True)
@click.option("--results", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--metadata", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--course", "course_path", type=click.Path(file_okay=False, path_type=Path),
              required=True)
def run_command(config_path: Path, submission: Path, results: Path,
                metadata: Path | None, course_path: Path) -> None:
    """What run_autograder runs inside Gradescope (see :func:`write_results`)."""
    # Not @with_course: write_results loads the course itself, so that a course that does
    # not load still leaves a results.json behind for the student.
    try:
        config = json.loads(config_path.read_text())
    except (OSError, ValueError) as exc:
        config = None
        problem = f"cannot read {config_path}: {exc}"
    if not isinstance(config, dict) or not config.get("assignments"):
        write_results(submission, results, [], metadata=metadata)  # writes the failure
        click.echo(problem if config is None else f"{config_path}: no assignments", err=True)
        sys.exit(1)
    data = write_results(submission, results, config["assignments"],
                         track=config.get("track"), visibility=config.get("visibility",
                                                                          "visible"),
                         metadata=metadata, late=config.get("late"), course_path=course_path)
    click.echo(f"score {data['score']}; {len(data['tests'])} tests written to {results}")


COMMANDS = (gradescope_command, run_command)

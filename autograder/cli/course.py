"""The course's commands: init, list, validate, build-templates, kit."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click
from dlgrade.cli.errors import friendly, with_course
from dlgrade.courses import course, registry, templates


@click.command("list")
@with_course
def list_command() -> None:
    """List the assignments and their exercises."""
    for a in registry.assignments().values():
        files = ", ".join(f"{m}.py" for m in a.modules)
        click.echo(f"{a.id}  {a.title}  ({files}, {a.points:g} points)")
        for e in a.exercises:
            click.echo(f"  {e.id:<28} {e.points:>4g} pts  {', '.join(e.functions)}")


@click.command()
@click.option("--secrets", "secret_count", type=click.IntRange(1, 50), default=1,
              show_default=True, metavar="N",
              help="Also run the steps that use hidden cases under N-1 random secrets: every "
              "copy of the course with its own secret grades other hidden cases.")
@with_course
def validate(secret_count: int) -> None:
    """Prove the course sound (for CI): references, stubs, templates, mutants, PyTorch."""
    from dlgrade.grading.validate import SECRET_STEPS, STEPS, trial_secrets, under_secret

    failures = _validate_steps(STEPS, "")
    for number, secret in enumerate(trial_secrets(secret_count - 1), start=2):
        click.echo(f"-- under random secret {number} of {secret_count}")
        with under_secret(secret):
            failures += _validate_steps([s for s in STEPS if s[0] in SECRET_STEPS],
                                        f" (random secret {number})")
    if failures:
        raise click.ClickException(f"validation failed: {failures} problem(s)")
    click.echo("Everything is valid." if secret_count == 1 else
               f"Everything is valid, under the course's secret and {secret_count - 1} "
               "random ones.")


def _validate_steps(steps: Iterable[tuple[str, Callable[[], Iterable[Any]]]],
                    where: str) -> int:
    """Run validate's ``steps``, print each one's findings; the number that failed."""
    failures = 0
    for title, step in steps:
        findings = list(step())
        bad = [f for f in findings if not f.ok]
        failures += len(bad)
        click.echo(f"{title}: {len(findings) - len(bad)}/{len(findings)} ok")
        for finding in findings:
            if not finding.ok:
                click.echo(f"  FAIL {finding.topic}{where}: {finding.detail}")
            elif finding.detail and not where:
                click.echo(f"  note {finding.topic}: {finding.detail}")
    return failures


@click.command("kit")
@click.argument("assignment")
@click.argument("out", type=click.Path(path_type=Path))
@with_course
def kit_command(assignment: str, out: Path) -> None:
    """Write the student kit of ASSIGNMENT (a1, a1,a2 or all) into the new folder OUT.

    A kit is what students get: the templates and the public cases as data, with which
    `dlgrade check` runs with only dlgrade installed. It holds no solution, no spec code and
    nothing of the hidden cases.
    """
    from dlgrade.courses import kit

    chosen = registry.resolve(assignment)
    click.echo(f"Freezing the public cases of {', '.join(a.id for a in chosen)}...", err=True)
    files = kit.write(course.active(), chosen, out)
    size = sum(f.stat().st_size for f in files)
    click.echo(f"Kit written to {out}: {len(files)} files, {size / 1e6:.1f} MB "
               f"({sum(len(a.exercises) for a in chosen)} exercises). Students fill in the "
               f"templates there and run `dlgrade check`.")


@click.command("build-templates")
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


@click.command("init")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@friendly
def init_command(folder: Path) -> None:
    """Make a new course in FOLDER: course.toml, one assignment with a worked exercise (its
    reference, spec, oracle and two known mistakes), templates, a correct and a buggy sample
    student, ci.sh and a README. `dlgrade validate` passes on it as it is."""
    from dlgrade.courses import scaffold

    files = scaffold.create(folder)
    click.echo(f"Course written to {folder} ({len(files)} files). Next:\n"
               f"  cd {folder} && dlgrade validate && dlgrade grade all samples/")


COMMANDS = (init_command, list_command, validate, kit_command, build_templates)

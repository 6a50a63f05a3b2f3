"""Options shared by several commands, and turning their values into the engine's terms."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click
from dlgrade.cli.errors import Failure
from dlgrade.courses import registry
from dlgrade.policy.deadlines import (
    Deadline,
    DeadlineError,
    Extension,
    extensions_from_option,
    parse_deadlines,
)
from dlgrade.spec.exercise import Assignment

F = TypeVar("F", bound=Callable[..., Any])


# ---------------------------------------------------------------- --track, --device


def track_options(command: Any) -> Any:
    command = click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu",
                           show_default=True,
                           help="Where torch-track tensors live (cuda: one GPU).")(command)
    return click.option("--track", type=click.Choice(["numpy", "torch"]), default="numpy",
                        show_default=True,
                        help="numpy arrays, or torch tensors with autograd forbidden.")(command)


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


# ---------------------------------------------------------------- deadlines


def deadline_options(command: F) -> F:
    """``--due``, ``--late-penalty``, ``--grace``, ``--zero-after``, ``--submitted-at`` and
    ``--extensions`` for a click command; turn them into deadlines with
    :func:`deadlines_from_options`, the times with
    :func:`dlgrade.policy.deadlines.times_from_option` and the extensions with
    :func:`extensions_from_options`."""
    options = [
        click.option("--due", "due", multiple=True, metavar="[ASSIGNMENT=]DATETIME",
                     help="Due date, e.g. 2026-11-30T23:59 (local time unless it has a zone) "
                          "or a1=2026-11-30T23:59 for one assignment; repeatable."),
        click.option("--late-penalty", type=click.FloatRange(0, 1), default=0.0,
                     show_default=True,
                     help="Fraction of the score taken per day or part day late (with --due)."),
        click.option("--grace", default="0m", show_default=True,
                     help="Lateness forgiven after the due date: 15m, 2h, 1d."),
        click.option("--zero-after", type=click.IntRange(min=0), default=None,
                     help="Days late after which the score is 0."),
        click.option("--submitted-at", "submitted_at",
                     type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="CSV of student,submitted_at[,assignment]; it wins over "
                          "nbgrader's timestamp.txt (read only where nbgrader collected), "
                          "which wins over file times."),
        click.option("--extensions", "extensions",
                     type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="CSV of student[,assignment],due or days: a student's own due "
                          "date, or extra days on the class's (with --due)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def deadlines_from_options(due: Sequence[str], late_penalty: float, grace: str,
                           zero_after: int | None, assignments: Sequence[Assignment]
                           ) -> dict[str, Deadline]:
    """``assignment id -> Deadline`` from :func:`deadline_options`' values (empty without
    ``--due``; see :func:`dlgrade.policy.deadlines.parse_deadlines`). Raises
    :class:`click.UsageError` for bad values."""
    try:
        return parse_deadlines(due, late_penalty, grace, zero_after, assignments)
    except DeadlineError as exc:
        raise click.UsageError(str(exc)) from None


def extensions_from_options(path: Path | None, deadlines: Mapping[str, Deadline]
                            ) -> dict[tuple[str, str | None], Extension] | None:
    """The ``--extensions`` CSV, read (None without it). Raises :class:`click.UsageError`
    for a bad file or one given without ``--due``."""
    try:
        return extensions_from_option(path, deadlines)
    except DeadlineError as exc:
        raise click.UsageError(str(exc)) from None

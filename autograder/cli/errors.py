"""How the commands fail: exit codes, one-line messages, never a traceback for a student.

Exit codes: 0 success, 1 something was graded as not (fully) right or validation failed,
2 bad usage or an error of the grader itself.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

import click
from dlgrade.api import open_course
from dlgrade.courses import course, registry

F = TypeVar("F", bound=Callable[..., Any])


def known_errors() -> tuple[type[BaseException], ...]:
    """Errors that say what is wrong in their message: shown as one line, exit code 2.
    Imported when an error happens, so that no command loads every module for them."""
    from dlgrade.courses.templates import TemplateError
    from dlgrade.grading.classroom import WorkerDied
    from dlgrade.integrations.gradescope import BundleError
    from dlgrade.integrations.nbgrader_gradebook import NbgraderMissing
    from dlgrade.load.submission import SubmissionError
    from dlgrade.outputs.exports import ExportError
    from dlgrade.policy.deadlines import DeadlineError
    from dlgrade.spec.exercise import SpecError
    from dlgrade.store.gradebook import GradebookError

    return (SubmissionError, GradebookError, TemplateError, SpecError, DeadlineError,
            ExportError, course.CourseError, BundleError, NbgraderMissing, WorkerDied, OSError)


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
        except KeyboardInterrupt:
            raise click.Abort() from None
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            if isinstance(exc, known_errors()):
                raise Failure(str(exc)) from None
            if os.environ.get("DLGRADE_DEBUG"):
                raise
            raise Failure(
                f"internal error in dlgrade ({type(exc).__name__}: {exc}). This is a bug in "
                "the grader, not in your code; set DLGRADE_DEBUG=1 for details."
            ) from None

    return wrapper  # type: ignore[return-value]


def with_course(command: F) -> F:
    """``--course PATH`` for a command; the course (else ``$DLGRADE_COURSE``, else the
    nearest course.toml) is loaded before the command runs. Implies :func:`friendly`."""

    @functools.wraps(command)
    def wrapper(*args: Any, course_path: str | None = None, **kwargs: Any) -> Any:
        course.use(open_course(course.find(course_path)))
        return command(*args, **kwargs)

    return click.option(
        "--course", "course_path", metavar="PATH",
        help="The course folder (its course.toml); default: $DLGRADE_COURSE, else the nearest "
             "course.toml here or above.")(friendly(wrapper))  # type: ignore[return-value]

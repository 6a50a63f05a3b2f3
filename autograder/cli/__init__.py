"""The ``dlgrade`` command line: a thin click layer over the grading API.

The only part of dlgrade that imports click. Exit codes: 0 success, 1 something was graded as
not (fully) right or validation failed, 2 bad usage or an error of the grader itself (never a
traceback in front of a student); see :mod:`dlgrade.cli.errors`.

* :mod:`~dlgrade.cli.errors`: ``Failure``, ``friendly``, ``with_course`` (``--course PATH``);
* :mod:`~dlgrade.cli.options`: options shared by commands (``--track``, ``--due`` ...);
* the commands: :mod:`~dlgrade.cli.course` (list, validate, build-templates, kit),
  :mod:`~dlgrade.cli.grade` (check, grade, doctor), :mod:`~dlgrade.cli.exports` (export),
  :mod:`~dlgrade.cli.gradescope` (gradescope, gradescope-run),
  :mod:`~dlgrade.cli.nbgrader` (nbgrader-source, nbgrader-gradebook) and
  :mod:`~dlgrade.cli.similarity` (similarity).
"""

from __future__ import annotations

import sys


def _start_early(argv: list[str]) -> None:
    """``dlgrade check`` (a student runs it dozens of times an hour) starts the sandbox's
    capability probe and its warm worker before importing the rest of dlgrade: their
    start-up (about 0.25 s, numpy imported in another process) then overlaps with ours.
    Only the numpy track's worker: any other is started when needed, as before."""
    words = argv[1:]
    if words[:1] == ["check"] and not {"--track", "-h", "--help"} & set(words):
        from dlgrade.sandbox import capabilities, zygote

        capabilities.start_probe()
        zygote.start_early(("numpy",))


_start_early(sys.argv)

from importlib import import_module  # noqa: E402

import click  # noqa: E402 - after the early start, on purpose

__all__ = ["COMMAND_MODULES", "main"]

#: Every command and the module of dlgrade.cli that defines it: a command's module (and what
#: it imports) is loaded only when that command runs, so `dlgrade check` never loads the
#: Gradescope, nbgrader or similarity machinery. tests/test_cli.py checks it is complete.
COMMAND_MODULES = {
    "init": "course", "list": "course", "validate": "course", "kit": "course",
    "build-templates": "course",
    "check": "grade", "grade": "grade", "doctor": "grade",
    "export": "exports", "history": "exports",
    "gradescope": "gradescope", "gradescope-run": "gradescope",
    "nbgrader-source": "nbgrader", "nbgrader-gradebook": "nbgrader",
    "similarity": "similarity",
}


class _Commands(click.Group):
    """The commands of :data:`COMMAND_MODULES`, each imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module = COMMAND_MODULES.get(name)
        if module is None:
            return None
        commands = import_module(f"dlgrade.cli.{module}").COMMANDS
        return next(c for c in commands if c.name == name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dlgrade")
def main() -> None:
    """dlgrade: auto-graded deep-learning fundamentals.

    Students: `dlgrade check` in the folder with your files. Instructors: `dlgrade grade`.
    """

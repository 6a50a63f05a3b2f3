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

import click
from dlgrade.cli import course, exports, grade, gradescope, nbgrader, similarity

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dlgrade")
def main() -> None:
    """dlgrade: auto-graded deep-learning fundamentals.

    Students: `dlgrade check` in the folder with your files. Instructors: `dlgrade grade`.
    """


for _module in (course, grade, exports, gradescope, nbgrader, similarity):
    for _command in _module.COMMANDS:
        main.add_command(_command)

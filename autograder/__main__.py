"""``python -m autograder`` is the ``dlgrade`` command."""

from autograder.cli import main

main()

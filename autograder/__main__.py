"""``python -m dlgrade`` is the ``dlgrade`` command."""

from dlgrade.cli import main

main()

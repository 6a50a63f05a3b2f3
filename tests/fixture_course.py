"""The engine tests' own course (tests/fixtures/course), and copies of it to change."""

from __future__ import annotations

import shutil
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "course"


def copy_fixture(target: Path, assignments: tuple[str, ...] = ("hw1",)) -> Path:
    """The fixture course copied to ``target`` (without its secret), listing
    ``assignments`` (the fixture itself lists hw1 only; hw2 is there to be added)."""
    shutil.copytree(FIXTURE, target, ignore=shutil.ignore_patterns(".secret", "__pycache__"))
    if assignments != ("hw1",):
        toml = target / "course.toml"
        listed = ", ".join(f'"{a}"' for a in assignments)
        toml.write_text(toml.read_text().replace('assignments = ["hw1"]',
                                                 f"assignments = [{listed}]"))
    return target

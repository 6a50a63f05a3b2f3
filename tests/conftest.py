"""Shared fixtures. Hypothesis runs derandomised so the suite is reproducible."""

from __future__ import annotations

from pathlib import Path

import bundled  # the bundled course is the one in use unless a test says otherwise
import pytest
from dlgrade.courses import course as courses
from hypothesis import settings

settings.register_profile("ci", deadline=None, derandomize=True, max_examples=60)
settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(autouse=True)
def _course_in_use():
    """A test that switches courses (a kit, a fixture course, a Gradescope bundle's) does
    not leave the switch behind."""
    yield
    if courses.active_or_none() is not bundled.COURSE:
        bundled.use()

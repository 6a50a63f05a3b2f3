"""``dlgrade validate --secrets N``: the steps that use hidden cases, again under random
secrets (every copy of a course that makes its own secret grades other hidden cases)."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from dlgrade import api
from dlgrade.cli import main
from dlgrade.courses.course import active
from dlgrade.grading import validate
from dlgrade.grading.cases import build_cases
from dlgrade.grading.grader import expectations
from fixture_course import FIXTURE, copy_fixture


@pytest.fixture
def course(tmp_path):
    """A copy of the fixture course (with a secret of its own) in use."""
    return api.load_course(copy_fixture(tmp_path / "course"))


def _hidden_inputs(exercise_id: str) -> list[np.ndarray]:
    ex = active().exercise(exercise_id)
    return [c.inputs["x"] for c in build_cases(ex, True) if c.hidden]


def test_under_secret_draws_other_hidden_cases_and_restores_the_course_s(course):
    ex = course.exercise("hw1.cube")
    own, own_expected = _hidden_inputs("hw1.cube"), expectations(ex, True)
    public = [c.inputs["x"] for c in build_cases(ex, False)]
    with validate.under_secret(b"another secret, long enough to be a secret"):
        other = _hidden_inputs("hw1.cube")
        assert not any(np.array_equal(a, b) for a, b in zip(own, other, strict=True))
        assert expectations(ex, True) is not own_expected  # the cache was cleared
        assert all(np.array_equal(a, c.inputs["x"])  # public cases need no secret
                   for a, c in zip(public, build_cases(ex, False), strict=True))
    assert all(np.array_equal(a, b) for a, b in zip(own, _hidden_inputs("hw1.cube"),
                                                    strict=True))
    assert course.secret() == course.secret_path.read_text().strip().encode()


def test_validate_runs_the_hidden_steps_again_under_each_random_secret(course):
    result = CliRunner().invoke(main, ["validate", "--secrets", "3", "--course",
                                       str(course.root)])
    assert result.exit_code == 0, result.output
    assert "-- under random secret 2 of 3" in result.output
    assert "-- under random secret 3 of 3" in result.output
    assert result.output.count("mutants: ") == 3
    assert result.output.count("templates in sync") == 0  # not a secret's business
    assert result.output.count("templates: ") == 1
    assert "under the course's secret and 2 random ones" in result.output


def test_a_problem_found_under_a_random_secret_fails_validate_and_says_so(course,
                                                                         monkeypatch):
    own = course.secret()

    def only_the_course_secret_works():
        yield validate.Finding(active().secret() == own, "hw1.cube hidden cases", "unlucky")

    monkeypatch.setattr(validate, "STEPS", (("mutants", only_the_course_secret_works),))
    result = CliRunner().invoke(main, ["validate", "--secrets", "2", "--course",
                                       str(course.root)])
    assert result.exit_code == 1
    assert "FAIL hw1.cube hidden cases (random secret 2): unlucky" in result.output
    assert "validation failed: 1 problem(s)" in result.output


def test_one_secret_is_the_default_and_the_count_is_bounded():
    result = CliRunner().invoke(main, ["validate", "--secrets", "0", "--course", str(FIXTURE)])
    assert result.exit_code == 2 and "--secrets" in result.output

"""Adversarial suite, issue 13 point 14: on the numpy track, ``torch.autograd`` and
``F.cross_entropy`` earned full marks silently.

The policy is the course's (``Assignment.banned_libraries``; by default the deep-learning
frameworks): a banned library cannot be imported by student code, on either track, so its
autograd or ready-made losses score what code that does not run deserves (0), with a
message that names the ban. A course that allows the library grades such code normally.
Each hostile submission is graded beside an honest one, which keeps its full marks.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from dlgrade.courses import course as courses
from dlgrade.courses import registry
from dlgrade.grading.classroom import LocalExecutor, grade_class
from dlgrade.load.submission import Submission
from dlgrade.spec.exercise import DEFAULT_BANNED
from fixture_course import copy_fixture

ROOT = Path(__file__).resolve().parent.parent
torch = pytest.importorskip("torch")

#: Softmax cross-entropy on the numpy track, done by torch: the loss by F.cross_entropy,
#: the gradient by autograd. Right numbers, none of them the student's.
BY_TORCH = '''
import numpy as np
{header}


def softmax_cross_entropy_loss(logits, y):
    {body}
    t = torch.tensor(logits, requires_grad=True)
    loss = torch.nn.functional.cross_entropy(t, torch.as_tensor(y))
    loss.backward()
    return float(loss), t.grad.numpy()
'''

IMPORTS = {
    "import": ("import torch", "pass"),
    "importlib": ("import importlib", "torch = importlib.import_module('torch')"),
    "dunder": ("", "torch = __import__('torch')"),
    "submodule": ("import torch.nn.functional\nimport torch", "pass"),
    "inside": ("", "import torch"),
}

#: The reference's own losses.py: right everywhere.
HONEST = (ROOT / "reference" / "losses.py").read_text()

#: Tries torch, falls back to its own numpy code: it never gets torch, so it is graded on
#: its own (right) numbers.
FALLBACK = "try:\n    import torch\nexcept ImportError:\n    torch = None\n" + HONEST

#: A helper module of the student's own that happens to be called jax: their code, allowed.
OWN_JAX = HONEST
USES_OWN_JAX = "from jax import *  # noqa: F403\n"

EXERCISE = "a2.softmax_cross_entropy"


def _grade(tmp_path: Path, students: dict[str, dict[str, str]], assignment: str = "a2",
           only: str = EXERCISE) -> dict[str, object]:
    submissions = []
    for name, files in students.items():
        folder = tmp_path / name
        folder.mkdir()
        for file, source in files.items():
            (folder / file).write_text(source)
        submissions.append(Submission(name, folder))
    outcome = grade_class(submissions, [registry.assignment(assignment)],
                          executor=LocalExecutor(1), gradebook=None)
    return {r.student: next(e for e in r.exercises if e.id == only) for r in outcome.results}


@pytest.mark.parametrize("way", sorted(IMPORTS))
def test_torch_on_the_numpy_track_scores_zero_and_says_why(tmp_path, way):
    header, body = IMPORTS[way]
    results = _grade(tmp_path, {
        "mallory": {"losses.py": BY_TORCH.format(header=header, body=body)},
        "zz-honest": {"losses.py": HONEST},
    })
    hostile, honest = results["mallory"], results["zz-honest"]
    assert hostile.score == 0, (hostile.status, hostile.message)
    assert "this course bans torch" in hostile.message
    assert honest.score == honest.max_score, honest.message


def test_a_student_who_only_tries_torch_is_graded_on_their_own_code(tmp_path):
    results = _grade(tmp_path, {"fallback": {"losses.py": FALLBACK}})
    assert results["fallback"].status == "passed", results["fallback"].message


def test_a_students_own_module_named_like_a_banned_library_is_theirs(tmp_path):
    results = _grade(tmp_path, {"own": {"losses.py": USES_OWN_JAX, "jax.py": OWN_JAX}})
    assert results["own"].status == "passed", results["own"].message


def test_the_bundled_course_bans_the_frameworks_in_every_assignment():
    assert "torch" in DEFAULT_BANNED
    assert all(set(DEFAULT_BANNED) <= set(a.banned_libraries)
               for a in courses.active().assignments.values())


CUBE_BY_TORCH = '''
import torch


def cube_forward(x):
    return torch.as_tensor(x).pow(3).numpy(), x


def cube_backward(dout, cache):
    return 3 * cache ** 2 * dout
'''


def _fixture_with_ban(tmp_path: Path, ban: str) -> courses.Course:
    course_dir = copy_fixture(tmp_path / "course")
    spec = course_dir / "specs" / "hw1" / "__init__.py"
    text = spec.read_text()
    assert 'title="Fixture homework",' in text
    spec.write_text(text.replace('title="Fixture homework",',
                                 f'title="Fixture homework", banned_libraries={ban},'))
    return courses.use(courses.load(course_dir))


def test_a_course_that_allows_torch_grades_it_normally(tmp_path):
    _fixture_with_ban(tmp_path, "()")
    results = _grade(tmp_path, {"torchy": {"ops.py": CUBE_BY_TORCH}}, "hw1", "hw1.cube")
    assert results["torchy"].status == "passed", results["torchy"].message


def test_a_course_bans_exactly_what_it_lists(tmp_path):
    course = _fixture_with_ban(tmp_path, '("torch",)')
    assert course.assignment("hw1").banned_libraries == ("torch",)
    results = _grade(tmp_path, {"torchy": {"ops.py": CUBE_BY_TORCH}}, "hw1", "hw1.cube")
    assert results["torchy"].score == 0
    assert "this course bans torch" in results["torchy"].message


def test_an_assignment_field_rejects_a_dotted_or_bad_name():
    from dlgrade.spec.exercise import SpecError

    assignment = registry.assignment("a1")
    with pytest.raises(SpecError, match="banned_libraries"):
        dataclasses.replace(assignment, banned_libraries=("torch.nn",))

"""Hostile students against the course's new homes: its folder (specs, references, the
secret that seeds hidden cases) and its private module names. Beside them, an honest
student, to show the same child grades correctly."""

from __future__ import annotations

import hashlib
from pathlib import Path

import bundled
import pytest
from dlgrade.grading.grader import grade_submission
from dlgrade.load.submission import Submission
from dlgrade.sandbox.capabilities import detect

SECRET = bundled.COURSE.secret_path
PACKAGE = "_dlgrade_course_" + hashlib.sha256(str(bundled.ROOT).encode()).hexdigest()[:12]

HONEST = '''
import numpy as np


def sigmoid_forward(x):
    out = 0.5 * (1 + np.tanh(0.5 * x))
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)
'''

THIEF = '''
import importlib
import os

import numpy as np

STOLEN = []
for path in (@SECRET@, @ROOT@ + "/reference/activations.py", @ROOT@ + "/course.toml",
             @ROOT@ + "/assignments/a1/mutants.py"):
    try:
        with open(path, "rb") as f:
            STOLEN.append((path, f.read(64)))
    except OSError:
        pass
for folder in (@ROOT@, @ROOT@ + "/reference", os.path.dirname(@SECRET@)):
    try:
        STOLEN.append((folder, os.listdir(folder)))
    except OSError:
        pass
for name in (@PACKAGE@ + ".reference.activations", @PACKAGE@, "reference.activations",
             "assignments.a1"):
    try:
        module = importlib.import_module(name)
        STOLEN.append((name, getattr(module, "__file__", None)))
    except BaseException:
        pass
if STOLEN:
    print("STOLEN", STOLEN)


def sigmoid_forward(x):
    # Without a stolen reference, a thief has only a wrong answer.
    return np.zeros_like(x), x


def sigmoid_backward(dout, cache):
    return np.zeros_like(dout)
'''


def _grade(folder: Path, source: str):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "activations.py").write_text(source)
    a1 = bundled.COURSE.assignment("a1")
    return grade_submission(Submission(folder.name, folder), [a1], hidden=True,
                            only={"a1.sigmoid"}, time_limit=5)


def test_the_course_folder_its_secret_and_its_modules_are_out_of_a_childs_reach(tmp_path):
    caps = detect()
    if not (caps.landlock or caps.namespaces):
        pytest.skip("neither Landlock nor namespaces: the course is protected by file "
                    "permissions only (SECURITY.md)")
    bundled.COURSE.secret()  # make sure the secret file exists to be stolen
    source = (THIEF.replace("@SECRET@", repr(str(SECRET)))
              .replace("@ROOT@", repr(str(bundled.ROOT))).replace("@PACKAGE@", repr(PACKAGE)))
    thief = _grade(tmp_path / "mallory", source)
    assert "STOLEN" not in thief.output, thief.output
    assert thief.exercises[0].score < 0.5 * thief.exercises[0].max_score
    assert str(bundled.ROOT) not in thief.exercises[0].message
    honest = _grade(tmp_path / "alice", HONEST)
    assert honest.exercises[0].status == "passed"

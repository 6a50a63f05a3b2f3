"""The worked example of AUTHORING.md, examples/cs231n, is a real course: it validates
(without torch), grades its sample class as the guide says, and every code block of the
guide that is marked as taken from one of its files is in that file, verbatim."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dlgrade.courses.course import load, using

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "cs231n"
GUIDE = ROOT / "AUTHORING.md"

#: Each buggy sample student: the exercise it must lose points on and the known mistake
#: (exercise:name) whose name its feedback must carry.
BUGGY = {
    "adam_no_bias_correction": "optim.adam:no_bias_correction",
    "rmsprop_no_sqrt": "optim.rmsprop:no_sqrt",
    "dropout_not_inverted": "layers.dropout:not_inverted",
    "batchnorm_no_mean_terms": "layers.batchnorm:no_mean_terms",
}


@pytest.fixture(scope="module")
def course_copy(tmp_path_factory) -> Path:
    """A copy of the example (its secret is made there, not in the working tree)."""
    target = tmp_path_factory.mktemp("example") / "cs231n"
    shutil.copytree(EXAMPLE, target,
                    ignore=shutil.ignore_patterns("__pycache__", ".dlgrade", "*.sqlite"))
    return target


def dlgrade(*args: str, cwd: Path, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dlgrade", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_validate_passes_without_torch(course_copy: Path, tmp_path: Path) -> None:
    """`dlgrade validate` with torch made unimportable: the optim oracles fall back to
    their numpy half (the environment's DLGRADE_COURSE is not what picks the course)."""
    shim = tmp_path / "shim" / "torch"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text('raise ImportError("torch is hidden in this test")\n')
    env = {k: v for k, v in os.environ.items() if k != "DLGRADE_COURSE"}
    env["PYTHONPATH"] = os.pathsep.join([str(shim.parent), env.get("PYTHONPATH", "")])
    done = dlgrade("validate", "--course", str(course_copy), cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Everything is valid." in done.stdout
    assert "FAIL" not in done.stdout


def test_torch_oracle_agrees_where_torch_is_installed(course_copy: Path) -> None:
    pytest.importorskip("torch")
    course = load(course_copy)
    with using(course):
        for rule in ("sgd_momentum", "rmsprop", "adam"):
            assert course.exercise(f"optim.{rule}").oracle_check() == []


def test_templates_in_sync(course_copy: Path) -> None:
    done = dlgrade("build-templates", "--check", "--course", str(course_copy), cwd=course_copy)
    assert done.returncode == 0, done.stdout + done.stderr


def test_sample_class_grades_as_documented(course_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "scores.json"
    done = dlgrade("grade", "all", str(course_copy / "samples"), "--course", str(course_copy),
                   "--no-gradebook", "--json", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    scores = json.loads(out.read_text())
    assert set(scores) == {"correct", *BUGGY}
    for exercise_id, result in scores["correct"].items():
        assert result["score"] == result["max_score"], (exercise_id, result["message"])
    course = load(course_copy)
    mistakes = {m.id: m.mistake for m in course.mutants()}
    for student, mutant_id in BUGGY.items():
        wrong = mutant_id.split(":")[0]
        for exercise_id, result in scores[student].items():
            if exercise_id == wrong:
                assert result["score"] < result["max_score"], (student, exercise_id)
                assert mistakes[mutant_id] in result["message"], (student, result["message"])
            else:  # one bug per student: everything else is right
                assert result["score"] == result["max_score"], (student, exercise_id,
                                                                result["message"])


def _marked_blocks() -> list[tuple[str, str]]:
    """``(file, block text)`` for every fenced block preceded by ``<!-- from FILE -->``."""
    text = GUIDE.read_text()
    pattern = re.compile(r"<!-- from (\S+) -->\n```[a-z]*\n(.*?)^```", re.S | re.M)
    return [(m.group(1), m.group(2)) for m in pattern.finditer(text)]


def test_guide_code_is_the_example_code() -> None:
    blocks = _marked_blocks()
    assert len(blocks) >= 15
    for name, block in blocks:
        path = ROOT / name
        assert path.is_file() and path.resolve().is_relative_to(EXAMPLE), name
        assert block in path.read_text(), f"a block of AUTHORING.md is not in {name}:\n{block}"


def test_every_python_block_of_the_guide_is_marked() -> None:
    """Course code in the guide is never written out by hand: each python block says which
    file of the example it comes from."""
    text = GUIDE.read_text()
    python_blocks = len(re.findall(r"^```python\n", text, re.M))
    marked = len(re.findall(r"<!-- from \S+ -->\n```python\n", text))
    assert python_blocks == marked

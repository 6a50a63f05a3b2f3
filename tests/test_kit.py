"""Student kits: `dlgrade check` in a kit grades the public cases exactly as the course
does, and a kit holds no solution, no spec code and nothing of the hidden cases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import bundled
import numpy as np
import pytest
from click.testing import CliRunner
from dlgrade import api
from dlgrade.cli import main
from dlgrade.courses import course as courses
from dlgrade.courses import kit
from dlgrade.courses.templates import BEGIN, END

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples" / "class"
FIXTURE = ROOT / "tests" / "fixtures" / "course"


def make_kit(tmp_path_factory, selector: str) -> Path:
    out = tmp_path_factory.mktemp("kits") / selector.replace(",", "")
    result = CliRunner().invoke(main, ["kit", selector, str(out), "--course", str(ROOT)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def a1a2_kit(tmp_path_factory) -> Path:
    return make_kit(tmp_path_factory, "a1,a2")


def solution_lines(reference_dir: Path) -> set[str]:
    """Every substantial line inside a solution region of the course's references."""
    found = set()
    for path in reference_dir.glob("*.py"):
        inside = False
        for line in path.read_text().splitlines():
            text = line.strip()
            if text in (BEGIN, END):
                inside = text == BEGIN
            elif inside and len(text) >= 16 and not text.startswith("#"):
                found.add(text)
    return found


def per_check(result) -> dict:
    return {e.id: (e.score, e.status, e.message, e.hint,
                   [(c.name, c.score, c.passed, c.total, c.message) for c in e.checks])
            for e in result.exercises}


@pytest.mark.parametrize("student", ["ada", "ben", "eve.py", "dev", "fay.ipynb", "cleo"])
def test_check_in_a_kit_equals_check_with_the_course(a1a2_kit, student):
    path = SAMPLES / student
    with_course = api.check(path, ["a1", "a2"], course=ROOT)
    in_kit = api.check(path, ["a1", "a2"], course=a1a2_kit)
    assert per_check(in_kit) == per_check(with_course)
    assert in_kit.score == with_course.score


def test_the_kit_holds_no_solution_and_no_hidden_case(a1a2_kit):
    lines = solution_lines(ROOT / "reference")
    assert len(lines) > 50  # the check itself can fail
    templates = "\n".join(p.read_text() for p in (ROOT / "student_templates").glob("*.py"))
    for path in a1a2_kit.rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("latin-1")
            # A whole line of a solution, or a piece of one that no template states (the
            # SELU docstring gives its constants, as the template does).
            own = {line.strip() for line in text.splitlines()}
            leaked = [line for line in lines
                      if line in own or (line in text and line not in templates)]
            assert not leaked, (path, leaked[:3])
            assert "hidden case " not in text  # no case label "hidden case 1"
    names = {p.name for p in a1a2_kit.iterdir()}
    assert names == {"activations.py", "losses.py", "course.toml", kit.DATA_DIR}
    doc = json.loads((a1a2_kit / kit.DATA_DIR / kit.DATA_FILE).read_text())
    assert [a["id"] for a in doc["assignments"]] == ["a1", "a2"]
    assert "secret" not in json.dumps(doc).lower()


def test_a_kit_has_no_hidden_cases_to_grade(a1a2_kit):
    with pytest.raises(courses.CourseError, match="only the public cases"):
        api.grade(SAMPLES / "ada", ["a1"], course=a1a2_kit)
    runner = CliRunner()
    result = runner.invoke(main, ["grade", "a1", str(SAMPLES), "--course", str(a1a2_kit),
                                  "--no-gradebook"])
    assert result.exit_code == 2 and "only the public cases" in result.output
    result = runner.invoke(main, ["kit", "a1", "elsewhere", "--course", str(a1a2_kit)])
    assert result.exit_code == 2 and "already a kit" in result.output


def test_check_from_inside_the_kit_folder(a1a2_kit, tmp_path):
    """The student's path: cd into the kit, fill in the templates, `dlgrade check`."""
    work = tmp_path / "hw"
    result = CliRunner().invoke(main, ["kit", "a1", str(work), "--course", str(ROOT)])
    assert result.exit_code == 0
    (work / "activations.py").write_text((SAMPLES / "ben" / "activations.py").read_text())
    done = subprocess.run([sys.executable, "-m", "dlgrade", "check"], cwd=work,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "DLGRADE_COURSE": ""})
    assert done.returncode == 1, done.stderr
    assert "a1.sigmoid" in done.stdout and "a2." not in done.stdout
    a1_points = sum(e.points for e in bundled.COURSE.assignment("a1").exercises)
    assert f"Total: 25.20 / {a1_points:g}" in done.stdout


def test_a_kit_is_never_written_over_files(tmp_path):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "activations.py").write_text("# my work\n")
    result = CliRunner().invoke(main, ["kit", "a1", str(out), "--course", str(ROOT)])
    assert result.exit_code == 2 and "not an empty folder" in result.output
    assert (out / "activations.py").read_text() == "# my work\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["busy"]  # no staging left


@pytest.mark.parametrize("damage, expected", [
    ("truncate", "cannot read the kit"),
    ("format", "not a kit of format"),
    ("pickle", "cannot read the kit's arrays"),
    ("tag", "unknown value tag"),
])
def test_a_damaged_kit_is_one_line(tmp_path, damage, expected):
    out = tmp_path / "kit"
    assert CliRunner().invoke(main, ["kit", "hw1", str(out), "--course",
                                     str(FIXTURE)]).exit_code == 0
    data = out / kit.DATA_DIR / kit.DATA_FILE
    text = data.read_text()
    if damage == "truncate":
        data.write_text(text[: len(text) // 2])
    elif damage == "format":
        data.write_text(text.replace('"format":1', '"format":99'))
    elif damage == "tag":
        data.write_text(text.replace('"$":"array"', '"$":"object"', 1))
    else:  # every array an object array, which needs pickle to load: refused, never unpickled
        arrays = out / kit.DATA_DIR / kit.ARRAYS_FILE
        with np.load(arrays) as npz:
            names = list(npz.files)
        with open(arrays, "wb") as f:
            np.savez(f, **{name: np.array([{"x": 1}], dtype=object) for name in names})
    (out / "ops.py").write_text((FIXTURE / "students" / "right" / "ops.py").read_text())
    done = subprocess.run([sys.executable, "-m", "dlgrade", "check"], cwd=out,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert expected in done.stderr and "Traceback" not in done.stderr


def _array_keys(tree: object) -> set[str]:
    """The names of the arrays a kit.json entry refers to."""
    if isinstance(tree, dict):
        found = {tree["k"]} if tree.get("$") == "array" else set()
        return found.union(*(_array_keys(v) for v in tree.values()))
    if isinstance(tree, list):
        return set().union(*(_array_keys(v) for v in tree))
    return set()


def test_a_check_reads_only_the_arrays_of_what_it_checks(tmp_path):
    """A kit of hw1 and hw2 whose hw2 arrays are all damaged (object arrays, which need
    pickle): checking hw1 never reads them; checking hw2 is refused in one line."""
    from fixture_course import copy_fixture

    course = copy_fixture(tmp_path / "course", ("hw1", "hw2"))
    out = tmp_path / "kit"
    assert CliRunner().invoke(main, ["kit", "hw1,hw2", str(out), "--course",
                                     str(course)]).exit_code == 0
    doc = json.loads((out / kit.DATA_DIR / kit.DATA_FILE).read_text())
    by_id = {a["id"]: _array_keys(a["exercises"]) for a in doc["assignments"]}
    damaged = by_id["hw2"] - by_id["hw1"]
    assert damaged
    arrays = out / kit.DATA_DIR / kit.ARRAYS_FILE
    with np.load(arrays) as npz:
        kept = {name: npz[name] for name in npz.files}
    with open(arrays, "wb") as f:
        np.savez(f, **{name: np.array([{"x": 1}], dtype=object) if name in damaged else value
                       for name, value in kept.items()})
    for name in ("ops.py", "layers.py"):
        (out / name).write_text((FIXTURE / "students" / "right" / name).read_text())

    def check(assignment: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "dlgrade", "check", "-a", assignment],
                              cwd=out, capture_output=True, text=True, timeout=120)

    hw1 = check("hw1")
    assert hw1.returncode == 0, hw1.stdout + hw1.stderr
    assert "Total: 8.00 / 8" in hw1.stdout
    hw2 = check("hw2")
    assert hw2.returncode == 2 and "cannot read the kit's arrays" in hw2.stderr
    assert "Traceback" not in hw2.stderr and "object" in hw2.stderr


def test_fixture_kit_names_the_mistake(tmp_path):
    out = tmp_path / "kit"
    assert CliRunner().invoke(main, ["kit", "all", str(out), "--course",
                                     str(FIXTURE)]).exit_code == 0
    result = api.check(FIXTURE / "students" / "wrong", course=out)
    cube = next(e for e in result.exercises if e.id == "hw1.cube")
    assert "the backward drops the factor 3" in cube.message
    assert cube.hint == "d/dx x^3 = 3 x^2."


@pytest.mark.slow
def test_a_fresh_environment_with_only_the_engine_wheel(a1a2_kit, tmp_path):
    """The done-when of the split: build the wheel, install it alone in a new virtual
    environment (numpy and click come with it; no torch, no course), then check in a kit."""
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(dist), str(ROOT)], check=True, timeout=300)
    wheel = next(dist.glob("dlgrade-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q",
                    "--disable-pip-version-check", str(wheel)], check=True, timeout=600)
    probe = ("import importlib.util as u; print([m for m in ('torch', 'assignments', "
             "'reference', 'autograder') if u.find_spec(m)])")
    done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
    student = tmp_path / "student"
    student.mkdir()
    for name in ("activations.py", "losses.py"):
        (student / name).write_text((SAMPLES / "ben" / name).read_text())
    done = subprocess.run([str(venv / "bin" / "dlgrade"), "check", str(student), "--course",
                           str(a1a2_kit)], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    full = subprocess.run([sys.executable, "-m", "dlgrade", "check", str(student), "-a",
                           "a1,a2", "--course", str(ROOT)], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)

    def feedback(text: str) -> list[str]:  # without the sandbox's scratch paths
        return [line for line in text.splitlines() if "/child-" not in line]

    assert feedback(done.stdout) == feedback(full.stdout)
    points = sum(e.points for a in ("a1", "a2") for e in bundled.COURSE.assignment(a).exercises)
    assert f"Total: 47.30 / {points:g}" in done.stdout
    # A normal (non-editable) install grades a course from its folder, hidden cases included.
    scores = tmp_path / "scores.json"
    done = subprocess.run([str(venv / "bin" / "dlgrade"), "grade", "a1", str(SAMPLES),
                           "--course", str(ROOT), "--no-gradebook", "--json", str(scores)],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    graded = json.loads(scores.read_text())
    assert sum(e["score"] for e in graded["ada"].values()) == 28
    assert round(sum(e["score"] for e in graded["ben"].values()), 2) == 25.2


@pytest.fixture(scope="module")
def whole_kit(tmp_path_factory) -> Path:
    return make_kit(tmp_path_factory, "all")


@pytest.mark.parametrize("student", ["ada", "ben", "cleo", "dev"])
def test_program_exercises_in_a_kit_grade_as_the_course(whole_kit, student):
    """A3-A5: scripts of calls, trajectories, Value graphs and the properties of random
    layers (dropout, initialisers) travel as data and judge alike."""
    path = SAMPLES / student
    with_course = api.check(path, ["a3", "a4", "a5"], course=ROOT)
    in_kit = api.check(path, ["a3", "a4", "a5"], course=whole_kit)
    assert per_check(in_kit) == per_check(with_course)


def test_the_torch_track_uses_the_same_kit_data(a1a2_kit):
    pytest.importorskip("torch")
    from dlgrade.grading.grader import grade_submission
    from dlgrade.load.submission import from_path

    student = from_path(ROOT / "tests" / "fixtures" / "torch_track")
    track = {"name": "torch", "device": "cpu"}
    results = []
    for where in (ROOT, a1a2_kit):
        loaded = api.load_course(where)
        results.append(grade_submission(student, [loaded.assignment("a1")], hidden=False,
                                        track=track))
    assert per_check(results[0]) == per_check(results[1])
    assert results[1].score > 0


def test_a_kit_s_arrays_over_the_size_limit_are_refused_in_plain_words(tmp_path, monkeypatch):
    path = tmp_path / "arrays.npz"
    np.savez(path, a0=np.zeros(1000))
    monkeypatch.setattr(kit, "MAX_BYTES", 1 << 10)
    with pytest.raises(courses.CourseError) as refused:
        kit._Arrays(path, str(path))
    assert str(refused.value) == f"{path}: larger than 0 MB"

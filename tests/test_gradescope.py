"""The Gradescope bundle and the results.json it writes, on the sample students."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest
from click.testing import CliRunner
from dlgrade.cli.gradescope import gradescope_command, run_command
from dlgrade.courses import registry
from dlgrade.integrations.gradescope import (
    CONFIG_NAME,
    TORCH_CPU_INDEX,
    build_bundle,
    build_wheel,
    locate,
    torch_pin,
    write_results,
)

A1 = registry.resolve("a1")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("gs") / "a1.zip"
    names = build_bundle(A1, out)
    return out, names


def test_bundle_holds_setup_run_autograder_and_a_wheel(bundle):
    out, names = bundle
    with zipfile.ZipFile(out) as z:
        assert z.namelist() == names
        wheel = next(n for n in names if n.endswith(".whl"))
        course = {n for n in names if n.startswith("course/")}
        assert set(names) - course == {"setup.sh", "run_autograder", CONFIG_NAME, wheel}
        # The course as the bundle holds it: a1's specs, the references, the secret.
        assert {"course/course.toml", "course/secret", "course/specs/a1/__init__.py",
                "course/reference/activations.py"} <= course
        assert not [n for n in course if n.startswith("course/specs/a2/")]
        assert "assignments = [\"a1\"]" in z.read("course/course.toml").decode()
        assert wheel.startswith("dlgrade-") and "/" not in wheel  # at the root of the zip
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in z.infolist()}
        assert modes["setup.sh"] == modes["run_autograder"] == 0o755
        setup = z.read("setup.sh").decode()
        run = z.read("run_autograder").decode()
        config = json.loads(z.read(CONFIG_NAME))
    assert setup.startswith("#!/usr/bin/env bash") and run.startswith("#!/usr/bin/env bash")
    assert f'pip install --no-cache-dir "$SOURCE/{wheel}"' in setup
    assert "torch" not in setup  # the numpy track needs no torch
    assert "git" not in setup and "http" not in setup  # nothing fetched from our repository
    assert "-m dlgrade gradescope-run" in run and "/results/results.json" in run
    assert '--course "$ROOT/source/course"' in run
    assert 'chmod -R go-rwx "$SOURCE/course"' in setup  # root alone reads the solutions
    assert config == {"assignments": ["a1"], "track": None, "visibility": "visible",
                      "late": None}
    for script in (setup, run):
        checked = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True)
        assert checked.returncode == 0, checked.stderr


def test_the_wheel_is_complete_and_its_record_true():
    name, data = build_wheel()
    with zipfile.ZipFile(io.BytesIO(data)) as wheel:
        names = set(wheel.namelist())
        info = name.split("-py3")[0] + ".dist-info"
        for needed in ("dlgrade/cli/__init__.py", "dlgrade/integrations/gradescope.py",
                       "dlgrade/sandbox/child.py", "dlgrade/courses/kit.py",
                       f"{info}/METADATA", f"{info}/WHEEL", f"{info}/RECORD",
                       f"{info}/entry_points.txt"):
            assert needed in names, needed
        # The engine only: the course travels beside the wheel, never inside it.
        assert {n.split("/", 1)[0] for n in names} == {"dlgrade", info}
        assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
        assert "dlgrade = dlgrade.cli:main" in wheel.read(f"{info}/entry_points.txt").decode()
        assert "Name: dlgrade" in wheel.read(f"{info}/METADATA").decode()
        record = list(csv.reader(io.StringIO(wheel.read(f"{info}/RECORD").decode())))
        assert {r[0] for r in record} == names
        for path, digest, size in record:
            if path.endswith("RECORD"):
                continue
            content = wheel.read(path)
            expected = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=")
            assert digest == "sha256=" + expected.decode() and int(size) == len(content)


def test_torch_track_installs_the_pinned_cpu_torch(tmp_path, root):
    pin = torch_pin(root)
    assert pin == next(line for line in (root / "constraints.txt").read_text().splitlines()
                       if line.startswith("torch=="))
    out = tmp_path / "torch.zip"
    names = build_bundle(A1, out, track={"name": "torch", "device": "cpu"},
                         visibility="after_due_date")
    with zipfile.ZipFile(out) as z:
        setup = z.read("setup.sh").decode()
        config = json.loads(z.read(CONFIG_NAME))
        assert z.read("constraints.txt").decode().strip() == pin
    assert "constraints.txt" in names
    assert f'--index-url {TORCH_CPU_INDEX} "{pin}"' in setup
    assert config["track"] == {"name": "torch", "device": "cpu"}
    assert config["visibility"] == "after_due_date"


def _check_format(data):
    """Gradescope's results.json: top-level score, execution_time, output; tests with
    name, score, max_score, visibility and output."""
    assert set(data) >= {"score", "execution_time", "output", "tests"}
    assert isinstance(data["execution_time"], int) and data["execution_time"] >= 1
    assert len(data["tests"]) == len(A1[0].exercises)
    for test, exercise in zip(data["tests"], A1[0].exercises, strict=True):
        assert test["name"] == f"{exercise.id} ({exercise.title})"
        assert test["max_score"] == exercise.points
        assert 0 <= test["score"] <= test["max_score"]
        assert test["visibility"] in ("visible", "after_due_date", "after_published", "hidden")
        assert isinstance(test["output"], str) and test["output"]
    json.dumps(data)  # plain JSON


def test_results_for_the_sample_students(root, tmp_path):
    students = root / "samples" / "class"
    ada = write_results(students / "ada", tmp_path / "ada" / "results.json", "a1")
    assert json.loads((tmp_path / "ada" / "results.json").read_text()) == ada
    _check_format(ada)
    assert ada["score"] == 28.0
    assert all(t["score"] == t["max_score"] for t in ada["tests"])
    assert "a1 Activations: 28.00 / 28" in ada["output"]
    dev = write_results(students / "dev", tmp_path / "dev.json", ["a1"],
                        visibility="after_published")
    _check_format(dev)
    assert dev["score"] == 0.0 and all(t["score"] == 0 for t in dev["tests"])
    assert all(t["visibility"] == "after_published" for t in dev["tests"])
    assert "not attempted" in dev["tests"][0]["output"]
    ben = write_results(students / "ben", tmp_path / "ben.json", "a1")
    assert ben["score"] == pytest.approx(25.2)
    sigmoid = ben["tests"][0]
    assert sigmoid["score"] == pytest.approx(0.8)
    assert "sigmoid_backward computes out * (1 - out) with x" in sigmoid["output"]
    assert sum(t["score"] for t in ben["tests"]) == pytest.approx(ben["score"])


def test_hidden_cases_never_show_expected_values(tmp_path):
    """A relu right on the public cases and wrong on the hidden ones."""
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "activations.py").write_text(
        "import numpy as np\n\n"
        "def relu_forward(x):\n"
        "    out = np.maximum(x, 0) * (1.5 if x.shape != (4, 5) else 1.0)\n"
        "    return out, x\n\n"
        "def relu_backward(dout, cache):\n"
        "    return dout * (cache > 0)\n")
    data = write_results(folder, tmp_path / "results.json", "a1")
    relu = next(t for t in data["tests"] if t["name"].startswith("a1.relu "))
    hidden = [line for line in relu["output"].splitlines() if "hidden case" in line]
    assert hidden and 0 < relu["score"] < relu["max_score"], relu["output"]
    for line in hidden:
        assert "expected" not in line and "yours" not in line, line


def test_locate_finds_nested_folders_and_single_files(tmp_path, root):
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "activations.py").write_text("")
    assert locate(flat, A1).path == flat
    nested = tmp_path / "nested"
    (nested / "hw1" / "src").mkdir(parents=True)
    (nested / "__MACOSX").mkdir()
    (nested / "__MACOSX" / "activations.py").write_text("")
    (nested / "hw1" / "src" / "activations.py").write_text("")
    assert locate(nested, A1).path == nested / "hw1" / "src"
    single = tmp_path / "single"
    single.mkdir()
    shutil.copy(root / "samples" / "class" / "eve.py", single / "my_work.py")
    assert locate(single, A1).path == single / "my_work.py"
    notebook = tmp_path / "notebook"
    (notebook / "hw").mkdir(parents=True)
    (notebook / "hw" / "activations.ipynb").write_text("{}")
    assert locate(notebook, A1).path == notebook / "hw"
    (notebook / "hw" / "activations.ipynb").rename(notebook / "mine.ipynb")
    assert locate(notebook, A1).path == notebook / "mine.ipynb"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert locate(empty, A1).path == empty


def test_a_submission_in_a_folder_and_in_one_file(tmp_path, root):
    nested = tmp_path / "nested" / "my-hw"
    nested.mkdir(parents=True)
    shutil.copy(root / "samples" / "class" / "ada" / "activations.py", nested)
    data = write_results(tmp_path / "nested", tmp_path / "r.json", "a1")
    assert data["score"] == 28.0 and "Graded my-hw" in data["output"]
    single = tmp_path / "single"
    single.mkdir()
    shutil.copy(root / "samples" / "class" / "eve.py", single / "eve.py")
    assert write_results(single, tmp_path / "e.json", "a1")["score"] == pytest.approx(26.8)
    empty = tmp_path / "empty"
    empty.mkdir()
    data = write_results(empty, tmp_path / "x.json", "a1")
    assert data["score"] == 0 and "activations.py" in data["tests"][0]["output"]


METADATA = {
    "created_at": "2026-12-02T10:00:00.000000+00:00",
    "assignment": {"due_date": "2026-11-30T23:59:00.000000+00:00", "title": "HW1"},
    "users": [{"email": "ada@example.edu", "name": "Ada", "id": 1}],
}


def test_late_penalty_from_gradescope_metadata(root, tmp_path):
    late = {"penalty_per_day": 0.1, "grace_seconds": 900, "zero_after": None}
    meta_path = tmp_path / "submission_metadata.json"
    meta_path.write_text(json.dumps(METADATA))
    data = write_results(root / "samples" / "class" / "ada", tmp_path / "r.json", "a1",
                         metadata=meta_path, late=late)
    assert data["score"] == pytest.approx(28 * 0.8)  # 1 day 10 hours late: 2 days
    assert sum(t["score"] for t in data["tests"]) == 28  # the tests keep the raw scores
    assert data["extra_data"]["raw_score"] == 28 and data["extra_data"]["late"]["days_late"] == 2
    assert "2 day(s) late" in data["output"] and "after the late penalty" in data["output"]
    extended = dict(METADATA, users=[dict(METADATA["users"][0], assignment={
        "due_date": "2026-12-03T23:59:00+00:00"})])
    data = write_results(root / "samples" / "class" / "ada", tmp_path / "r.json", "a1",
                         metadata=extended, late=late)
    assert data["score"] == 28  # the student's extension wins
    data = write_results(root / "samples" / "class" / "ada", tmp_path / "r.json", "a1",
                         metadata={}, late=late)
    assert data["score"] == 28 and "no penalty applied" in data["output"]


def test_a_grader_failure_still_writes_results(tmp_path):
    data = write_results(tmp_path, tmp_path / "out" / "results.json", "a9")
    assert data["score"] == 0 and data["tests"] == []
    assert "course staff" in data["output"]
    assert json.loads((tmp_path / "out" / "results.json").read_text()) == data


def test_run_command_reads_the_bundle_config(bundle, root, tmp_path):
    out, _ = bundle
    source = tmp_path / "source"
    with zipfile.ZipFile(out) as z:
        z.extractall(source)
    results = tmp_path / "results" / "results.json"
    run = CliRunner().invoke(run_command, [
        "--config", str(source / CONFIG_NAME), "--submission", str(root / "samples" / "class" /
                                                                    "ada"),
        "--results", str(results), "--metadata", str(tmp_path / "absent.json"),
        "--course", str(source / "course")])
    assert run.exit_code == 0, run.output
    assert json.loads(results.read_text())["score"] == 28.0
    broken = CliRunner().invoke(run_command, [
        "--config", str(tmp_path / "none.json"), "--submission", str(tmp_path),
        "--results", str(results), "--course", str(source / "course")])
    assert broken.exit_code == 1 and json.loads(results.read_text())["score"] == 0


def test_gradescope_command(tmp_path):
    runner = CliRunner()
    out = tmp_path / "a1.zip"
    result = runner.invoke(gradescope_command, ["a1", str(out), "--late-penalty", "0.1",
                                                "--grace", "15m"])
    assert result.exit_code == 0, result.output
    assert "run_autograder" in result.output
    with zipfile.ZipFile(out) as z:
        assert json.loads(z.read(CONFIG_NAME))["late"] == {
            "penalty_per_day": 0.1, "grace_seconds": 900.0, "zero_after": None}
    for args, message in ((["a9", str(out)], "unknown assignment"),
                          (["a1", str(tmp_path / "a1.tar")], "should end in .zip"),
                          (["a4", str(out), "--track", "torch"], "has no torch track"),
                          (["a1", str(out), "--late-penalty", "0.1", "--grace", "soon"],
                           "cannot read the duration")):
        bad = runner.invoke(gradescope_command, args)
        assert bad.exit_code == 2 and message in bad.output, bad.output


@pytest.mark.slow
def test_run_autograder_end_to_end(bundle, root, tmp_path):
    """Install the bundle's wheel into a fresh virtual environment (offline; numpy and click
    come from the system site-packages) and run run_autograder as Gradescope would."""
    out, _ = bundle
    home = tmp_path / "autograder"
    with zipfile.ZipFile(out) as z:
        z.extractall(home / "source")
        wheel = next(n for n in z.namelist() if n.endswith(".whl"))
    (home / "submission").mkdir()
    shutil.copy(root / "samples" / "class" / "ben" / "activations.py", home / "submission")
    (home / "submission_metadata.json").write_text(json.dumps(METADATA))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                   check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps",
                    "--no-index", str(home / "source" / wheel)], check=True)
    where = subprocess.run([str(venv / "bin" / "python"), "-I", "-c",
                            "import dlgrade; print(dlgrade.__file__)"],
                           capture_output=True, text=True, check=True).stdout
    assert str(venv) in where  # the wheel's copy, not this checkout
    env = dict(os.environ, AUTOGRADER_ROOT=str(home), DLGRADE_PYTHON=str(venv / "bin/python"))
    done = subprocess.run(["bash", str(home / "source" / "run_autograder")], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads((home / "results" / "results.json").read_text())
    _check_format(data)
    assert data["score"] == pytest.approx(25.2)

"""The Gradescope bundle and the results.json it writes, on the fixture course
(tests/fixtures/course) and its students."""

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
from pathlib import Path

import bundled
import pytest
from click.testing import CliRunner
from dlgrade import api
from dlgrade.cli.gradescope import gradescope_command, run_command
from dlgrade.integrations.gradescope import (
    CONFIG_NAME,
    TORCH_CPU_INDEX,
    BundleError,
    build_bundle,
    build_wheel,
    locate,
    torch_pin,
    write_results,
)

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "course"
STUDENTS = FIXTURE / "students"
WRONG = 2.5  # wrong's cube: forward right, backward not (half of 5); its sq not attempted


@pytest.fixture
def hw1():
    """The fixture course in use; its hw1 (what build_bundle and write_results take)."""
    return api.load_course(FIXTURE).resolve("hw1")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("gs") / "hw1.zip"
    names = build_bundle(api.load_course(FIXTURE).resolve("hw1"), out)
    return out, names


def test_bundle_holds_setup_run_autograder_and_a_wheel(bundle):
    out, names = bundle
    with zipfile.ZipFile(out) as z:
        assert z.namelist() == names
        wheel = next(n for n in names if n.endswith(".whl"))
        course = {n for n in names if n.startswith("course/")}
        assert set(names) - course == {"setup.sh", "run_autograder", CONFIG_NAME, wheel}
        # The course as the bundle holds it: hw1's specs, its reference, the secret; not
        # the fixture's other spec package (hw2) nor its reference (layers.py).
        assert {"course/course.toml", "course/secret", "course/specs/hw1/__init__.py",
                "course/reference/ops.py"} <= course
        assert (FIXTURE / "specs" / "hw2" / "__init__.py").is_file()
        assert not [n for n in course if n.startswith("course/specs/hw2/")]
        assert "course/reference/layers.py" not in course
        assert "assignments = [\"hw1\"]" in z.read("course/course.toml").decode()
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
    assert config == {"assignments": ["hw1"], "track": None, "visibility": "visible",
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
    """Kept on the bundled course: a torch-track bundle is for an assignment with a torch
    track (a1), and the fixture course has none (its hw1 is refused below)."""
    a1 = bundled.use().resolve("a1")
    pin = torch_pin(root)
    assert pin == next(line for line in (root / "constraints.txt").read_text().splitlines()
                       if line.startswith("torch=="))
    out = tmp_path / "torch.zip"
    names = build_bundle(a1, out, track={"name": "torch", "device": "cpu"},
                         visibility="after_due_date")
    with zipfile.ZipFile(out) as z:
        setup = z.read("setup.sh").decode()
        config = json.loads(z.read(CONFIG_NAME))
        assert z.read("constraints.txt").decode().strip() == pin
    assert "constraints.txt" in names
    assert f'--index-url {TORCH_CPU_INDEX} "{pin}"' in setup
    assert config["track"] == {"name": "torch", "device": "cpu"}
    assert config["visibility"] == "after_due_date"


def _check_format(data, assignment):
    """Gradescope's results.json: top-level score, execution_time, output; tests with
    name, score, max_score, visibility and output."""
    assert set(data) >= {"score", "execution_time", "output", "tests"}
    assert isinstance(data["execution_time"], int) and data["execution_time"] >= 1
    assert len(data["tests"]) == len(assignment.exercises)
    for test, exercise in zip(data["tests"], assignment.exercises, strict=True):
        assert test["name"] == f"{exercise.id} ({exercise.title})"
        assert test["max_score"] == exercise.points
        assert 0 <= test["score"] <= test["max_score"]
        assert test["visibility"] in ("visible", "after_due_date", "after_published", "hidden")
        assert isinstance(test["output"], str) and test["output"]
    json.dumps(data)  # plain JSON


def test_results_for_the_fixture_students(hw1, tmp_path):
    (assignment,) = hw1
    right = write_results(STUDENTS / "right", tmp_path / "right" / "results.json", "hw1")
    assert json.loads((tmp_path / "right" / "results.json").read_text()) == right
    _check_format(right, assignment)
    assert right["score"] == assignment.points
    assert all(t["score"] == t["max_score"] for t in right["tests"])
    assert (f"hw1 {assignment.title}: {assignment.points:.2f} / {assignment.points:g}"
            in right["output"])
    stub = tmp_path / "stub"  # the untouched template: nothing attempted
    stub.mkdir()
    shutil.copy(FIXTURE / "templates" / "ops.py", stub)
    blank = write_results(stub, tmp_path / "stub.json", ["hw1"], visibility="after_published")
    _check_format(blank, assignment)
    assert blank["score"] == 0.0 and all(t["score"] == 0 for t in blank["tests"])
    assert all(t["visibility"] == "after_published" for t in blank["tests"])
    assert "not attempted" in blank["tests"][0]["output"]
    wrong = write_results(STUDENTS / "wrong", tmp_path / "wrong.json", "hw1")
    assert wrong["score"] == pytest.approx(WRONG)
    cube = wrong["tests"][0]
    assert cube["name"].startswith("hw1.cube ") and cube["score"] == pytest.approx(WRONG)
    assert "the backward drops the factor 3" in cube["output"]
    assert sum(t["score"] for t in wrong["tests"]) == pytest.approx(wrong["score"])


def test_hidden_cases_never_show_expected_values(hw1, tmp_path):
    """A cube right on the public cases and wrong on the hidden ones."""
    public = hw1[0].exercises[0].public_shapes[0]
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "ops.py").write_text(
        "def cube_forward(x):\n"
        f"    out = x**3 * (1.5 if x.shape != {public} else 1.0)\n"
        "    return out, x\n\n"
        "def cube_backward(dout, cache):\n"
        "    return 3 * cache**2 * dout\n")
    data = write_results(folder, tmp_path / "results.json", "hw1")
    cube = next(t for t in data["tests"] if t["name"].startswith("hw1.cube "))
    hidden = [line for line in cube["output"].splitlines() if "hidden case" in line]
    assert hidden and 0 < cube["score"] < cube["max_score"], cube["output"]
    for line in hidden:
        assert "expected" not in line and "yours" not in line, line


def test_locate_finds_nested_folders_and_single_files(hw1, tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "ops.py").write_text("")
    assert locate(flat, hw1).path == flat
    nested = tmp_path / "nested"
    (nested / "hw1" / "src").mkdir(parents=True)
    (nested / "__MACOSX").mkdir()
    (nested / "__MACOSX" / "ops.py").write_text("")
    (nested / "hw1" / "src" / "ops.py").write_text("")
    assert locate(nested, hw1).path == nested / "hw1" / "src"
    single = tmp_path / "single"
    single.mkdir()
    shutil.copy(STUDENTS / "right" / "ops.py", single / "my_work.py")
    assert locate(single, hw1).path == single / "my_work.py"
    notebook = tmp_path / "notebook"
    (notebook / "hw").mkdir(parents=True)
    (notebook / "hw" / "ops.ipynb").write_text("{}")
    assert locate(notebook, hw1).path == notebook / "hw"
    (notebook / "hw" / "ops.ipynb").rename(notebook / "mine.ipynb")
    assert locate(notebook, hw1).path == notebook / "mine.ipynb"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert locate(empty, hw1).path == empty


def test_a_submission_in_a_folder_and_in_one_file(hw1, tmp_path):
    points = hw1[0].points
    nested = tmp_path / "nested" / "my-hw"
    nested.mkdir(parents=True)
    shutil.copy(STUDENTS / "right" / "ops.py", nested)
    data = write_results(tmp_path / "nested", tmp_path / "r.json", "hw1")
    assert data["score"] == points and "Graded my-hw" in data["output"]
    single = tmp_path / "single"
    single.mkdir()
    shutil.copy(STUDENTS / "wrong" / "ops.py", single / "wrong.py")
    assert write_results(single, tmp_path / "e.json", "hw1")["score"] == pytest.approx(WRONG)
    empty = tmp_path / "empty"
    empty.mkdir()
    data = write_results(empty, tmp_path / "x.json", "hw1")
    assert data["score"] == 0 and "ops.py" in data["tests"][0]["output"]


METADATA = {
    "created_at": "2026-12-02T10:00:00.000000+00:00",
    "assignment": {"due_date": "2026-11-30T23:59:00.000000+00:00", "title": "HW1"},
    "users": [{"email": "rita@example.edu", "name": "Rita", "id": 1}],
}


def test_late_penalty_from_gradescope_metadata(hw1, tmp_path):
    points = hw1[0].points
    late = {"penalty_per_day": 0.1, "grace_seconds": 900, "zero_after": None}
    meta_path = tmp_path / "submission_metadata.json"
    meta_path.write_text(json.dumps(METADATA))
    data = write_results(STUDENTS / "right", tmp_path / "r.json", "hw1",
                         metadata=meta_path, late=late)
    assert data["score"] == pytest.approx(points * 0.8)  # 1 day 10 hours late: 2 days
    assert sum(t["score"] for t in data["tests"]) == points  # the tests keep the raw scores
    assert data["extra_data"]["raw_score"] == points
    assert data["extra_data"]["late"]["days_late"] == 2
    assert "2 day(s) late" in data["output"] and "after the late penalty" in data["output"]
    extended = dict(METADATA, users=[dict(METADATA["users"][0], assignment={
        "due_date": "2026-12-03T23:59:00+00:00"})])
    data = write_results(STUDENTS / "right", tmp_path / "r.json", "hw1",
                         metadata=extended, late=late)
    assert data["score"] == points  # the student's extension wins
    data = write_results(STUDENTS / "right", tmp_path / "r.json", "hw1",
                         metadata={}, late=late)
    assert data["score"] == points and "no penalty applied" in data["output"]


def test_a_grader_failure_still_writes_results(hw1, tmp_path):
    data = write_results(tmp_path, tmp_path / "out" / "results.json", "hw9")
    assert data["score"] == 0 and data["tests"] == []
    assert "course staff" in data["output"]
    assert json.loads((tmp_path / "out" / "results.json").read_text()) == data


def test_run_command_reads_the_bundle_config(bundle, hw1, tmp_path):
    out, _ = bundle
    source = tmp_path / "source"
    with zipfile.ZipFile(out) as z:
        z.extractall(source)
    results = tmp_path / "results" / "results.json"
    run = CliRunner().invoke(run_command, [
        "--config", str(source / CONFIG_NAME), "--submission", str(STUDENTS / "right"),
        "--results", str(results), "--metadata", str(tmp_path / "absent.json"),
        "--course", str(source / "course")])
    assert run.exit_code == 0, run.output
    assert json.loads(results.read_text())["score"] == hw1[0].points
    broken = CliRunner().invoke(run_command, [
        "--config", str(tmp_path / "none.json"), "--submission", str(tmp_path),
        "--results", str(results), "--course", str(source / "course")])
    assert broken.exit_code == 1 and json.loads(results.read_text())["score"] == 0


def test_gradescope_command(tmp_path):
    runner = CliRunner()
    out = tmp_path / "hw1.zip"
    course = ["--course", str(FIXTURE)]
    result = runner.invoke(gradescope_command, ["hw1", str(out), "--late-penalty", "0.1",
                                                "--grace", "15m", *course])
    assert result.exit_code == 0, result.output
    assert "run_autograder" in result.output
    with zipfile.ZipFile(out) as z:
        assert json.loads(z.read(CONFIG_NAME))["late"] == {
            "penalty_per_day": 0.1, "grace_seconds": 900.0, "zero_after": None}
    for args, message in ((["hw9", str(out)], "unknown assignment"),
                          (["hw1", str(tmp_path / "hw1.tar")], "should end in .zip"),
                          (["hw1", str(out), "--track", "torch"], "hw1 has no torch track"),
                          (["hw1", str(out), "--late-penalty", "0.1", "--grace", "soon"],
                           "cannot read the duration")):
        bad = runner.invoke(gradescope_command, [*args, *course])
        assert bad.exit_code == 2 and message in bad.output, bad.output


@pytest.mark.slow
def test_run_autograder_end_to_end(bundle, hw1, tmp_path):
    """Install the bundle's wheel into a fresh virtual environment (offline; numpy and click
    come from the system site-packages) and run run_autograder as Gradescope would."""
    out, _ = bundle
    home = tmp_path / "autograder"
    with zipfile.ZipFile(out) as z:
        z.extractall(home / "source")
        wheel = next(n for n in z.namelist() if n.endswith(".whl"))
    (home / "submission").mkdir()
    shutil.copy(STUDENTS / "wrong" / "ops.py", home / "submission")
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
    _check_format(data, hw1[0])
    assert data["score"] == pytest.approx(WRONG)
    assert "the backward drops the factor 3" in data["tests"][0]["output"]


# ---------------------------------------------------------------- offline setup (--wheels)

NUMPY_311 = "numpy-2.2.6-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
OFFLINE = '--no-index --find-links "$SOURCE/wheels"'


def _fake_wheels(folder, *names):
    """Files named like wheels (build_bundle reads only their names and bytes)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(f"not really {name}".encode())
    return folder


def test_bundle_with_wheels_installs_from_them_offline(bundle, tmp_path):
    online = zipfile.ZipFile(bundle[0]).read("setup.sh").decode()
    assert "pypi.org and files.pythonhosted.org" in online and "--upgrade pip" in online
    assert "--no-index" not in online and "wheels" not in online
    wheels = _fake_wheels(tmp_path / "wheels", NUMPY_311, "click-8.1.7-py3-none-any.whl",
                          "Typing_Extensions-4.12.2-py3-none-any.whl")
    (wheels / "notes.txt").write_text("not a wheel")
    out = tmp_path / "hw1.zip"
    result = CliRunner().invoke(gradescope_command, ["hw1", str(out), "--wheels", str(wheels),
                                                     "--course", str(FIXTURE)])
    assert result.exit_code == 0, result.output
    put = sorted(p.name for p in wheels.glob("*.whl"))
    assert f"Wheels in wheels/ (setup.sh installs from them alone): {', '.join(put)}" \
        in result.output
    with zipfile.ZipFile(out) as z:
        held = {n.split("/", 1)[1]: z.getinfo(n) for n in z.namelist()
                if n.startswith("wheels/")}
        assert sorted(held) == put  # every .whl, nothing else
        for name, info in held.items():
            assert z.read(info) == (wheels / name).read_bytes()
            assert info.compress_type == zipfile.ZIP_STORED
        wheel = next(n for n in z.namelist() if n.endswith(".whl") and "/" not in n)
        setup = z.read("setup.sh").decode()
    assert f'pip install --no-cache-dir {OFFLINE} "$SOURCE/{wheel}"' in setup
    assert "--upgrade pip" not in setup and "pypi.org" not in setup
    assert "Network: none for pip" in setup
    assert subprocess.run(["bash", "-n"], input=setup, text=True).returncode == 0


def test_torch_track_takes_torch_from_the_wheels_when_there(tmp_path, root):
    a1 = bundled.use().resolve("a1")
    pin = torch_pin(root)
    torch = {"name": "torch", "device": "cpu"}
    version = pin.split("==")[1]
    base = [NUMPY_311, "click-8.1.7-py3-none-any.whl"]
    with_torch = _fake_wheels(tmp_path / "with",
                              *base, f"torch-{version}+cpu-cp311-cp311-linux_x86_64.whl")
    build_bundle(a1, tmp_path / "a.zip", track=torch, wheels=with_torch)
    setup = zipfile.ZipFile(tmp_path / "a.zip").read("setup.sh").decode()
    assert f'pip install --no-cache-dir {OFFLINE} "{pin}"' in setup
    assert TORCH_CPU_INDEX not in setup and "Network: none for pip" in setup
    without = _fake_wheels(tmp_path / "without", *base)
    result = CliRunner().invoke(gradescope_command, [
        "a1", str(tmp_path / "b.zip"), "--track", "torch", "--wheels", str(without),
        "--course", str(root)])
    assert result.exit_code == 0, result.output
    assert "No torch wheel among them: setup.sh downloads torch" in result.output
    setup = zipfile.ZipFile(tmp_path / "b.zip").read("setup.sh").decode()
    assert f'--index-url {TORCH_CPU_INDEX} "{pin}"' in setup
    assert "download.pytorch.org for torch" in setup.split("set -euo", 1)[0]
    other = _fake_wheels(tmp_path / "other", *base, "torch-1.13.1-cp311-cp311-linux_x86_64.whl")
    with pytest.raises(BundleError, match=f"torch 1.13.1 is not the pinned {pin}"):
        build_bundle(a1, tmp_path / "c.zip", track=torch, wheels=other)
    assert not (tmp_path / "c.zip").exists()


def test_a_wheels_folder_that_cannot_install_is_refused_in_one_line(tmp_path):
    click_wheel = "click-8.1.7-py3-none-any.whl"
    empty = _fake_wheels(tmp_path / "empty")
    (empty / "numpy.tar.gz").write_text("")
    numpy_310 = NUMPY_311.replace("cp311", "cp310")
    out = tmp_path / "hw1.zip"
    for folder, message in (
            (tmp_path / "absent", "no such folder"),
            (empty, "no .whl file in it"),
            (_fake_wheels(tmp_path / "no-click", NUMPY_311), "no wheel for click"),
            (_fake_wheels(tmp_path / "neither", "tomli-2.0.1-py3-none-any.whl"),
             "no wheel for numpy or click"),
            # A numpy for Python 3.10, where dlgrade also needs tomli.
            (_fake_wheels(tmp_path / "py310", numpy_310, click_wheel), "no wheel for tomli")):
        bad = CliRunner().invoke(gradescope_command, ["hw1", str(out), "--wheels", str(folder),
                                                      "--course", str(FIXTURE)])
        assert bad.exit_code == 2, bad.output
        assert bad.output.strip() == f"Error: --wheels {folder}: {message}" + (
            "" if "no wheel" not in message else " (see the README's Gradescope paragraph "
                                                 "for the pip download line)"), bad.output
        assert not out.exists()
    # The distribution name is normalised: Click_-named and upper-case wheels count.
    names = _fake_wheels(tmp_path / "names", "NumPy-2.2.6-cp311-cp311-linux_x86_64.whl",
                         "Click-8.1.7-py3-none-any.whl")
    good = CliRunner().invoke(gradescope_command, ["hw1", str(out), "--wheels", str(names),
                                                   "--course", str(FIXTURE)])
    assert good.exit_code == 0, good.output


def _dead_network_env(**extra):
    """This environment with every way pip could reach an index closed: no pip config
    (this machine's points at local indexes), a dead index and dead proxies."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PIP_") and k.lower() not in ("no_proxy", "all_proxy")}
    dead = "http://127.0.0.1:9"  # the discard port: nothing listens
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_INDEX_URL=f"{dead}/simple", PIP_RETRIES="0",
               PIP_DEFAULT_TIMEOUT="2", HTTP_PROXY=dead, HTTPS_PROXY=dead, http_proxy=dead,
               https_proxy=dead, **extra)
    return env


@pytest.mark.slow
def test_setup_sh_installs_offline_from_the_wheels(bundle, hw1, tmp_path):
    """The offline path for real: wheels of numpy and click fetched here, a bundle built
    with them, and its own setup.sh run with the network closed, into a fresh venv that
    then grades a student through run_autograder."""
    if os.geteuid() != 0:
        pytest.skip("setup.sh chowns the course to root, as Gradescope runs it")
    import importlib.metadata as metadata

    wheels = tmp_path / "wheels"
    wanted = [f"{name}=={metadata.version(name)}" for name in ("numpy", "click")]
    if sys.version_info < (3, 11):
        wanted.append("tomli")
    fetched = subprocess.run([sys.executable, "-m", "pip", "download", "-q", *wanted,
                              "--only-binary=:all:", "-d", str(wheels)],
                             capture_output=True, text=True, timeout=300)
    if fetched.returncode != 0:
        pytest.skip("pip download cannot reach a registry: "
                    + (fetched.stderr.strip().splitlines() or ["no output"])[-1])
    out = tmp_path / "hw1.zip"
    build_bundle(hw1, out, wheels=wheels)
    home = tmp_path / "autograder"
    with zipfile.ZipFile(out) as z:
        z.extractall(home / "source")
    bin_dir = tmp_path / "bin"  # setup.sh's python3: this Python, never apt-get
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(sys.executable)
    env = _dead_network_env(PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
                            DLGRADE_SOURCE=str(home / "source"), DLGRADE_VENV=str(home / "venv"))
    # The closed network is closed: pip cannot fetch click from anywhere.
    blocked = subprocess.run([sys.executable, "-m", "pip", "download", "--no-cache-dir",
                              "click", "-d", str(tmp_path / "nothing")], env=env,
                             capture_output=True, text=True, timeout=120)
    assert blocked.returncode != 0, blocked.stdout
    done = subprocess.run(["bash", str(home / "source" / "setup.sh")], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    python = home / "venv" / "bin" / "python"
    where = subprocess.run([str(python), "-I", "-c",
                            "import click, dlgrade, numpy; print(dlgrade.__file__)"],
                           capture_output=True, text=True, env=env)
    assert where.returncode == 0, where.stderr
    assert str(home / "venv") in where.stdout  # the wheel's copy, not this checkout
    helped = subprocess.run([str(home / "venv" / "bin" / "dlgrade"), "--help"],
                            capture_output=True, text=True, env=env)
    assert helped.returncode == 0 and "gradescope" in helped.stdout, helped.stderr
    (home / "submission").mkdir()
    shutil.copy(STUDENTS / "wrong" / "ops.py", home / "submission")
    graded = subprocess.run(["bash", str(home / "source" / "run_autograder")],
                            env=dict(env, AUTOGRADER_ROOT=str(home)),
                            capture_output=True, text=True, timeout=120)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    data = json.loads((home / "results" / "results.json").read_text())
    assert data["score"] == pytest.approx(WRONG)

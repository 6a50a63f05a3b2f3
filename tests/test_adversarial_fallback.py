"""Adversarial suite: the fallback without namespaces and Landlock (issue 13 point 13).

On a Gradescope container without user namespaces and Landlock, dlgrade runs as root and
drops each child to ``nobody`` (uid 65534). There every exercise scored 0 "missing": the
child could not enter its scratch directory. Here the same machine is simulated: the
layers are turned off (``DLGRADE_NO_LAYERS``), and a private mount namespace of the test
makes the Python installation readable by ``nobody`` when it lives under a folder that is
not (``/root/.pyenv`` here), as setup.sh's virtual environment is on Gradescope. The
Gradescope bundle is unpacked and setup.sh's own lines make ``course/`` root's alone; then

* an honest student gets full marks through the bundle's ``run_autograder``;
* a hostile one cannot read the course's reference solution or secret;
* in a class run, a hostile student looking for a classmate's code (the run folders, the
  classmate's scratch directory through ``/proc/<pid>/cwd``) finds nothing, and the
  classmate's grade does not change.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import uuid
import zipfile
from pathlib import Path

import pytest
from dlgrade.courses import registry
from dlgrade.integrations.gradescope import COURSE_DIR, build_bundle

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "reference" / "activations.py"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="the nobody fallback is a root grader's"),
    pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare(1)"),
]

#: The honest sigmoid with a check first: the answer is wrong if any secret was readable.
HOSTILE_COURSE = '''
import glob
import os

import numpy as np

_seen = []


def _snoop():
    for path in ["@COURSE@/secret", "@COURSE@/reference/activations.py",
                 *glob.glob("@COURSE@/**", recursive=True)]:
        try:
            with open(path, "rb") as f:
                f.read(1)
            _seen.append("LEAK " + path)
        except OSError:
            pass


def sigmoid_forward(x):
    if not _seen:
        _seen.append("looked")
        _snoop()
    if any(s.startswith("LEAK") for s in _seen):
        raise RuntimeError(" ".join(_seen))
    out = 0.5 * (1 + np.tanh(0.5 * x))
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)
'''

#: Looks for the classmate's code while the classmate is graded beside it.
HOSTILE_CLASSMATE = '''
import glob
import os
import time

import numpy as np

_seen = []


def _snoop():
    end = time.time() + 4
    while time.time() < end and not _seen:
        paths = glob.glob("/tmp/dlgrade-*/**", recursive=True)
        paths += glob.glob("/tmp/dlgrade-*/run-*/*/*.py")
        paths += glob.glob("/tmp/dlgrade-*/run-*/*/submission/*.py")
        paths += glob.glob("/proc/*/cwd/submission/*.py") + glob.glob("/proc/*/cwd/*.py")
        for pid in os.listdir("/proc"):
            for name in ("cwd", "root"):
                try:
                    paths.append(os.readlink(f"/proc/{pid}/{name}") + "/submission/activations.py")
                except OSError:
                    pass
        for path in paths:
            try:
                with open(path, "rb") as f:
                    if "@MARK_REVERSED@"[::-1].encode() in f.read(1 << 20):
                        _seen.append("LEAK " + path)
            except (OSError, ValueError):
                pass
        time.sleep(0.05)


def sigmoid_forward(x):
    if not _seen:
        _snoop()
        _seen.append("looked")
    if any(s.startswith("LEAK") for s in _seen):
        raise RuntimeError(" ".join(_seen))
    out = 0.5 * (1 + np.tanh(0.5 * x))
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)
'''

#: The classmate: right, and slow at first, so that it is graded while mallory looks.
SLOW_HONEST = '''
import time

import numpy as np

_started = []


def sigmoid_forward(x):
    if not _started:
        _started.append(1)
        time.sleep(2)
    out = 0.5 * (1 + np.tanh(0.5 * x))
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)
'''


def _readable_python() -> str:
    """Shell lines (in the test's mount namespace) that make the Python installation
    reachable by others where one folder above it is not (e.g. /root, mode 0700): a tmpfs
    of mode 0711 over that folder with the installation's branch bound back."""
    prefix = Path(os.path.realpath(sys.prefix))
    blocked = [p for p in reversed(prefix.parents) if not os.stat(p).st_mode & stat.S_IXOTH]
    if not blocked:
        return ""
    if len(blocked) > 1:
        pytest.skip(f"the Python installation is under several closed folders: {blocked}")
    folder = blocked[0]
    branch = prefix.parents[len(prefix.parents) - len(folder.parts) - 1] \
        if folder != prefix.parent else prefix
    keep = tempfile.mkdtemp(prefix="dlgrade-keep-")
    return (f"mount --bind {branch} {keep} && mount -t tmpfs -o mode=0711 tmpfs {folder} && "
            f"mkdir -p {branch} && mount --move {keep} {branch} && ")


def run_fallback(command: list[str], env: dict[str, str], timeout: int = 180
                 ) -> subprocess.CompletedProcess[str]:
    """``command`` as root without namespaces and Landlock, children as nobody."""
    script = _readable_python() + "exec " + " ".join(f"'{c}'" for c in command)
    full_env = {**os.environ, **env, "DLGRADE_NO_LAYERS": "namespaces,landlock"}
    done = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                          env=full_env, capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT)
    if done.returncode != 0 and "unshare failed" in done.stderr:
        pytest.skip(f"no mount namespace for the test: {done.stderr.strip()}")
    return done


@pytest.fixture(scope="module")
def autograder():
    """Gradescope's /autograder for a1: the bundle unpacked in a folder others may cross,
    and setup.sh's lines for ``course/`` run on it."""
    home = Path(tempfile.mkdtemp(prefix="dlgrade-fallback-"))
    home.chmod(0o755)
    out = home / "a1.zip"
    build_bundle([registry.assignment("a1")], out)
    with zipfile.ZipFile(out) as z:
        z.extractall(home / "source")
        setup = z.read("setup.sh").decode()
    course_lines = [line for line in setup.splitlines()
                    if f"$SOURCE/{COURSE_DIR}" in line and not line.startswith("#")]
    assert course_lines, "setup.sh does nothing about course/"
    subprocess.run(["bash", "-euc", "\n".join(course_lines)], check=True,
                   env={**os.environ, "SOURCE": str(home / "source")})
    course = home / "source" / COURSE_DIR
    assert stat.S_IMODE(course.stat().st_mode) & 0o077 == 0
    assert all(stat.S_IMODE(p.stat().st_mode) & 0o077 == 0 for p in course.rglob("*"))
    yield home
    shutil.rmtree(home, ignore_errors=True)


def gradescope_run(home: Path, source: str) -> dict:
    submission = home / "submission"
    shutil.rmtree(submission, ignore_errors=True)
    submission.mkdir()
    (submission / "activations.py").write_text(source)
    (home / "results").mkdir(exist_ok=True)
    (home / "results" / "results.json").unlink(missing_ok=True)
    done = run_fallback(["bash", str(home / "source" / "run_autograder")],
                        {"AUTOGRADER_ROOT": str(home), "DLGRADE_PYTHON": sys.executable})
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((home / "results" / "results.json").read_text())


def test_the_fallback_is_what_doctor_reports():
    done = run_fallback([sys.executable, "-m", "dlgrade", "doctor"], {})
    assert "[x] drop root to nobody" in done.stdout, done.stdout + done.stderr
    assert "[ ] Landlock" in done.stdout and "[ ] user/net/mount" in done.stdout


def test_an_honest_student_gets_full_marks_as_nobody(autograder):
    data = gradescope_run(autograder, REFERENCE.read_text())
    assert data["score"] == sum(t["max_score"] for t in data["tests"]), data
    assert all(t["score"] == t["max_score"] for t in data["tests"]), data


def test_a_hostile_student_cannot_read_the_course(autograder):
    hostile = HOSTILE_COURSE.replace("@COURSE@", str(autograder / "source" / COURSE_DIR))
    data = gradescope_run(autograder, hostile + REFERENCE.read_text().split(
        "def sigmoid_forward", 1)[0])
    sigmoid = next(t for t in data["tests"] if t["name"].startswith("a1.sigmoid"))
    assert "LEAK" not in json.dumps(data), sigmoid["output"]
    assert sigmoid["score"] == sigmoid["max_score"], sigmoid


def test_a_hostile_student_cannot_read_a_classmates_scratch(autograder, tmp_path):
    marker = f"MARK{uuid.uuid4().hex}"
    klass = Path(tempfile.mkdtemp(prefix="dlgrade-fallback-class-"))
    try:
        for name, source in (
                ("honest", f"# {marker}\n" + SLOW_HONEST),
                ("mallory", HOSTILE_CLASSMATE.replace("@MARK_REVERSED@", marker[::-1]))):
            (klass / name).mkdir()
            (klass / name / "activations.py").write_text(source)
        scores = tmp_path / "scores.json"
        course = autograder / "source" / COURSE_DIR
        done = run_fallback([sys.executable, "-m", "dlgrade", "grade", "a1", str(klass),
                             "--no-gradebook", "--workers", "2", "--json", str(scores)],
                            {"DLGRADE_COURSE": str(course)})
        assert done.returncode == 0, done.stdout + done.stderr
        text = scores.read_text()
        assert "LEAK" not in text, text
        data = json.loads(text)
    finally:
        shutil.rmtree(klass, ignore_errors=True)
    for name in ("honest", "mallory"):  # both write only the sigmoid
        sigmoid = data[name]["a1.sigmoid"]
        assert sigmoid["status"] == "passed", (name, sigmoid["message"])

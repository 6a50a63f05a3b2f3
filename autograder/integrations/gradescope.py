"""Gradescope: the autograder bundle, and the grading it runs inside Gradescope.

``dlgrade gradescope a1 a1-gradescope.zip`` writes the zip to upload as a programming
assignment's autograder (Gradescope's contract: ``setup.sh`` and ``run_autograder`` at the
root; the zip is unpacked into ``/autograder/source``; the student's files arrive in
``/autograder/submission``; ``/autograder/results/results.json`` must be written):

* ``dlgrade-<version>-py3-none-any.whl``: this dlgrade (the engine only), built from the
  installed package, so setup needs no access to dlgrade's repository;
* ``course/``: the course (its ``course.toml`` for the chosen assignments, specs, reference
  solutions and secret), made readable by root only at setup, since the hidden cases
  must grade exactly as ``dlgrade grade`` grades them;
* ``setup.sh``: makes a virtual environment in ``/autograder/venv`` and installs the wheel
  (numpy and click from PyPI; for ``--track torch`` the CPU build of torch at the version
  pinned in ``constraints.txt``, from PyTorch's CPU index);
* ``wheels/`` (with ``--wheels DIR``): the wheels of DIR, from which setup.sh then installs
  with ``pip --no-index``, so that setup needs no network (torch too, when among them);
* ``run_autograder``: runs :func:`write_results` (``python -m dlgrade gradescope-run``), which
  grades the submission on the public and hidden cases exactly as ``dlgrade grade`` does
  (student code in a sandboxed child, never in the grading process) and writes one Gradescope
  test per exercise: name ``"a1.sigmoid (Sigmoid)"``, score, max_score, visibility and the
  feedback as output (hidden-case feedback never shows expected values);
* ``dlgrade_gradescope.json``: the assignments, track, visibility and late policy.

With ``--late-penalty`` the penalty is computed from Gradescope's own submission metadata
(``created_at`` against the assignment's, or the student's extended, due date): the tests keep
the raw scores and the top-level score is the final one.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import importlib.metadata
import io
import json
import re
import sys
import time
import traceback
import zipfile
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from dlgrade.api import open_course
from dlgrade.courses import course, registry
from dlgrade.load.submission import Submission, _kind
from dlgrade.outputs import atomic
from dlgrade.outputs.report import WITHHELD, Group, groups, shorten
from dlgrade.policy.deadlines import Deadline, DeadlineError, SubmissionTime, late_result
from dlgrade.policy.feedback import RECORD_KEY, budgeted, feedback_table
from dlgrade.results import STATUS_TEXT, ExerciseResult, SubmissionResult
from dlgrade.spec.exercise import Assignment

PACKAGES = ("dlgrade",)
COURSE_DIR = "course"
CONFIG_NAME = "dlgrade_gradescope.json"
VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
WHEELS_DIR = "wheels"
NEEDED_WHEELS = ("numpy", "click")  # dlgrade's dependencies; tomli too below Python 3.11
ZIP_TIME = (2020, 1, 1, 0, 0, 0)  # fixed, so the same course gives the same bytes
MAX_OUTPUT = 8000  # characters of the student's printed output shown back to them


class BundleError(RuntimeError):
    """The bundle cannot be built (dlgrade not installed, no torch pin...)."""


# ---------------------------------------------------------------- the wheel


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


def _package_files(package: str) -> list[tuple[str, bytes]]:
    """Every file of an installed package (sources and data, no caches), as archive paths."""
    module = importlib.import_module(package)
    if module.__file__ is None:
        raise BundleError(f"cannot find the files of the {package} package")
    base = Path(module.__file__).resolve().parent
    found = []
    for path in sorted(base.rglob("*")):
        relative = path.relative_to(base)
        if "__pycache__" in relative.parts or path.suffix in (".pyc", ".pyo") \
                or not path.is_file():
            continue
        found.append((f"{package}/{relative.as_posix()}", path.read_bytes()))
    return found


def build_wheel() -> tuple[str, bytes]:
    """A wheel of this dlgrade (file name, bytes), built from the installed packages and
    their metadata: it works from an editable checkout as from a normal install, needs no
    build tools and no network, and installs exactly the code that grades here."""
    try:
        dist = importlib.metadata.distribution("dlgrade")
    except importlib.metadata.PackageNotFoundError:
        raise BundleError("dlgrade is not installed (pip install -e . in its checkout)") from None
    metadata = dist.read_text("METADATA") or dist.read_text("PKG-INFO")  # wheel or egg-info
    if not metadata:
        raise BundleError("the installed dlgrade has no METADATA")
    version = dist.version
    name = f"dlgrade-{version}-py3-none-any.whl"
    info = f"dlgrade-{version}.dist-info"
    files = [f for package in PACKAGES for f in _package_files(package)]
    files.append((f"{info}/METADATA", metadata.encode()))
    files.append((f"{info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: dlgrade\n"
                                   b"Root-Is-Purelib: true\nTag: py3-none-any\n"))
    entry_points = dist.read_text("entry_points.txt") or \
        "[console_scripts]\ndlgrade = dlgrade.cli:main\n"
    files.append((f"{info}/entry_points.txt", entry_points.encode()))
    files.append((f"{info}/top_level.txt", ("\n".join(PACKAGES) + "\n").encode()))
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data in files)
    files.append((f"{info}/RECORD", (record + f"{info}/RECORD,,\n").encode()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as wheel:
        for path, data in files:
            _add(wheel, path, data)
    return name, buffer.getvalue()


def _add(archive: zipfile.ZipFile, name: str, data: bytes, executable: bool = False,
         compress: bool = True) -> None:
    entry = zipfile.ZipInfo(name, ZIP_TIME)
    entry.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    entry.external_attr = (0o100755 if executable else 0o100644) << 16
    archive.writestr(entry, data)


# ---------------------------------------------------------------- torch pin


def torch_pin(project_root: Path | None = None) -> str:
    """The torch requirement to install for the torch track: the ``torch==`` line of the
    course's ``constraints.txt`` (the CI pin), else the torch installed here."""
    root = project_root or course.active().root
    constraints = root / "constraints.txt"
    if constraints.is_file():
        for line in constraints.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if re.match(r"torch\s*==", line):
                return line.replace(" ", "")
    try:
        version = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        raise BundleError("--track torch: no torch pin in constraints.txt and no torch "
                          "installed here to take the version from") from None
    return f"torch=={version.split('+')[0]}"


# ---------------------------------------------------------------- offline wheels


def wheel_distribution(name: str) -> str:
    """The distribution a wheel file installs, normalised (``Foo_Bar-1.0-...whl``:
    ``foo-bar``): the file name's first ``-``-separated part, lowercase, ``_`` and ``.`` as
    ``-``."""
    return re.sub(r"[-_.]+", "-", name.split("-", 1)[0]).lower()


def find_wheels(folder: Path) -> list[Path]:
    """The ``*.whl`` files of ``folder`` (``--wheels``), sorted, once checked to hold what
    an offline setup installs: numpy and click, and tomli when a numpy wheel is for Python
    3.10 (dlgrade reads TOML with it there). Platform tags are not checked: only the image
    knows which it takes."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BundleError(f"--wheels {folder}: no such folder")
    found = sorted(p for p in folder.glob("*.whl") if p.is_file())
    if not found:
        raise BundleError(f"--wheels {folder}: no .whl file in it")
    have = {wheel_distribution(p.name) for p in found}
    needed = list(NEEDED_WHEELS)
    if any("cp310" in p.name.split("-")[-3].split(".") for p in found
           if wheel_distribution(p.name) == "numpy" and p.name.count("-") >= 4):
        needed.append("tomli")
    missing = [name for name in needed if name not in have]
    if missing:
        raise BundleError(f"--wheels {folder}: no wheel for {' or '.join(missing)} (see "
                          "the README's Gradescope paragraph for the pip download line)")
    return found


def _check_torch_wheels(wheels: Sequence[Path], pin: str) -> None:
    """A torch wheel among the offline wheels must be the pinned version, else pip finds
    none at setup, on Gradescope."""
    wanted = pin.split("==", 1)[1]
    versions = sorted({p.name.split("-")[1] for p in wheels
                       if wheel_distribution(p.name) == "torch" and p.name.count("-") >= 4})
    if versions and wanted not in {v.split("+", 1)[0] for v in versions}:
        raise BundleError(f"--wheels: torch {', '.join(versions)} is not the pinned {pin}")


# ---------------------------------------------------------------- the scripts


def setup_script(wheel: str, torch: str | None, wheels: Sequence[str] = ()) -> str:
    """``setup.sh``: Python >= 3.10 in a venv at /autograder/venv, then the wheel.

    ``wheels``: the file names under ``wheels/`` (``--wheels``); with them pip installs from
    there alone (``--no-index``), torch too when a torch wheel is among them, and pip is
    not upgraded, so setup needs no network. The header says what network it does need.
    """
    offline = f'--no-index --find-links "$SOURCE/{WHEELS_DIR}"'
    torch_offline = any(wheel_distribution(name) == "torch" for name in wheels)
    if wheels and torch and not torch_offline:
        network = (f"# Network: download.pytorch.org for torch; the rest from {WHEELS_DIR}/ "
                   "in this zip (--no-index).\n")
    elif wheels:
        network = f"# Network: none for pip: it installs from {WHEELS_DIR}/ in this zip alone " \
                  "(--no-index).\n"
    else:
        network = ("# Network: pypi.org and files.pythonhosted.org for numpy, click (and tomli "
                   "on Python 3.10)\n# and a newer pip" + ("; download.pytorch.org for torch.\n"
                                                            if torch else ".\n"))
    network += ("# apt-get reaches the image's apt mirrors only if it lacks Python >= 3.10 "
                "with venv\n# (python3-venv).\n")
    torch_lines = ""
    if torch:
        source = offline if torch_offline else f"--index-url {TORCH_CPU_INDEX}"
        torch_lines = (
            f"# The CPU build of torch (the default wheel pulls several GB of CUDA packages).\n"
            f'"$VENV/bin/python" -m pip install --no-cache-dir {source} "{torch}"\n')
    upgrade = "" if wheels else '"$VENV/bin/python" -m pip install --no-cache-dir --upgrade pip\n'
    install = f"{offline} " if wheels else ""
    return f"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
# Generated by `dlgrade gradescope`: installs dlgrade from the wheel in this zip.
{network}# DLGRADE_SOURCE and DLGRADE_VENV exist for testing outside Gradescope.
set -euo pipefail
SOURCE="${{DLGRADE_SOURCE:-/autograder/source}}"
VENV="${{DLGRADE_VENV:-/autograder/venv}}"
if ! python3 -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))' \\
        2>/dev/null; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
        python3 python3-venv python3-pip
fi
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "dlgrade needs Python >= 3.10; choose a newer Ubuntu base image" >&2
    exit 1
fi
python3 -m venv "$VENV"
{upgrade}{torch_lines}"$VENV/bin/python" -m pip install --no-cache-dir {install}"$SOURCE/{wheel}"
# Readable by the unprivileged user dlgrade's sandbox drops student code to; the course
# (solutions, secret) by root alone, whatever isolation this container's kernel gives.
chmod -R a+rX "$VENV"
chmod o+x "$(dirname "$VENV")"  # crossed, never listed: the venv is reachable by nobody
chown -R root:root "$SOURCE/{COURSE_DIR}"
chmod -R go-rwx "$SOURCE/{COURSE_DIR}"
"$VENV/bin/dlgrade" doctor || true
"""


def run_script() -> str:
    """``run_autograder``: grade the submission; always leave a results.json behind."""
    return f"""#!/usr/bin/env bash
# Gradescope runs this for every submission. Generated by `dlgrade gradescope`.
# AUTOGRADER_ROOT and DLGRADE_PYTHON exist for testing outside Gradescope.
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{DLGRADE_PYTHON:-$ROOT/venv/bin/python}}"
mkdir -p "$ROOT/results"
"$PYTHON" -I -m dlgrade gradescope-run \\
    --course "$ROOT/source/{COURSE_DIR}" \\
    --config "$ROOT/source/{CONFIG_NAME}" \\
    --submission "$ROOT/submission" \\
    --metadata "$ROOT/submission_metadata.json" \\
    --results "$ROOT/results/results.json"
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then
    printf '%s\\n' '{{"score": 0, "output": "The autograder could not run (dlgrade did not \
start). Please tell the course staff.", "tests": []}}' > "$ROOT/results/results.json"
fi
exit $status
"""


# ---------------------------------------------------------------- the bundle


def bundle_config(assignments: Sequence[Assignment], *, track: dict[str, str] | None,
                  visibility: str, late: dict[str, Any] | None) -> dict[str, Any]:
    return {"assignments": [a.id for a in assignments], "track": track,
            "visibility": visibility, "late": late}


def build_bundle(assignments: Sequence[Assignment], out: Path, *,
                 track: dict[str, str] | None = None, visibility: str = "visible",
                 late: dict[str, Any] | None = None, wheels: Path | None = None) -> list[str]:
    """Write Gradescope's autograder zip to ``out``; return the names it holds.

    ``late``: ``{"penalty_per_day": 0.1, "grace_seconds": 900, "zero_after": None}`` or None.
    ``wheels``: a folder of wheels for Gradescope's image (see :func:`find_wheels`), put
    under ``wheels/`` so that setup.sh installs offline; None: setup.sh downloads them.
    """
    if visibility not in VISIBILITIES:
        raise BundleError(f"unknown visibility {visibility!r} ({', '.join(VISIBILITIES)})")
    offline = find_wheels(wheels) if wheels is not None else []
    wheel_name, wheel = build_wheel()
    pin = torch_pin() if track and track.get("name") == "torch" else None
    if pin:
        _check_torch_wheels(offline, pin)
    config = bundle_config(assignments, track=track, visibility=visibility, late=late)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        setup = setup_script(wheel_name, pin, [p.name for p in offline])
        _add(bundle, "setup.sh", setup.encode(), executable=True)
        _add(bundle, "run_autograder", run_script().encode(), executable=True)
        _add(bundle, wheel_name, wheel)
        for path in offline:  # already compressed: stored as they are
            _add(bundle, f"{WHEELS_DIR}/{path.name}", path.read_bytes(), compress=False)
        _add(bundle, CONFIG_NAME, (json.dumps(config, indent=2) + "\n").encode())
        if pin:
            _add(bundle, "constraints.txt", f"{pin}\n".encode())
        for name, data in course_files(course.active(), assignments):
            _add(bundle, f"{COURSE_DIR}/{name}", data)
        names = bundle.namelist()
    atomic.write_bytes(out, buffer.getvalue())
    return names


def course_files(source: course.Course, assignments: Sequence[Assignment]
                 ) -> list[tuple[str, bytes]]:
    """The course as the bundle holds it: a ``course.toml`` naming ``assignments``, their
    spec packages, the reference modules and the secret."""
    if source.kit is not None or source.reference_dir is None:
        raise BundleError(f"{source.root} is a student kit: build the bundle from the course")
    specs = Path(sys.modules[f"{source.package}.specs"].__path__[0])
    files = []
    for path in sorted(specs.rglob("*.py")):
        relative = path.relative_to(specs)
        top = relative.parts[0]
        if "__pycache__" in relative.parts or (len(relative.parts) > 1
                                               and top not in {a.id for a in assignments}):
            continue
        files.append((f"specs/{relative.as_posix()}", path.read_bytes()))
    needed = {"__init__", *(m for a in assignments for m in a.modules)}
    for path in sorted(source.reference_dir.glob("*.py")):
        if path.stem in needed:  # the solutions of these assignments, no others
            files.append((f"reference/{path.name}", path.read_bytes()))
    for relative, content in source.support_files(list(assignments)).items():
        files.append((f"support/{relative}", content))
    ids = ", ".join(json.dumps(a.id) for a in assignments)
    files.append(("course.toml", (
        f"# Written by `dlgrade gradescope` from {source.root.name}/course.toml.\n[course]\n"
        f"name = {json.dumps(source.name)}\nassignments = [{ids}]\nspecs = \"specs\"\n"
        'reference = "reference"\ntemplates = "templates"\nsecret = "secret"\n'
        'support = "support"\n' + (f"version = {json.dumps(source.version)}\n"
                                   if source.version else "")
        + feedback_table(source.feedback)).encode()))
    files.append(("secret", source.secret() + b"\n"))
    return files


# ---------------------------------------------------------------- inside Gradescope


def locate(folder: Path, assignments: Sequence[Assignment], student: str = "submission"
           ) -> Submission:
    """The student's files in Gradescope's submission folder: the folder itself when it
    holds a graded module; else the sub-folder (an uploaded folder or a repository, up to
    three levels down, links never followed) holding the most; else a lone ``.py`` file or
    notebook (everything in one file); else the folder (each exercise then says what is
    missing).
    """
    folder = Path(folder)
    wanted = {f"{m}{suffix}" for a in assignments for m in a.modules
              for suffix in (".py", ".ipynb")}  # notebooks: where Submission reads them

    def count(directory: Path) -> int:
        return sum(1 for name in wanted if _kind(directory / name) == "file")

    if count(folder) or _kind(folder) != "folder":
        return Submission(student, folder)
    best, best_count = None, 0
    frontier = [folder]
    for _ in range(3):
        deeper = []
        for directory in frontier:
            try:
                children = sorted(directory.iterdir())
            except OSError:
                continue
            for child in children:
                if child.name.startswith((".", "__")) or _kind(child) != "folder":
                    continue
                deeper.append(child)
                found = count(child)
                if found > best_count:
                    best, best_count = child, found
        if best is not None:
            return Submission(student, best)
        frontier = deeper
    singles = [p for p in sorted(folder.iterdir()) if p.suffix in (".py", ".ipynb")
               and _kind(p) == "file"]
    if len(singles) == 1:
        return Submission(student, singles[0])
    return Submission(student, folder)


def exercise_test(e: ExerciseResult, number: str, visibility: str,
                  group: Group | None = None) -> dict[str, Any]:
    """One Gradescope test for one exercise: its score and dlgrade's feedback. An exercise
    of a ``group`` (a file that did not import, or is missing) points at the reason, said
    once at the top of the results, instead of repeating it."""
    lines = [f"{STATUS_TEXT.get(e.status, e.status)}: {e.score:.2f} / {e.max_score:g}"]
    if group is not None:
        lines += ["", group.pointer()]
    elif e.message:
        lines += ["", e.message]
    if e.hint and group is None:
        lines += ["", f"Hint: {e.hint}"]
    if e.checks and group is None:
        lines.append("")
        lines += [f"  {c.name:<12} {c.passed}/{c.total} cases  {c.score:.2f} / {c.max_score:g}"
                  for c in e.checks]
    return {"name": f"{e.id} ({e.title})", "number": number, "score": e.score,
            "max_score": e.max_score, "visibility": visibility, "output": "\n".join(lines),
            "tags": [e.id.split(".")[0], e.status], "extra_data": {"status": e.status}}


def read_metadata(path: Path | None) -> dict[str, Any]:
    """Gradescope's submission_metadata.json (empty when absent or unreadable)."""
    if path is None:
        return {}
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def gradescope_late(metadata: dict[str, Any], late: dict[str, Any]
                    ) -> tuple[Deadline, SubmissionTime] | None:
    """The deadline and submission time Gradescope gives (a user's extended due date wins
    over the assignment's); None when the metadata has no due date or time."""
    from dlgrade.policy.deadlines import parse_datetime

    dues = [u.get("assignment", {}).get("due_date") for u in metadata.get("users", [])
            if isinstance(u, dict) and isinstance(u.get("assignment"), dict)]
    dues = [d for d in dues if d] or [metadata.get("assignment", {}).get("due_date")]
    created = metadata.get("created_at")
    if not dues[0] or not created:
        return None
    try:
        due = max(parse_datetime(d) for d in dues if d)
        deadline = Deadline(due, float(late.get("penalty_per_day", 0.0)),
                            timedelta(seconds=float(late.get("grace_seconds", 0))),
                            late.get("zero_after"))
        return deadline, SubmissionTime(parse_datetime(created), "Gradescope created_at")
    except (DeadlineError, TypeError, ValueError):
        return None


def results_json(result: SubmissionResult, assignments: Sequence[Assignment], *,
                 visibility: str = "visible", metadata: dict[str, Any] | None = None,
                 late: dict[str, Any] | None = None, notes: Sequence[str] = (),
                 feedback: str = "full") -> dict[str, Any]:
    """Gradescope's results.json for one graded submission; ``feedback``: the hidden-case
    feedback level it was graded at, recorded for the next submission's daily budget."""
    by_id = {e.id: e for e in result.exercises}
    shared = groups(result.exercises)[0]
    group_of = {e.id: g for g in shared for e in g.exercises}
    tests, summary = [], []
    for i, a in enumerate(assignments, start=1):
        got = [by_id[e.id] for e in a.exercises if e.id in by_id]
        for j, e in enumerate(got, start=1):
            tests.append(exercise_test(e, f"{i}.{j}", visibility, group_of.get(e.id)))
        summary.append(f"{a.id} {a.title}: {sum(e.score for e in got):.2f} / {a.points:g}")
    raw = result.score
    score = raw
    try:
        version = importlib.metadata.version("dlgrade")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout on sys.path
        version = "unknown"
    extra: dict[str, Any] = {"dlgrade": version, "raw_score": raw, RECORD_KEY: feedback}
    lines = [*result.notices, *notes, *summary, f"Total: {raw:.2f} / {result.max_score:g}"]
    for group in shared:
        lines += ["", group.heading(), group.message, "Costs: " + ", ".join(group.ids)]
    if late:
        found = gradescope_late(metadata or {}, late)
        if found is None:
            lines.append("Late policy: no due date or submission time from Gradescope; "
                         "no penalty applied.")
        else:
            deadline, submitted = found
            outcome = late_result(result.student, raw, result.max_score, deadline, submitted)
            score = outcome.final
            extra["late"] = outcome.to_json()
            lines.append(f"Late policy: {deadline.describe()}. This submission: "
                         f"{outcome.describe()}.")
            if outcome.fraction:
                lines.append(f"Score after the late penalty: {score:.2f} / "
                             f"{result.max_score:g}")
    if result.output.strip():
        lines += ["", "Your code printed:", shorten(result.output, MAX_OUTPUT)]
    if result.withheld_output.strip():  # it may print the hidden inputs: never shown here
        lines += ["", WITHHELD]
    return {"score": score, "execution_time": max(1, round(result.seconds)),
            "output": "\n".join(lines), "stdout_visibility": "hidden",
            "tests": tests, "extra_data": extra}


def write_results(submission_dir: Path, results_path: Path, assignment: str | Sequence[str],
                  *, track: dict[str, str] | None = None, visibility: str = "visible",
                  metadata: Path | dict[str, Any] | None = None,
                  late: dict[str, Any] | None = None,
                  course_path: Path | None = None) -> dict[str, Any]:
    """Grade ``submission_dir`` (public and hidden cases) and write Gradescope's results.json
    to ``results_path``; return it. A grader failure still writes a results.json (score 0,
    saying so), since Gradescope shows nothing to the student without one.

    ``assignment``: ``"a1"``, ``"a1,a2"`` or a list of ids; ``metadata``: Gradescope's
    submission_metadata.json (a path or its contents), for the student and the late policy;
    ``course_path``: the bundle's course (default: the course in use).
    """
    from dlgrade.grading.grader import grade_submission

    started = time.monotonic()
    meta = metadata if isinstance(metadata, dict) else read_metadata(metadata)
    try:
        if course_path is not None:
            course.use(open_course(Path(course_path)))
        selector = assignment if isinstance(assignment, str) else ",".join(assignment)
        chosen = registry.resolve(selector)
        users = [u for u in meta.get("users", []) if isinstance(u, dict)]
        student = str(users[0].get("email") or users[0].get("name")) if users else "submission"
        submission = locate(Path(submission_dir), chosen, student)
        notes = []
        if submission.path != Path(submission_dir):  # locate() only looks inside it
            notes.append(f"Graded {submission.path.relative_to(submission_dir)} in your "
                         "submission.")
        level, said = budgeted(course.active().feedback, meta)
        if said:
            notes.append(said)
        result = grade_submission(submission, chosen, hidden=True, track=track, feedback=level)
        data = results_json(result, chosen, visibility=visibility, metadata=meta, late=late,
                            notes=notes, feedback=level)
    except Exception as exc:  # noqa: BLE001 - the student must still get a results.json
        traceback.print_exc()  # to Gradescope's stdout: shown to instructors only
        data = {"score": 0.0, "execution_time": max(1, round(time.monotonic() - started)),
                "output": f"The autograder failed ({type(exc).__name__}: {exc}). This is not "
                          "a problem with your code; please tell the course staff.",
                "tests": []}
    atomic.write_text(results_path, json.dumps(data, indent=2))
    return data

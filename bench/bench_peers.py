"""Benchmark: dlgrade beside its peers, on one class of distinct, realistic students (issue 16).

Every configuration grades the same class (A1 + A2: 23 exercises a student), in one run:

=====================  ==================================================================
dlgrade                ``python -m dlgrade grade a1,a2 CLASS --no-gradebook``, as shipped
                       (isolated children forked from a warm zygote, cores + 1 workers)
dlgrade, 1 worker      the same with ``--workers 1``
pipeline, 1 process    dlgrade's whole pipeline (frames, diagnosis, results) with the
                       students' modules imported into the grading process, no isolation
                       (``bench_grading.py --floor``; not a floor)
real floor             the numeric work alone, one process: for every student and case the
                       student's function and the reference's outputs on the same inputs,
                       ``np.allclose``, and the finite-difference probes dlgrade makes (the
                       same forward calls: only where a case is wrong), with the same 10 s
                       limit per exercise (``peer_kit.py``); nothing else
nbgrader autograde     ``bench/nbgrader_baseline.py``'s equivalent notebook, the class in
                       one ``nbgrader autograde`` (a kernel per student); this interpreter's
                       nbgrader, as that script expects
otter run              ``otter run -a autograder.zip SUBMISSION``, one student at a time
                       (otter-grader's non-Docker path, a kernel per student); its tests call
                       ``peer_kit`` on dlgrade's cases: public (+ stability) and hidden
                       tests per exercise, sharing the exercise's 10 s limit
pytest per student     ``python -m pytest -q -p no:cacheprovider test_student.py`` once per
                       student (the student's folder on the path), one test per exercise,
                       each ``peer_kit``'s checks
pytest -n 2            one pytest session for the whole class, ``-n 2`` (pytest-xdist), no
                       isolation: the same tests parametrised over students
=====================  ==================================================================

otter-grader and pytest run in virtual environments of their own under
``~/.cache/dlgrade-bench/<peer>-venv`` (made with ``python -m venv`` and ``pip install``,
reused when present); a peer that cannot be installed or set up is skipped, with the
reason. What is set up before timing (not timed): the class, dlgrade's cases with the
reference's outputs (a pickle every peer but dlgrade and nbgrader reads), nbgrader's course
(``generate_assignment``, the submitted notebooks; each round grades a fresh copy), otter's
autograder zip and per-student submission files, pytest's generated test files.

Timing, the same for every row: each configuration runs as its own process tree, in paired
rounds (round r runs every configuration once, in an order rotated by r), ``--rounds``
(3). This process is a child subreaper (``PR_SET_CHILD_SUBREAPER``), so every descendant
(dlgrade's zygote, which the grader starts in a session of its own and never waits for;
kernels; pytest workers) is waited for here; the CPU time of the whole tree is the change
in RUSAGE_CHILDREN, user + system. Reported: the median over rounds of wall seconds per
submission, of CPU seconds per submission, and of the peak sums of RSS and of PSS (shared
pages divided among the processes sharing them) over the tree (sampled every 20 ms); each
peer's wall time over dlgrade's, and dlgrade's over the real floor's; and how many
exercises each configuration passed, read from its own output.

The class (``--students``, 40): distinct students, no two files alike (per-student comments
in every function, and mutants round-robin), so nothing can be reused per content:

* 1 in 20 a **timeout**, costing its exercise the 10 s limit: alternately the correct
  student's files with a loop that never ends in one function (round-robin over the A1/A2
  functions), and ``cleo`` (``samples/class/cleo``: a syntax error in activations.py and a
  ``kl_div_loss`` that never returns);
* 1 in 10 a **notebook**: one ``.ipynb`` holding both modules, a cell per function, with a
  ``%precision`` magic and a demo cell (as ``samples/class/fay.ipynb``), from the correct
  student's or a mutant's code, alternately;
* the others, in turn: correct (``ada``), mutant, buggy (``ben``), correct, buggy single
  file (``eve.py``), mutant, untouched template (``dev``), correct, mutant. A mutant
  student has the reference with one known mistake in each module, the next of all of A1's
  and A2's known mutants in turn.

Usage: ``python bench/bench_peers.py --students 40 --rounds 3 [--json OUT]``;
``--only dlgrade,floor,pytest`` runs some configurations only; ``--no-timeouts`` puts regular
students in the timeouts' places (each timeout costs every grader its 10 s, which then
dominates the figures). Linux only (prctl, /proc).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SAMPLES = ROOT / "samples" / "class"
CACHE = Path.home() / ".cache" / "dlgrade-bench"
ASSIGNMENTS = "a1,a2"
MODULES = ("activations", "losses")
#: The regular students, in turn (a timeout or a notebook takes its slot when due).
CYCLE = ("ada", "mutant", "ben", "ada", "eve", "mutant", "dev", "ada", "mutant")
TIMEOUT_EVERY, NOTEBOOK_EVERY = 20, 10
WORDS = ("checked", "again", "see notes", "vectorised", "TODO tidy", "from lecture 3",
         "works now", "stable form", "per the docstring", "ok", "hmm", "v2", "fixed shape")

sys.path.insert(0, str(BENCH))


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the class


def _insert_lines(source: str, where: dict[str, list[str]] | None = None,
                  note: str | None = None, rng: random.Random | None = None) -> str:
    """``source`` with lines inserted at the start of top-level functions: ``where`` maps a
    function name to the lines to put first in its body; ``note`` adds a comment to every
    function (a different word each, from ``rng``). Unparsable source gets the note once,
    at the end."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source + (f"\n# {note}\n" if note else "")
    lines = source.splitlines(keepends=True)
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)
                 and n.body and n.body[0].lineno > n.lineno]
    for node in sorted(functions, key=lambda n: n.lineno, reverse=True):
        first = node.body[0]
        indent = " " * first.col_offset
        added = list((where or {}).get(node.name, ()))
        if note:
            added.insert(0, f"# {note}: {rng.choice(WORDS) if rng else ''}")
        lines[first.lineno - 1:first.lineno - 1] = [f"{indent}{a}\n" for a in added]
    return "".join(lines) + (f"\n# {note}\n" if note else "")


STUCK = ["tries = 0", "while tries < 3:  # retry until it settles (tries never grows)",
         "    tries * 2"]


def _notebook(name: str, sources: dict[str, str]) -> dict[str, Any]:
    """One notebook holding every module's code, a cell per function, as a student who
    worked in Jupyter hands in (markdown between, a magic, a demo cell at the end)."""
    def code(text: str) -> dict[str, Any]:
        return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                "source": text}

    def markdown(text: str) -> dict[str, Any]:
        return {"cell_type": "markdown", "metadata": {}, "source": text}

    cells = [markdown(f"# A1 and A2, {name}\n\nActivations and losses."), code("%precision 4")]
    for module, text in sources.items():
        cells.append(markdown(f"## `{module}.py`"))
        lines = text.splitlines(keepends=True)
        starts = [n.lineno - 1 for n in ast.parse(text).body if isinstance(n, ast.FunctionDef)]
        bounds = [0, *starts, len(lines)]
        for i, (a, b) in enumerate(zip(bounds, bounds[1:], strict=False)):
            chunk = "".join(lines[a:b]).strip("\n")
            if not chunk:
                continue
            if i:
                cells.append(markdown(f"### `{chunk.split('(', 1)[0][4:]}`"))
            cells.append(code(chunk))
    cells.append(code("x = np.linspace(-3, 3, 7)\nprint('sigmoid:', sigmoid_forward(x)[0])"))
    kernel = {"display_name": "Python 3", "language": "python", "name": "python3"}
    return {"cells": cells, "metadata": {"kernelspec": kernel, "language_info": {
        "name": "python"}}, "nbformat": 4, "nbformat_minor": 4}


def build_class(folder: Path, students: int, seed: int = 0,
                timeouts: bool = True) -> list[dict[str, Any]]:
    """The class, as described at the top: ``[{"name", "path", "kind", "what"}]``
    (``timeouts=False``: regular students in the timeouts' places)."""
    from dlgrade.courses import registry
    from dlgrade.grading.mutants import mutant_source

    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    known = {m: [x for x in registry.mutants() if registry.exercise(x.exercise).module == m]
             for m in MODULES}
    functions = [f for a in registry.resolve(ASSIGNMENTS) for e in a.exercises
                 for f in e.functions]
    counters = {"mutant": 0, "timeout": 0, "notebook": 0, "cycle": 0}
    made = []
    for i in range(students):
        if timeouts and i % TIMEOUT_EVERY == TIMEOUT_EVERY // 2 - 3:
            kind = "cleo" if i // TIMEOUT_EVERY % 2 else "timeout"
        elif i % NOTEBOOK_EVERY == 3:
            kind = "notebook"
        else:
            kind = CYCLE[counters["cycle"] % len(CYCLE)]
            counters["cycle"] += 1
        name = f"{kind}{i:03d}"
        note = f"{name}, {rng.randrange(10**6):06d}"
        if kind in ("mutant", "notebook") and (kind == "mutant" or counters["notebook"] % 2):
            j = counters["mutant"]
            counters["mutant"] += 1
            sources = {m: mutant_source(known[m][j % len(known[m])]) for m in MODULES}
            label = "mutant " + " + ".join(known[m][j % len(known[m])].id for m in MODULES)
        elif kind in ("timeout", "notebook"):
            sources = {m: (SAMPLES / "ada" / f"{m}.py").read_text() for m in MODULES}
            label = "correct"
        elif kind == "eve":
            sources = {"eve": (SAMPLES / "eve.py").read_text()}
            label = "buggy, one file"
        else:
            sources = {m: (SAMPLES / kind / f"{m}.py").read_text() for m in MODULES
                       if (SAMPLES / kind / f"{m}.py").is_file()}
            label = {"ada": "correct", "ben": "buggy", "dev": "template",
                     "cleo": "syntax error in activations.py, kl_div_loss never "
                             "returns"}[kind]
        where = None
        if kind == "timeout":
            stuck = functions[counters["timeout"] * 7 % len(functions)]
            counters["timeout"] += 1
            where = {stuck: STUCK}
            label = f"correct, {stuck} never returns"
        sources = {m: _insert_lines(t, where, note, rng) for m, t in sources.items()}
        if kind == "notebook":
            counters["notebook"] += 1
            path = folder / f"{name}.ipynb"
            path.write_text(json.dumps(_notebook(name, sources), indent=1))
            label = f"notebook, {label}"
        elif kind == "eve":
            path = folder / f"{name}.py"
            path.write_text(sources["eve"])
        else:
            path = folder / name
            path.mkdir()
            for module, text in sources.items():
                (path / f"{module}.py").write_text(text)
        made.append({"name": name, "path": str(path), "kind": kind, "what": label})
    return made


def describe_class(made: list[dict[str, Any]]) -> str:
    kinds: dict[str, int] = {}
    for s in made:
        kinds[s["kind"]] = kinds.get(s["kind"], 0) + 1
    order = ("ada", "mutant", "ben", "eve", "dev", "notebook", "timeout", "cleo")
    words = {"ada": "correct", "mutant": "mutant", "ben": "buggy", "eve": "buggy one-file",
             "dev": "template", "notebook": "notebook", "timeout": "timeout (stuck loop)",
             "cleo": "timeout (cleo: also a syntax error)"}
    parts = [f"{kinds[k]} {words[k]}" for k in order if k in kinds]
    return f"{len(made)} distinct students: " + ", ".join(parts)


# ---------------------------------------------------------------- dlgrade's cases


def export_cases(path: Path) -> dict[str, Any]:
    """Every A1/A2 exercise with its cases (public, hidden, stability) and the reference's
    outputs, as ``peer_kit`` reads them: dlgrade's own inputs, so every peer checks the
    same numbers."""
    import pickle

    import numpy as np
    from dlgrade.courses import registry
    from dlgrade.grading.cases import build_cases, observe

    exported = {}
    for assignment in registry.resolve(ASSIGNMENTS):
        for ex in assignment.exercises:
            reference = registry.reference_module(ex.module)
            functions = {n: getattr(reference, n) for n in ex.functions}
            cases = []
            for case in build_cases(ex, True):
                cases.append({
                    "inputs": [(k, np.asarray(v)) for k, v in case.inputs.items()],
                    "params": dict(case.params), "dout": case.dout, "hidden": case.hidden,
                    "huge": case.huge,
                    "probes": {k: [int(np.ravel_multi_index(i, np.shape(case.inputs[k])))
                                   for i in v] for k, v in case.probes.items()},
                    "reference": observe(ex, functions, case)})
            exported[ex.id] = {"id": ex.id, "module": ex.module, "kind": ex.kind,
                               "functions": list(ex.functions), "wrt": list(ex.wrt),
                               "value_name": ex.value_name, "grad_names": list(ex.grad_names),
                               "tolerance": ex.tolerance, "time_limit": ex.time_limit,
                               "points": ex.points, "cases": cases}
    with open(path, "wb") as f:
        pickle.dump(exported, f)
    return exported


# ---------------------------------------------------------------- environments


def ensure_venv(peer: str, packages: list[str], then: list[list[str]] = ()) -> Path:
    """``CACHE/<peer>-venv`` with ``packages`` installed (reused when a previous run
    finished it); ``then``: commands run with its python afterwards. Raises RuntimeError
    with a one-line reason when it cannot be made."""
    venv = CACHE / f"{peer}-venv"
    python = venv / "bin" / "python"
    marker = venv / ".dlgrade-bench"
    wanted = " ".join(packages)
    if marker.is_file() and marker.read_text() == wanted and python.exists():
        return python
    shutil.rmtree(venv, ignore_errors=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    say(f"  making {venv}: pip install {wanted}")
    steps = [[sys.executable, "-m", "venv", str(venv)],
             [str(python), "-m", "pip", "install", "-q", *packages],
             *[[str(python), *c] for c in then]]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode:
            lines = [x for x in (done.stderr + done.stdout).splitlines()
                     if x.strip() and "WARNING: Location" not in x]
            what = ("pip install" if "pip" in step
                    else f"{Path(step[0]).name} {' '.join(step[1:4])}")
            raise RuntimeError(f"{what} failed: "
                               f"{lines[-1].strip() if lines else done.returncode}")
    marker.write_text(wanted)
    return python


# ---------------------------------------------------------------- peers' set-up


TEST_STUDENT = '''"""Generated by bench_peers.py: one student's A1+A2 against the reference."""
import os
import sys

import pytest

sys.path.insert(0, os.environ["BENCH_KIT"])
import peer_kit  # noqa: E402

CASES = peer_kit.load_cases(os.environ["BENCH_CASES"])
MODULES = peer_kit.load_student(os.environ["BENCH_STUDENT"])


@pytest.mark.parametrize("exercise", list(CASES))
def test_exercise(exercise):
    spec = CASES[exercise]
    result = peer_kit.check_exercise(spec, peer_kit.functions_of(MODULES, spec))
    assert result["status"] == "passed", result["message"]
'''

TEST_CLASS = '''"""Generated by bench_peers.py: the class's A1+A2, one session, no isolation."""
import json
import os
import sys

import pytest

sys.path.insert(0, os.environ["BENCH_KIT"])
import peer_kit  # noqa: E402

CASES = peer_kit.load_cases(os.environ["BENCH_CASES"])
with open(os.environ["BENCH_CLASS"]) as f:
    STUDENTS = dict(json.load(f))
LOADED = {}


@pytest.mark.parametrize("exercise", list(CASES))
@pytest.mark.parametrize("student", list(STUDENTS))
def test_exercise(student, exercise):
    if student not in LOADED:
        LOADED[student] = peer_kit.load_student(STUDENTS[student], tag=student)
    spec = CASES[exercise]
    result = peer_kit.check_exercise(spec, peer_kit.functions_of(LOADED[student], spec))
    assert result["status"] == "passed", result["message"]
'''

OTTER_TEST = '''from otter.test_files import test_case

OK_FORMAT = False

name = "{name}"
points = {points}


@test_case(points={half}, hidden=False)
def public(env):
    from benchkit import otter_check
    otter_check(env, "{exercise}", "public")


@test_case(points={half}, hidden=True)
def hidden(env):
    from benchkit import otter_check
    otter_check(env, "{exercise}", "hidden")
'''


def _folder(student: dict[str, Any]) -> Path:
    path = Path(student["path"])
    return path if path.is_dir() else path.parent


def setup_pytest(work: Path, made: list[dict[str, Any]], cases: Path, python: Path,
                 per_student: bool) -> dict[str, Any]:
    """The plan of the pytest configurations: per student, or one -n 2 session."""
    work.mkdir(parents=True, exist_ok=True)
    base = {"BENCH_KIT": str(BENCH), "BENCH_CASES": str(cases)}
    if not per_student:
        (work / "test_class.py").write_text(TEST_CLASS)
        (work / "class.json").write_text(json.dumps([[s["name"], s["path"]] for s in made]))
        env = {**os.environ, **base, "BENCH_CLASS": str(work / "class.json")}
        env.pop("PYTHONPATH", None)
        return {"command": [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            "-n", "2", str(work / "test_class.py")], "cwd": str(work),
                "env": env}
    (work / "test_student.py").write_text(TEST_STUDENT)
    runs = [{"command": [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                         str(work / "test_student.py")],
             "cwd": str(_folder(s)), "name": s["name"], "ok": [0, 1],
             "env": {**base, "BENCH_STUDENT": s["path"], "PYTHONPATH": str(_folder(s))}}
            for s in made]
    (work / "plan.json").write_text(json.dumps(runs))
    return {"command": [sys.executable, "-S", __file__, "--drive", str(work / "plan.json"),
                        "--logs", str(work / "logs")], "cwd": str(work), "env": None}


def setup_otter(work: Path, made: list[dict[str, Any]], cases: Path, python: Path,
                exported: dict[str, Any]) -> dict[str, Any]:
    """The autograder zip and each student's submission: a notebook as handed in, a .py
    file as handed in, a folder as a notebook with a cell per module (as nbgrader's
    solution cells: a syntax error in one module does not take the other one with it)."""
    work.mkdir(parents=True, exist_ok=True)
    zipped = work / "autograder.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("otter_config.json", json.dumps({"lang": "python"}))
        z.write(BENCH / "peer_kit.py", "files/benchkit/__init__.py")
        z.write(cases, "files/benchkit/cases.pkl")
        for ex_id, spec in exported.items():
            name = ex_id.replace(".", "_")
            z.writestr(f"tests/{name}.py", OTTER_TEST.format(
                name=name, exercise=ex_id, points=spec["points"], half=spec["points"] / 2))
    runs = []
    for s in made:
        path = Path(s["path"])
        folder = work / "submissions" / s["name"]
        folder.mkdir(parents=True)
        if path.is_file():
            submission = folder / path.name
            shutil.copy(path, submission)
        else:
            sources = {m: (path / f"{m}.py").read_text() if (path / f"{m}.py").is_file()
                       else "# no file handed in\n" for m in MODULES}
            submission = folder / f"{s['name']}.ipynb"
            cells = [{"cell_type": "code", "execution_count": None, "metadata": {},
                      "outputs": [], "source": text} for text in sources.values()]
            kernel = {"display_name": "Python 3", "language": "python", "name": "python3"}
            submission.write_text(json.dumps({"cells": cells, "metadata": {
                "kernelspec": kernel}, "nbformat": 4, "nbformat_minor": 4}))
        out = work / "results" / s["name"]
        out.mkdir(parents=True)
        runs.append({"command": [str(python.parent / "otter"), "run", "-a", str(zipped), "-o",
                                 str(out), "--no-logo", str(submission)],
                     "cwd": str(folder), "name": s["name"], "ok": [0], "env": {}})
    (work / "plan.json").write_text(json.dumps(runs))
    return {"command": [sys.executable, "-S", __file__, "--drive", str(work / "plan.json"),
                        "--logs", str(work / "logs")], "cwd": str(work), "env": None}


def drive(plan: Path, logs: Path) -> int:
    """Run a plan's commands one after the other (a peer that grades one submission per
    process); stdlib only, so the driver itself costs next to nothing."""
    logs.mkdir(parents=True, exist_ok=True)
    for run in json.loads(plan.read_text()):
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env.update(run["env"])  # the run's own variables (PYTHONPATH: the student's folder)
        with open(logs / f"{run['name']}.log", "w") as log:
            done = subprocess.run(run["command"], cwd=run["cwd"], env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
        if done.returncode not in run["ok"]:
            print(f"{run['name']}: exit status {done.returncode}, see {logs}", file=sys.stderr)
            return 2
    return 0


def floor_main(cases_path: Path, plan: Path) -> None:
    """The real floor: every student's exercises, numeric work only, in this process."""
    import peer_kit

    cases = peer_kit.load_cases(cases_path)
    passed = total = 0
    for name, path in json.loads(plan.read_text()):
        for result in peer_kit.grade_student(cases, path, tag=name):
            passed += result["status"] == "passed"
            total += 1
    print(f"passed {passed} of {total} exercises")


# ---------------------------------------------------------------- what each passed


def _passed_dlgrade(log: Path, work: Path) -> str:
    """The sum of the class table's "exercises passed" column."""
    found = [line.split()[-1] for line in log.read_text().splitlines()
             if line.split() and line.split()[-1].count("/") == 1
             and line.split()[-1].replace("/", "").isdigit()]
    return str(sum(int(x.split("/")[0]) for x in found)) if found else "?"


def _passed_line(log: Path, work: Path) -> str:
    for line in log.read_text().splitlines():
        if line.startswith("passed "):
            return line.split()[1]
    return "?"


def _passed_pytest(log: Path, work: Path) -> str:
    """The passed count of pytest's closing line(s), per student or for the session."""
    logs = sorted((work / "logs").glob("*.log")) if (work / "logs").is_dir() else [log]
    total = 0
    for one in logs:
        closing = [x for x in one.read_text().splitlines()
                   if re.search(r"\d+ (passed|failed).* in [\d.]+s", x)]
        found = re.search(r"(\d+) passed", closing[-1]) if closing else None
        total += int(found.group(1)) if found else 0
    return str(total)


def _passed_otter(log: Path, work: Path) -> str:
    total = 0
    for results in (work / "results").glob("*/results.json"):
        tests = json.loads(results.read_text()).get("tests", [])
        total += sum(1 for t in tests if t.get("max_score") and t.get("score") == t["max_score"])
    return str(total)


# ---------------------------------------------------------------- the run


def configurations(work: Path, made: list[dict[str, Any]], cases: Path,
                   exported: dict[str, Any], only: set[str] | None,
                   skipped: list[str]) -> dict[str, dict]:
    """Every configuration that can run here, by key; the others are skipped, with why
    (printed, and added to ``skipped``)."""
    from dlgrade.grading.classroom import default_workers

    chosen: dict[str, dict] = {}

    def wanted(key: str) -> bool:
        return only is None or key in only

    klass = str(work / "class")
    dlgrade = [sys.executable, "-m", "dlgrade", "grade", ASSIGNMENTS, klass, "--no-gradebook",
               "--course", str(ROOT)]
    plan = work / "floor.json"
    plan.write_text(json.dumps([[s["name"], s["path"]] for s in made]))
    if wanted("dlgrade"):
        chosen["dlgrade"] = {"label": f"dlgrade grade (as shipped, {default_workers()} workers)",
                             "command": dlgrade, "passed": _passed_dlgrade}
    if wanted("dlgrade1"):
        chosen["dlgrade1"] = {"label": "dlgrade grade --workers 1",
                              "command": dlgrade + ["--workers", "1"], "passed": _passed_dlgrade}
    if wanted("pipeline"):
        chosen["pipeline"] = {"label": "dlgrade pipeline in one process, no isolation",
                              "command": [sys.executable, str(BENCH / "bench_grading.py"),
                                          "--floor", klass, "--assignments", ASSIGNMENTS],
                              "passed": _passed_line}
    if wanted("floor"):
        chosen["floor"] = {"label": "real floor: numeric work alone, 1 process",
                           "command": [sys.executable, __file__, "--floor-kit", str(cases),
                                       "--plan", str(plan)], "passed": _passed_line}
    if wanted("nbgrader"):
        try:
            from nbgrader_baseline import autograde_command, prepare_course, read_scores

            say("setting up nbgrader's course (not timed)")
            pristine = work / "nbgrader" / "pristine"
            prepare_course([(s["name"], Path(s["path"])) for s in made], pristine)
            course = work / "nbgrader" / "course"

            def fresh_course() -> None:
                shutil.rmtree(course, ignore_errors=True)
                shutil.copytree(pristine, course)

            def passed_nbgrader(log: Path, _: Path) -> str:
                scores = read_scores(course, [s["name"] for s in made])
                return str(sum(r["passed"] for r in scores.values()))

            chosen["nbgrader"] = {"label": "nbgrader autograde (equivalent notebook)",
                                  "command": autograde_command(), "cwd": course,
                                  "before": fresh_course, "passed": passed_nbgrader}
        except Exception as exc:  # noqa: BLE001 - any failure skips the peer, with why
            skip(skipped, "nbgrader", exc)
    peers = [("otter", "otter run, one submission at a time"),
             ("pytest", "pytest, a fresh process per student"),
             ("xdist", "pytest -n 2, one session, no isolation")]
    for key, label in peers:
        if not wanted(key):
            continue
        try:
            if key == "otter":
                python = ensure_venv("otter", ["otter-grader", "ipykernel", "numpy"],
                                     [["-m", "ipykernel", "install", "--sys-prefix"]])
                setup = setup_otter(work / "otter", made, cases, python, exported)
                passed = _passed_otter
            else:
                python = (ensure_venv("pytest", ["pytest", "numpy"]) if key == "pytest" else
                          ensure_venv("pytest-xdist", ["pytest", "pytest-xdist", "numpy"]))
                setup = setup_pytest(work / key, made, cases, python, key == "pytest")
                passed = _passed_pytest
            chosen[key] = {"label": label, "command": setup["command"], "cwd": setup["cwd"],
                           "env": setup["env"], "passed": passed, "ok": [0, 1],
                           "work": work / key}
        except Exception as exc:  # noqa: BLE001 - any failure skips the peer, with why
            skip(skipped, key, exc)
    return chosen


def skip(skipped: list[str], peer: str, why: BaseException) -> None:
    line = f"skipped: {peer}: {(str(why).splitlines() or [type(why).__name__])[0]}"
    skipped.append(line)
    say(line)
    print(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--only", help="comma-separated keys: dlgrade, dlgrade1, pipeline, "
                        "floor, nbgrader, otter, pytest, xdist")
    parser.add_argument("--no-timeouts", action="store_true",
                        help="no timeout students (regular ones in their places)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--drive", type=Path, help=argparse.SUPPRESS)  # internal
    parser.add_argument("--logs", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--floor-kit", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--plan", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        return drive(args.drive, args.logs)
    if args.floor_kit:
        floor_main(args.floor_kit, args.plan)
        return 0

    from bench_grading import become_subreaper, run_tree
    from dlgrade import api

    become_subreaper()
    load = start_load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          f"({os.cpu_count()} cores)")
    api.load_course(ROOT)
    work = Path(tempfile.mkdtemp(prefix="dlgrade-peers-"))
    try:
        made = build_class(work / "class", args.students, timeouts=not args.no_timeouts)
        print(describe_class(made) + " (A1 + A2, 23 exercises each)")
        for s in made:
            say(f"  {s['name']:12} {s['what']}")
        cases = work / "cases.pkl"
        exported = export_cases(cases)
        only = set(args.only.split(",")) if args.only else None
        skipped: list[str] = []
        chosen = configurations(work, made, cases, exported, only, skipped)
        if "nbgrader" in chosen:
            print("nbgrader: timed as the others (its autograde step, the whole process tree;"
                  " the course set-up is not timed, as no other peer's is)")
        keys = list(chosen)
        runs: dict[str, list[dict[str, float]]] = {k: [] for k in keys}
        for r in range(args.rounds):
            order = keys[r % len(keys):] + keys[:r % len(keys)]
            for key in order:
                config = chosen[key]
                say(f"round {r + 1}/{args.rounds}: {config['label']}")
                if "before" in config:
                    config["before"]()
                log = work / f"{key}.log"
                started = time.monotonic()
                got = run_tree(config["command"], cwd=config.get("cwd"),
                               env=config.get("env"), log=log, check=False)
                if got["returncode"] not in config.get("ok", [0]):
                    raise RuntimeError(f"{config['label']} failed with status "
                                       f"{got['returncode']}: {log.read_text()[-2000:]}")
                runs[key].append(got)
                say(f"  {time.monotonic() - started:.1f} s, CPU {got['cpu_seconds']:.1f} s "
                    f"(main process and what it waited for: "
                    f"{got['cpu_seconds_main_waited']:.1f} s)"
                    + (f", {got['leftovers']} leftover process(es) reaped"
                       if got["leftovers"] else "")
                    + (f", {got['killed']} killed" if got["killed"] else ""))
        n = len(made)
        rows = {}
        for key in keys:
            median = {m: statistics.median(run[m] for run in runs[key])
                      for m in ("seconds", "cpu_seconds", "tree_rss_mb", "tree_pss_mb",
                                "cpu_seconds_main_waited")}
            try:
                passed = chosen[key]["passed"](work / f"{key}.log", chosen[key].get(
                    "work", work))
            except Exception as exc:  # noqa: BLE001 - a figure we could not read
                passed = f"? ({type(exc).__name__})"
            rows[key] = {"label": chosen[key]["label"], "wall_s_per_submission":
                         median["seconds"] / n, "cpu_s_per_submission":
                         median["cpu_seconds"] / n, "peak_tree_rss_mb": median["tree_rss_mb"],
                         "peak_tree_pss_mb": median["tree_pss_mb"],
                         "cpu_s_per_submission_main_waited":
                         median["cpu_seconds_main_waited"] / n,
                         "exercises_passed": passed,
                         "leftovers_reaped": sum(run["leftovers"] for run in runs[key]),
                         "killed": sum(run["killed"] for run in runs[key]),
                         "rounds": [{k: round(v, 3) for k, v in run.items()}
                                    for run in runs[key]]}
        report(rows, n, args.rounds)
        load = os.getloadavg()
        print(f"load average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        if args.json:
            args.json.write_text(json.dumps({
                "students": n, "rounds": args.rounds, "class": describe_class(made),
                "load_average": {"start": list(start_load), "end": list(load)},
                "skipped": skipped, "rows": rows}, indent=1))
    finally:
        if args.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def report(rows: dict[str, dict[str, Any]], n: int, rounds: int) -> None:
    base = rows.get("dlgrade", {}).get("wall_s_per_submission")
    floor = rows.get("floor", {}).get("wall_s_per_submission")
    print(f"\n{n} submissions; median of {rounds} paired round(s); CPU and RSS of the whole "
          "process tree")
    print(f"{'':46} {'wall s/sub':>10} {'CPU s/sub':>10} {'tree RSS MB':>11} "
          f"{'tree PSS MB':>11} {'vs dlgrade':>10} {'passed':>7}")
    for key, row in rows.items():
        wall = row["wall_s_per_submission"]
        ratio = f"{wall / base:.2f}x" if base and key != "dlgrade" else "-"
        if key == "dlgrade" and floor:
            ratio = f"({wall / floor:.2f}x floor)"
        row["wall_vs_dlgrade"] = wall / base if base else None
        print(f"{row['label']:46} {wall:10.3f} {row['cpu_s_per_submission']:10.3f} "
              f"{row['peak_tree_rss_mb']:11.0f} {row['peak_tree_pss_mb']:11.0f} {ratio:>10} "
              f"{row['exercises_passed']:>7}")
    if base and floor:
        cpu = rows["dlgrade"]["cpu_s_per_submission"] / rows["floor"]["cpu_s_per_submission"]
        rows["dlgrade"]["wall_vs_floor"] = base / floor
        rows["dlgrade"]["cpu_vs_floor"] = cpu
        print(f"\ndlgrade as shipped / real floor: {base / floor:.2f}x wall, {cpu:.2f}x CPU "
              "(the floor runs on one core, dlgrade on all)")
    print(f"passed: exercises passed in the class (of {23 * n}), as each configuration "
          "reported them")


if __name__ == "__main__":
    sys.exit(main())

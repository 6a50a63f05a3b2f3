"""The numeric work of grading A1+A2, and nothing else: the benchmark's shared checker.

Needs numpy and the standard library only, so that every peer of ``bench_peers.py`` runs the
same checks in its own environment: the real floor (all students in one process), pytest (a
process per student, or one ``-n 2`` session), otter-grader (as its tests' helper, copied
into the autograder zip as the package ``benchkit``).

What it checks is what dlgrade's grader computes for a layer or loss exercise, case by case,
on dlgrade's own cases (public, hidden and stability; ``export_cases`` in ``bench_peers.py``
writes them, with the reference's outputs, to a pickle before anything is timed):

* per case, the student's forward (or loss) call, and a layer's backward call on the case's
  upstream gradient; the value and every gradient ``np.allclose``-compared with the
  reference's, at the tolerance of the dtype returned (float64 1e-7, float32 1.3e-6/1e-5, as
  dlgrade's ``DTYPES``; any other dtype fails);
* where a standard (not huge) case is not all right, the centred finite differences of the
  student's own forward at the case's probe entries (12 per input, ``eps`` 1e-6, two forward
  calls per entry: the same calls dlgrade's grader asks the child for), compared with the
  student's gradient at rtol 1e-4, atol 1e-6;
* a wall-clock limit per exercise (10 s, dlgrade's ``time_limit``): ``signal.setitimer``
  interrupts a student stuck in a loop, and the exercise fails.

Left out, as not numeric: dlgrade's diagnosis of a mismatch (known mistakes, messages),
partial credit for singleton shapes, the re-ask at float32's step, the check that the
probes' values are the reference's, warnings on stability cases, scores and reports.
"""

from __future__ import annotations

import copy
import json
import pickle
import signal
import threading
import time
import types
from pathlib import Path
from typing import Any

import numpy as np

TOLERANCES = {np.dtype(np.float64): (1e-7, 1e-7), np.dtype(np.float32): (1.3e-6, 1e-5)}
EPS, FD_RTOL, FD_ATOL = 1e-6, 1e-4, 1e-6
MODULES = ("activations", "losses")


class Timeout(BaseException):  # noqa: N818 - not an Exception: student code cannot catch it
    """The exercise's time limit went by."""


def load_cases(path: str | Path) -> dict[str, dict[str, Any]]:
    """The exercises by id, as ``export_cases`` wrote them."""
    with open(path, "rb") as f:
        return pickle.load(f)  # noqa: S301 - written by the benchmark itself


# ---------------------------------------------------------------- the student's code


def notebook_code(path: str | Path) -> str:
    """A notebook's code cells, joined; IPython-only lines (``%magic``, ``!shell``) become
    ``pass`` (as dlgrade's loader does), so the rest runs as plain Python."""
    cells = json.loads(Path(path).read_text())["cells"]
    lines = []
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        source = cell["source"]
        source = "".join(source) if isinstance(source, list) else source
        for line in source.splitlines():
            stripped = line.lstrip()
            if stripped.startswith(("%", "!")):
                line = f"{line[: len(line) - len(stripped)]}pass  # {stripped}"
            lines.append(line)
        lines.append("")
    return "\n".join(lines)


def _exec(code: str, path: str, name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__file__ = path
    exec(compile(code, path, "exec"), module.__dict__)  # noqa: S102 - the student's code
    return module


def load_student(path: str | Path, tag: str = "student") -> dict[str, Any]:
    """The student's modules by name (``activations``, ``losses``): a module, or a string
    saying why there is none. ``path`` is a folder of ``.py`` / ``.ipynb`` files, or one
    ``.py`` file or notebook standing for every module. Each module gets a name of its own
    (``tag``), so many students can live in one process."""
    path = Path(path)
    found: dict[str, Any] = {}
    single = None if path.is_dir() else path
    loaded: dict[Path, Any] = {}
    for module in MODULES:
        source = single
        if source is None:
            source = next((path / f"{module}{s}" for s in (".py", ".ipynb")
                           if (path / f"{module}{s}").is_file()), None)
        if source is None:
            found[module] = f"no {module}.py handed in"
            continue
        if source not in loaded:
            try:
                code = (notebook_code(source) if source.suffix == ".ipynb"
                        else source.read_text())
                loaded[source] = _exec(code, str(source), f"{tag}_{source.stem}")
            except Exception as exc:  # noqa: BLE001 - any error at import is the student's
                loaded[source] = f"importing {source.name} raised {type(exc).__name__}: {exc}"
        found[module] = loaded[source]
    return found


def functions_of(modules: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any] | str:
    """The exercise's functions from the student's modules, or why they are missing."""
    module = modules.get(spec["module"])
    if isinstance(module, str) or module is None:
        return module or f"no {spec['module']} module"
    space = module if isinstance(module, dict) else vars(module)
    got = {name: space.get(name) for name in spec["functions"]}
    missing = [n for n, f in got.items() if not callable(f)]
    return f"{', '.join(missing)} not defined" if missing else got


# ---------------------------------------------------------------- the checks


def _close(got: Any, want: np.ndarray, tolerance: tuple[float, float] | None = None) -> bool:
    got = np.asarray(got) if not isinstance(got, np.ndarray) else got
    if got.shape != want.shape or got.dtype.kind != "f":
        return False
    rtol, atol = tolerance or TOLERANCES.get(got.dtype, (None, None))
    if rtol is None:
        return False
    with np.errstate(all="ignore"):
        return bool(np.all(np.isfinite(got))) and bool(np.allclose(got, want, rtol=rtol,
                                                                   atol=atol))


class _Calls:
    """The student's functions, called as dlgrade's child calls them (fresh copies of the
    inputs and hyper-parameters), counting the calls."""

    def __init__(self, spec: dict[str, Any], functions: dict[str, Any]) -> None:
        self.spec, self.functions, self.count = spec, functions, 0

    def forward(self, inputs: list[tuple[str, np.ndarray]], params: dict[str, Any]) -> Any:
        self.count += 1
        fn = self.functions[self.spec["functions"][0]]
        return fn(*(np.array(v, copy=True) for _, v in inputs), **copy.deepcopy(params))

    def answer(self, case: dict[str, Any]) -> dict[str, Any]:
        """The value and gradients of one case (raises what the student's code raises)."""
        spec = self.spec
        first = self.forward(case["inputs"], case["params"])
        if spec["kind"] == "layer":
            out, cache = first
            self.count += 1
            grads = self.functions[spec["functions"][1]](np.array(case["dout"], copy=True), cache)
            grads = (grads,) if len(spec["wrt"]) == 1 else tuple(grads)
            values = {"out": out}
        else:
            loss, grad = first
            values, grads = {"loss": loss}, (grad,)
        values.update(zip(spec["grad_names"], grads, strict=True))
        return values

    def numerical(self, case: dict[str, Any], name: str) -> np.ndarray:
        """Centred differences of the student's forward at the probes of input ``name``."""
        position = [n for n, _ in case["inputs"]].index(name)
        weight = 1.0 if case["dout"] is None else np.asarray(case["dout"], np.float64)
        estimates = []
        for flat in case["probes"][name]:
            sums = []
            for delta in (EPS, -EPS):
                moved = [(n, np.array(v, dtype=np.float64, copy=True)) for n, v in case["inputs"]]
                moved[position][1].flat[flat] += delta
                out = self.forward(moved, case["params"])[0]
                sums.append(float(np.sum(np.asarray(out, dtype=np.float64) * weight)))
            estimates.append((sums[0] - sums[1]) / (2 * EPS))
        return np.array(estimates)


def _judge(spec: dict[str, Any], case: dict[str, Any], values: dict[str, Any]) -> bool:
    names = (spec["value_name"], *spec["grad_names"])
    return all(_close(values[n], case["reference"][n], spec["tolerance"]) for n in names)


def check_exercise(spec: dict[str, Any], functions: dict[str, Any] | str,
                   which: str = "all", deadline: float | None = None) -> dict[str, Any]:
    """Run one exercise's cases (``which``: ``all``, ``public`` with the stability cases, or
    ``hidden``) on the student's functions. Returns ``{"id", "status" (passed, failed,
    timeout, error, missing), "passed": cases right, "cases", "calls": student calls made,
    "message"}``. ``deadline``: a ``time.monotonic()`` by which the exercise must be done
    (default: ``time_limit`` from now)."""
    cases = [c for c in spec["cases"] if which == "all" or c["hidden"] == (which == "hidden")]
    result = {"id": spec["id"], "status": "passed", "passed": 0, "cases": len(cases),
              "calls": 0, "message": ""}
    if isinstance(functions, str):
        return {**result, "status": "missing", "message": functions}
    calls = _Calls(spec, functions)
    if deadline is None:
        deadline = time.monotonic() + spec["time_limit"]
    try:
        with _limit(deadline):
            answers: list[dict[str, Any] | None] = []
            for case in cases:  # first, every case's value and gradients
                try:
                    answers.append(calls.answer(case))
                except Exception:  # noqa: BLE001 - the student's exception fails the case
                    answers.append(None)
            for case, values in zip(cases, answers, strict=True):
                if values is not None and _judge(spec, case, values):
                    result["passed"] += 1
                    continue
                if case["huge"] or values is None:
                    continue
                for name, grad_name in zip(spec["wrt"], spec["grad_names"], strict=True):
                    try:  # the gradient check of the student's own forward
                        estimate = calls.numerical(case, name)
                    except Exception:  # noqa: BLE001
                        continue
                    grad = np.asarray(values[grad_name])
                    if grad.shape == np.shape(dict(case["inputs"])[name]):
                        with np.errstate(all="ignore"):
                            np.allclose(grad.flat[case["probes"][name]], estimate,
                                        rtol=FD_RTOL, atol=FD_ATOL)
    except Timeout:
        return {**result, "status": "timeout", "calls": calls.count, "passed": 0,
                "message": f"{spec['id']} took longer than {spec['time_limit']:g} s"}
    result["calls"] = calls.count
    if result["passed"] < len(cases):
        result["status"] = "failed"
        result["message"] = f"{spec['id']}: {len(cases) - result['passed']} of {len(cases)} " \
                            "cases wrong"
    return result


class _limit:  # noqa: N801 - a context manager, read as a phrase
    """Interrupt the code run inside it at ``deadline`` (SIGALRM: main thread only)."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline

    def __enter__(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("the time limit needs the main thread (SIGALRM)")
        self.previous = signal.signal(signal.SIGALRM, self._expired)
        signal.setitimer(signal.ITIMER_REAL, max(0.001, self.deadline - time.monotonic()))

    def _expired(self, signum: int, frame: Any) -> None:
        raise Timeout

    def __exit__(self, *exc: object) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self.previous)


# ---------------------------------------------------------------- the peers' entry points


def grade_student(cases: dict[str, dict[str, Any]], path: str | Path,
                  tag: str = "student") -> list[dict[str, Any]]:
    """Every exercise of one student, in one process (the real floor's unit of work)."""
    modules = load_student(path, tag)
    return [check_exercise(spec, functions_of(modules, spec)) for spec in cases.values()]


_otter_deadlines: dict[str, float] = {}
_otter_cases: dict[str, dict[str, Any]] = {}


def otter_check(env: dict[str, Any], exercise: str, which: str) -> None:
    """An otter test case: the public (and stability) or hidden cases of ``exercise`` on the
    functions the submission defined in the kernel (``env``); raises AssertionError when
    one is wrong. The public and hidden test cases of an exercise share its time limit."""
    if not _otter_cases:
        _otter_cases.update(load_cases(Path(__file__).with_name("cases.pkl")))
    spec = _otter_cases[exercise]
    deadline = _otter_deadlines.setdefault(exercise, time.monotonic() + spec["time_limit"])
    missing = [n for n in spec["functions"] if not callable(env.get(n))]
    functions = f"{', '.join(missing)} not defined" if missing else {
        n: env[n] for n in spec["functions"]}
    result = check_exercise(spec, functions, which, deadline)
    assert result["status"] == "passed", result["message"]

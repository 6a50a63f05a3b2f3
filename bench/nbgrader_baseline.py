"""Baseline for the grading benchmark: the same class graded by ``nbgrader autograde``.

What is measured: the wall clock and peak memory of ``nbgrader autograde`` on a real nbgrader
course (built here with nbformat) whose one notebook, ``ps1``, asks for the same 23 functions
as dlgrade's a1 (activations) and a2 (losses). The course set-up (``generate_assignment``,
writing the submissions) is not timed; reading the scores back is not timed either.

Why it is an equivalent workload: the notebook is what an nbgrader instructor would write for
the same assignment. One solution cell per student file (the student's ``activations.py`` and
``losses.py`` pasted in), a hidden, locked setup cell holding a compact numpy copy of the
correct formulas, and one grade cell per exercise worth the points of ``dlgrade list``. Each
grade cell runs the cases dlgrade runs (the shapes of ``autograder/spec.py`` and the
hyper-parameter sets of ``assignments/*/exercises.py``): per case the forward value and the
gradient against the expected values (tolerance 1e-7, as float64 in dlgrade), a centred
finite-difference gradient of the student's *own* forward on 12 entries (eps 1e-6, rtol 1e-4),
and, where dlgrade has one, a stability case with |x| up to 1e3 per hyper-parameter set.
The per-cell timeout is 10 s, dlgrade's limit per exercise. Differences that remain are
nbgrader's own: a grade cell is all or nothing (no partial credit per check), and student code
runs in the same kernel as the tests.

Usage: ``python bench/nbgrader_baseline.py --copies 8`` (needs ``pip install nbgrader``; it is
not a dependency of dlgrade). ``bench_peers.py`` and ``bench_grading.py`` use
:func:`prepare_course` and :func:`autograde_command` to time ``nbgrader autograde`` as they
time every other grader (the whole process tree, kernels included).
"""

from __future__ import annotations

import argparse
import inspect
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference"
SHAPES = ([(4, 5)], [(1, 7), (3, 4, 6)])  # (public, hidden) main-input shapes
CLASS_SHAPES = ([(4, 5)], [(1, 3), (16, 10)])  # (N, C) losses
SUM = {"reduction": "sum"}
# (function name, points, input sampler, hyper-parameter sets, stability case), as in dlgrade.
A1 = [("sigmoid", 2, "act", [{}]), ("tanh", 2, "act", [{}]), ("relu", 2, "act", [{}]),
      ("leaky_relu", 2, "act", [{}, {"alpha": 0.2}]), ("elu", 2, "act", [{}, {"alpha": 0.5}]),
      ("selu", 2, "act", [{}]), ("softplus", 2, "act", [{}]), ("gelu", 3, "act", [{}]),
      ("silu", 2, "act", [{}]), ("mish", 3, "act", [{}]), ("softmax", 3, "act", [{}]),
      ("log_softmax", 3, "act", [{}])]
A2 = [("mse", 2, "reg", [{}, SUM], True), ("mae", 2, "mae", [{}, SUM], True),
      ("huber", 2, "reg", [{}, SUM, {"delta": 0.5}, {"delta": 2.0}], True),
      ("log_cosh", 2, "reg", [{}, SUM], True), ("bce", 2, "prob", [{}, SUM], False),
      ("bce_with_logits", 2, "logit", [{}, SUM], True),
      ("softmax_cross_entropy", 3, "label", [{}, SUM], True),
      ("nll", 2, "logprob", [{}, SUM], False), ("kl_div", 3, "kl", [{}, SUM], False),
      ("multiclass_hinge", 3, "hinge", [{}, SUM, {"margin": 0.5}, {"margin": 2.0}], True),
      ("binary_focal", 3, "logit", [{}, SUM, {"gamma": 0.0}, {"gamma": 1.5, "alpha": 0.5}],
       True)]
CLASSIFICATION = {"softmax_cross_entropy", "nll", "kl_div", "multiclass_hinge"}


def _notebook_tests():
    """The instructor's test kit, pasted into the notebook's hidden setup cell: correct
    formulas, seeded inputs and ``check``. A closure, so no helper can clash with a student's."""
    import itertools
    import math
    import zlib

    import numpy as np

    def sig(x):
        z = np.exp(-np.abs(x))
        return np.where(x >= 0, 1, z) / (1 + z)

    def splus(x):
        return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))

    def lsm(x):
        s = x - x.max(-1, keepdims=True)
        return s - np.log(np.exp(s).sum(-1, keepdims=True))

    erf = np.vectorize(math.erf, otypes=[float])
    sa, ss = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    act = {  # name: (forward(x, **p), dx(x, dout, **p))
        "sigmoid": (sig, lambda x, g: g * sig(x) * sig(-x)),
        "tanh": (np.tanh, lambda x, g: g * (1 - np.tanh(x) ** 2)),
        "relu": (lambda x: np.maximum(x, 0), lambda x, g: g * (x > 0)),
        "leaky_relu": (lambda x, alpha=0.01: np.where(x > 0, x, alpha * x),
                       lambda x, g, alpha=0.01: g * np.where(x > 0, 1, alpha)),
        "elu": (lambda x, alpha=1.0: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))),
                lambda x, g, alpha=1.0: g * np.where(x > 0, 1, alpha * np.exp(np.minimum(x, 0)))),
        "selu": (lambda x: ss * np.where(x > 0, x, sa * np.expm1(np.minimum(x, 0))),
                 lambda x, g: g * ss * np.where(x > 0, 1, sa * np.exp(np.minimum(x, 0)))),
        "softplus": (splus, lambda x, g: g * sig(x)),
        "gelu": (lambda x: x * (1 + erf(x / math.sqrt(2))) / 2,
                 lambda x, g: g * ((1 + erf(x / math.sqrt(2))) / 2
                                   + x * np.exp(-x * x / 2) / math.sqrt(2 * math.pi))),
        "silu": (lambda x: x * sig(x), lambda x, g: g * sig(x) * (1 + x * sig(-x))),
        "mish": (lambda x: x * np.tanh(splus(x)),
                 lambda x, g: g * (np.tanh(splus(x)) + x * (1 - np.tanh(splus(x)) ** 2) * sig(x))),
        "softmax": (lambda x: np.exp(lsm(x)),
                    lambda x, g: np.exp(lsm(x)) * (g - (g * np.exp(lsm(x))).sum(-1)[..., None])),
        "log_softmax": (lsm, lambda x, g: g - np.exp(lsm(x)) * g.sum(-1, keepdims=True)),
    }

    def reduce(elements, grad, reduction, n):  # mean / batchmean divide by n, sum does not
        assert reduction in ("mean", "batchmean", "sum")
        k = 1.0 if reduction == "sum" else 1.0 / n
        return float(k * np.sum(elements)), k * grad

    def onehot(y, c):
        return np.eye(c)[y]

    def hinge(s, y, margin=1.0, reduction="mean"):
        m = s - s[np.arange(len(y)), y][:, None] + margin
        m[np.arange(len(y)), y] = 0
        g = (m > 0).astype(float)
        g[np.arange(len(y)), y] = -g.sum(1)
        return reduce(np.maximum(m, 0), g, reduction, len(y))

    def focal(x, t, gamma=2.0, alpha=0.25, reduction="mean"):
        p, q = sig(x), sig(x) * (1 - t) + sig(-x) * t
        ce, at = splus(x) - x * t, alpha * t + (1 - alpha) * (1 - t)
        ratio = np.divide(sig(x) * sig(-x), q, out=np.zeros_like(q), where=q > 0)
        grad = at * q**gamma * ((p - t) + gamma * ce * (1 - 2 * t) * ratio)
        return reduce(at * ce * q**gamma, grad, reduction, x.size)

    loss = {  # name: f(first, second, **p) -> (loss, gradient wrt first)
        "mse": lambda a, b, reduction="mean": reduce((a - b) ** 2, 2 * (a - b), reduction, a.size),
        "mae": lambda a, b, reduction="mean": reduce(abs(a - b), np.sign(a - b), reduction, a.size),
        "huber": lambda a, b, delta=1.0, reduction="mean": reduce(
            np.where(abs(a - b) <= delta, (a - b) ** 2 / 2, delta * (abs(a - b) - delta / 2)),
            np.clip(a - b, -delta, delta), reduction, a.size),
        "log_cosh": lambda a, b, reduction="mean": reduce(
            abs(a - b) + np.log1p(np.exp(-2 * abs(a - b))) - math.log(2), np.tanh(a - b),
            reduction, a.size),
        "bce": lambda p, t, reduction="mean": reduce(
            -(t * np.maximum(np.log(p), -100) + (1 - t) * np.maximum(np.log1p(-p), -100)),
            (p - t) / np.maximum(p * (1 - p), 1e-12), reduction, p.size),
        "bce_with_logits": lambda x, t, reduction="mean": reduce(
            splus(x) - x * t, sig(x) - t, reduction, x.size),
        "softmax_cross_entropy": lambda x, y, reduction="mean": reduce(
            -lsm(x) * onehot(y, x.shape[1]), np.exp(lsm(x)) - onehot(y, x.shape[1]),
            reduction, len(y)),
        "nll": lambda lp, y, reduction="mean": reduce(
            -lp * onehot(y, lp.shape[1]), -onehot(y, lp.shape[1]), reduction, len(y)),
        "kl_div": lambda lq, p, reduction="batchmean": reduce(
            p * (np.log(np.where(p > 0, p, 1)) - lq), -p, reduction, len(p)),
        "multiclass_hinge": hinge,
        "binary_focal": focal,
    }

    def values(rng, shape, huge):  # both signs; huge: magnitudes 0.1 .. 1e3, +-1e3 present
        sign = rng.choice((-1.0, 1.0), size=shape)
        if not huge:
            return sign * rng.uniform(0.01, 4.0, size=shape)  # off the kinks at 0
        x = sign * 10.0 ** rng.uniform(-1.0, 3.0, size=shape)
        x.flat[0], x.flat[-1] = 1e3, -1e3
        return x

    def sample(kind, rng, shape, huge):
        x, n, c = values(rng, shape, huge), shape[0], shape[-1]
        t = (rng.random(shape) < 0.5).astype(float)
        t.flat[::4] = rng.uniform(0.1, 0.9, size=t.flat[::4].shape)  # some soft targets
        y = rng.integers(0, c, size=n)
        if kind in ("reg", "mae"):
            if kind == "mae":
                x.flat[::4] = 0.0  # exact zeros of the residual: subgradient 0
            target = rng.normal(size=shape)
            return target + x, target
        if kind == "kl":
            p = np.exp(lsm(rng.normal(size=shape)))
            p[(rng.random(shape) < 1 / 3) & (p < p.max(1, keepdims=True))] = 0.0
            return lsm(values(rng, shape, False)), p / p.sum(1, keepdims=True)
        if kind == "hinge":
            shift = values(rng, (n, 1), True) if huge else 0.0
            return (100.0 if huge else 1.0) * values(rng, shape, False) + shift, y
        return {"act": (x,), "prob": (rng.uniform(0.05, 0.95, size=shape), t), "logit": (x, t),
                "label": (x, y), "logprob": (lsm(x), y)}[kind]

    def close(what, got, want, rtol=1e-7, atol=1e-7):
        got = np.asarray(got, dtype=float)
        assert got.shape == np.shape(want), f"{what}: shape {got.shape}, expected {np.shape(want)}"
        assert np.all(np.isfinite(got)), f"{what}: NaN or inf"
        assert np.allclose(got, want, rtol=rtol, atol=atol), f"{what}: wrong values"

    def numerical(f, x, probes, eps=1e-6):  # centred differences of a scalar f
        steps = [np.eye(x.size)[i].reshape(x.shape) * eps for i in probes]
        return np.array([(f(x + h) - f(x - h)) / (2 * eps) for h in steps])

    def check(name, student, params, shapes, stability=False, kind="act"):
        """Every case: value, gradient, gradient check of the student's own forward (12
        entries); stability cases (|x| up to 1e3): value and gradient."""
        plans = [(s, p, False) for s, p in itertools.product(shapes, params)]
        plans += [((4, 6), p, True) for p in params] if stability else []
        for shape, p, huge in plans:
            rng = np.random.default_rng(zlib.crc32(f"{name}{shape}{p}{huge}".encode()))
            args = sample(kind, rng, shape, huge)
            where = f"{name} {'|x|~1e3 ' if huge else ''}shape {shape} {p}"
            if kind == "act":
                forward, backward = student
                dout = rng.standard_normal(shape)
                out, cache = forward(args[0].copy(), **p)
                close(f"{where} forward", out, act[name][0](args[0], **p))
                got = np.asarray(backward(dout.copy(), cache), dtype=float)
                close(f"{where} backward", got, act[name][1](args[0], dout, **p))
                scalar = lambda x: np.sum(dout * forward(x, **p)[0])  # noqa: E731, B023
            else:
                value, got = student(*(a.copy() for a in args), **p)
                want_value, want = loss[name](*args, **p)
                close(f"{where} loss", value, want_value)
                close(f"{where} gradient", got, want)
                got = np.asarray(got, dtype=float)
                scalar = lambda x: float(student(x, *args[1:], **p)[0])  # noqa: E731, B023
            if not huge:
                probes = rng.choice(args[0].size, min(12, args[0].size), replace=False)
                close(f"{where} gradient check of your own forward", got.flat[probes],
                      numerical(scalar, args[0], probes), rtol=1e-4, atol=1e-6)

    return check


def _cell(source, grade_id, *, grade=False, solution=False, points=0):
    import nbformat

    meta = {"grade": grade, "solution": solution, "locked": not solution, "points": points,
            "grade_id": grade_id, "schema_version": 3}
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta})


def _grade_source(assignment, exercise):
    name, points, kind, params, *rest = exercise
    stable = rest[0] if rest else True
    public, hidden = CLASS_SHAPES if name in CLASSIFICATION else SHAPES
    student = f"({name}_forward, {name}_backward)" if kind == "act" else f"{name}_loss"
    call = f"check({name!r}, {student}, {params!r}"
    tail = "" if kind == "act" else f", kind={kind!r}"
    return (f"# {assignment}.{name} ({points} points)\n{call}, {public!r}{tail})\n"
            f"### BEGIN HIDDEN TESTS\n{call}, {hidden!r}, stability={stable!r}{tail})\n"
            "### END HIDDEN TESTS\n")


def build_notebook(activations: str, losses: str):
    """The ps1 notebook with the given solution-cell sources."""
    import nbformat

    setup = (f"### BEGIN HIDDEN TESTS\n{inspect.getsource(_notebook_tests)}\n"
             "check = _notebook_tests()\n### END HIDDEN TESTS\n")
    cells = [_cell("import math\n\nimport numpy as np", "imports"),
             _cell(activations, "activations", solution=True),
             _cell(losses, "losses", solution=True),
             _cell(setup, "setup", grade=True)]
    cells += [_cell(_grade_source("a1", e), f"a1_{e[0]}", grade=True, points=e[1]) for e in A1]
    cells += [_cell(_grade_source("a2", e), f"a2_{e[0]}", grade=True, points=e[1]) for e in A2]
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": kernel})


def _student_sources(path: pathlib.Path) -> tuple[str, str]:
    if path.is_file():  # one file (or notebook) holding both modules
        return (_code(path),) * 2
    files = [next((path / f"{m}{s}" for s in (".py", ".ipynb") if (path / f"{m}{s}").exists()),
                  None) for m in ("activations", "losses")]
    return tuple(_code(f) if f is not None else "# no file handed in\n" for f in files)


def _code(path: pathlib.Path) -> str:
    """A .py file's text, or a notebook's code cells joined: what the student would have in
    the solution cell of nbgrader's notebook (magics stay: the kernel runs them)."""
    if path.suffix != ".ipynb":
        return path.read_text()
    import json

    cells = json.loads(path.read_text())["cells"]
    return "\n\n".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                       for c in cells if c.get("cell_type") == "code")


def _nbgrader(workdir: pathlib.Path, *args: str) -> None:
    cmd = [sys.executable, "-m", "nbgrader", *args]
    done = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")


def _imports() -> None:
    try:
        import nbformat  # noqa: F401
        import nbgrader  # noqa: F401
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    except ImportError as error:
        raise RuntimeError("the nbgrader baseline needs nbgrader: pip install nbgrader") from error
    try:
        KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel as error:
        raise RuntimeError("nbgrader needs the python3 kernel: pip install ipykernel") from error


def prepare_course(submissions: list[tuple[str, pathlib.Path]], workdir: pathlib.Path) -> None:
    """The nbgrader course in ``workdir``, ready for ``nbgrader autograde`` (not timed):
    config, the ps1 source notebook, ``generate_assignment``, and one submitted notebook per
    student. ``submissions``: (student name, folder holding activations.py and losses.py (or
    .ipynb), or one .py file or notebook holding both)."""
    _imports()
    import nbformat

    workdir.mkdir(parents=True, exist_ok=True)
    for old in ("source", "release", "submitted", "autograded", "feedback"):
        shutil.rmtree(workdir / old, ignore_errors=True)
    (workdir / "gradebook.db").unlink(missing_ok=True)
    (workdir / "nbgrader_config.py").write_text(
        'c = get_config()\nc.CourseDirectory.course_id = "dlgrade_bench"\n'
        "c.ExecutePreprocessor.timeout = 10  # dlgrade's limit per exercise\n")
    source = workdir / "source" / "ps1"
    source.mkdir(parents=True)
    solutions = (REFERENCE / "activations.py").read_text(), (REFERENCE / "losses.py").read_text()
    nbformat.write(build_notebook(*solutions), source / "ps1.ipynb")
    _nbgrader(workdir, "generate_assignment", "ps1", "--force")
    released = nbformat.read(workdir / "release" / "ps1" / "ps1.ipynb", as_version=4)
    for student, path in submissions:
        notebook = nbformat.from_dict(released)
        sources = dict(zip(("activations", "losses"), _student_sources(path), strict=True))
        for cell in notebook.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in sources:
                cell.source = sources[grade_id]
        (workdir / "submitted" / student / "ps1").mkdir(parents=True)
        nbformat.write(notebook, workdir / "submitted" / student / "ps1" / "ps1.ipynb")


def autograde_command() -> list[str]:
    """What is timed, run in the course folder."""
    return [sys.executable, "-m", "nbgrader", "autograde", "ps1", "--force"]


def read_scores(workdir: pathlib.Path, students: list[str]) -> dict[str, dict[str, float]]:
    """Per student, the total score and the grade cells with full marks (``passed``)."""
    from nbgrader.api import Gradebook

    found = {}
    with Gradebook(f"sqlite:///{workdir / 'gradebook.db'}") as gradebook:
        for student in students:
            submission = gradebook.find_submission("ps1", student)
            grades = [g for nb in submission.notebooks for g in nb.grades
                      if g.max_score and g.name != "setup"]
            found[student] = {"score": submission.score,
                              "passed": sum(g.score >= g.max_score for g in grades)}
    return found


def run_nbgrader(submissions: list[tuple[str, pathlib.Path]], workdir: pathlib.Path) -> dict:
    """Grade the given students with `nbgrader autograde` and report timings.
    submissions: (student name, folder containing activations.py and losses.py, or one .py
    file holding both). Returns {"seconds": wall seconds of the autograde step,
    "per_submission": seconds/N, "peak_rss_mb": peak RSS of the autograde process tree (of
    its largest process, from wait4), "scores": {student: total score},
    "nbgrader_version": str}."""
    prepare_course(submissions, workdir)
    import nbgrader

    log = (workdir / "autograde.log").open("w")
    start = time.perf_counter()
    process = subprocess.Popen(autograde_command(), cwd=workdir, stdout=log,
                               stderr=subprocess.STDOUT)
    # wait4 gives this command's rusage, its reaped descendants (the kernels) included, so
    # ru_maxrss is the peak RSS of the largest process in the autograde tree.
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    log.close()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise RuntimeError(f"nbgrader autograde failed, see {workdir / 'autograde.log'}")
    scale = 1 / 2**20 if sys.platform == "darwin" else 1 / 2**10  # ru_maxrss: bytes / KiB
    scores = {s: r["score"] for s, r in read_scores(workdir, [s for s, _ in submissions]).items()}
    return {"seconds": seconds, "per_submission": seconds / max(1, len(submissions)),
            "peak_rss_mb": usage.ru_maxrss * scale,
            "scores": scores, "nbgrader_version": nbgrader.__version__}


def discover(folder: pathlib.Path, copies: int = 1) -> list[tuple[str, pathlib.Path]]:
    """Students in ``folder`` (sub-folders and single .py files), the class repeated
    ``copies`` times (copy k > 1 of ``ada`` is ``ada_k``)."""
    found = [(p.stem, p) for p in sorted(folder.iterdir())
             if (p.is_dir() and any(p.glob("*.py"))) or (p.is_file() and p.suffix == ".py")]
    return [(name if k == 1 else f"{name}_{k}", path)
            for k in range(1, copies + 1) for name, path in found]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=pathlib.Path, default=ROOT / "samples" / "class")
    parser.add_argument("--copies", type=int, default=1, help="replicate the class K times")
    parser.add_argument("--workdir", type=pathlib.Path,
                        help="course directory (kept); default: a temporary one, removed")
    args = parser.parse_args(argv)
    submissions = discover(args.students, args.copies)
    workdir = args.workdir or pathlib.Path(tempfile.mkdtemp(prefix="nbgrader-bench-"))
    try:
        result = run_nbgrader(submissions, workdir)
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"nbgrader {result['nbgrader_version']}: autograde of {len(submissions)} submissions")
    print(f"  wall clock      {result['seconds']:.1f} s ({result['per_submission']:.2f} s each)")
    print(f"  peak RSS        {result['peak_rss_mb']:.0f} MB (largest process of the tree)")
    for student, score in result["scores"].items():
        print(f"  {student:<12} {score:6.2f} / {sum(e[1] for e in A1 + A2)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: a class of realistic submissions graded four ways, in the same run.

1. ``dlgrade grade`` as shipped: isolated children forked from a warm zygote, cores + 1
   workers.
2. ``dlgrade grade --workers 1``: the same, one student at a time.
3. The floor: the same checks, one process, no isolation (student modules imported into the
   grading process through ``InProcessSession``, which exists only here).
4. ``nbgrader autograde`` of an equivalent notebook (``bench/nbgrader_baseline.py``).

Each runs as its own process (the best of ``--repeat`` runs, 3 by default), timed end to end
(interpreter start and imports included), with its peak memory as ``ru_maxrss`` of the
largest process in its tree (as nbgrader's is measured) and the peak sum of RSS over its
whole process tree, sampled every 20 ms.

Usage: ``python bench/bench_grading.py --students 40`` (add ``--no-nbgrader`` when nbgrader
is not installed; ``pip install nbgrader`` for the baseline). ``--assignments all`` grades the
whole course (A1-A5) instead of A1+A2; nbgrader's notebook covers A1+A2 only, so it is then
left out.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples" / "class"


# ---------------------------------------------------------------- the class


def build_class(folder: Path, students: int, selector: str = "a1,a2",
                seed: int = 0) -> list[tuple[str, Path]]:
    """A class like a real one: correct students, students with bugs from the sample class,
    untouched templates, and reference code with one known mistake per file (the mutants)."""
    from dlgrade.courses import registry
    from dlgrade.grading.validate import mutant_source

    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    modules = [m for a in registry.resolve(selector) for m in a.modules]
    known = {m: [x for x in registry.mutants() if registry.exercise(x.exercise).module == m]
             for m in modules}
    made = []
    for i in range(students):
        kind = ("ada", "ben", "eve", "dev", "mutant")[i % 5]
        name = f"{kind}{i:03d}"
        if kind == "eve":
            path = folder / f"{name}.py"
            shutil.copy(SAMPLES / "eve.py", path)
        elif kind == "mutant":
            path = folder / name
            path.mkdir()
            for module in modules:
                (path / f"{module}.py").write_text(mutant_source(rng.choice(known[module])))
        else:  # the sample student's files for the graded assignments, as they would submit
            path = folder / name
            path.mkdir()
            for module in modules:
                if (SAMPLES / kind / f"{module}.py").is_file():
                    shutil.copy(SAMPLES / kind / f"{module}.py", path)
        made.append((name, path))
    return made


# ---------------------------------------------------------------- the floor


class InProcessSession:
    """The grader's session without isolation: the child's own logic, run in this process.
    The floor of the benchmark, never used for grading."""

    def __init__(self, modules: dict[str, Path], directory: Path | None, limits: Any,
                 preload: tuple[str, ...] = (), private: tuple[str, ...] = (),
                 **session_options: Any) -> None:  # track, support: not needed here
        from dlgrade.sandbox.child import Child

        self.child = Child({k: str(v) for k, v in modules.items()}, str(directory or "/"))
        self.alive = True
        self._arrays: list[Any] = []

    def _reply(self, header: dict[str, Any]) -> Any:
        from dlgrade.sandbox.child import StudentError, stacked
        from dlgrade.sandbox.protocol import Reply

        try:
            value = self.child.handle(header, self._arrays)
            if header.get("op") == "perturb" and isinstance(value, list):
                value = stacked(value)
            return Reply(True, value=_plain(value))
        except StudentError as err:
            return Reply(False, kind=err.kind, message=err.message, where=err.where)

    def batch(self, module: str, steps: list[Any], timeout: float,
              max_bytes: int | None = None) -> list[Any]:
        from dlgrade.sandbox import protocol

        self._arrays = []
        headers = [protocol.encode_step(module, s, self._arrays) for s in steps]
        self.child.handles.clear()
        return [self._reply(h) for h in headers]

    def request(self, header: dict[str, Any], arrays: list[Any], timeout: float) -> Any:
        self._arrays = arrays
        return self._reply(header)

    def output(self) -> str:
        return ""  # what the student printed goes to this process's own stdout

    def cleanup(self) -> str:
        return ""


def _plain(value: Any) -> Any:
    """What the wire would make of a value: lists for tuples, arrays for numbers."""
    import numpy as np

    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, np.ndarray)):
        return value
    return np.asarray(value)


def floor(folder: Path, selector: str) -> None:
    """Grade every student of ``folder`` in this process, with no isolation."""
    from dlgrade.courses import registry
    from dlgrade.grading.grader import Grader
    from dlgrade.load.submission import discover

    every = registry.resolve(selector)
    for submission in discover(folder):
        result = Grader(submission, hidden=True, session_class=InProcessSession).grade(every)
        if submission.student.startswith("ada") and result.score != result.max_score:
            raise SystemExit(f"the floor mis-graded {submission.student}: {result.score}")


# ---------------------------------------------------------------- measuring


def _tree_rss(root: int) -> int:
    """Sum of RSS (bytes) of ``root`` and all its descendants."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent and p not in tree]
        tree.update(children)
        frontier += children
    return sum(rss.get(p, 0) for p in tree)


def measure(command: list[str], repeat: int = 1) -> dict[str, float]:
    """The best of ``repeat`` runs of ``command`` (this machine is noisy: the minimum is the
    run least disturbed by others): wall seconds, peak RSS of its largest process and peak
    RSS of its whole tree (MB), each the minimum over the runs."""
    runs = [_measure_once(command) for _ in range(max(1, repeat))]
    return {key: min(r[key] for r in runs) for key in runs[0]}


def _measure_once(command: list[str]) -> dict[str, float]:
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], _tree_rss(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{command} failed with status {status}")
    return {"seconds": seconds, "max_rss_mb": usage.ru_maxrss / 1024,
            "tree_rss_mb": peak[0] / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--no-nbgrader", action="store_true")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each dlgrade configuration; the best counts")
    parser.add_argument("--assignments", default="a1,a2",
                        help="a1,a2 (default, as nbgrader's notebook) or all")
    parser.add_argument("--floor", type=Path, help=argparse.SUPPRESS)  # internal
    args = parser.parse_args()
    from dlgrade import api

    api.load_course(ROOT)  # the bundled course
    if args.floor:
        floor(args.floor, args.assignments)
        return
    from dlgrade.courses import registry
    from dlgrade.grading.classroom import default_workers

    work = Path(tempfile.mkdtemp(prefix="dlgrade-bench-"))
    try:
        chosen = registry.resolve(args.assignments)
        exercises = sum(len(a.exercises) for a in chosen)
        names = " + ".join(a.id for a in chosen)
        made = build_class(work / "class", args.students, args.assignments)
        n = len(made)
        dlgrade = [sys.executable, "-m", "dlgrade", "grade", args.assignments,
                   str(work / "class"), "--no-gradebook", "--course", str(ROOT)]
        rows = {
            f"dlgrade, isolated, {default_workers()} workers (default)": measure(
                dlgrade, args.repeat),
            "dlgrade, isolated, 1 worker": measure(dlgrade + ["--workers", "1"], args.repeat),
            "floor: same checks, 1 process, no isolation": measure(
                [sys.executable, __file__, "--floor", str(work / "class"),
                 "--assignments", args.assignments], args.repeat),
        }
        if not args.no_nbgrader and [a.id for a in chosen] == ["a1", "a2"]:
            sys.path.insert(0, str(Path(__file__).parent))
            from nbgrader_baseline import run_nbgrader

            nb = run_nbgrader(made, work / "nbgrader")
            rows["nbgrader autograde (equivalent notebook)"] = {
                "seconds": nb["seconds"], "max_rss_mb": nb["peak_rss_mb"],
                "tree_rss_mb": float("nan")}
        print(f"{n} submissions ({names}, {exercises} exercises each), {os.cpu_count()} cores\n")
        print(f"{'':46} {'s/submission':>12} {'max RSS MB':>11} {'tree RSS MB':>12}")
        for label, row in rows.items():
            print(f"{label:46} {row['seconds'] / n:12.3f} {row['max_rss_mb']:11.0f} "
                  f"{row['tree_rss_mb']:12.0f}")
        parallel, serial, base = (r["seconds"] for r in list(rows.values())[:3])
        print(f"\nisolation cost (1 worker vs floor): {serial / base:.2f}x")
        if "nbgrader autograde (equivalent notebook)" in rows:
            nb_seconds = rows["nbgrader autograde (equivalent notebook)"]["seconds"]
            print(f"throughput vs nbgrader: {nb_seconds / parallel:.1f}x "
                  f"(1 worker: {nb_seconds / serial:.1f}x)")
        print(json.dumps({k: {m: round(v, 3) for m, v in r.items()} for k, r in rows.items()}))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

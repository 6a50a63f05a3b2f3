"""Benchmark: a class of realistic submissions graded four ways, in the same run.

1. ``dlgrade grade`` as shipped: isolated children forked from a warm zygote, cores + 1
   workers.
2. ``dlgrade grade --workers 1``: the same, one student at a time.
3. The dlgrade pipeline in one process, no isolation: the same checks, student modules
   imported into the grading process through ``InProcessSession``, which exists only here
   (not a floor: frames, diagnosis and reports are all there; ``bench_peers.py`` has the
   real floor, the numeric work alone, and the other graders).
4. ``nbgrader autograde`` of an equivalent notebook (``bench/nbgrader_baseline.py``).

Each runs as its own process tree (the median of ``--repeat`` runs, 3 by default), timed end
to end (interpreter start and imports included) by :func:`run_tree`: this process is a child
subreaper, so every descendant (dlgrade's zygote, which the grader never waits for, and
nbgrader's kernels) is reaped here and its CPU time counted; memory is ``ru_maxrss`` of the
largest process in the tree and the peak sum of RSS over the whole tree, sampled every 20 ms.

Usage: ``python bench/bench_grading.py --students 40`` (add ``--no-nbgrader`` when nbgrader
is not installed; ``pip install nbgrader`` for the baseline). ``--assignments all`` grades the
whole course (A1-A5) instead of A1+A2; nbgrader's notebook covers A1+A2 only, so it is then
left out.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import shutil
import signal
import statistics
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
        self._expired = False
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
        replies = []
        with self._limit(timeout):
            for header in headers:
                replies.append(self._reply(header))
                if self._expired:
                    break
        return replies

    def request(self, header: dict[str, Any], arrays: list[Any], timeout: float) -> Any:
        self._arrays = arrays
        with self._limit(timeout):
            reply = self._reply(header)
        return reply

    @contextlib.contextmanager
    def _limit(self, timeout: float) -> Any:
        """The child's wall-clock limit, in this process: SIGALRM interrupts the student's
        code (the child turns what it raises into a student error, so the flag says it was
        the clock), and the session is over, as a timed-out child is."""
        from dlgrade.sandbox.protocol import Reply
        from dlgrade.sandbox.runner import SessionOver

        self._expired = False

        def ring(signum: int, frame: Any) -> None:
            self._expired = True
            raise TimeoutError("the time limit went by")

        previous = signal.signal(signal.SIGALRM, ring)
        signal.setitimer(signal.ITIMER_REAL, max(0.001, timeout))
        try:
            yield
        except TimeoutError:
            self._expired = True
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        if self._expired:
            self.alive = False
            raise SessionOver(Reply(False, kind="timeout", message=(
                f"did not finish within {timeout:.2g} s (an infinite loop, or far too slow)")))

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
    """Grade every student of ``folder`` in this process, with no isolation; print how many
    exercises passed."""
    from dlgrade.courses import registry
    from dlgrade.grading.grader import Grader
    from dlgrade.load.submission import discover

    every = registry.resolve(selector)
    passed = total = 0
    for submission in discover(folder):
        result = Grader(submission, hidden=True, session_class=InProcessSession).grade(every)
        if submission.student.startswith("ada") and result.score != result.max_score:
            raise SystemExit(f"the floor mis-graded {submission.student}: {result.score}")
        passed += sum(e.status == "passed" for e in result.exercises)
        total += len(result.exercises)
    print(f"passed {passed} of {total} exercises")


# ---------------------------------------------------------------- measuring

PR_SET_CHILD_SUBREAPER = 36
#: Seconds a configuration's leftover processes (dlgrade's zygote, say) get to exit by
#: themselves once its main process has; then they are killed, and the output says so.
LINGER = 10.0


def become_subreaper() -> None:
    """Make this process the reaper of its orphaned descendants (Linux): dlgrade's warm
    zygote is started in a session of its own and never waited for by the grader, so without
    this it is re-parented to init, and its CPU time is counted nowhere."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def _process_table() -> tuple[dict[int, int], dict[int, int]]:
    """Parent and RSS (bytes) of every process, by pid."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * page
    return parents, rss


def _descendants(root: int, parents: dict[int, int]) -> set[int]:
    tree, frontier = set(), [root]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent and p not in tree]
        tree.update(children)
        frontier += children
    return tree


def _tree_rss(root: int, include_root: bool = True) -> tuple[int, int]:
    """Sums of RSS and of PSS (bytes) over ``root``'s descendants (and ``root``, unless
    told not). RSS counts a page shared by forked processes (a zygote's numpy, the
    reference outputs a forked worker inherits) once per process; PSS divides it among
    them, so it is what the tree really holds. A process whose PSS cannot be read counts
    its RSS."""
    parents, rss = _process_table()
    tree = _descendants(root, parents) | ({root} if include_root else set())
    return sum(rss.get(p, 0) for p in tree), sum(_pss(p, rss.get(p, 0)) for p in tree)


def _pss(pid: int, fallback: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return fallback


def run_tree(command: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
             log: Path | None = None, check: bool = True) -> dict[str, float]:
    """One run of ``command`` as a process tree of its own, timed end to end (interpreter
    start and imports included). This process is a child subreaper for it, so every
    descendant, orphans included, is waited for here, and the CPU time of the whole tree is
    the change in RUSAGE_CHILDREN. Returns wall seconds (until the main process exits), CPU
    seconds (user + system) of the whole tree, the peak RSS of the largest process among
    the main process and the descendants it waited for (MB, from wait4), and the peak sum of
    RSS over the tree, sampled every 20 ms (MB), and of PSS (``tree_pss_mb``);
    ``leftovers``: processes still running when the main one exited (all reaped here),
    ``killed``: those that had to be killed;
    ``cpu_seconds_main_waited``: the CPU a timer without the subreaper would count."""
    become_subreaper()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = open(log, "w") if log is not None else subprocess.DEVNULL  # noqa: SIM115
    started = time.perf_counter()
    try:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    finally:
        if log is not None:
            out.close()
    peak = [0, 0]  # RSS, PSS
    done = threading.Event()
    me = os.getpid()

    def sample() -> None:
        while not done.wait(0.02):
            peak[:] = map(max, peak, _tree_rss(me, include_root=False))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    leftovers, killed = _reap_everything()
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if check and process.returncode != 0:
        where = f", see {log}" if log is not None else ""
        raise RuntimeError(f"{command} failed with status {process.returncode}{where}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"seconds": seconds, "cpu_seconds": cpu, "max_rss_mb": usage.ru_maxrss / 1024,
            "tree_rss_mb": peak[0] / 2**20, "tree_pss_mb": peak[1] / 2**20,
            "leftovers": leftovers, "killed": killed,
            "returncode": process.returncode,
            # What a timer without the subreaper sees: the main process and the descendants
            # it waited for itself (wait4's rusage).
            "cpu_seconds_main_waited": usage.ru_utime + usage.ru_stime}


def _reap_everything(linger: float = LINGER) -> tuple[int, int]:
    """Wait for every remaining descendant (re-parented to this subreaper); after ``linger``
    seconds kill those still running, and say so. Returns (reaped, killed)."""
    reaped = killed = 0
    deadline = time.monotonic() + linger
    while True:
        try:
            pid, _, _ = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return reaped, killed
        if pid:
            reaped += 1
            continue
        if time.monotonic() > deadline:
            parents, _ = _process_table()
            stuck = _descendants(os.getpid(), parents)
            for pid in stuck:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
                except ProcessLookupError:
                    pass
            print(f"  killed {len(stuck)} leftover process(es) still running {linger:g} s "
                  "after the configuration's main process exited", file=sys.stderr)
            deadline = float("inf")
        time.sleep(0.005)


def measure(command: list[str], repeat: int = 1, **options: Any) -> dict[str, float]:
    """The median of ``repeat`` runs of ``command`` (:func:`run_tree`), figure by figure."""
    runs = [run_tree(command, **options) for _ in range(max(1, repeat))]
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def nbgrader_row(made: list[tuple[str, Path]], workdir: Path, repeat: int) -> dict[str, float]:
    """``nbgrader autograde`` timed as the other rows (:func:`measure`): the course is set up
    once, untimed, and every run grades a fresh copy of it."""
    sys.path.insert(0, str(Path(__file__).parent))
    from nbgrader_baseline import autograde_command, prepare_course

    pristine = workdir / "pristine"
    prepare_course(made, pristine)
    runs = []
    for _ in range(max(1, repeat)):
        course = workdir / "course"
        shutil.rmtree(course, ignore_errors=True)
        shutil.copytree(pristine, course)
        runs.append(run_tree(autograde_command(), cwd=course, log=workdir / "autograde.log"))
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--no-nbgrader", action="store_true")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each configuration; the median counts")
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
        configurations = {
            f"dlgrade, isolated, {default_workers()} workers (default)": dlgrade,
            "dlgrade, isolated, 1 worker": dlgrade + ["--workers", "1"],
            "dlgrade pipeline in one process, no isolation": [
                sys.executable, __file__, "--floor", str(work / "class"),
                "--assignments", args.assignments],
        }
        rows = {}
        for label, command in configurations.items():
            print(f"{label} ({args.repeat} runs)", file=sys.stderr)
            rows[label] = measure(command, args.repeat)
        if not args.no_nbgrader and [a.id for a in chosen] == ["a1", "a2"]:
            print(f"nbgrader autograde ({args.repeat} runs)", file=sys.stderr)
            rows["nbgrader autograde (equivalent notebook)"] = nbgrader_row(
                made, work / "nbgrader", args.repeat)
        print(f"{n} submissions ({names}, {exercises} exercises each), {os.cpu_count()} cores;"
              f" median of {args.repeat} runs; CPU of the whole process tree\n")
        print(f"{'':46} {'s/submission':>12} {'CPU s/sub':>10} {'max RSS MB':>11} "
              f"{'tree RSS MB':>12} {'tree PSS MB':>12}")
        for label, row in rows.items():
            print(f"{label:46} {row['seconds'] / n:12.3f} {row['cpu_seconds'] / n:10.3f} "
                  f"{row['max_rss_mb']:11.0f} {row['tree_rss_mb']:12.0f} "
                  f"{row.get('tree_pss_mb', row['tree_rss_mb']):12.0f}")
        parallel, serial, base = (r["seconds"] for r in list(rows.values())[:3])
        print(f"\nisolation cost (1 worker vs the pipeline in one process): {serial / base:.2f}x"
              " (bench/bench_peers.py has the real floor: the numeric work alone)")
        if "nbgrader autograde (equivalent notebook)" in rows:
            nb_seconds = rows["nbgrader autograde (equivalent notebook)"]["seconds"]
            print(f"throughput vs nbgrader: {nb_seconds / parallel:.1f}x "
                  f"(1 worker: {nb_seconds / serial:.1f}x)")
        print(json.dumps({k: {m: round(v, 3) for m, v in r.items()} for k, r in rows.items()}))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

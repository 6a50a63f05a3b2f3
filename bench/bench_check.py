"""Benchmark: how long a student waits for ``dlgrade check`` (issue 16: <= 0.5 s for one
assignment on a warm disk).

A kit of the bundled course's assignment (``--assignment``, a1 by default) is written to a
temporary folder with the correct sample student's file in it, and ``dlgrade check -a A -q``
runs there ``--runs`` times as a student runs it: a fresh process each time, through the
installed ``dlgrade`` script (not a shell shim: pyenv's adds ~0.1 s of its own). Printed:
the median and the range of the wall time, and the median CPU time of the whole process
tree (the check, its capability probe, its warm worker and the child), counted by making
this process a child subreaper and reaping every descendant; then, for scale, the median
start of this interpreter doing nothing and importing numpy (the site's ``.pth`` files, an
editable install's finder among them, are in both: a wheel install has no finder).

Usage: ``python bench/bench_check.py [--assignment a1] [--runs 15] [--course]`` (``--course``
checks inside the course itself, as an instructor does, instead of a kit).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADA = ROOT / "samples" / "class" / "ada"
PR_SET_CHILD_SUBREAPER = 36


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _reap_all() -> None:
    """Wait for every descendant left (re-parented here as the subreaper)."""
    while True:
        try:
            os.wait4(-1, 0)
        except ChildProcessError:
            return


def run_once(command: list[str], cwd: Path) -> tuple[float, float]:
    cpu = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited with {done.returncode}")
    _reap_all()
    return wall, _children_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignment", default="a1")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--course", action="store_true",
                        help="check in the course itself (all its specs load), not in a kit")
    args = parser.parse_args()
    ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    script = Path(sysconfig.get_path("scripts")) / "dlgrade"
    if not script.is_file():
        raise SystemExit(f"no dlgrade script at {script}: pip install -e . first")
    work = Path(tempfile.mkdtemp(prefix="dlgrade-bench-check-"))
    try:
        if args.course:
            folder = ADA
            command = [str(script), "check", "-a", args.assignment, "-q", "--course", str(ROOT)]
        else:
            folder = work / "kit"
            subprocess.run([str(script), "kit", args.assignment, str(folder), "--course",
                            str(ROOT)], check=True, stdout=subprocess.DEVNULL)
            for path in folder.glob("*.py"):
                shutil.copy(ADA / path.name, path)  # the correct student's files
            command = [str(script), "check", "-a", args.assignment, "-q"]
        run_once(command, folder)  # a warm disk: the first run reads everything once
        runs = [run_once(command, folder) for _ in range(args.runs)]
        # What any command costs on this interpreter before dlgrade runs (its site: .pth
        # files, an editable install's finder), and with numpy, which grading needs.
        bare = [run_once([sys.executable, "-c", "pass"], folder)[0] for _ in range(args.runs)]
        numpy = [run_once([sys.executable, "-c", "import numpy"], folder)[0]
                 for _ in range(args.runs)]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    walls = [w for w, _ in runs]
    where = "the course" if args.course else "a kit"
    print(f"dlgrade check -a {args.assignment} in {where}, {args.runs} runs, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    print(f"  wall: median {statistics.median(walls):.3f} s "
          f"(min {min(walls):.3f}, max {max(walls):.3f})")
    print(f"  CPU of the whole process tree: median "
          f"{statistics.median(c for _, c in runs):.3f} s")
    print(f"  python: {sys.version.split()[0]}; `python -c pass` median "
          f"{statistics.median(bare):.3f} s, `python -c 'import numpy'` "
          f"{statistics.median(numpy):.3f} s (the floor of any command here)")


if __name__ == "__main__":
    main()

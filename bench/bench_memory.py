"""Benchmark: the grading process's peak memory against class size (run on purpose).

Builds a class of each of ``--sizes`` students (``bench_grading.build_class``: correct
students, the sample class's bugs, untouched templates, known mistakes) and grades it with
``dlgrade grade a1,a2 CLASS --no-gradebook`` plus every class output (``--json``, ``--csv``,
``--html``), in a fresh process each. Prints the grading process's own peak resident memory
(``VmHWM``, read as it exits: its workers, warm worker and children are other processes)
and what each student added between the smallest and the largest class.

Usage: ``python bench/bench_memory.py`` (``--sizes 40,640,2560`` for a longer run).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

#: Runs the CLI and, at exit, prints this process's peak RSS in kB to stderr.
_GRADE = """
import atexit, sys
def _peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            print("PEAK_KB", line.split()[1], file=sys.stderr)
atexit.register(_peak)
from dlgrade.cli import main
sys.argv = ["dlgrade", *sys.argv[1:]]
main()
"""


def peak_kb(folder: Path, out: Path) -> tuple[int, float]:
    """The grading process's peak RSS (kB) and wall seconds for one class."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _GRADE, "grade", "a1,a2", str(folder), "--no-gradebook",
         "--json", str(out / "scores.json"), "--csv", str(out / "scores.csv"),
         "--html", str(out / "html")],
        cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    found = [line.split()[1] for line in done.stderr.splitlines() if line.startswith("PEAK_KB")]
    if done.returncode != 0 or not found:
        raise SystemExit(f"dlgrade grade failed ({done.returncode}): {done.stderr[-2000:]}")
    return int(found[-1]), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="40,160,640", help="class sizes, comma-separated")
    args = parser.parse_args()
    sizes = sorted(int(n) for n in args.sizes.split(","))
    from bench_grading import build_class
    from dlgrade import api

    api.load_course(ROOT)  # the bundled course
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            folder = Path(tmp) / f"class{n}"
            build_class(folder, n)
            out = Path(tmp) / f"out{n}"
            kb, seconds = peak_kb(folder, out)
            figures.append((n, kb))
            print(f"{n:6d} students: grading process peak {kb / 1024:7.1f} MB "
                  f"({seconds:.1f} s)", flush=True)
    if len(figures) > 1:
        (n0, kb0), (n1, kb1) = figures[0], figures[-1]
        print(f"growth: {(kb1 - kb0) / (n1 - n0):.2f} kB per student "
              f"({n0} -> {n1} students: {kb0 / 1024:.1f} -> {kb1 / 1024:.1f} MB)")


if __name__ == "__main__":
    main()

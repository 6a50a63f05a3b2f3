"""The engine's wheel holds the engine only: no course, no solution, no spec."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(dist), str(ROOT)], check=True, timeout=300,
                   capture_output=True)
    return next(dist.glob("dlgrade-*.whl"))


def test_the_wheel_holds_only_the_dlgrade_package(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/", 1)[0] for n in names}
    assert top == {"dlgrade", next(t for t in top if t.endswith(".dist-info"))}
    assert "dlgrade/cli/__init__.py" in names or "dlgrade/cli.py" in names
    assert "dlgrade/sandbox/child.py" in names and "dlgrade/courses/kit.py" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "dlgrade = dlgrade.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_no_line_of_any_reference_solution_is_in_the_wheel(wheel):
    solutions = set()
    for path in (ROOT / "reference").glob("*.py"):
        inside = False
        for line in path.read_text().splitlines():
            text = line.strip()
            if text in ("### BEGIN SOLUTION", "### END SOLUTION"):
                inside = text == "### BEGIN SOLUTION"
            elif inside and len(text) >= 16 and not text.startswith("#"):
                solutions.add(text)
    assert len(solutions) > 100
    archive = zipfile.ZipFile(wheel)
    for name in archive.namelist():
        text = archive.read(name).decode("utf-8", "replace")
        leaked = [line for line in solutions if line in text]
        assert not leaked, (name, leaked[:3])

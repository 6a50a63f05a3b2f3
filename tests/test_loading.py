"""One loader, one reason: ``dlgrade check`` and ``dlgrade grade`` refuse a file with the same
words, and nothing in a class folder is left out without saying so. Real files, the real CLI,
on the fixture course."""

from __future__ import annotations

import os
import shutil
from html import escape as html_escape
from pathlib import Path

import pytest
from click.testing import CliRunner
from dlgrade.cli import main
from fixture_course import FIXTURE

COURSE = ["--course", str(FIXTURE)]
RIGHT = FIXTURE / "students" / "right"


def _big(student: Path) -> str:
    student.mkdir()
    with open(student / "ops.py", "wb") as f:
        f.truncate(50 << 20)  # 50 MB, sparse: cheap to make
    return "Your ops.py is 50.0 MiB, larger than the 1.0 MiB a submitted file may be"


def _linked_file(student: Path) -> str:
    student.mkdir()
    os.symlink(FIXTURE / "solutions" / "ops.py", student / "ops.py")
    return "Your ops.py is a symbolic link; submit the file itself, not a link"


def _linked_folder(student: Path) -> str:
    os.symlink(RIGHT, student)
    return f"Your submission {student.name} is a symbolic link; submit the files themselves"


@pytest.mark.parametrize("make", [_big, _linked_file, _linked_folder])
def test_check_and_grade_refuse_with_the_same_words(tmp_path: Path, make) -> None:
    cls = tmp_path / "class"
    cls.mkdir()
    shutil.copytree(RIGHT, cls / "honest")
    reason = make(cls / "sly")
    runner = CliRunner()
    checked = runner.invoke(main, ["check", str(cls / "sly"), "-a", "hw1", *COURSE])
    graded = runner.invoke(main, ["grade", "hw1", str(cls), "--no-gradebook", "--details",
                                  *COURSE])
    assert checked.exit_code == 1, checked.output
    assert graded.exit_code == 0, graded.output
    assert reason in checked.stdout
    sly = graded.stdout.split("===== sly =====")[1]
    assert reason in sly
    for out in (checked.stdout, graded.stdout):
        assert "has no ops.py" not in out and "Traceback" not in out
    honest = graded.stdout.split("===== honest =====")[1].split("=====")[0]
    assert "Total: 8.00 / 8" in honest  # the honest student beside it is untouched


def test_entries_left_out_of_a_class_are_warned_and_listed(tmp_path: Path) -> None:
    cls = tmp_path / "class"
    cls.mkdir()
    shutil.copytree(RIGHT, cls / "ada")
    shutil.make_archive(str(cls / "zoe"), "zip", RIGHT)
    shutil.copytree(RIGHT, cls / ".ipynb_checkpoints")
    shutil.copytree(RIGHT, cls / "_old")
    (cls / "notes.txt").write_text("read me")
    html = tmp_path / "html"
    result = CliRunner().invoke(main, ["grade", "hw1", str(cls), "--no-gradebook",
                                       "--html", str(html), *COURSE])
    assert result.exit_code == 0, result.output
    expected = {"zoe.zip": "not graded: .zip submissions must be unpacked",
                ".ipynb_checkpoints": "its name starts with '.'",
                "_old": "its name starts with '_'",
                "notes.txt": "not a folder, .py file or notebook"}
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == len(expected)
    table = result.stdout.split("Left out of the table (4):")[1]
    page = (html / "index.html").read_text()
    for name, why in expected.items():
        assert any(name in w and why in w for w in warnings), warnings
        assert f"{name}: " in table and why in table
        assert name in page and html_escape(why) in page
    assert "ada" in result.stdout and "zoe " not in result.stdout


def test_a_zip_given_to_check_is_refused_with_the_same_words(tmp_path: Path) -> None:
    archive = shutil.make_archive(str(tmp_path / "hw"), "zip", RIGHT)
    result = CliRunner().invoke(main, ["check", archive, *COURSE])
    assert result.exit_code != 0
    assert "not graded: .zip submissions must be unpacked" in result.output
    assert "Traceback" not in result.output


def test_a_class_of_only_a_zip_says_so(tmp_path: Path) -> None:
    cls = tmp_path / "class"
    cls.mkdir()
    shutil.make_archive(str(cls / "zoe"), "zip", RIGHT)
    result = CliRunner().invoke(main, ["grade", "hw1", str(cls), "--no-gradebook", *COURSE])
    assert result.exit_code != 0
    assert "has no submissions" in result.output and "zoe.zip" in result.output

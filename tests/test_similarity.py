"""``dlgrade similarity``: code similarity (template set aside, renaming and reordering seen
through) and identical rare wrong answers on the hidden cases, on the fixture course (hw1:
``ops.py``) with classes written by the benchmark's generator (``bench/bench_similarity.py``)."""

from __future__ import annotations

import functools
import importlib
import json
import os
import random
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from dlgrade import api
from dlgrade.cli import main
from dlgrade.courses import course as courses
from dlgrade.grading import similarity
from dlgrade.grading.answers import class_answers, digest
from dlgrade.grading.grader import expectations
from dlgrade.load.submission import survey
from fixture_course import FIXTURE

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
bench = importlib.import_module("bench_similarity")


@functools.cache
def _course():
    return api.open_course(FIXTURE)


@pytest.fixture
def fixture_course():
    return courses.use(_course())


def _pairs(result) -> set[frozenset[str]]:
    return {frozenset((p.a, p.b)) for p in result.pairs}


# ---------------------------------------------------------------- a class with answers


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """Ten independent students (two of them with the course's known mistake no_three), a
    disguised copy pair and a pair sharing one unusual wrong gradient; their hidden answers."""
    folder = tmp_path_factory.mktemp("class") / "class"
    made = bench.make_class(folder, 14, seed=5, copies=1, rare=1, known=0.0)
    rng = random.Random(9)
    for name in ("known1", "known2"):
        (folder / name).mkdir()
        (folder / name / "ops.py").write_text(bench.make_student(rng, "no_three"))
    with courses.using(_course()):
        students = survey(folder, ["hw1"]).submissions
        chosen = list(_course().assignments.values())
        answers = class_answers(students, chosen, workers=2)
    return folder, made, students, answers


def test_a_disguised_copy_ranks_first_and_independent_students_are_not_listed(
        planted, fixture_course):
    folder, made, students, _ = planted
    result = similarity.analyse(students, list(fixture_course.assignments.values()))
    copy = frozenset(made["copies"][0])
    assert frozenset((result.pairs[0].a, result.pairs[0].b)) == copy
    top = result.pairs[0]
    assert top.code > 0.6 and top.a_share > 0.6 and top.b_share > 0.6
    # The copy renamed everything and reordered the functions: several regions, each found
    # where the function went, with its lines in both files.
    assert len(top.regions) >= 2
    assert all(r.a_lines[0] <= r.a_lines[1] and r.b_lines[0] <= r.b_lines[1]
               for r in top.regions)
    assert _pairs(result) == {copy}  # code alone: no independent pair is listed
    # Pruned by the fingerprint index, not all against all.
    n = result.students
    assert result.pairs_scored < n * (n - 1) // 2


def test_a_shared_rare_wrong_answer_is_flagged_with_exercise_and_case(planted, fixture_course):
    _, made, students, answers = planted
    result = similarity.analyse(students, list(fixture_course.assignments.values()),
                                answers=answers)
    rare = frozenset(made["rare"][0])
    copy = frozenset(made["copies"][0])
    by_pair = {frozenset((p.a, p.b)): p for p in result.pairs}
    assert set(by_pair) == {rare, copy}  # the known mistake's two students are not flagged
    assert frozenset((result.pairs[0].a, result.pairs[0].b)) == copy
    pair = by_pair[rare]
    assert pair.code < 0.3 and pair.answers == pytest.approx(0.5)
    [wrong] = pair.wrong
    assert wrong.exercise == "hw1.sq" and wrong.holders == 2
    assert {c["value"] for c in wrong.cases} == {"dpred"}
    assert all(c["case"].startswith("hidden case") for c in wrong.cases)
    # Correct students have no wrong answers; the known mistake is recognised as such.
    by_student = {a.student: a for a in answers}
    correct = [a for a in answers if a.student.startswith("s")]
    assert correct and all(not a.wrong for a in correct)
    assert {w.known for n in ("known1", "known2") for w in by_student[n].wrong} == {"no_three"}


def test_the_report_never_holds_an_expected_hidden_value(planted, fixture_course, tmp_path):
    _, _, students, answers = planted
    result = similarity.analyse(students, list(fixture_course.assignments.values()),
                                answers=answers)
    from dlgrade.outputs.similarity_report import write_report

    write_report(result, tmp_path / "html")
    text = json.dumps(result.to_json()) + "".join(
        p.read_text() for p in (tmp_path / "html").rglob("*.html"))
    exercise = fixture_course.exercise("hw1.sq")
    for e in expectations(exercise, True):
        if not e.case.hidden:
            continue
        for value in e.reference.values():
            assert digest(value) not in text
            first = np.asarray(value, dtype=np.float64).ravel()[:2]
            assert ", ".join(f"{v:.4g}" for v in first) not in text


# ---------------------------------------------------------------- the template


def test_template_code_is_not_evidence(fixture_course, tmp_path):
    template = (FIXTURE / "templates" / "ops.py").read_text()
    rng = random.Random(1)
    for name in ("ann", "bob"):  # the template untouched, and their own code below it
        (tmp_path / name).mkdir()
        (tmp_path / name / "ops.py").write_text(template + "\n\n" + bench._helper(rng, set())
                                                + "\n")
    students = survey(tmp_path, ["hw1"]).submissions
    chosen = list(fixture_course.assignments.values())
    result = similarity.analyse(students, chosen, settings=similarity.Settings(min_code=0.0))
    assert result.pairs == []
    # What the template exclusion removes: without it, the two share every fingerprint of it.
    plain = similarity.documents(students, np.array([], dtype=np.int64))
    assert len(plain[0].hashes & plain[1].hashes) > 5
    kept = similarity.documents(students, similarity.template_hashes(chosen)[0])
    assert kept[0].hashes & kept[1].hashes == set()


# ---------------------------------------------------------------- the command


def _notebook(code: str) -> str:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# My homework"]},
             {"cell_type": "code", "metadata": {}, "execution_count": 1, "outputs": [],
              "source": code.splitlines(keepends=True)}]
    return json.dumps({"cells": cells, "metadata": {"kernelspec": {"name": "python3",
                                                                    "language": "python"}},
                       "nbformat": 4, "nbformat_minor": 5})


def test_the_command_end_to_end_with_notebooks_and_hostile_files(tmp_path):
    folder = tmp_path / "class"
    bench.make_class(folder, 8, seed=3, copies=0, rare=0, known=0.0)
    rng = random.Random(4)
    original = bench.make_student(rng)
    (folder / "nora").mkdir()
    (folder / "nora" / "ops.py").write_text(original)
    (folder / "<b>nb").mkdir()  # a notebook, and a name that must be escaped
    (folder / "<b>nb" / "ops.ipynb").write_text(_notebook(bench.disguise(original, rng)))
    secret = tmp_path / "secret.py"
    secret.write_text("TOP_SECRET_TOKEN = 'do not show'\n" * 20)
    (folder / "linker").mkdir()
    os.symlink(secret, folder / "linker" / "ops.py")  # a link inside a student's folder
    os.symlink(secret, folder / "linked.py")  # a student who is a link
    (folder / "binary").mkdir()
    (folder / "binary" / "ops.py").write_bytes(b"\x00\x01\x02" * 1000 + os.urandom(5000))
    (folder / "huge").mkdir()  # over the loader's 1 MiB: refused, with its reason
    (folder / "huge" / "ops.py").write_text("x = 1\n" * 300_000)
    (folder / "big").mkdir()  # under it, but far more than a module: fingerprinted in part
    (folder / "big" / "ops.py").write_text(original + "y = [1, 2, 3]\n" * 60_000)
    out, html = tmp_path / "out" / "pairs.json", tmp_path / "out" / "html"
    result = CliRunner().invoke(main, ["similarity", "hw1", str(folder), "--course", str(FIXTURE),
                                       "--json", str(out), "--html", str(html)])
    assert result.exit_code == 0, result.output
    pairs = json.loads(out.read_text())
    assert isinstance(pairs, list) and pairs
    assert {pairs[0]["a"], pairs[0]["b"]} == {"<b>nb", "nora"}
    assert set(pairs[0]) >= {"a", "b", "score", "evidence"} and 0 <= pairs[0]["score"] <= 1
    assert pairs[0]["evidence"][0]["kind"] == "code"
    assert [p["score"] for p in pairs] == sorted((p["score"] for p in pairs), reverse=True)
    index = (html / "index.html").read_text()
    page = (html / "pairs" / "0001.html").read_text()
    assert "&lt;b&gt;nb" in index and "<b>nb" not in index
    assert "<b>nb" not in page and "<mark>" in page
    everything = out.read_text() + "".join(p.read_text() for p in html.rglob("*.html"))
    assert "TOP_SECRET_TOKEN" not in everything and "do not show" not in everything
    assert "huge" in index and "larger than" in index  # the refusal is said, once
    assert "binary" in index and "first 200000 characters" in index
    assert "Traceback" not in result.output


def test_without_copydetect_the_command_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "copydetect", None)  # import copydetect fails
    (tmp_path / "ann").mkdir()
    (tmp_path / "ann" / "ops.py").write_text("x = 1\n")
    result = CliRunner().invoke(main, ["similarity", "hw1", str(tmp_path), "--course",
                                       str(FIXTURE)])
    assert result.exit_code == 2
    assert "pip install 'dlgrade[similarity]'" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    # grade --similarity says so before grading anyone
    graded = CliRunner().invoke(main, ["grade", "hw1", str(tmp_path), "--course", str(FIXTURE),
                                       "--no-gradebook", "--similarity", str(tmp_path / "r")])
    assert graded.exit_code == 2 and "Grading" not in graded.output
    assert "pip install 'dlgrade[similarity]'" in graded.output


def test_grade_with_similarity_writes_the_report_beside_the_grades(tmp_path):
    folder = tmp_path / "class"
    made = bench.make_class(folder, 6, seed=8, copies=1, rare=0, known=0.0)
    report = tmp_path / "similar"
    result = CliRunner().invoke(main, ["grade", "hw1", str(folder), "--course", str(FIXTURE),
                                       "--no-gradebook", "--similarity", str(report)])
    assert result.exit_code == 0, result.output
    pairs = json.loads((report / "similarity.json").read_text())
    assert {pairs[0]["a"], pairs[0]["b"]} == set(made["copies"][0])
    assert (report / "index.html").is_file() and (report / "pairs" / "0001.html").is_file()

"""The dlgrade CLI, end to end on real files and real child processes. The engine's
behaviour is tested on the fixture course (tests/fixtures/course); the tests that grade the
bundled course's sample class, or validate the shipped course, are about that course."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from dlgrade import api
from dlgrade.cli import main
from fixture_course import FIXTURE, copy_fixture

COURSE = ["--course", str(FIXTURE)]


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture(scope="module")
def two_assignments(tmp_path_factory) -> Path:
    """A copy of the fixture course with its hw2 (layers.py) listed too: the fixture itself
    lists hw1 (ops.py) only."""
    return copy_fixture(tmp_path_factory.mktemp("course") / "course", ("hw1", "hw2"))


def test_list_shows_every_exercise(runner):
    fixture = api.load_course(FIXTURE)
    result = runner.invoke(main, ["list", *COURSE])
    assert result.exit_code == 0
    for exercise_id in fixture.exercises():
        assert exercise_id in result.output
    assert "hw2." not in result.output  # only what course.toml lists


def test_check_reference_passes_and_stub_fails(runner):
    points = api.load_course(FIXTURE).assignment("hw1").points
    ok = runner.invoke(main, ["check", str(FIXTURE / "solutions"), "--assignment", "hw1",
                              *COURSE])
    assert ok.exit_code == 0, ok.output
    assert f"Total: {points:.2f} / {points:g}" in ok.output
    stub = runner.invoke(main, ["check", str(FIXTURE / "templates"), *COURSE])
    assert stub.exit_code == 1
    assert "not attempted" in stub.output and "hw1.sq" in stub.output


def test_check_infers_the_assignment_from_the_files_present(runner, two_assignments,
                                                            tmp_path):
    shutil.copy(two_assignments / "solutions" / "layers.py", tmp_path / "layers.py")
    result = runner.invoke(main, ["check", str(tmp_path), "--course", str(two_assignments)])
    assert result.exit_code == 0, result.output
    assert "hw2.softplus" in result.output and "hw1.cube" not in result.output


def test_check_of_one_file_infers_the_assignments_it_defines(runner, two_assignments,
                                                             tmp_path):
    course = ["--course", str(two_assignments)]
    right = two_assignments / "students" / "right"
    (tmp_path / "ops_only.py").write_text((right / "ops.py").read_text())
    (tmp_path / "both.py").write_text((right / "ops.py").read_text() + "\n\n"
                                      + (right / "layers.py").read_text())
    one = runner.invoke(main, ["check", str(tmp_path / "ops_only.py"), *course])
    assert "hw1.cube" in one.output and "hw2." not in one.output
    both = runner.invoke(main, ["check", str(tmp_path / "both.py"), *course])
    assert both.exit_code == 0, both.output
    assert "hw1.sq" in both.output and "hw2.softplus" in both.output
    (tmp_path / "broken.py").write_text("def cube_forward(x)\n")  # does not parse: all
    broken = runner.invoke(main, ["check", str(tmp_path / "broken.py"), *course])
    assert "hw1.cube" in broken.output and "hw2.softplus" in broken.output


def test_check_explains_a_bug(runner, tmp_path):
    source = (FIXTURE / "solutions" / "ops.py").read_text()
    buggy = tmp_path / "ops.py"
    buggy.write_text(source + "\n\n_real_sq = sq_loss\n\n"
                     "def sq_loss(pred, target, scale=1.0):\n"
                     "    loss, dpred = _real_sq(pred, target, scale)\n"
                     "    return loss, dpred / 2\n")
    result = runner.invoke(main, ["check", str(buggy), "-a", "hw1", *COURSE])
    assert result.exit_code == 1
    assert "hw1.sq" in result.output and "hw1.cube" in result.output
    assert "the gradient drops the factor 2" in result.output  # the known mistake, named
    assert "Your loss value is right but your gradient is not its derivative" in result.output


@pytest.mark.parametrize("args, message", [
    (["check", "/no/such/dir"], "does not exist"),
    (["check", "{tmp}"], "found none of ops.py, layers.py"),
    (["grade", "hw9", "{tmp}"], "unknown assignment 'hw9'"),
    (["grade", "hw1", "{tmp}"], "has no submissions"),
    (["grade", "hw1", "/no/such/dir"], "is not a folder"),
])
def test_clear_errors_without_tracebacks(runner, two_assignments, tmp_path, args, message):
    argv = [a.format(tmp=tmp_path) for a in args] + ["--course", str(two_assignments)]
    result = runner.invoke(main, argv)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_grade_writes_the_scores_json_and_the_gradebook(runner, two_assignments, tmp_path):
    """grade's plumbing: every student and exercise in --json, each status where it belongs,
    the same grades in the gradebook, and the summary table."""
    course = api.load_course(two_assignments)
    points = {a.id: a.points for a in course.assignments.values()}
    out = tmp_path / "scores.json"
    book = tmp_path / "book.sqlite"
    result = runner.invoke(main, ["grade", "all", str(two_assignments / "students"),
                                  "--course", str(two_assignments), "--json", str(out),
                                  "--gradebook", str(book)])
    assert result.exit_code == 0, result.output
    scores = json.loads(out.read_text())
    assert set(scores) == {"broken", "late", "right", "wrong"}
    assert all(set(ex) == set(course.exercises()) for ex in scores.values())
    total = {s: sum(e["score"] for e in ex.values()) for s, ex in scores.items()}
    full = sum(e["max_score"] for e in scores["right"].values())
    assert full == sum(points.values())
    assert total["right"] == pytest.approx(full)
    assert total["late"] == pytest.approx(points["hw1"])  # no layers.py
    assert total["broken"] == 0 and 0 < total["wrong"] < points["hw1"]
    wrong = scores["wrong"]
    assert wrong["hw1.cube"]["status"] == "partial"
    assert "the backward drops the factor 3" in wrong["hw1.cube"]["message"]
    assert wrong["hw1.cube"]["checks"]["forward"]["passed"] > 0
    assert wrong["hw1.sq"]["status"] == "not_attempted"
    assert all(scores[s]["hw2.softplus"]["status"] == "missing"
               for s in ("broken", "late", "wrong"))
    assert scores["right"]["hw2.softplus"]["status"] == "passed"
    assert all(scores["broken"][e]["status"] == "syntax" for e in ("hw1.cube", "hw1.sq"))
    rows = sqlite3.connect(book).execute(
        "SELECT student, SUM(score) FROM grades GROUP BY student").fetchall()
    assert {s: pytest.approx(v) for s, v in rows} == total
    assert "right" in result.output and "Fewest full marks" in result.output


def test_grade_sample_class_end_to_end(runner, root, tmp_path):
    """The bundled course's sample class (kept on the bundled course: its students and
    their named mistakes are that course's)."""
    out = tmp_path / "scores.json"
    book = tmp_path / "book.sqlite"
    result = runner.invoke(main, ["grade", "a1,a2", str(root / "samples" / "class"),
                                  "--json", str(out), "--gradebook", str(book)])
    assert result.exit_code == 0, result.output
    scores = json.loads(out.read_text())
    assert set(scores) == {"ada", "ben", "cleo", "dev", "eve", "fay"}
    total = {s: sum(e["score"] for e in ex.values()) for s, ex in scores.items()}
    full = sum(e["max_score"] for e in scores["ada"].values())
    assert total["ada"] == pytest.approx(full)
    assert total["dev"] == 0
    assert 0 < total["ben"] < full and 0 < total["eve"] < full
    fay = scores["fay"]  # a notebook: magics commented out, her two mistakes named
    assert "the tanh approximation" in fay["a1.gelu"]["message"]
    assert "log(softmax(x))" in fay["a1.log_softmax"]["message"]
    assert fay["a1.log_softmax"]["checks"]["forward"]["passed"] > 0
    assert all(fay[e]["status"] == "passed" for e in fay if e.startswith("a1.")
               and e not in ("a1.gelu", "a1.log_softmax"))
    assert all(fay[e]["status"] == "missing" for e in fay if e.startswith("a2."))
    cleo = scores["cleo"]
    assert all(cleo[e]["status"] == "syntax" for e in cleo if e.startswith("a1."))
    assert cleo["a2.mse"]["status"] == "passed"
    assert {cleo[e]["status"] for e in cleo} >= {"timeout", "error", "missing"}
    # Ben's bugs are found on the exercise they are in, and named.
    ben = scores["ben"]
    assert ben["a1.sigmoid"]["score"] < ben["a1.sigmoid"]["max_score"]
    assert ben["a1.tanh"]["status"] == "passed"
    rows = sqlite3.connect(book).execute(
        "SELECT student, SUM(score) FROM grades GROUP BY student").fetchall()
    assert {s: pytest.approx(v) for s, v in rows} == total
    assert "ada" in result.output and "Fewest full marks" in result.output


def test_grade_sample_class_on_a3_to_a5(runner, root, tmp_path):
    """The later assignments end to end: mistakes named where they are, and a failure that
    comes from an exercise this one builds on is said to come from there."""
    out = tmp_path / "scores.json"
    result = runner.invoke(main, ["grade", "a3,a4,a5", str(root / "samples" / "class"),
                                  "--json", str(out), "--no-gradebook"])
    assert result.exit_code == 0, result.output
    scores = json.loads(out.read_text())
    assert all(e["status"] == "passed" for e in scores["ada"].values())
    assert all(e["status"] == "not_attempted" for e in scores["dev"].values())
    ben = scores["ben"]
    assert "the weight gradient is transposed" in ben["a3.affine"]["message"]
    assert ben["a3.affine"]["checks"]["forward"]["score"] > 0
    assert "builds on a3.affine (Affine layer)" in ben["a3.mlp_loss"]["message"]
    assert "the momentum update has the wrong sign" in ben["a4.sgd_momentum"]["message"]
    assert "w first wrong after update 1 of 60" in ben["a4.sgd_momentum"]["message"]
    assert "missing the terms that come from the batch mean" in ben["a5.batchnorm"]["message"]
    assert ben["a5.batchnorm_running"]["status"] == "passed"
    assert ben["a4.adam"]["status"] == "passed" and ben["a5.dropout"]["status"] == "passed"
    cleo = scores["cleo"]
    assert cleo["a3.value"]["status"] == "missing" and cleo["a4.adam"]["status"] == "missing"
    assert cleo["a3.mlp_loss"]["status"] == "partial"
    assert "KeyError: 'W2'" in cleo["a3.mlp_loss"]["message"]


def test_build_templates_check_and_out(runner, tmp_path):
    assert runner.invoke(main, ["build-templates", "--check", *COURSE]).exit_code == 0
    result = runner.invoke(main, ["build-templates", "--out", str(tmp_path), *COURSE])
    assert result.exit_code == 0 and (tmp_path / "ops.py").is_file()
    assert (tmp_path / "ops.py").read_text() == (FIXTURE / "templates" / "ops.py").read_text()


def test_validate_passes_on_the_shipped_course(runner):
    """Kept on the bundled course: the shipped course must validate."""
    result = runner.invoke(main, ["validate"])
    assert result.exit_code == 0, result.output
    assert "mutants: " in result.output and "Everything is valid." in result.output


def test_validate_fails_on_an_uncaught_mutant_and_stale_templates(runner, monkeypatch, tmp_path):
    from dlgrade.courses import templates
    from dlgrade.grading import validate
    from dlgrade.spec.exercise import Mutant

    ref = api.load_course(FIXTURE).reference_module("ops")
    harmless = Mutant("hw1.cube", "harmless", "nothing", ("forward",),
                      {"cube_forward": ref.cube_forward})
    finding = validate.check_mutant(harmless)
    assert not finding.ok and "not caught" in finding.detail

    stale = tmp_path / "ops.py"
    stale.write_text("# old\n")
    real_plan = templates.plan
    monkeypatch.setattr(templates, "plan", lambda *args, **kwargs: [
        templates.TemplateFile(f.source, stale, f.text, f.handout)
        for f in real_plan(*args, **kwargs)][:1])
    monkeypatch.setattr(validate, "STEPS", (("templates", validate.check_templates),))
    result = runner.invoke(main, ["validate", *COURSE])
    assert result.exit_code == 1
    assert "FAIL templates in sync" in result.output


def test_doctor_reports_every_layer(runner):
    from dlgrade.sandbox.capabilities import detect

    result = runner.invoke(main, ["doctor"])
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert len(lines) == len(detect().report())
    assert lines[0].startswith("[x] separate process")
    landlock = next(line for line in lines if "Landlock" in line)
    assert landlock.startswith("[x]" if detect().landlock else "[ ]")

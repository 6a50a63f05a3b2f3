"""The dlgrade CLI, end to end on real files and real child processes."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
from click.testing import CliRunner
from dlgrade.cli import main


@pytest.fixture
def runner():
    return CliRunner()


def test_list_shows_every_exercise(runner):
    from dlgrade.courses import registry

    result = runner.invoke(main, ["list"])
    assert result.exit_code == 0
    for exercise_id in registry.exercises():
        assert exercise_id in result.output


def test_check_reference_passes_and_stub_fails(runner, root):
    ok = runner.invoke(main, ["check", str(root / "reference"), "--assignment", "a1"])
    assert ok.exit_code == 0, ok.output
    assert "Total: 28.00 / 28" in ok.output
    stub = runner.invoke(main, ["check", str(root / "student_templates")])
    assert stub.exit_code == 1
    assert "not attempted" in stub.output and "a2.mse" in stub.output


def test_check_infers_the_assignment_from_the_files_present(runner, root, tmp_path):
    shutil.copy(root / "reference" / "losses.py", tmp_path / "losses.py")
    result = runner.invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "a2.mse" in result.output and "a1.sigmoid" not in result.output


def test_check_of_one_file_infers_the_assignments_it_defines(runner, root, tmp_path):
    eve = runner.invoke(main, ["check", str(root / "samples" / "class" / "eve.py")])
    assert "a1.tanh" in eve.output and "a2.mse" in eve.output and "a3." not in eve.output
    (tmp_path / "broken.py").write_text("def relu_forward(x)\n")  # does not parse: all
    broken = runner.invoke(main, ["check", str(tmp_path / "broken.py")])
    assert "a1.relu" in broken.output and "a5.dropout" in broken.output


def test_check_explains_a_bug(runner, root, tmp_path):
    source = (root / "reference" / "losses.py").read_text()
    buggy = tmp_path / "losses.py"
    buggy.write_text(source + "\n\n_real_mse = mse_loss\n\n"
                     "def mse_loss(pred, target, reduction='mean'):\n"
                     "    loss, dpred = _real_mse(pred, target, reduction)\n"
                     "    return loss, dpred * pred.shape[0]\n")
    result = runner.invoke(main, ["check", str(buggy), "-a", "a2"])
    assert result.exit_code == 1
    assert "a2.mse" in result.output and "a2.mae" in result.output
    assert "missing division by N (the batch size)" in result.output
    assert "Your loss value is right but your gradient is not its derivative" in result.output


@pytest.mark.parametrize("args, message", [
    (["check", "/no/such/dir"], "does not exist"),
    (["check", "{tmp}"], "found none of activations.py, losses.py"),
    (["grade", "a9", "{tmp}"], "unknown assignment 'a9'"),
    (["grade", "a1", "{tmp}"], "has no submissions"),
    (["grade", "a1", "/no/such/dir"], "is not a folder"),
])
def test_clear_errors_without_tracebacks(runner, tmp_path, args, message):
    result = runner.invoke(main, [a.format(tmp=tmp_path) for a in args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_grade_sample_class_end_to_end(runner, root, tmp_path):
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
    assert runner.invoke(main, ["build-templates", "--check"]).exit_code == 0
    result = runner.invoke(main, ["build-templates", "--out", str(tmp_path)])
    assert result.exit_code == 0 and (tmp_path / "activations.py").is_file()


def test_validate_passes_on_the_shipped_course(runner):
    result = runner.invoke(main, ["validate"])
    assert result.exit_code == 0, result.output
    assert "mutants: " in result.output and "Everything is valid." in result.output


def test_validate_fails_on_an_uncaught_mutant_and_stale_templates(runner, monkeypatch, tmp_path):
    from dlgrade.courses import templates
    from dlgrade.grading import validate
    from dlgrade.spec.exercise import Mutant

    import reference.activations as ref

    harmless = Mutant("a1.relu", "harmless", "nothing", ("forward",),
                      {"relu_forward": ref.relu_forward})
    finding = validate.check_mutant(harmless)
    assert not finding.ok and "not caught" in finding.detail

    stale = tmp_path / "activations.py"
    stale.write_text("# old\n")
    real_plan = templates.plan
    monkeypatch.setattr(templates, "plan", lambda out=None: [
        templates.TemplateFile(f.source, stale, f.text) for f in real_plan(out)][:1])
    monkeypatch.setattr(validate, "STEPS", (("templates", validate.check_templates),))
    result = runner.invoke(main, ["validate"])
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

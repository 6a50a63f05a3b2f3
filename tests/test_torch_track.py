"""The torch track: the same A1-A3 exercises on tensors, with autograd forbidden.

Graded through real sandboxed children. CUDA tests run only where torch sees a GPU.
"""

from __future__ import annotations

import functools

import pytest
from click.testing import CliRunner
from dlgrade.cli import main
from dlgrade.courses import registry
from dlgrade.grading.grader import grade_submission
from dlgrade.load.submission import Submission

pytest.importorskip("torch")

TORCH_EXERCISES = {"a1.sigmoid", "a1.relu", "a1.softmax", "a1.tanh", "a2.mse",
                   "a2.softmax_cross_entropy", "a3.affine"}


@functools.cache
def _cuda() -> bool:
    from dlgrade.sandbox.capabilities import cuda_available

    return cuda_available()


def _grade(root, device="cpu"):
    folder = root / "tests" / "fixtures" / "torch_track"
    result = grade_submission(Submission("torchy", folder),
                              [registry.assignment(a) for a in ("a1", "a2", "a3")],
                              hidden=True, only=TORCH_EXERCISES,
                              track={"name": "torch", "device": device})
    return {e.id: e for e in result.exercises}


@pytest.fixture(scope="module")
def graded_cpu(root):
    return _grade(root)


@pytest.mark.parametrize("exercise_id", sorted(TORCH_EXERCISES - {"a1.tanh"}))
def test_manual_tensor_code_scores_full_marks(graded_cpu, exercise_id):
    e = graded_cpu[exercise_id]
    assert e.status == "passed", e.message


def test_autograd_is_detected_and_scores_zero(graded_cpu):
    e = graded_cpu["a1.tanh"]
    assert e.score == 0 and e.status == "autograd", e.message
    assert "autograd was used" in e.message.lower() and "backward" in e.message


def test_numpy_track_of_the_same_files_fails_cleanly(root):
    """Tensor code given numpy arrays is the student's error, never a crash of ours."""
    folder = root / "tests" / "fixtures" / "torch_track"
    result = grade_submission(Submission("torchy", folder), [registry.assignment("a1")],
                              hidden=False, only={"a1.softmax"})
    e = result.exercises[0]
    assert e.score < e.max_score and e.status in ("error", "failed", "partial"), e.status


def test_cli_refuses_the_torch_track_where_there_is_none(tmp_path):
    out = CliRunner().invoke(main, ["check", str(tmp_path), "-a", "a4", "--track", "torch"])
    assert out.exit_code != 0 and "a4 has no torch track" in out.output
    out = CliRunner().invoke(main, ["check", str(tmp_path), "-a", "a1", "--device", "cuda"])
    assert out.exit_code != 0 and "--device cuda needs --track torch" in out.output


def test_cli_check_on_the_torch_track(root):
    folder = root / "tests" / "fixtures" / "torch_track"
    out = CliRunner().invoke(main, ["check", str(folder / "losses.py"), "-a", "a2",
                                    "--track", "torch"])
    assert "a2.mse" in out.output and "torch track on cpu" in out.output
    assert out.exit_code == 1  # the other losses are not implemented in the fixture


@pytest.mark.gpu
@pytest.mark.skipif(not _cuda(), reason="no CUDA device visible to torch")
def test_cuda_device_grades_like_cpu(root, graded_cpu):
    on_gpu = _grade(root, "cuda")
    for exercise_id, e in graded_cpu.items():
        assert on_gpu[exercise_id].status == e.status, on_gpu[exercise_id].message


NUMPY_SIGMOID = '''
import numpy as np


def sigmoid_forward(x):
    out = 1.0 / (1.0 + np.exp(-x.numpy()))
    return out, out


def sigmoid_backward(dout, cache):
    return dout.numpy() * cache * (1.0 - cache)
'''


def test_numpy_answers_fail_on_the_torch_track(tmp_path):
    """The README promises tensor answers: an ndarray scores nothing, with a clear message."""
    (tmp_path / "activations.py").write_text(NUMPY_SIGMOID)
    result = grade_submission(Submission("numpyish", tmp_path), [registry.assignment("a1")],
                              hidden=False, only={"a1.sigmoid"},
                              track={"name": "torch", "device": "cpu"})
    e = result.exercises[0]
    assert e.score == 0 and e.status == "error", (e.status, e.message)
    assert ("sigmoid_forward returned a numpy array; the torch track expects a torch.Tensor"
            in e.message), e.message

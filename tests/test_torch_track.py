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
    """Tensor code on the numpy track is the student's error, never a crash of ours: the
    bundled course bans torch there, so its import fails and says why."""
    folder = root / "tests" / "fixtures" / "torch_track"
    result = grade_submission(Submission("torchy", folder), [registry.assignment("a1")],
                              hidden=False, only={"a1.softmax"})
    e = result.exercises[0]
    assert e.score == 0 and e.status == "import", e.status
    assert "this course bans torch" in e.message


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


# ---------------------------------------------------------------- autograd ban, attacked
# Issue 13 point 3: a torch-function mode is per thread and can be disabled or popped, and a
# cold child used to import torch after the student's folder joined sys.path.

TANH_FORWARD = '''
import threading

import torch


def tanh_forward(x):
    out = torch.tanh(x)
    return out, x
'''

TANH_ATTACKS = {
    "disable_torch_function": '''
def tanh_backward(dout, cache):
    with torch._C.DisableTorchFunction(), torch.enable_grad():
        leaf = cache.detach().clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(torch.tanh(leaf), leaf, dout)
    return grad.detach()
''',
    "popped_mode": '''
def tanh_backward(dout, cache):
    mode = torch._C._pop_torch_function_stack()
    try:
        with torch.enable_grad():
            leaf = cache.detach().clone().requires_grad_(True)
            torch.tanh(leaf).backward(dout)
    finally:
        torch._C._push_on_torch_function_stack(mode)
    return leaf.grad.detach()
''',
    "overrides_pop": '''
from torch.overrides import _pop_mode_temporarily


def tanh_backward(dout, cache):
    with _pop_mode_temporarily(), torch.enable_grad():
        leaf = cache.detach().clone().requires_grad_(True)
        torch.tanh(leaf).backward(dout)
    return leaf.grad.detach()
''',
    "thread": '''
def tanh_backward(dout, cache):
    box = {}

    def work():
        leaf = cache.detach().clone().requires_grad_(True)
        box["grad"] = torch.autograd.grad(torch.tanh(leaf), leaf, dout)[0].detach()

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    return box.get("grad", dout)
''',
    "thread_backward": '''
def tanh_backward(dout, cache):
    box = {}

    def work():
        leaf = cache.detach().clone().requires_grad_(True)
        torch.tanh(leaf).backward(dout)
        box["grad"] = leaf.grad

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    return box.get("grad", dout)
''',
    "forward_ad": '''
import torch.autograd.forward_ad as fwad


def tanh_backward(dout, cache):
    with torch._C.DisableTorchFunction(), fwad.dual_level():
        dual = fwad.make_dual(cache, dout)
        return fwad.unpack_dual(torch.tanh(dual)).tangent.clone()
''',
}

HONEST_TANH = '''
def tanh_backward(dout, cache):
    return dout * (1 - torch.tanh(cache) ** 2)
'''


def _tanh(folder, backward):
    folder.mkdir(exist_ok=True)
    (folder / "activations.py").write_text(TANH_FORWARD + backward)
    result = grade_submission(Submission("mallory", folder), [registry.assignment("a1")],
                              hidden=False, only={"a1.tanh"},
                              track={"name": "torch", "device": "cpu"})
    return result.exercises[0]


@pytest.mark.parametrize("attack", sorted(TANH_ATTACKS))
def test_autograd_behind_the_modes_back_is_detected(tmp_path, attack):
    e = _tanh(tmp_path / attack, TANH_ATTACKS[attack])
    assert e.score == 0 and e.status == "autograd", (e.status, e.message)
    assert "autograd was used" in e.message.lower(), e.message
    assert "Traceback" not in e.message and "dlgrade" not in e.message, e.message


def test_manual_tanh_beside_the_attacks_keeps_full_marks(tmp_path):
    e = _tanh(tmp_path / "honest", HONEST_TANH)
    assert e.status == "passed" and e.score == e.max_score, e.message


# A student's torch.py that, imported by the harness in place of torch, switches the check
# off and hands the real torch on: on a cold start it ran before torch was imported.
SHADOW_TORCH = '''
import importlib
import sys

here = sys.path.pop(0)
del sys.modules["torch"]
real = importlib.import_module("torch")
sys.path.insert(0, here)
from dlgrade.sandbox import tracks


class _Blind:
    used = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


tracks._watch_class = lambda torch: _Blind
tracks._arm = lambda torch: None
'''


@pytest.fixture
def cold(monkeypatch):
    """Children started by a fresh exec, as with --device cuda or without a zygote."""
    from dlgrade.sandbox import runner

    monkeypatch.setitem(runner.LAUNCH, "mode", "cold")


def test_a_students_torch_py_never_replaces_torch_on_a_cold_start(root, tmp_path, cold):
    import shutil

    folder = tmp_path / "torchy"
    shutil.copytree(root / "tests" / "fixtures" / "torch_track", folder,
                    ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "torch.py").write_text(SHADOW_TORCH)
    result = grade_submission(Submission("torchy", folder), [registry.assignment("a1")],
                              hidden=False, only={"a1.tanh", "a1.sigmoid"},
                              track={"name": "torch", "device": "cpu"})
    for e in result.exercises:
        assert e.score == 0, (e.id, e.status, e.message)
        assert "your torch.py would shadow the torch library: rename it" in e.message, \
            e.message
    (folder / "torch.py").unlink()  # the same student without it: tanh's autograd is caught
    result = grade_submission(Submission("torchy", folder), [registry.assignment("a1")],
                              hidden=False, only={"a1.tanh", "a1.sigmoid"},
                              track={"name": "torch", "device": "cpu"})
    graded = {e.id: e for e in result.exercises}
    assert graded["a1.sigmoid"].status == "passed", graded["a1.sigmoid"].message
    assert graded["a1.tanh"].status == "autograd", graded["a1.tanh"].message


def test_a_students_torch_py_is_refused_on_the_warm_path_too(tmp_path):
    (tmp_path / "torch.py").write_text(SHADOW_TORCH)
    e = _tanh(tmp_path, HONEST_TANH)
    assert e.score == 0 and "your torch.py would shadow the torch library: rename it" \
        in e.message, e.message

"""Program exercises' machinery: the child's ops for scripts of calls, the optimizer and
``Value`` programs, and that the reference run in-process reads exactly like a sandboxed
student (same handler, same frames)."""

from __future__ import annotations

import textwrap
import types

import numpy as np
import pytest
from dlgrade.core import gradcheck
from dlgrade.grading.grader import ExerciseResult, _note_foundations
from dlgrade.sandbox import programs
from dlgrade.sandbox.protocol import Handle, Rng, Step
from dlgrade.sandbox.runner import Limits, Session
from dlgrade.spec import scenarios

STUDENT = '''
import numpy as np


def sgd(w, dw, config=None):
    config = config if config is not None else {}
    config.setdefault("learning_rate", 1e-2)
    return w - config["learning_rate"] * dw, config


def wrong_shape(w, dw, config=None):
    return w[:-1], config


def total(params, scale=1.0):
    return float(scale * sum(np.sum(v ** 2) for v in params.values())), None


def bump(state):
    state["calls"] = state.get("calls", 0) + 1
    return state["calls"]


def draw(rng):
    return rng.standard_normal(3)


class Counter:
    def __init__(self, start=0):
        self.count = start

    def step(self, by):
        self.count += by
        return self.count


class Value:
    def __init__(self, data, _children=()):
        self.data, self.grad, self._prev, self._back = data, 0.0, _children, lambda: None

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))
        def _back():
            self.grad += out.grad
            other.grad += out.grad
        out._back = _back
        return out

    __radd__ = __add__

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))
        def _back():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._back = _back
        return out

    __rmul__ = __mul__

    def tanh(self):
        t = float(np.tanh(self.data))
        out = Value(t, (self,))
        def _back():
            self.grad += (1 - t * t) * out.grad
        out._back = _back
        return out

    def backward(self):
        order, seen = [], set()
        def visit(v):
            if id(v) not in seen:
                seen.add(id(v))
                for c in v._prev:
                    visit(c)
                order.append(v)
        visit(self)
        self.grad = 1.0
        for v in reversed(order):
            v._back()
'''


@pytest.fixture()
def session(tmp_path):
    path = tmp_path / "student.py"
    path.write_text(textwrap.dedent(STUDENT))
    s = Session({"student": path}, tmp_path, Limits())
    yield s
    s.cleanup()


def _module():
    namespace: dict = {}
    exec(compile(textwrap.dedent(STUDENT), "student.py", "exec"), namespace)
    return types.SimpleNamespace(**namespace)


QUADRATIC = {"kind": "quadratic", "A": np.diag([1.0, 2.0, 3.0]), "c": np.array([1.0, -1, 2])}


def test_trajectory_runs_the_rule_in_the_child_and_matches_a_plain_loop(session):
    steps = [Step("sgd", (np.zeros(3), {"learning_rate": 0.1}, QUADRATIC), op="trajectory",
                  extra={"steps": 50})]
    (reply,) = session.batch("student", steps, 10.0)
    assert reply.ok, reply.message
    w = np.zeros(3)
    for _ in range(50):
        w = w - 0.1 * programs.gradient(QUADRATIC, w)
    assert reply.value["w"].shape == (51, 3)
    np.testing.assert_allclose(reply.value["w"][-1], w)
    assert float(reply.value["config"]["learning_rate"]) == 0.1


def test_a_rule_returning_the_wrong_shape_is_reported_with_its_step(session):
    steps = [Step("wrong_shape", (np.zeros(3), None, QUADRATIC), op="trajectory",
                  extra={"steps": 5})]
    (reply,) = session.batch("student", steps, 10.0)
    assert not reply.ok and reply.kind == "bad_return"
    assert "at step 1" in reply.message and "shape (2,)" in reply.message


def test_objectives_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    w = rng.standard_normal(4)
    for objective in (QUADRATIC | {"A": np.diag([1.0, 2, 3, 4]), "c": np.ones(4)},
                      {"kind": "double_well", "a": 0.3}):
        numeric = [(programs.objective_value(objective, w + e) -
                    programs.objective_value(objective, w - e)) / 2e-6
                   for e in np.eye(4) * 1e-6]
        np.testing.assert_allclose(programs.gradient(objective, w), numeric, rtol=1e-6)


def test_graph_with_a_reused_node_accumulates_gradients(session):
    # y = tanh(a*b + a) * a: a is used three times.
    program = [["leaf", 0], ["leaf", 1], ["mul", 0, 1], ["add", 2, 0], ["tanh", 3],
               ["mul", 4, 0], ["cmul", 5, 2.0]]
    (reply,) = session.batch("student", [Step("Value", (np.array([0.3, -0.7]),), op="graph",
                                              extra={"program": program})], 10.0)
    assert reply.ok, reply.message
    a, b = 0.3, -0.7
    t = np.tanh(a * b + a)
    np.testing.assert_allclose(reply.value["data"][-1], 2 * t * a)
    da = 2 * (t + a * (1 - t * t) * (b + 1))
    db = 2 * a * (1 - t * t) * a
    np.testing.assert_allclose(reply.value["grad"], [da, db])


def test_new_method_put_get_and_rng_arguments(session):
    steps = [
        Step("Counter", (), {"start": 5}, op="new", keep="c"),
        Step("step", (Handle("c"), 2), op="method"),
        Step("step", (Handle("c"), 3), op="method"),
        Step("", ({"calls": 0},), op="put", keep="s"),
        Step("bump", (Handle("s"),)),
        Step("bump", (Handle("s"),)),
        Step("", (Handle("s"),), op="get"),
        Step("draw", (Rng(7),)),
        Step("step", (Handle("nothing"), 1), op="method"),
    ]
    replies = session.batch("student", steps, 10.0)
    assert [int(r.value) for r in replies[1:3]] == [7, 10]
    assert int(replies[6].value["calls"]) == 2
    np.testing.assert_array_equal(replies[7].value, np.random.default_rng(7).standard_normal(3))
    assert replies[8].kind == "skipped"


def test_perturbing_a_dict_entry_moves_only_that_entry(session):
    params = {"W1": np.arange(4.0).reshape(2, 2), "b1": np.ones(2)}
    moves = gradcheck.points((2, 2), [(0, 1), (1, 0)], 1e-3)
    (reply,) = session.batch("student", [Step("total", (params,), perturb=((0, "W1"), moves),
                                              pick=0)], 10.0)
    base = 2.0 + sum(v**2 for v in range(4))
    expected = [base + (1 + d) ** 2 - 1 if f == 1 else base + (2 + d) ** 2 - 4
                for f, d in moves]
    np.testing.assert_allclose(reply.value, expected)


def test_the_reference_run_in_process_reads_exactly_like_the_child(session):
    steps = (Step("Counter", (), {"start": 1}, op="new", keep="c"),
             Step("step", (Handle("c"), 2.5), op="method"),
             Step("sgd", (np.ones((2, 3)), None, {"kind": "double_well", "a": 0.2}),
                  op="trajectory", extra={"steps": 3}))
    local = scenarios.run_locally("student", _module(), steps)
    remote = session.batch("student", list(steps), 10.0)
    for a, b in zip(local, remote, strict=True):
        assert a.ok and b.ok
        flat_a, flat_b = _flatten(a.value), _flatten(b.value)
        assert flat_a.keys() == flat_b.keys()
        for key in flat_a:
            np.testing.assert_array_equal(flat_a[key], flat_b[key])


def _flatten(value, prefix=""):
    if isinstance(value, dict):
        return {k2: v2 for k, v in value.items() for k2, v2 in _flatten(v, f"{prefix}/{k}").items()}
    if isinstance(value, list):
        return {k2: v2 for i, v in enumerate(value)
                for k2, v2 in _flatten(v, f"{prefix}/{i}").items()}
    return {prefix: value}


def test_follow_reads_paths_and_explains_what_is_missing():
    value = [np.float64(1.5), {"W1": np.ones(2)}]
    assert scenarios.follow(value, (1, "W1"), "f", "") is value[1]["W1"]
    missing = scenarios.follow(value, (1, "W2"), "mlp_loss", "(loss, grads)")
    assert isinstance(missing, scenarios.Missing) and "'W2'" in missing
    assert "must return (loss, grads)" in scenarios.follow([1], (1,), "mlp_loss",
                                                           "(loss, grads)")
    assert scenarios.follow(np.array(True), ("float",), "f", "").dtype == np.float64
    assert isinstance(scenarios.follow("text", ("float",), "f", ""), scenarios.Missing)


def test_a_failing_foundation_is_named_in_the_feedback(monkeypatch):
    from dlgrade.courses import registry

    class Spec:
        def __init__(self, builds_on):
            self.builds_on = builds_on

    specs = {"a9.base": Spec(()), "a9.top": Spec(("a9.base",)), "a9.fine": Spec(("a9.top",))}
    monkeypatch.setattr(registry, "exercise", lambda i: specs[i])
    results = [ExerciseResult("a9.base", "Base", 0.0, 1.0, "failed", "wrong"),
               ExerciseResult("a9.top", "Top", 0.5, 1.0, "partial", "partly"),
               ExerciseResult("a9.fine", "Fine", 1.0, 1.0, "passed", "All checks passed.")]
    _note_foundations(results)
    assert "builds on a9.base (Base), which is not right yet" in results[1].message
    assert results[0].message == "wrong" and results[2].message == "All checks passed."


def test_a_script_reads_as_its_calls():
    """The public builder makes the steps and observation paths a hand-written scenario
    would, handles named for the author."""
    from dlgrade.authoring import Script

    s = Script()
    bn = s.put({"mode": "train"})
    out = s.call("batchnorm_forward", np.ones((2, 3)), bn, keep=True)
    assert s.observe("out", out) == "out"
    s.observe("mean", s.get(bn), "running_mean", "float")
    obj = s.new("EarlyStopping", patience=2)
    s.observe("stop", s.method(obj, "step", 0.5))
    ops = [(step.op, step.fn, step.keep) for step in s.steps]
    assert ops == [("put", "", bn), ("call", "batchnorm_forward", s.steps[1].keep),
                   ("get", "", None), ("new", "EarlyStopping", obj), ("method", "step", None)]
    assert s.steps[1].keep is not None and s.steps[1].keep != bn != obj
    assert s.observations == {"out": (1, ()), "mean": (2, ("running_mean", "float")),
                              "stop": (4, ())}
    assert s.steps[4].args[0] == obj and s.steps[3].kwargs == {"patience": 2}
    with pytest.raises(ValueError, match="read twice"):
        s.observe("out", out)

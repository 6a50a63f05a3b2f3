"""Oracles for A3: torch float64 autograd for the layers, the MLP and the Value graphs; a
plain-Python loop for the perceptron (torch has no perceptron rule).

torch is imported inside the functions, so importing this package stays cheap.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from dlgrade.authoring import BINARY, UNARY, WITH_NUMBER, compare, reference_observations


def _affine_oracle(relu: bool):
    def oracle(inputs: dict[str, np.ndarray], params: dict[str, Any], dout: np.ndarray):
        import torch

        t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
             for k, v in inputs.items()}
        out = torch.nn.functional.linear(t["x"].flatten(1), t["w"].T, t["b"])
        if relu:
            out = torch.relu(out)
        out.backward(torch.tensor(dout, dtype=torch.float64))
        return {"out": out.detach().numpy(), **{f"d{k}": v.grad.numpy() for k, v in t.items()}}

    return oracle


affine = _affine_oracle(relu=False)
affine_relu = _affine_oracle(relu=True)


# --- program exercises: each returns a list of disagreements ------------------------------


def _results(exercise_id: str):
    """``(scenario, reference observations)`` of every hidden and public scenario."""
    from .exercises import EXERCISES  # exercises imports this module

    spec = next(e for e in EXERCISES if e.id == exercise_id)
    return reference_observations(spec.module, spec.scenarios(True))


def perceptron_check() -> list[str]:
    """The reference against a plain-Python perceptron (lists and floats, no numpy)."""

    def predict(X, w, b):
        return [1.0 if sum(a * c for a, c in zip(row, w, strict=True)) + b >= 0 else 0.0
                for row in X]

    def epoch(X, y, w, b, lr):
        w, b = list(w), float(b)
        for row, label in zip(X, y, strict=True):
            error = float(label) - predict([row], w, b)[0]
            w = [wi + lr * error * xi for wi, xi in zip(w, row, strict=True)]
            b += lr * error
        return w, b

    problems = []
    for scenario, ours in _results("a3.perceptron"):
        for name, (index, path) in scenario.observe.items():
            step = scenario.steps[index]
            args = [a.tolist() if isinstance(a, np.ndarray) else a for a in step.args]
            if step.fn == "perceptron_predict":
                theirs = np.array(predict(*args))
            else:
                theirs = np.asarray(epoch(*args)[path[0]], dtype=np.float64)
            result = compare(ours[name], theirs)
            if not result.ok:
                problems.append(f"{scenario.describe()}: {name} {result.message}")
    return problems


def _torch_mlp(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray | None,
               reg: float, activation: str):
    import torch

    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    layers = len(params) // 2
    h = torch.tensor(X, dtype=torch.float64)
    act = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[activation]
    for layer in range(1, layers + 1):
        h = torch.nn.functional.linear(h, t[f"W{layer}"].T, t[f"b{layer}"])
        if layer < layers:
            h = act(h)
    if y is None:
        return h.detach().numpy(), None, None
    loss = torch.nn.functional.cross_entropy(h, torch.tensor(y, dtype=torch.int64))
    loss = loss + 0.5 * reg * sum((t[f"W{k}"] ** 2).sum() for k in range(1, layers + 1))
    loss.backward()
    return h.detach().numpy(), loss.item(), {k: v.grad.numpy() for k, v in t.items()}


def mlp_check() -> list[str]:
    """Scores, loss and every gradient of the reference against torch autograd (float64)
    on every scenario; the losses at perturbed parameters against torch's too."""
    problems = []
    for scenario, ours in _results("a3.mlp_loss"):
        main = scenario.steps[1]
        params, X, y = main.args
        kwargs = dict(main.kwargs or {})
        reg, activation = kwargs.get("reg", 0.0), kwargs.get("activation", "relu")
        scores, loss, grads = _torch_mlp(params, X, y, reg, activation)
        theirs: dict[str, Any] = {"scores": scores, "loss": np.float64(loss)}
        theirs.update({f"d{k}": v for k, v in grads.items()})
        for step in scenario.steps[2:]:
            (_, key), moves = step.perturb
            values = []
            for flat, delta in moves:
                moved = {k: v.copy() for k, v in params.items()}
                moved[key].flat[flat] += delta
                values.append(_torch_mlp(moved, X, y, reg, activation)[1])
            theirs[f"loss at perturbed {key}"] = np.array(values)
        for name, value in theirs.items():
            result = compare(ours[name], value)
            if not result.ok:
                problems.append(f"{scenario.describe()}: {name} {result.message}")
    return problems


def torch_graph(leaves: np.ndarray, program: list[list[Any]]) -> dict[str, np.ndarray]:
    """The graph of ``programs.graph`` rebuilt with torch float64 scalars."""
    import torch

    nodes: list[Any] = []
    leaf_nodes = []
    for instruction in program:
        op, args = instruction[0], instruction[1:]
        if op == "leaf":
            node = torch.tensor(float(leaves[int(args[0])]), dtype=torch.float64,
                                requires_grad=True)
            leaf_nodes.append(node)
        elif op == "neg":
            node = -nodes[args[0]]
        elif op in UNARY:
            node = getattr(torch, op)(nodes[args[0]])
        else:
            a = nodes[args[0]]
            b = nodes[args[1]] if op in BINARY else float(args[1])
            table = BINARY if op in BINARY else WITH_NUMBER
            node = table[op](a, b)
        nodes.append(node)
    nodes[-1].backward()
    return {"data": np.array([n.item() for n in nodes]),
            "grad": np.array([0.0 if n.grad is None else n.grad.item() for n in leaf_nodes])}


def value_check() -> list[str]:
    """Every node's value and every leaf's gradient of the reference Value against torch."""
    problems = []
    for scenario, ours in _results("a3.value"):
        step = scenario.steps[0]
        theirs = torch_graph(step.args[0], step.extra["program"])
        for name, key in (("data", "data"), ("leaf grads", "grad")):
            result = compare(ours[name], theirs[key])
            if not result.ok:
                problems.append(f"{scenario.describe()}: {name} {result.message}")
        if not all(math.isfinite(v) for v in theirs["grad"]):
            problems.append(f"{scenario.describe()}: torch's gradients are not finite")
    return problems

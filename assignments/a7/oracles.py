"""Oracles for A7: PyTorch's own recurrent modules in float64 with the reference's weights
mapped onto theirs (``nn.RNNCell``, ``nn.RNN``, ``nn.LSTMCell``, ``nn.GRUCell``,
``nn.Embedding``), differentiated by autograd.

The course multiplies from the right (``x @ Wx``, Wx of shape (D, kH)); torch stores
``weight_ih`` of shape (kH, D), so ``weight_ih = Wx.T``. The LSTM's blocks are i, f, o, g
here and i, f, g, o in torch: the columns are permuted. The course's single LSTM / RNN bias
is torch's ``bias_ih`` with ``bias_hh`` zero.

torch is imported inside the functions, so importing this package stays cheap.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from dlgrade.authoring import compare, reference_observations


def _tensors(inputs: dict[str, np.ndarray], names: tuple[str, ...]):
    import torch

    return {k: torch.tensor(inputs[k], dtype=torch.float64, requires_grad=True) for k in names}


def _set(cell: Any, weight_ih, weight_hh, bias_ih, bias_hh) -> None:
    """Replace a cell's parameters by leaf tensors (torch's modules then use ours), copies
    of the case's arrays (which are read-only, and shared by every student's grading)."""
    import torch

    for name, value in (("weight_ih", weight_ih), ("weight_hh", weight_hh),
                        ("bias_ih", bias_ih), ("bias_hh", bias_hh)):
        setattr(cell, name, torch.nn.Parameter(torch.tensor(value, dtype=torch.float64)))


def rnn_step(inputs: dict[str, np.ndarray], params: dict[str, Any], dout: np.ndarray):
    import torch

    t = _tensors(inputs, ("x", "h_prev"))
    d, h = inputs["Wx"].shape
    cell = torch.nn.RNNCell(d, h, nonlinearity="tanh").double()
    _set(cell, inputs["Wx"].T, inputs["Wh"].T, inputs["b"], np.zeros(h))
    out = cell(t["x"], t["h_prev"])
    out.backward(torch.tensor(dout, dtype=torch.float64))
    return {"out": out.detach().numpy(), "dx": t["x"].grad.numpy(),
            "dh_prev": t["h_prev"].grad.numpy(), "dWx": cell.weight_ih.grad.numpy().T,
            "dWh": cell.weight_hh.grad.numpy().T, "db": cell.bias_ih.grad.numpy()}


def rnn_sequence(inputs: dict[str, np.ndarray], params: dict[str, Any], dout: np.ndarray):
    import torch

    t = _tensors(inputs, ("x", "h0"))
    d, h = inputs["Wx"].shape
    rnn = torch.nn.RNN(d, h, nonlinearity="tanh", batch_first=True).double()
    for name, value in (("weight_ih_l0", inputs["Wx"].T), ("weight_hh_l0", inputs["Wh"].T),
                        ("bias_ih_l0", inputs["b"]), ("bias_hh_l0", np.zeros(h))):
        setattr(rnn, name, torch.nn.Parameter(torch.tensor(value, dtype=torch.float64)))
    rnn.flatten_parameters()
    out, _ = rnn(t["x"], t["h0"].unsqueeze(0))
    out.backward(torch.tensor(dout, dtype=torch.float64))
    return {"out": out.detach().numpy(), "dx": t["x"].grad.numpy(), "dh0": t["h0"].grad.numpy(),
            "dWx": rnn.weight_ih_l0.grad.numpy().T, "dWh": rnn.weight_hh_l0.grad.numpy().T,
            "db": rnn.bias_ih_l0.grad.numpy()}


def _ifog_to_ifgo(h: int) -> np.ndarray:
    """Column indices taking the course's blocks (i, f, o, g) to torch's (i, f, g, o)."""
    blocks = [np.arange(k * h, (k + 1) * h) for k in range(4)]
    return np.concatenate([blocks[0], blocks[1], blocks[3], blocks[2]])


def lstm_torch(inputs: dict[str, np.ndarray], dnext_h: np.ndarray, dnext_c: np.ndarray
               ) -> dict[str, np.ndarray]:
    """nn.LSTMCell's next_h, next_c and gradients (named as the course's observations)."""
    import torch

    t = _tensors(inputs, ("x", "h_prev", "c_prev"))
    d, four_h = inputs["Wx"].shape
    h = four_h // 4
    order = _ifog_to_ifgo(h)
    cell = torch.nn.LSTMCell(d, h).double()
    _set(cell, inputs["Wx"][:, order].T, inputs["Wh"][:, order].T, inputs["b"][order],
         np.zeros(four_h))
    next_h, next_c = cell(t["x"], (t["h_prev"], t["c_prev"]))
    loss = (next_h * torch.tensor(dnext_h)).sum() + (next_c * torch.tensor(dnext_c)).sum()
    loss.backward()
    back = np.argsort(order)  # torch's columns back to the course's
    return {"next_h": next_h.detach().numpy(), "next_c": next_c.detach().numpy(),
            "dx": t["x"].grad.numpy(), "dh_prev": t["h_prev"].grad.numpy(),
            "dc_prev": t["c_prev"].grad.numpy(),
            "dWx": cell.weight_ih.grad.numpy().T[:, back],
            "dWh": cell.weight_hh.grad.numpy().T[:, back],
            "db": cell.bias_ih.grad.numpy()[back]}


def lstm_check() -> list[str]:
    """The reference's observations of every LSTM scenario (hidden ones included) against
    nn.LSTMCell on the same inputs and upstream gradients."""
    from .exercises import lstm_scenarios  # exercises imports this module

    problems = []
    for scenario, ours in reference_observations("rnn", lstm_scenarios(True)):
        forward = scenario.steps[0].args
        dnext_h, dnext_c = scenario.steps[1].args[:2]
        inputs = dict(zip(("x", "h_prev", "c_prev", "Wx", "Wh", "b"), forward, strict=True))
        theirs = lstm_torch(inputs, dnext_h, dnext_c)
        for name, value in theirs.items():
            if not compare(ours[name], value).ok:
                problems.append(f"{scenario.describe()}: {name} differs from nn.LSTMCell")
    return problems


def gru_step(inputs: dict[str, np.ndarray], params: dict[str, Any], dout: np.ndarray):
    import torch

    t = _tensors(inputs, ("x", "h_prev"))
    d, three_h = inputs["Wx"].shape
    cell = torch.nn.GRUCell(d, three_h // 3).double()
    _set(cell, inputs["Wx"].T, inputs["Wh"].T, inputs["bx"], inputs["bh"])
    out = cell(t["x"], t["h_prev"])
    out.backward(torch.tensor(dout, dtype=torch.float64))
    return {"out": out.detach().numpy(), "dx": t["x"].grad.numpy(),
            "dh_prev": t["h_prev"].grad.numpy(), "dWx": cell.weight_ih.grad.numpy().T,
            "dWh": cell.weight_hh.grad.numpy().T, "dbx": cell.bias_ih.grad.numpy(),
            "dbh": cell.bias_hh.grad.numpy()}


def embedding(inputs: dict[str, np.ndarray], params: dict[str, Any], dout: np.ndarray):
    import torch

    v, d = inputs["W"].shape
    layer = torch.nn.Embedding(v, d).double()
    layer.weight = torch.nn.Parameter(torch.tensor(inputs["W"], dtype=torch.float64))
    out = layer(torch.tensor(inputs["x"], dtype=torch.int64))
    out.backward(torch.tensor(dout, dtype=torch.float64))
    return {"out": out.detach().numpy(), "dW": layer.weight.grad.numpy()}

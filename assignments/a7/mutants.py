"""Known-bad variants of reference/rnn.py: realistic student mistakes, each a patch of the
reference (every ``old`` text occurs exactly once in it)."""

from __future__ import annotations

from dlgrade.authoring import Mutant

MUTANTS: tuple[Mutant, ...] = (
    # --- RNN step
    Mutant("a7.rnn_step", "no_tanh_derivative",
           "the backward pass leaves out tanh's derivative (da = dnext_h instead of "
           "dnext_h * (1 - next_h**2))", ("backward", "gradcheck", "stability"),
           patch=(("    da = dnext_h * (1.0 - next_h**2)\n", "    da = dnext_h\n"),)),
    Mutant("a7.rnn_step", "dwh_from_next_h",
           "dWh is computed from the new state next_h instead of the previous one h_prev",
           ("backward", "gradcheck", "stability"),
           patch=(("    dWh = h_prev.T @ da\n    db = da.sum(axis=0)\n    return dx, dh_prev, "
                   "dWx, dWh, db",
                   "    dWh = next_h.T @ da\n    db = da.sum(axis=0)\n    return dx, dh_prev, "
                   "dWx, dWh, db"),)),
    Mutant("a7.rnn_step", "tanh_from_exp",
           "tanh computed as (exp(2a) - 1) / (exp(2a) + 1), which overflows to NaN for large "
           "pre-activations (np.tanh does not)", ("stability",),
           patch=(("    next_h = np.tanh(a)\n",
                   "    next_h = (np.exp(2 * a) - 1) / (np.exp(2 * a) + 1)\n"),)),
    Mutant("a7.rnn_step", "bias_outside_tanh",
           "the bias is added after the tanh (tanh(x @ Wx + h_prev @ Wh) + b) instead of "
           "inside it", ("forward", "backward", "gradcheck", "stability"),
           patch=(("    a = x @ Wx + h_prev @ Wh + b\n    next_h = np.tanh(a)\n",
                   "    a = x @ Wx + h_prev @ Wh\n    next_h = np.tanh(a) + b\n"),)),
    # --- RNN over a sequence
    Mutant("a7.rnn_sequence", "not_accumulated",
           "the weight gradients are not accumulated over time: each step overwrites dWx, "
           "dWh and db, so only the first time step's gradients are returned",
           ("backward", "gradcheck"),
           patch=(("        dWx += dWx_t\n        dWh += dWh_t\n        db += db_t\n",
                   "        dWx = dWx_t\n        dWh = dWh_t\n        db = db_t\n"),)),
    Mutant("a7.rnn_sequence", "h_prev_gradient_dropped",
           "the gradient flowing back from step t + 1 into h[:, t] (dh_prev) is dropped: "
           "each step gets only dh[:, t]", ("backward", "gradcheck"),
           patch=(("rnn_step_backward(dh[:, t] + dprev, caches[t])",
                   "rnn_step_backward(dh[:, t], caches[t])"),)),
    Mutant("a7.rnn_sequence", "states_shifted",
           "h[:, t] holds the state before step t (h0 first, the last state missing) "
           "instead of the state after it", ("forward", "gradcheck"),
           patch=(("        prev, step_cache = rnn_step_forward(x[:, t], prev, Wx, Wh, b)\n"
                   "        h[:, t] = prev\n",
                   "        h[:, t] = prev\n"
                   "        prev, step_cache = rnn_step_forward(x[:, t], prev, Wx, Wh, b)\n"),)),
    # --- LSTM step
    Mutant("a7.lstm_step", "gates_ifgo",
           "the gates are read in PyTorch's order i, f, g, o instead of i, f, o, g (o taken "
           "from the last block and g from the third)", ("forward", "backward"),
           patch=(("    o = 1.0 / (1.0 + np.exp(-a[:, 2 * hidden:3 * hidden]))\n"
                   "    g = np.tanh(a[:, 3 * hidden:])\n",
                   "    o = 1.0 / (1.0 + np.exp(-a[:, 3 * hidden:]))\n"
                   "    g = np.tanh(a[:, 2 * hidden:3 * hidden])\n"),)),
    Mutant("a7.lstm_step", "dc_without_next_h",
           "the cell state's gradient ignores the path through next_h = o * tanh(next_c) "
           "(dc = dnext_c only)", ("backward",),
           patch=(("    dc = dnext_c + dnext_h * o * (1.0 - tanh_c**2)\n",
                   "    dc = dnext_c\n"),)),
    Mutant("a7.lstm_step", "dc_prev_not_times_f",
           "dc_prev is dc itself, not dc * f (the forget gate scales c_prev)", ("backward",),
           patch=(("    dg = dc * i\n    dc_prev = dc * f\n",
                   "    dg = dc * i\n    dc_prev = dc\n"),)),
    # --- GRU step
    Mutant("a7.gru_step", "reset_before_product",
           "the reset gate is applied to h_prev before the product, tanh(gx_n + (r * h_prev) "
           "@ Wh_n + bh_n) (Cho et al.), not to (h_prev @ Wh_n + bh_n) as PyTorch",
           ("forward", "backward", "gradcheck"),
           patch=(("    n = np.tanh(gx[:, 2 * hidden:] + r * gh[:, 2 * hidden:])\n",
                   "    n = np.tanh(gx[:, 2 * hidden:] + (r * h_prev) @ Wh[:, 2 * hidden:]"
                   " + bh[2 * hidden:])\n"),)),
    Mutant("a7.gru_step", "gates_zr",
           "the gates are read in the order z, r, n instead of r, z, n",
           ("forward", "backward", "gradcheck"),
           patch=(("    r = 1.0 / (1.0 + np.exp(-(gx[:, :hidden] + gh[:, :hidden])))\n"
                   "    z = 1.0 / (1.0 + np.exp(-(gx[:, hidden:2 * hidden] + gh[:, hidden:2 * "
                   "hidden])))\n",
                   "    z = 1.0 / (1.0 + np.exp(-(gx[:, :hidden] + gh[:, :hidden])))\n"
                   "    r = 1.0 / (1.0 + np.exp(-(gx[:, hidden:2 * hidden] + gh[:, hidden:2 * "
                   "hidden])))\n"),)),
    Mutant("a7.gru_step", "z_weights_new_state",
           "next_h = z * n + (1 - z) * h_prev: z weights the candidate instead of the old "
           "state (PyTorch: (1 - z) * n + z * h_prev)", ("forward", "backward", "gradcheck"),
           # Consistently in both passes: the backward is right for that forward.
           patch=(("    next_h = (1.0 - z) * n + z * h_prev\n",
                   "    next_h = z * n + (1.0 - z) * h_prev\n"),
                  ("    dn = dnext_h * (1.0 - z)\n    dz = dnext_h * (h_prev - n)\n",
                   "    dn = dnext_h * z\n    dz = dnext_h * (n - h_prev)\n"),
                  ("    dh_prev = dgh @ Wh.T + dnext_h * z\n",
                   "    dh_prev = dgh @ Wh.T + dnext_h * (1.0 - z)\n"))),
    Mutant("a7.gru_step", "h_prev_direct_gradient_dropped",
           "dh_prev drops the direct path through next_h = ... + z * h_prev (the dnext_h * z "
           "term)", ("backward", "gradcheck"),
           patch=(("    dh_prev = dgh @ Wh.T + dnext_h * z\n", "    dh_prev = dgh @ Wh.T\n"),)),
    # --- embedding
    Mutant("a7.embedding", "repeats_overwritten",
           "dW[x] += dout: a repeated index keeps one of its gradients instead of their sum "
           "(numpy writes each repeated row once; use np.add.at)", ("backward", "gradcheck"),
           patch=(("    np.add.at(dW, x, dout)\n", "    dW[x] += dout\n"),)),
    Mutant("a7.embedding", "repeats_averaged",
           "the gradients of a repeated index are averaged instead of summed", (
               "backward", "gradcheck"),
           patch=(("    np.add.at(dW, x, dout)\n    return dW\n",
                   "    np.add.at(dW, x, dout)\n"
                   "    counts = np.bincount(x.reshape(-1), minlength=shape[0])\n"
                   "    return dW / np.maximum(counts, 1)[:, None]\n"),)),
)

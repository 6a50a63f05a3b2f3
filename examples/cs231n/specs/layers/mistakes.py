"""Known mistakes of ``layers.py`` (each a patch of the reference) and accepted variants.

``dlgrade validate`` grades every mistake: it must lose points on exactly the checks in
``fails``, and its feedback must name it. A student whose values match a mistake's is told
its name ("This matches a common mistake: ..."); for the property-judged dropout, the names
are the ones its properties print (see exercises.py).
"""

from dlgrade.authoring import Mutant, Variant

from .exercises import M_DROP_PROBABILITY, M_NOT_INVERTED, M_TEST_MODE

MISTAKES = (
    # --- affine
    Mutant("layers.affine", "dx_not_reshaped", "dx is not reshaped back to the shape of x",
           ("backward", "gradcheck"),
           patch=(("dx = (dout @ w.T).reshape(x.shape)", "dx = dout @ w.T"),)),
    Mutant("layers.affine", "db_mean", "db averages dout over the batch instead of summing it",
           ("backward", "gradcheck"),
           patch=(("db = dout.sum(axis=0)", "db = dout.mean(axis=0)"),)),
    # --- relu
    Mutant("layers.relu", "no_dout", "relu_backward returns the mask without multiplying by "
           "dout", ("backward", "gradcheck"),
           patch=(("return dout * (x > 0)", "return (x > 0).astype(float)"),)),
    Mutant("layers.relu", "wrong_side", "the gradient passes where x < 0 instead of x > 0",
           ("backward", "gradcheck"),
           patch=(("return dout * (x > 0)", "return dout * (x < 0)"),)),
    # --- batch norm
    Mutant("layers.batchnorm", "no_mean_terms",
           "the backward pass drops the terms of the batch mean and variance "
           "(dx = dout * gamma / std)", ("backward", "gradcheck"),
           patch=(("dx = (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0)"
                   ") / std", "dx = dx_hat / std"),)),
    Mutant("layers.batchnorm", "dgamma_no_xhat", "dgamma sums dout without multiplying by x_hat",
           ("backward", "gradcheck"),
           patch=(("dgamma = (dout * x_hat).sum(axis=0)", "dgamma = dout.sum(axis=0)"),)),
    Mutant("layers.batchnorm", "unbiased_var", "the batch variance divides by N - 1 instead "
           "of N", ("forward", "backward", "gradcheck"),
           patch=(("var = x.var(axis=0)", "var = x.var(axis=0, ddof=1)"),)),
    # --- batch norm running averages
    Mutant("layers.batchnorm_running", "momentum_swapped",
           "momentum weights the new batch statistics instead of the running average",
           ("running",),
           patch=(("running_mean = momentum * running_mean + (1 - momentum) * mu",
                   "running_mean = (1 - momentum) * running_mean + momentum * mu"),
                  ("running_var = momentum * running_var + (1 - momentum) * var",
                   "running_var = (1 - momentum) * running_var + momentum * var"))),
    Mutant("layers.batchnorm_running", "test_batch_stats",
           "test mode normalizes with the batch statistics instead of the running averages",
           ("test",),
           patch=(("x_hat = (x - running_mean) / np.sqrt(running_var + eps)",
                   "x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)"),)),
    # --- dropout
    Mutant("layers.dropout", "not_inverted", M_NOT_INVERTED, ("scaling",),
           patch=(("mask = (np.random.rand(*x.shape) < p) / p",
                   "mask = np.random.rand(*x.shape) < p"),)),
    Mutant("layers.dropout", "drop_probability", M_DROP_PROBABILITY, ("scaling", "rate"),
           patch=(("mask = (np.random.rand(*x.shape) < p) / p",
                   "mask = (np.random.rand(*x.shape) >= p) / (1 - p)"),)),
    Mutant("layers.dropout", "test_mode", M_TEST_MODE, ("test",),
           patch=(("out = x  # nothing is dropped at test time",
                   "out = x * (np.random.rand(*x.shape) < p) / p"),)),
    # --- losses
    Mutant("layers.svm_loss", "correct_class_counted",
           "the correct class's own margin (1) is counted in the loss",
           ("loss", "gradient", "gradcheck"), patch=(("    margins[rows, y] = 0\n", ""),)),
    Mutant("layers.svm_loss", "summed", "the loss and dx are summed over the batch, not "
           "averaged", ("loss", "gradient", "gradcheck"),
           patch=(("loss = margins.sum() / N", "loss = margins.sum()"),
                  ("dx = positive / N", "dx = positive"))),
    Mutant("layers.softmax_loss", "no_shift",
           "the scores are not shifted by their max before exp (it overflows for large "
           "scores)", ("stability",),
           patch=(("shifted = x - x.max(axis=1, keepdims=True)", "shifted = x"),)),
    Mutant("layers.softmax_loss", "dx_not_averaged", "dx is not divided by N",
           ("gradient", "gradcheck", "stability"),
           patch=(("return loss, grad / n", "return loss, grad"),)),
)

VARIANTS = (
    Variant("layers.batchnorm", "staged_backward",
            "the backward pass through the computational graph, node by node",
            patch=(("    dx = (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0)"
                    ") / std\n",
                    "    n = dout.shape[0]\n"
                    "    dvar = np.sum(dx_hat * x_hat * std, axis=0) * -0.5 / std**3\n"
                    "    dmu = -np.sum(dx_hat / std, axis=0) - 2.0 * dvar * np.mean(x_hat * std,"
                    " axis=0)\n"
                    "    dx = dx_hat / std + dvar * 2.0 * x_hat * std / n + dmu / n\n"),)),
)

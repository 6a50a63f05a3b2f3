"""Accepted variants of reference/activations.py: correct solutions written otherwise, which
must score full marks (``dlgrade validate`` grades each and reports its margin)."""

from __future__ import annotations

from dlgrade.authoring import Variant

VARIANTS: tuple[Variant, ...] = (
    Variant(
        exercise="a1.sigmoid",
        name="tanh-form",
        why="sigmoid(x) = (1 + tanh(x / 2)) / 2: the same function, without exp",
        patch=(("    z = np.exp(-np.abs(x))\n"
                "    out = np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))\n",
                "    out = 0.5 * (1.0 + np.tanh(0.5 * x))\n"),),
    ),
    Variant(
        exercise="a1.tanh",
        name="float32",
        why="computed and returned in float32, which CURRICULUM.md accepts",
        patch=(("    out = np.tanh(x)\n    cache = out\n",
                "    out = np.tanh(x.astype(np.float32))\n    cache = out\n"),
               ("    dx = dout * (1.0 - out**2)\n    return dx\n",
                "    dx = (dout * (1.0 - out**2)).astype(np.float32)\n    return dx\n")),
    ),
)

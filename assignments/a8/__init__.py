"""A8: attention (``attention.py``): scaled dot-product attention without and with a mask,
multi-head attention and the sinusoidal positional encoding."""

from dlgrade.authoring import Assignment

from .exercises import EXERCISES
from .mutants import MUTANTS

ASSIGNMENT = Assignment(
    id="a8", title="Attention", exercises=EXERCISES, mutants=MUTANTS,
    tracks=("numpy", "torch"),
)

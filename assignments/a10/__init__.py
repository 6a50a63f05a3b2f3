"""A10: training (``train.py``): a numerical gradient by centred differences and a
mini-batch SGD loop for a two-layer network. The course helper support/a10_helpers.py goes
beside every submission: it builds the functions numerical_gradient is tested on and
measures the networks train_mlp trains (see exercises.py)."""

from dlgrade.authoring import Assignment

from .exercises import EXERCISES
from .mutants import MUTANTS

ASSIGNMENT = Assignment(
    id="a10", title="Training: numerical gradients and an SGD loop", exercises=EXERCISES,
    mutants=MUTANTS, support=("a10_helpers.py",), tracks=("numpy", "torch"),
)

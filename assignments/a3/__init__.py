"""A3: layers (``layers.py``), an MLP's loss and gradients (``network.py``) and a scalar
autograd engine (``autograd.py``)."""

from assignments.a3.exercises import EXERCISES
from assignments.a3.mutants import MUTANTS
from autograder.spec import Assignment

ASSIGNMENT = Assignment(
    id="a3", title="Layers, networks and backprop", exercises=EXERCISES, mutants=MUTANTS,
    tracks=("numpy", "torch"),
)

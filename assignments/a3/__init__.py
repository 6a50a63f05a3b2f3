"""A3: layers (``layers.py``), an MLP's loss and gradients (``network.py``) and a scalar
autograd engine (``autograd.py``)."""

from dlgrade.authoring import Assignment

from .exercises import EXERCISES
from .mutants import MUTANTS

ASSIGNMENT = Assignment(
    id="a3", title="Layers, networks and backprop", exercises=EXERCISES, mutants=MUTANTS,
    tracks=("numpy", "torch"),
)

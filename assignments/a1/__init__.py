"""A1: activation functions as layers, forward and backward (``activations.py``)."""

from dlgrade.authoring import Assignment

from .exercises import EXERCISES
from .mutants import MUTANTS

ASSIGNMENT = Assignment(
    id="a1", title="Activations", exercises=EXERCISES, mutants=MUTANTS,
    tracks=("numpy", "torch"),
)

"""A1: activation functions as layers, forward and backward (``activations.py``)."""

from dlgrade.authoring import Assignment

from .exercises import EXERCISES
from .mutants import MUTANTS
from .variants import VARIANTS

ASSIGNMENT = Assignment(
    id="a1", title="Activations", exercises=EXERCISES, mutants=MUTANTS, variants=VARIANTS,
    tracks=("numpy", "torch"),
)

"""The ``layers`` assignment: the student file ``layers.py`` (CS231n assignment 2)."""

from dlgrade.authoring import Assignment

from .exercises import EXERCISES
from .mistakes import MISTAKES, VARIANTS

ASSIGNMENT = Assignment(
    id="layers",
    title="Layers, batch normalization, dropout and losses",
    exercises=EXERCISES,
    mutants=MISTAKES,
    variants=VARIANTS,
    support=("gradient_check.py",),
)

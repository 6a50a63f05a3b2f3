"""A2: losses (``losses.py``), each returning ``(loss, dinput)``."""

from assignments.a2.exercises import EXERCISES
from assignments.a2.mutants import MUTANTS
from autograder.spec import Assignment

ASSIGNMENT = Assignment(
    id="a2", title="Losses", exercises=EXERCISES, mutants=MUTANTS,
    tracks=("numpy", "torch"),
)

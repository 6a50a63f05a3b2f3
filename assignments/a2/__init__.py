"""A2: losses (``losses.py``), each returning ``(loss, dinput)``."""

from dlgrade.authoring import Assignment

from .exercises import EXERCISES
from .mutants import MUTANTS

ASSIGNMENT = Assignment(
    id="a2", title="Losses", exercises=EXERCISES, mutants=MUTANTS,
    tracks=("numpy", "torch"),
)

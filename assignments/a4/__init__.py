"""A4: optimizers (``optim.py``: update rules graded on whole trajectories, gradient
clipping) and learning-rate schedules (``schedules.py``)."""

from dlgrade.authoring import Assignment

from .exercises import EXERCISES
from .mutants import MUTANTS

ASSIGNMENT = Assignment(
    id="a4", title="Optimizers and schedules", exercises=EXERCISES, mutants=MUTANTS
)

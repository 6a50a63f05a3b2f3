"""A4: optimizers (``optim.py``: update rules graded on whole trajectories, gradient
clipping) and learning-rate schedules (``schedules.py``)."""

from assignments.a4.exercises import EXERCISES
from assignments.a4.mutants import MUTANTS
from autograder.spec import Assignment

ASSIGNMENT = Assignment(
    id="a4", title="Optimizers and schedules", exercises=EXERCISES, mutants=MUTANTS
)

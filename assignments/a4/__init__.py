"""A4: Optimizers and schedules (work in progress: filled in by its exercises module)."""

from autograder.spec import Assignment

ASSIGNMENT = Assignment(id="a4", title="Optimizers and schedules", exercises=())

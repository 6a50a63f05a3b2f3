"""A5: regularisation (``regularization.py``), normalisation (``normalization.py``) and
initialisation (``initializers.py``)."""

from assignments.a5.exercises import EXERCISES
from assignments.a5.mutants import MUTANTS
from autograder.spec import Assignment

ASSIGNMENT = Assignment(id="a5", title="Regularisation, normalisation, initialisation",
                        exercises=EXERCISES, mutants=MUTANTS)

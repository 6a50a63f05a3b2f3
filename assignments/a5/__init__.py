"""A5: regularisation (``regularization.py``), normalisation (``normalization.py``) and
initialisation (``initializers.py``)."""

from dlgrade.authoring import Assignment

from .exercises import EXERCISES
from .mutants import MUTANTS

ASSIGNMENT = Assignment(id="a5", title="Regularisation, normalisation, initialisation",
                        exercises=EXERCISES, mutants=MUTANTS)

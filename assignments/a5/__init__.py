"""A5: regularisation, normalisation, initialisation (work in progress)."""

from autograder.spec import Assignment

ASSIGNMENT = Assignment(id="a5", title="Regularisation, normalisation, initialisation",
                        exercises=())
